//! The agent's side of a step: start it under a detached supervisor, find it again after an
//! agent restart, cancel it, and wait for its result.
//!
//! The supervisor is started with a double fork (setsid, fork, the middle process exits), so
//! it is never the agent's child: the agent need not reap it, and a handle can be dropped at
//! any time. A handle only knows the supervisor's pid and `/proc` start time; everything else
//! goes through the files in the step directory.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::signal::{kill, killpg, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::unistd::{fork, pipe2, setsid, ForkResult, Pid};

use super::{
    all_processes, now_ms, proc_stat, read_exit, read_supervisor_record, write_atomic, Outcome,
    StepExit, StepSpec, SuperviseArgs, SupervisorRecord, SCRIPT_FILE,
};

/// How often [`StepHandle::wait`] looks for `exit.json`: every `POLL_FIRST` at first (most
/// steps are short, and every wait adds to a command's latency), doubling up to `POLL`.
const POLL_FIRST: Duration = Duration::from_millis(5);
const POLL: Duration = Duration::from_millis(50);
/// Longest wait for a new supervisor to write `supervisor.json` (it takes milliseconds).
const READY_LIMIT_MS: u16 = 10_000;

/// A step whose supervisor was alive when the handle was made.
#[derive(Clone, Debug)]
pub struct StepHandle {
    dir: PathBuf,
    pid: i32,
    /// `None` if the supervisor was already gone when we looked.
    start_time: Option<u64>,
}

/// What a restarted agent finds in a step directory.
#[derive(Debug)]
pub enum Attach {
    /// The supervisor is still running the step.
    Running(StepHandle),
    /// The step is over; this is its `exit.json`.
    Finished(StepExit),
    /// No live supervisor and no `exit.json` (or not even a `supervisor.json`). Whatever was
    /// left in the step's process group has been sent SIGKILL.
    Lost,
}

/// Write `<dir>/_script.sh` and start the supervisor for `spec`, detached from the agent: a new
/// session, stdio on `/dev/null`. `supervisor_program` and `supervisor_prefix_args` name the
/// supervisor, e.g. the agent's own executable and `["supervise"]`.
pub fn start(
    spec: &StepSpec,
    supervisor_program: &Path,
    supervisor_prefix_args: &[OsString],
) -> io::Result<StepHandle> {
    write_atomic(&spec.dir.join(SCRIPT_FILE), spec.script.as_bytes(), 0o700)?;
    // The supervisor closes its end of this pipe once `supervisor.json` is written: start()
    // returns only then, so an agent that stops right after (an update's drain, a crash) finds
    // the step on restart instead of starting it a second time.
    let (ready_read, ready_write) = pipe2(OFlag::O_CLOEXEC)?;
    let ready_fd = ready_write.as_raw_fd();
    let args = SuperviseArgs {
        dir: spec.dir.clone(),
        shell: spec.shell.clone(),
        working_dir: spec.working_dir.clone().unwrap_or_else(|| spec.dir.clone()),
        timeout: (!spec.timeout.is_zero()).then_some(spec.timeout),
        stop_timeout: spec.stop_timeout,
        ready_fd: Some(ready_fd),
    };
    // The middle process reports the supervisor's pid through this pipe.
    let (pid_read, pid_write) = pipe2(OFlag::O_CLOEXEC)?;
    let pid_fd = pid_write.as_raw_fd();
    let mut cmd = Command::new(supervisor_program);
    cmd.args(supervisor_prefix_args)
        .args(args.to_args())
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: `detach` only makes async-signal-safe calls.
    unsafe { cmd.pre_exec(move || detach(pid_fd, ready_fd)) };
    let mut middle = cmd.spawn()?;
    drop(pid_write);
    drop(ready_write);
    let status = middle.wait()?;
    let mut buf = [0u8; 4];
    let got = File::from(pid_read).read(&mut buf)?;
    if !status.success() || got != buf.len() {
        return Err(io::Error::other(format!(
            "the supervisor did not start ({status})"
        )));
    }
    let pid = i32::from_ne_bytes(buf);
    wait_ready(ready_read);
    Ok(StepHandle {
        dir: spec.dir.clone(),
        pid,
        start_time: proc_stat(&pid.to_string()).ok().map(|s| s.start_time),
    })
}

/// Wait (bounded) until every copy of the readiness pipe's write end is closed: the supervisor
/// closes its own once `supervisor.json` is written, or by exiting.
fn wait_ready(ready: std::os::fd::OwnedFd) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut file = File::from(ready);
    let mut byte = [0u8; 1];
    let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(READY_LIMIT_MS)) {
        // Readable: end of file (nothing is ever written), so the supervisor is past its setup.
        Ok(n) if n > 0 => {
            let _ = file.read(&mut byte);
        }
        _ => tracing::warn!(
            "a step's supervisor did not report ready within {READY_LIMIT_MS} ms; going on"
        ),
    }
}

/// Runs in the forked child before exec: new session, then fork again; the middle process
/// writes the grandchild's pid to `pid_fd` and exits, the grandchild keeps `ready_fd` open
/// across exec (the supervisor closes it when ready) and goes on to exec.
fn detach(pid_fd: RawFd, ready_fd: RawFd) -> io::Result<()> {
    setsid()?;
    // Held pending until the supervisor takes them, so a cancel right after start() counts.
    let mut stop = SigSet::empty();
    stop.add(Signal::SIGTERM);
    stop.add(Signal::SIGINT);
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&stop), None)?;
    // SAFETY: after fork the middle process only calls write, kill and _exit.
    match unsafe { fork() }? {
        ForkResult::Child => {
            // SAFETY: `ready_fd` is the pipe's write end, open until exec; fcntl is
            // async-signal-safe.
            let fd = unsafe { BorrowedFd::borrow_raw(ready_fd) };
            nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
            )?;
            Ok(())
        }
        ForkResult::Parent { child } => {
            // SAFETY: `pid_fd` is the pipe's write end, open until exec.
            let fd = unsafe { BorrowedFd::borrow_raw(pid_fd) };
            let code = match nix::unistd::write(fd, &child.as_raw().to_ne_bytes()) {
                Ok(4) => 0,
                _ => {
                    let _ = kill(child, Signal::SIGKILL);
                    1
                }
            };
            // SAFETY: ends the middle process without running any Rust or libc cleanup.
            unsafe { libc::_exit(code) }
        }
    }
}

/// Find the step in `dir` again, e.g. after the agent restarted.
pub fn attach(dir: &Path) -> io::Result<Attach> {
    if let Some(exit) = read_exit(dir)? {
        return Ok(Attach::Finished(exit));
    }
    let Some(record) = read_supervisor_record(dir)? else {
        return Ok(Attach::Lost);
    };
    let handle = StepHandle {
        dir: dir.to_path_buf(),
        pid: record.supervisor_pid,
        start_time: Some(record.supervisor_start_time),
    };
    if handle.supervisor_alive() {
        return Ok(Attach::Running(handle));
    }
    // It may have finished between the two looks.
    if let Some(exit) = read_exit(dir)? {
        return Ok(Attach::Finished(exit));
    }
    kill_lost_group(&record);
    Ok(Attach::Lost)
}

impl StepHandle {
    /// The step directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The supervisor's pid.
    pub fn supervisor_pid(&self) -> i32 {
        self.pid
    }

    /// Whether our supervisor (same pid and start time, not a zombie) is still there.
    pub fn supervisor_alive(&self) -> bool {
        let Some(start_time) = self.start_time else {
            return false;
        };
        proc_stat(&self.pid.to_string()).is_ok_and(|s| s.is_alive() && s.start_time == start_time)
    }

    /// Ask the supervisor to stop the step (SIGTERM to it); the result is `Cancelled` unless
    /// the step was already over. Doing nothing once the supervisor is gone is not an error.
    pub fn cancel(&self) -> io::Result<()> {
        if !self.supervisor_alive() {
            return Ok(());
        }
        match kill(Pid::from_raw(self.pid), Signal::SIGTERM) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The result if the step is over: `exit.json`, or [`Outcome::Lost`] if the supervisor
    /// vanished without writing it (its process group is then sent SIGKILL).
    pub fn try_wait(&self) -> io::Result<Option<StepExit>> {
        if let Some(exit) = read_exit(&self.dir)? {
            return Ok(Some(exit));
        }
        if self.supervisor_alive() {
            return Ok(None);
        }
        // It may have written exit.json just before exiting.
        if let Some(exit) = read_exit(&self.dir)? {
            return Ok(Some(exit));
        }
        let record = read_supervisor_record(&self.dir)?;
        if let Some(record) = &record {
            kill_lost_group(record);
        }
        Ok(Some(StepExit {
            outcome: Outcome::Lost,
            start_ms: record.and_then(|r| r.start_ms).unwrap_or(0),
            end_ms: now_ms(),
        }))
    }

    /// Wait for the step to be over, looking for `exit.json` every 5 ms at first and every
    /// 50 ms later (see [`StepHandle::try_wait`]). The supervisor is not this process's child
    /// after an agent restart, so the file it writes is the signal; there is nothing to wait on.
    pub async fn wait(&self) -> io::Result<StepExit> {
        let mut pause = POLL_FIRST;
        loop {
            if let Some(exit) = self.try_wait()? {
                return Ok(exit);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL);
        }
    }
}

/// SIGKILL the recorded process group of a step whose supervisor is gone, if it still exists
/// in the recorded session (so a pgid reused by something unrelated is left alone).
fn kill_lost_group(record: &SupervisorRecord) {
    let Some(pgid) = record.child_pgid else {
        return;
    };
    let procs = all_processes().unwrap_or_default();
    if procs
        .iter()
        .any(|p| p.pgrp == pgid && p.session == record.session_id && p.is_alive())
    {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
}
