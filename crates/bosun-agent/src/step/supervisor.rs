//! The supervisor process (`bosun-agent supervise …`): runs one step's script, enforces its
//! timeout, stops it on cancel, and records how it ended in `exit.json`.
//!
//! The supervisor lives in its own session, so it outlives the agent. It runs
//! `<shell> <dir>/_script.sh` as the leader of a new process group, with stdout and stderr
//! going straight to files. On timeout, or on SIGTERM/SIGINT to the supervisor (= cancel), the
//! group gets SIGTERM (and SIGCONT, in case it was stopped), then SIGKILL after the stop
//! timeout. Once the shell has exited for any reason, whatever is left in its process group
//! (background jobs such as `sleep 300 &`) gets SIGKILL.
//!
//! Guarantees and their limits:
//! - The shell has `PR_SET_PDEATHSIG=SIGKILL`, so a SIGKILLed supervisor takes the shell with
//!   it. The shell's own children do not inherit that; the agent kills the recorded group when
//!   it finds the step lost (see `handle::attach`).
//! - The group is killed while the shell is still an unreaped zombie, so its pgid cannot have
//!   been reused by an unrelated process.
//! - The supervisor is a child subreaper, so orphaned members of the step become its children
//!   and are reaped here rather than left as zombies.
//! - Processes that leave the group (`setsid`, `setpgid`, `set -m` job control) are out of
//!   reach: they keep running after the step ends.
//! - Std and nix only; signals are blocked and taken with `sigtimedwait`.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::libc;
use nix::sys::prctl;
use nix::sys::signal::{killpg, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::{getppid, Pid};

use super::{
    all_processes, now_ms, proc_stat, write_json, Outcome, StepExit, SupervisorRecord, EXIT_FILE,
    SCRIPT_FILE, STDERR_FILE, STDOUT_FILE, SUPERVISOR_FILE,
};

/// Longest single sleep of the supervisor, as a safety net around signal delivery.
const MAX_IDLE: Duration = Duration::from_secs(1);
/// How long to wait for SIGKILLed group members to disappear before giving up.
const CLEANUP_LIMIT: Duration = Duration::from_secs(5);

/// The supervisor's command line: `--dir D --shell S --workdir W --timeout-ms N
/// --stop-timeout-ms N`. The extra environment is not here: it is set on the supervisor's own
/// environment (keeping values out of `ps`), and the script inherits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuperviseArgs {
    pub dir: PathBuf,
    pub shell: PathBuf,
    pub working_dir: PathBuf,
    /// `None`: no execution timeout (`--timeout-ms 0`).
    pub timeout: Option<Duration>,
    pub stop_timeout: Duration,
    /// An inherited pipe's write end the supervisor closes once `supervisor.json` exists, so
    /// whoever started it knows a restarted agent would find the step (`--ready-fd`).
    pub ready_fd: Option<i32>,
}

/// A malformed supervisor command line.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    #[error("{flag} takes milliseconds, got {value:?}")]
    BadNumber { flag: &'static str, value: OsString },
    #[error("unknown argument {0:?}")]
    Unknown(OsString),
    #[error("{0} is required")]
    Required(&'static str),
}

impl SuperviseArgs {
    /// The arguments for `bosun-agent supervise` (after the subcommand name).
    pub fn to_args(&self) -> Vec<OsString> {
        let ms = |d: Duration| OsString::from(d.as_millis().to_string());
        let mut args = vec![
            "--dir".into(),
            self.dir.clone().into(),
            "--shell".into(),
            self.shell.clone().into(),
            "--workdir".into(),
            self.working_dir.clone().into(),
            "--timeout-ms".into(),
            ms(self.timeout.unwrap_or(Duration::ZERO)),
            "--stop-timeout-ms".into(),
            ms(self.stop_timeout),
        ];
        if let Some(fd) = self.ready_fd {
            args.push("--ready-fd".into());
            args.push(fd.to_string().into());
        }
        args
    }

    /// Parse what [`SuperviseArgs::to_args`] produced.
    pub fn from_args<I: IntoIterator<Item = OsString>>(args: I) -> Result<Self, ArgsError> {
        const FLAGS: [&str; 6] = [
            "--dir",
            "--shell",
            "--workdir",
            "--timeout-ms",
            "--stop-timeout-ms",
            "--ready-fd",
        ];
        let mut values: [Option<OsString>; 6] = Default::default();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let Some(i) = FLAGS.iter().position(|f| arg.to_str() == Some(f)) else {
                return Err(ArgsError::Unknown(arg));
            };
            values[i] = Some(it.next().ok_or(ArgsError::MissingValue(FLAGS[i]))?);
        }
        let mut take = |i: usize| values[i].take().ok_or(ArgsError::Required(FLAGS[i]));
        let millis = |flag: &'static str, value: OsString| match value
            .to_str()
            .and_then(|v| v.parse::<u64>().ok())
        {
            Some(ms) => Ok(Duration::from_millis(ms)),
            None => Err(ArgsError::BadNumber { flag, value }),
        };
        let (dir, shell, working_dir) = (take(0)?.into(), take(1)?.into(), take(2)?.into());
        let timeout = millis(FLAGS[3], take(3)?)?;
        let stop_timeout = millis(FLAGS[4], take(4)?)?;
        let ready_fd = match values[5].take() {
            None => None,
            Some(v) => Some(v.to_str().and_then(|v| v.parse::<i32>().ok()).ok_or(
                ArgsError::BadNumber {
                    flag: FLAGS[5],
                    value: v,
                },
            )?),
        };
        Ok(Self {
            dir,
            shell,
            working_dir,
            timeout: (!timeout.is_zero()).then_some(timeout),
            stop_timeout,
            ready_fd,
        })
    }
}

/// The supervisor's whole life: run the step, write `exit.json`, return the process exit code
/// (0 once `exit.json` is written, 1 if even that failed).
pub fn supervise_main(args: SuperviseArgs) -> i32 {
    let exit = supervise(&args);
    match write_json(&args.dir.join(EXIT_FILE), &exit) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// How the shell itself ended, before the supervisor's reasons are applied.
#[derive(Clone, Copy, Debug)]
enum RawExit {
    Exited(i32),
    Signaled(i32),
}

fn supervise(args: &SuperviseArgs) -> StepExit {
    let mut start_ms = now_ms();
    let failed = |start_ms, what: &str, e: io::Error| StepExit {
        outcome: Outcome::Failed {
            error: format!("{what}: {e}"),
        },
        start_ms,
        end_ms: now_ms(),
    };
    let prepared = prepare(args);
    // `supervisor.json` exists (or never will): let the starter go on, and keep the pipe out
    // of the script's processes.
    if let Some(fd) = args.ready_fd {
        // SAFETY: the fd was handed to this process for exactly this close.
        unsafe { nix::libc::close(fd) };
    }
    let mut record = match prepared {
        Ok(record) => record,
        Err(e) => return failed(start_ms, "setting up the supervisor", e),
    };
    // A cancel that arrived before the script started: do not start it at all.
    if let Ok(Some(_)) = wait_signal(&stop_signals(), Duration::ZERO) {
        return StepExit {
            outcome: Outcome::Cancelled,
            start_ms,
            end_ms: now_ms(),
        };
    }
    start_ms = now_ms();
    let child = match spawn_child(args, record.supervisor_pid) {
        Ok(child) => child.id() as i32,
        Err(e) => return failed(start_ms, &format!("running {:?}", args.shell), e),
    };
    record.child_pid = Some(child);
    record.child_pgid = Some(child);
    record.start_ms = Some(start_ms);
    // Not fatal: a restarted agent still sees a live supervisor.
    let _ = write_json(&args.dir.join(SUPERVISOR_FILE), &record);

    let watched = watch(child, args);
    if watched.is_err() {
        let _ = killpg(Pid::from_raw(child), Signal::SIGKILL);
    }
    clear_group(child);
    let outcome = match watched {
        Ok((_, Some(reason))) => reason,
        Ok((RawExit::Exited(code), None)) => Outcome::Exited { code },
        Ok((RawExit::Signaled(signal), None)) => Outcome::Signaled { signal },
        Err(e) => return failed(start_ms, "watching the script", e),
    };
    StepExit {
        outcome,
        start_ms,
        end_ms: now_ms(),
    }
}

/// Block the signals we wait for, become a subreaper, write the first `supervisor.json`.
fn prepare(args: &SuperviseArgs) -> io::Result<SupervisorRecord> {
    let mut all = stop_signals();
    all.add(Signal::SIGCHLD);
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&all), None)?;
    for signal in all.iter() {
        // SAFETY: SIG_DFL installs no handler. An inherited SIG_IGN for SIGCHLD would make the
        // kernel reap our children before we see their status.
        unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) }?;
    }
    prctl::set_child_subreaper(true)?;
    let me = proc_stat("self")?;
    let record = SupervisorRecord {
        supervisor_pid: me.pid,
        supervisor_start_time: me.start_time,
        session_id: me.session,
        child_pid: None,
        child_pgid: None,
        start_ms: None,
    };
    write_json(&args.dir.join(SUPERVISOR_FILE), &record)?;
    Ok(record)
}

fn stop_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set
}

/// Appending: a step run again after the reboot it asked for adds to its first run's output,
/// as AWS's agent does, so output already streamed to the server stays valid.
fn open_output(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
}

/// Start the shell as the leader of a new process group.
fn spawn_child(args: &SuperviseArgs, supervisor_pid: i32) -> io::Result<std::process::Child> {
    let stdout = open_output(&args.dir.join(STDOUT_FILE))?;
    let stderr = open_output(&args.dir.join(STDERR_FILE))?;
    let mut cmd = Command::new(&args.shell);
    cmd.arg(args.dir.join(SCRIPT_FILE))
        .current_dir(&args.working_dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    // SAFETY: only async-signal-safe calls (sigprocmask, prctl, getppid) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
            prctl::set_pdeathsig(Signal::SIGKILL)?;
            // The supervisor died before PDEATHSIG was armed: do not run unsupervised.
            if getppid().as_raw() != supervisor_pid {
                return Err(io::Error::other("the supervisor went away"));
            }
            Ok(())
        })
    };
    cmd.spawn()
}

enum Phase {
    Running,
    Stopping { kill_at: Instant },
    Killed,
}

/// Wait for the shell to exit, stopping it on timeout or cancel. Leaves it an unreaped zombie
/// so its pgid stays reserved for [`clear_group`].
fn watch(child: i32, args: &SuperviseArgs) -> io::Result<(RawExit, Option<Outcome>)> {
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let mut wait_set = stop_signals();
    wait_set.add(Signal::SIGCHLD);
    let mut reason = None;
    let mut phase = Phase::Running;
    loop {
        if let Some(exit) = reap_until(child)? {
            return Ok((exit, reason));
        }
        let now = Instant::now();
        match phase {
            Phase::Running if deadline.is_some_and(|d| now >= d) => {
                reason = Some(Outcome::TimedOut);
                phase = stop(child, args.stop_timeout);
                continue;
            }
            Phase::Stopping { kill_at } if now >= kill_at => {
                let _ = killpg(Pid::from_raw(child), Signal::SIGKILL);
                phase = Phase::Killed;
            }
            _ => {}
        }
        let wake = match phase {
            Phase::Running => deadline,
            Phase::Stopping { kill_at } => Some(kill_at),
            Phase::Killed => None,
        };
        let idle = wake.map_or(MAX_IDLE, |w| w.saturating_duration_since(now).min(MAX_IDLE));
        let signal = wait_signal(&wait_set, idle)?;
        if matches!(signal, Some(Signal::SIGTERM | Signal::SIGINT))
            && matches!(phase, Phase::Running)
        {
            reason = Some(Outcome::Cancelled);
            phase = stop(child, args.stop_timeout);
        }
    }
}

/// SIGTERM (and SIGCONT, so a stopped group can act on it) to the group.
fn stop(child: i32, stop_timeout: Duration) -> Phase {
    let _ = killpg(Pid::from_raw(child), Signal::SIGTERM);
    let _ = killpg(Pid::from_raw(child), Signal::SIGCONT);
    Phase::Stopping {
        kill_at: Instant::now() + stop_timeout,
    }
}

/// Reap exited orphans until the shell itself shows up as exited (returned, not reaped) or no
/// child is waiting to be reaped.
fn reap_until(child: i32) -> io::Result<Option<RawExit>> {
    loop {
        match peek_exited()? {
            None => return Ok(None),
            Some((pid, exit)) if pid == child => return Ok(Some(exit)),
            Some((pid, _)) => reap(pid),
        }
    }
}

/// One exited child and its status, without reaping it (`WNOWAIT`).
fn peek_exited() -> io::Result<Option<(i32, RawExit)>> {
    // SAFETY: siginfo_t is plain data; waitid fills it in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: `info` is a valid, writable siginfo_t.
    if unsafe { libc::waitid(libc::P_ALL, 0, &mut info, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: waitid filled in a SIGCHLD siginfo (or left si_pid zero).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some(match info.si_code {
        libc::CLD_EXITED => (pid, RawExit::Exited(status)),
        _ => (pid, RawExit::Signaled(status)),
    }))
}

fn reap(pid: i32) {
    // SAFETY: a null status pointer is allowed.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
}

/// SIGKILL whatever is left in the shell's group until nothing alive remains (or
/// [`CLEANUP_LIMIT`] passes), reaping what ends up as our zombie; then reap the shell.
fn clear_group(child: i32) {
    let me = std::process::id() as i32;
    let give_up = Instant::now() + CLEANUP_LIMIT;
    let mut sigchld = SigSet::empty();
    sigchld.add(Signal::SIGCHLD);
    loop {
        let _ = killpg(Pid::from_raw(child), Signal::SIGKILL);
        let procs = all_processes().unwrap_or_default();
        for p in &procs {
            if p.ppid == me && p.pid != child && !p.is_alive() {
                reap(p.pid);
            }
        }
        let left = procs
            .iter()
            .any(|p| p.pgrp == child && p.pid != child && p.is_alive());
        if !left || Instant::now() >= give_up {
            break;
        }
        let _ = wait_signal(&sigchld, Duration::from_millis(20));
    }
    reap(child);
    // Any other zombies of ours (group members that died in the last round).
    // SAFETY: a null status pointer is allowed.
    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
}

/// `sigtimedwait`: one of the (blocked) signals in `set`, or `None` on timeout or EINTR.
fn wait_signal(set: &SigSet, timeout: Duration) -> io::Result<Option<Signal>> {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: valid sigset and timespec pointers; a null siginfo pointer is allowed.
    let r = unsafe { libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &ts) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EAGAIN | libc::EINTR) => Ok(None),
            _ => Err(e),
        };
    }
    Ok(Signal::try_from(r).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_round_trip() {
        let args = SuperviseArgs {
            dir: "/var/lib/bosun-agent/steps/x".into(),
            shell: "/bin/bash".into(),
            working_dir: "/tmp/work dir".into(),
            timeout: Some(Duration::from_millis(2500)),
            stop_timeout: Duration::from_secs(5),
            ready_fd: Some(7),
        };
        assert_eq!(SuperviseArgs::from_args(args.to_args()).unwrap(), args);
        let no_limit = SuperviseArgs {
            timeout: None,
            ready_fd: None,
            ..args
        };
        assert_eq!(
            SuperviseArgs::from_args(no_limit.to_args()).unwrap(),
            no_limit
        );
        let mut bad = no_limit.to_args();
        bad[7] = "soon".into();
        assert!(matches!(
            SuperviseArgs::from_args(bad),
            Err(ArgsError::BadNumber {
                flag: "--timeout-ms",
                ..
            })
        ));
        assert!(matches!(
            SuperviseArgs::from_args([OsString::from("--dir")]),
            Err(ArgsError::MissingValue("--dir"))
        ));
    }
}
