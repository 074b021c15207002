//! One session in its own process, `bosun-agent session-worker DIR`, as command steps run
//! under their own supervisors: the session's data channel and its shell, command or port
//! forwarding belong to this process, so an agent restart (an update, a crash) leaves the
//! session running, and the restarted agent finds it again (`super::workers`).
//!
//! The worker's folder `<state-dir>/sessions/live/<session-id>/` (0700) holds:
//!
//! - `spec.json` ([`WorkerSpec`], 0600; it holds the agent's single-use data channel token and
//!   goes with the folder);
//! - `pid`: the worker's process id, written first;
//! - `stop.json`: written by the agent to end the session (`TerminateSession`), with the
//!   reason; the worker looks for it every [`STOP_POLL`];
//! - `end.json`: the session's [`SessionEnd`], written last, before the worker exits.
//!
//! The server URL to dial is `<state-dir>/sessions/server`, which the agent rewrites when its
//! channel moves to another server, so a redial follows the agent.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use bosun_proto::session::{SessionEnd, SessionEndReason, SessionStart};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::link::{self, DialTarget};
use super::run::{self, RunSettings};

pub const SPEC_FILE: &str = "spec.json";
pub const PID_FILE: &str = "pid";
pub const STOP_FILE: &str = "stop.json";
pub const END_FILE: &str = "end.json";
/// Next to the workers' folders: the server URL the agent's channel is on.
pub const SERVER_FILE: &str = "server";
/// How often the worker looks for `stop.json` and a new server URL.
pub const STOP_POLL: Duration = Duration::from_millis(100);

/// What a worker needs to run its session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerSpec {
    pub start: SessionStart,
    pub node_id: String,
    pub ca_file: Option<PathBuf>,
    /// `Mds.StopTimeoutMillis`.
    pub stop_grace_ms: u64,
}

/// Why the agent asks a worker to stop.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct StopRequest {
    pub reason: SessionEndReason,
}

/// `bosun-agent session-worker DIR`: the process's whole life. Returns the exit status.
pub fn main(dir: &Path) -> i32 {
    let pid = std::process::id().to_string();
    if let Err(e) = bosun_fs::write_atomic(&dir.join(PID_FILE), pid.as_bytes(), 0o600) {
        eprintln!("bosun-agent session-worker: cannot record its pid: {e}");
        return 2;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bosun-agent session-worker: {e}");
            return 2;
        }
    };
    match runtime.block_on(run(dir.to_path_buf())) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(dir = %dir.display(), error = %format!("{e:#}"), "session worker failed");
            2
        }
    }
}

fn server_file(dir: &Path) -> PathBuf {
    dir.parent()
        .and_then(Path::parent)
        .map(|sessions| sessions.join(SERVER_FILE))
        .unwrap_or_else(|| dir.join(SERVER_FILE))
}

fn read_server(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(server_file(dir)).ok()?;
    let url = text.trim();
    (!url.is_empty()).then(|| url.to_string())
}

/// Run the session of the worker folder `dir` and write its end there.
pub async fn run(dir: PathBuf) -> anyhow::Result<()> {
    let text = std::fs::read(dir.join(SPEC_FILE)).context("reading the session's spec.json")?;
    let spec: WorkerSpec = serde_json::from_slice(&text).context("reading spec.json")?;
    let session_id = spec.start.session_id.clone();
    let server = Arc::new(Mutex::new(read_server(&dir).unwrap_or_default()));
    let (links_tx, links_rx) = mpsc::channel(1);
    let target = DialTarget {
        server: server.clone(),
        ca_file: spec.ca_file.clone(),
        session_id: session_id.clone(),
        token: spec.start.agent_token.clone(),
        node_id: spec.node_id.clone(),
    };
    let (stop_tx, stop_rx) = mpsc::channel(4);
    let give_up = stop_tx.clone();
    let dialer = tokio::spawn(async move {
        link::dial_loop(target, links_tx).await;
        // The data channel is gone for good (or the session is): end the session here too.
        let _ = give_up.send(SessionEndReason::Terminated).await;
    });
    let watcher = tokio::spawn(watch(dir.clone(), server, stop_tx));
    let settings = RunSettings {
        stop_grace: Duration::from_millis(spec.stop_grace_ms),
        ..RunSettings::default()
    };
    tracing::info!(%session_id, kind = ?spec.start.kind, "session starting");
    let end = run::run_session(spec.start, settings, links_rx, stop_rx).await;
    tracing::info!(%session_id, reason = ?end.reason, exit_code = ?end.exit_code, signal = ?end.signal, "session ended");
    watcher.abort();
    dialer.abort();
    write_end(&dir, &end)
}

fn write_end(dir: &Path, end: &SessionEnd) -> anyhow::Result<()> {
    let body = serde_json::to_vec(end)?;
    bosun_fs::write_atomic(&dir.join(END_FILE), &body, 0o600).context("writing end.json")
}

/// Follow the agent: a stop request, and the server URL when it changes.
async fn watch(dir: PathBuf, server: Arc<Mutex<String>>, stop: mpsc::Sender<SessionEndReason>) {
    let mut stopped = false;
    loop {
        tokio::time::sleep(STOP_POLL).await;
        if !stopped {
            if let Ok(text) = std::fs::read(dir.join(STOP_FILE)) {
                let reason = serde_json::from_slice::<StopRequest>(&text)
                    .map(|r| r.reason)
                    .unwrap_or(SessionEndReason::Terminated);
                stopped = stop.send(reason).await.is_ok();
            }
        }
        if let Some(url) = read_server(&dir) {
            let mut current = server.lock().unwrap_or_else(|p| p.into_inner());
            if *current != url {
                *current = url;
            }
        }
    }
}
