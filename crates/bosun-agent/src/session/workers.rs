//! The agent's side of session workers (`super::worker`): start one per session in its own
//! process (a new process session, so it outlives the agent), ask it to stop, wait for its
//! end, and after a restart find the workers still running.
//!
//! Without a worker program (unit tests) the worker runs as a task of this process, through
//! the same folder.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bosun_proto::session::{SessionEnd, SessionEndReason};

use super::pending::safe;
use super::run::ended;
use super::worker::{self, StopRequest, WorkerSpec};

/// How often a worker found after a restart (not this process's child) is looked at.
const ADOPTED_POLL: Duration = Duration::from_millis(250);

/// The workers' folders, `<state-dir>/sessions/live/`.
pub struct Workers {
    root: PathBuf,
    /// `bosun-agent` itself; `None` runs workers as tasks.
    program: Option<PathBuf>,
}

/// A running worker.
pub enum Worker {
    Child(tokio::process::Child),
    Task(tokio::task::JoinHandle<anyhow::Result<()>>),
    /// Found after a restart.
    Adopted(i32),
}

/// A worker's folder found at start.
pub enum Found {
    Running(String, Worker),
    Ended(SessionEnd),
}

/// Whether `pid` is a live session worker for `dir` (not a reused pid).
fn is_worker(pid: i32, dir: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let dir = dir.as_os_str().as_encoded_bytes();
    args.contains(&b"session-worker".as_slice())
        && args.contains(&dir)
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
}

fn read_end(dir: &Path) -> Option<SessionEnd> {
    let text = std::fs::read(dir.join(worker::END_FILE)).ok()?;
    serde_json::from_slice(&text).ok()
}

fn lost(session_id: &str) -> SessionEnd {
    ended(
        session_id,
        SessionEndReason::Failed,
        None,
        None,
        Some("the session's worker process stopped without an end".into()),
    )
}

impl Workers {
    pub fn open(state_dir: &Path, program: Option<PathBuf>) -> io::Result<Self> {
        let root = state_dir.join("sessions").join("live");
        bosun_fs::create_private_dir_all(&root)?;
        Ok(Self { root, program })
    }

    fn dir(&self, session_id: &str) -> Option<PathBuf> {
        safe(session_id).then(|| self.root.join(session_id))
    }

    /// Tell running and future workers the server URL the agent's channel is on.
    pub fn set_server(&self, url: &str) {
        let path = self
            .root
            .parent()
            .unwrap_or(&self.root)
            .join(worker::SERVER_FILE);
        if let Err(e) = bosun_fs::write_atomic(&path, url.as_bytes(), 0o600) {
            tracing::warn!(error = %e, "could not record the server URL for session workers");
        }
    }

    /// Start the worker of a session.
    pub fn start(&self, spec: &WorkerSpec) -> io::Result<Worker> {
        let id = &spec.start.session_id;
        let dir = self
            .dir(id)
            .ok_or_else(|| io::Error::other(format!("invalid session id {id:?}")))?;
        // A folder left by an earlier attempt that never ran (no pid) is replaced.
        let _ = std::fs::remove_dir_all(&dir);
        bosun_fs::create_private_dir_all(&dir)?;
        let body = serde_json::to_vec(spec).map_err(io::Error::other)?;
        bosun_fs::write_atomic(&dir.join(worker::SPEC_FILE), &body, 0o600)?;
        let Some(program) = &self.program else {
            return Ok(Worker::Task(tokio::spawn(worker::run(dir))));
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.arg("session-worker")
            .arg(&dir)
            .current_dir("/")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null());
        // SAFETY: setsid is async-signal-safe. Its own process session: signals to the agent's
        // process group (a terminal's Ctrl-C, a service manager's stop) leave it running.
        unsafe {
            cmd.pre_exec(|| nix::unistd::setsid().map(|_| ()).map_err(io::Error::from));
        }
        Ok(Worker::Child(cmd.spawn()?))
    }

    /// Ask a session's worker to end it.
    pub fn stop(&self, session_id: &str, reason: SessionEndReason) {
        let Some(dir) = self.dir(session_id) else {
            return;
        };
        let body = serde_json::to_vec(&StopRequest { reason }).unwrap_or_default();
        if let Err(e) = bosun_fs::write_atomic(&dir.join(worker::STOP_FILE), &body, 0o600) {
            tracing::warn!(%session_id, error = %e, "could not ask a session worker to stop");
        }
    }

    /// Wait for a worker's end (its folder stays until [`Workers::forget`]).
    pub async fn wait(&self, session_id: &str, worker: Worker) -> SessionEnd {
        let Some(dir) = self.dir(session_id) else {
            return lost(session_id);
        };
        match worker {
            Worker::Child(mut child) => {
                let _ = child.wait().await;
            }
            Worker::Task(task) => match task.await {
                Ok(Err(e)) => {
                    tracing::error!(%session_id, error = %format!("{e:#}"), "session worker failed")
                }
                Err(e) => tracing::error!(%session_id, error = %e, "session worker panicked"),
                Ok(Ok(())) => {}
            },
            Worker::Adopted(pid) => {
                while is_worker(pid, &dir) && read_end(&dir).is_none() {
                    tokio::time::sleep(ADOPTED_POLL).await;
                }
            }
        }
        read_end(&dir).unwrap_or_else(|| lost(session_id))
    }

    /// Remove a worker's folder once its end is kept elsewhere.
    pub fn forget(&self, session_id: &str) {
        let Some(dir) = self.dir(session_id) else {
            return;
        };
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(%session_id, error = %e, "could not remove a session worker's folder")
            }
        }
    }

    /// The workers' folders left by an earlier agent: running ones, and ends not yet taken
    /// (their folders go with [`Workers::forget`]). A folder whose worker is gone without an
    /// end is a failed session.
    pub fn recover(&self) -> Vec<Found> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let Some(id) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let dir = entry.path();
            if !safe(&id) || !dir.is_dir() {
                continue;
            }
            if let Some(end) = read_end(&dir) {
                found.push(Found::Ended(end));
                continue;
            }
            let pid = std::fs::read_to_string(dir.join(worker::PID_FILE))
                .ok()
                .and_then(|p| p.trim().parse::<i32>().ok());
            match pid {
                Some(pid) if is_worker(pid, &dir) => {
                    found.push(Found::Running(id, Worker::Adopted(pid)))
                }
                _ => found.push(Found::Ended(lost(&id))),
            }
        }
        found
    }
}
