//! Finding the running agent, waiting for an agent's health report, and the rollback: stop
//! what runs, put the previous binary back, start it with the agent's own arguments,
//! environment and working directory, and wait until it reports healthy.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::marker::{self, proc_state, Marker, Phase};

const POLL: Duration = Duration::from_millis(200);

/// The running agent: its pid (from `agent.pid`) and start time (which an exec keeps, so the
/// process the agent becomes is recognised and a reused pid is not), and how to start it again.
pub(super) struct Agent {
    pub(super) pid: u32,
    start_time: String,
    argv: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    cwd: PathBuf,
}

impl Agent {
    pub(super) fn find(state_dir: &Path) -> Result<Agent, String> {
        let pid: u32 = std::fs::read_to_string(state_dir.join("agent.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or("the agent's pid file is missing; is the agent running?")?;
        let proc = PathBuf::from(format!("/proc/{pid}"));
        let argv = split_nul(&std::fs::read(proc.join("cmdline")).unwrap_or_default());
        if argv.is_empty() || !argv.iter().any(|a| a == "run") {
            return Err(format!("process {pid} is not a running bosun-agent"));
        }
        let env = split_nul(&std::fs::read(proc.join("environ")).unwrap_or_default())
            .into_iter()
            .filter_map(|kv| {
                let bytes = kv.as_bytes();
                let eq = bytes.iter().position(|b| *b == b'=')?;
                Some((
                    OsString::from(std::ffi::OsStr::from_bytes(&bytes[..eq])),
                    OsString::from(std::ffi::OsStr::from_bytes(&bytes[eq + 1..])),
                ))
            })
            .collect();
        let cwd = std::fs::read_link(proc.join("cwd")).unwrap_or_else(|_| PathBuf::from("/"));
        let (_, start_time) = proc_state(pid).ok_or(format!("process {pid} is gone"))?;
        Ok(Agent {
            pid,
            start_time,
            argv,
            env,
            cwd,
        })
    }

    /// Whether the agent's process still lives (not a zombie), whatever it executes now.
    fn is_running(&self) -> bool {
        match proc_state(self.pid) {
            Some((state, start)) => {
                !matches!(state.as_str(), "Z" | "X") && start == self.start_time
            }
            None => false,
        }
    }
}

fn split_nul(bytes: &[u8]) -> Vec<OsString> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| OsString::from(std::ffi::OsStr::from_bytes(s)))
        .collect()
}

/// Wait for a health report of `version` until `timeout`.
pub(super) fn wait_healthy(
    state_dir: &Path,
    version: &str,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(h) = marker::read_health(state_dir) {
            if h.version == version {
                return Ok(());
            }
        }
        if let Ok(why) = std::fs::read_to_string(marker::swap_failed_path(state_dir)) {
            return Err(why.trim().to_string());
        }
        if Instant::now() >= deadline {
            return Err("no health report".into());
        }
        std::thread::sleep(POLL);
    }
}

/// Stop what runs, put the previous binary back, start it, and wait until it is healthy.
pub(super) fn roll_back(
    state_dir: &Path,
    m: &Marker,
    agent: &Agent,
    timeout: Duration,
) -> Result<(), String> {
    let mut m = m.clone();
    m.phase = Phase::RollingBack;
    marker::write(state_dir, &m).map_err(|e| format!("could not record the rollback: {e}"))?;
    let _ = std::fs::remove_file(marker::health_path(state_dir));
    let _ = std::fs::remove_file(marker::swap_failed_path(state_dir));
    if agent.is_running() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(agent.pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let gone_by = Instant::now() + Duration::from_secs(10);
        while agent.is_running() {
            if Instant::now() >= gone_by {
                return Err(format!("process {} did not stop", agent.pid));
            }
            std::thread::sleep(POLL);
        }
    }
    std::fs::rename(&m.previous, &m.exe).map_err(|e| {
        format!(
            "could not restore {} over {}: {e}",
            m.previous.display(),
            m.exe.display()
        )
    })?;
    let log_path = state_dir.join("agent-restarted.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("could not open {}: {e}", log_path.display()))?;
    let err = log
        .try_clone()
        .map_err(|e| format!("could not open {}: {e}", log_path.display()))?;
    let mut cmd = std::process::Command::new(&m.exe);
    cmd.args(&agent.argv[1..])
        .env_clear()
        .envs(agent.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&agent.cwd)
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err);
    // SAFETY: setsid is async-signal-safe; the restarted agent leaves this step's session so
    // the supervisor's stop signals never reach it.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(drop)
                .map_err(std::io::Error::from)
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", m.exe.display()))?;
    eprintln!(
        "Restored agent {} and started it again (process {}).",
        m.previous_version,
        child.id()
    );
    // Any report of the previous version counts (the report file was removed above): a
    // service manager may have started the restored binary first, and then ours exits on the
    // state dir's lock.
    wait_healthy(state_dir, &m.previous_version, timeout)
        .map_err(|e| format!("the restored agent did not report healthy either: {e}"))
}
