//! Running one shell step under a detached supervisor process that outlives the agent.
//!
//! Layout of a step directory `<dir>` (created empty by the caller):
//!
//! - `_script.sh`: the step's shell text (mode 0700), written by [`start`].
//! - `supervisor.json`: [`SupervisorRecord`], written by the supervisor when it starts and again
//!   once the child runs.
//! - `stdout`, `stderr`: the step's output, written straight by the child (appended to, when the
//!   step runs again after a reboot it asked for).
//! - `exit.json`: the final [`StepExit`], written last by the supervisor.
//!
//! The agent starts a step with [`start`], and after a restart finds it again with [`attach`].
//! The supervisor side is [`supervise_main`], run as `bosun-agent supervise …`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub mod handle;
pub mod supervisor;
pub mod tail;

pub use handle::{attach, start, Attach, StepHandle};
pub use supervisor::{supervise_main, ArgsError, SuperviseArgs};
pub use tail::{read_prefix, OutputTail};

/// The script file inside the step directory.
pub const SCRIPT_FILE: &str = "_script.sh";
/// The supervisor's record of itself and its child.
pub const SUPERVISOR_FILE: &str = "supervisor.json";
/// The final result.
pub const EXIT_FILE: &str = "exit.json";
/// The step's standard output.
pub const STDOUT_FILE: &str = "stdout";
/// The step's standard error.
pub const STDERR_FILE: &str = "stderr";

/// What to run and how.
#[derive(Clone, Debug)]
pub struct StepSpec {
    /// The step directory; must exist and be empty.
    pub dir: PathBuf,
    /// The shell text, run as `<shell> <dir>/_script.sh`.
    pub script: String,
    /// The script's working directory; `None` means the step directory.
    pub working_dir: Option<PathBuf>,
    /// Extra environment variables; the rest of the agent's environment is inherited.
    pub env: Vec<(String, String)>,
    /// How long the script may run; `Duration::ZERO` means no limit.
    pub timeout: Duration,
    /// Grace between SIGTERM and SIGKILL when stopping the script.
    pub stop_timeout: Duration,
    /// The interpreter, `/bin/sh` by default.
    pub shell: PathBuf,
}

impl StepSpec {
    /// A spec with the defaults: step directory as working directory, no extra environment,
    /// one hour to run, five seconds to stop, `/bin/sh`.
    pub fn new(dir: impl Into<PathBuf>, script: impl Into<String>) -> Self {
        Self {
            dir: dir.into(),
            script: script.into(),
            working_dir: None,
            env: Vec::new(),
            timeout: Duration::from_secs(3600),
            stop_timeout: Duration::from_secs(5),
            shell: PathBuf::from("/bin/sh"),
        }
    }
}

/// How a step ended. Serialized with an `outcome` tag, e.g. `{"outcome":"exited","code":3}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The shell exited with this code.
    Exited { code: i32 },
    /// The shell was killed by this signal (not by the supervisor's timeout or cancel).
    Signaled { signal: i32 },
    /// The execution timeout ran out and the supervisor stopped the script.
    TimedOut,
    /// The supervisor got SIGTERM or SIGINT and stopped the script.
    Cancelled,
    /// The supervisor could not run the script at all (e.g. the shell does not exist).
    Failed { error: String },
    /// The supervisor vanished without writing `exit.json`. Never written to disk.
    Lost,
    /// The step exited `code` to ask for a reboot, and the reboot failed (`error` says how).
    /// Written by the agent, not the supervisor (see `commands::reboot`).
    RebootFailed { code: i32, error: String },
}

/// The contents of `exit.json`, or a [`Outcome::Lost`] made up by the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepExit {
    #[serde(flatten)]
    pub outcome: Outcome,
    /// When the script was started (epoch ms); 0 if unknown.
    pub start_ms: u64,
    /// When the step was over (epoch ms).
    pub end_ms: u64,
}

impl StepExit {
    /// The script exited with code 0.
    pub fn success(&self) -> bool {
        self.outcome == Outcome::Exited { code: 0 }
    }
}

/// The contents of `supervisor.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisorRecord {
    pub supervisor_pid: i32,
    /// Field 22 of `/proc/<pid>/stat` (clock ticks since boot); tells a reused pid apart.
    pub supervisor_start_time: u64,
    /// The session the supervisor and the script live in.
    pub session_id: i32,
    /// The shell's pid, once it runs.
    pub child_pid: Option<i32>,
    /// The script's process group (equal to `child_pid`).
    pub child_pgid: Option<i32>,
    /// When the script was started (epoch ms), once it runs.
    pub start_ms: Option<u64>,
}

/// Read `<dir>/supervisor.json`; `None` if it does not exist yet.
pub fn read_supervisor_record(dir: &Path) -> io::Result<Option<SupervisorRecord>> {
    read_json(&dir.join(SUPERVISOR_FILE))
}

/// Read `<dir>/exit.json`; `None` if the step has not finished.
pub fn read_exit(dir: &Path) -> io::Result<Option<StepExit>> {
    read_json(&dir.join(EXIT_FILE))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{path:?}: {e}"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    write_atomic(path, &bytes, 0o600)
}

/// Write `contents` to `path` atomically with the given Unix mode: temp file, fsync, rename,
/// fsync the directory. (The same as `bosun_fs::write_atomic` in `bosun-agent`.)
pub(crate) use bosun_fs::write_atomic;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The fields of `/proc/<pid>/stat` this module needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcStat {
    pub pid: i32,
    /// `R`, `S`, `D`, `Z`, …
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    pub start_time: u64,
}

impl ProcStat {
    /// Running or sleeping, not a zombie waiting to be reaped.
    pub fn is_alive(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Read `/proc/<pid>/stat` (`pid` may be `"self"`); `NotFound` once the process is gone.
pub(crate) fn proc_stat(pid: &str) -> io::Result<ProcStat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad /proc/{pid}/stat")))
}

fn parse_stat(text: &str) -> Option<ProcStat> {
    // "pid (comm) state ppid pgrp session …": comm may hold spaces and parentheses.
    let (head, rest) = text.rsplit_once(')')?;
    let pid = head.split_once(' ')?.0.trim().parse().ok()?;
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // `fields[0]` is field 3 (state), so field N is `fields[N - 3]`.
    Some(ProcStat {
        pid,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgrp: fields.get(2)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// Every process visible in `/proc` (processes that vanish mid-scan are skipped).
pub(crate) fn all_processes() -> io::Result<Vec<ProcStat>> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(stat) = proc_stat(name) {
                out.push(stat);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_comm() {
        let mut line = String::from("4242 (a) b (c) S 1 4242 4240 0 -1 4194560 1 0 0 0");
        line.push_str(" 0 0 0 0 20 0 1 0 987654 1000 10");
        let stat = parse_stat(&line).unwrap();
        assert_eq!(stat.pid, 4242);
        assert_eq!(stat.state, 'S');
        assert_eq!((stat.ppid, stat.pgrp, stat.session), (1, 4242, 4240));
        assert_eq!(stat.start_time, 987654);
        let me = proc_stat("self").unwrap();
        assert_eq!(me.pid as u32, std::process::id());
    }

    #[test]
    fn exit_json_shapes() {
        let exit = StepExit {
            outcome: Outcome::Exited { code: 3 },
            start_ms: 1,
            end_ms: 2,
        };
        let text = serde_json::to_string(&exit).unwrap();
        assert_eq!(
            text,
            r#"{"outcome":"exited","code":3,"start_ms":1,"end_ms":2}"#
        );
        assert_eq!(serde_json::from_str::<StepExit>(&text).unwrap(), exit);
        let timed_out: StepExit =
            serde_json::from_str(r#"{"outcome":"timed_out","start_ms":5,"end_ms":6}"#).unwrap();
        assert_eq!(timed_out.outcome, Outcome::TimedOut);
        assert!(!timed_out.success());
    }
}
