//! Session Manager on the node: the far end of AWS's data channel, as AWS's
//! `ssm-session-worker` is. The server relays; this end runs the shell or command, acks,
//! orders and retransmits, and reports how the session ended (contract:
//! `bosun_proto::session`).
//!
//! Files: `pump` (frames, acks, retransmission, reconnects over an abstract [`pump::Link`]),
//! `link` (the websocket dialer), `run` (one session: connect, handshake, spawn), `shell` (the
//! process relay and its end), `process` (PTY or pipes, run-as), `user` (passwd), `utf8` (whole characters per frame), `reap`
//! (process group ending, escaped processes), `port` and `port_target` (TCP forwarding, basic
//! and smux), `pending` (unacknowledged ends on disk), `worker` (one session in its own
//! process, which outlives an agent restart) and `workers` (the agent's side of them).

pub mod link;
pub mod pending;
pub mod port;
pub mod port_target;
pub mod process;
pub mod pump;
pub mod reap;
pub mod run;
pub mod shell;
pub mod user;
pub mod utf8;
pub mod worker;
pub mod workers;

#[cfg(test)]
mod port_tests;
#[cfg(test)]
mod service_tests;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::commands::outbox::Outbox;
use bosun_proto::session::{SessionEnd, SessionEndReason, SessionStart};
use bosun_proto::{AgentMessage, ServerMessage};
use pending::PendingEnds;
use run::RunSettings;
use worker::WorkerSpec;
use workers::{Found, Worker, Workers};

/// How often unacknowledged ends are sent again while connected.
const RESEND_EVERY: Duration = Duration::from_secs(15);

/// What sessions need from the agent's identity and config.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub node_id: String,
    pub ca_file: Option<PathBuf>,
    /// `Mgs.SessionWorkersLimit`.
    pub workers_limit: usize,
    pub run: RunSettings,
    /// `bosun-agent` itself, run as `session-worker` for each session; `None` runs sessions as
    /// tasks of this process (unit tests).
    pub worker_program: Option<PathBuf>,
}

pub struct SessionService {
    settings: SessionSettings,
    pub outbox: Outbox,
    /// The sessions whose workers run.
    live: Mutex<HashSet<String>>,
    workers: Workers,
    /// Sessions that ended while this agent ran (a late `StartSession` is only re-answered).
    finished: Mutex<HashSet<String>>,
    pending: PendingEnds,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SessionService {
    pub fn new(state_dir: &Path, server: &str, settings: SessionSettings) -> std::io::Result<Self> {
        let workers = Workers::open(state_dir, settings.worker_program.clone())?;
        workers.set_server(server);
        Ok(Self {
            settings,
            outbox: Outbox::default(),
            live: Mutex::new(HashSet::new()),
            workers,
            finished: Mutex::new(HashSet::new()),
            pending: PendingEnds::open(state_dir)?,
        })
    }

    /// Take back the sessions an earlier agent left running (their workers outlived it), and
    /// the ends it had not taken.
    pub async fn recover(self: &Arc<Self>) {
        for found in self.workers.recover() {
            match found {
                Found::Running(id, worker) => {
                    tracing::info!(session_id = %id, "session still running from before the restart");
                    lock(&self.live).insert(id.clone());
                    self.spawn_waiter(id, worker);
                }
                Found::Ended(end) => {
                    let id = end.session_id.clone();
                    self.finish(end).await;
                    self.workers.forget(&id);
                }
            }
        }
    }

    /// The agent channel is up on `server`: tell the workers (they redial there) and resend
    /// pending ends.
    pub async fn on_connected(&self, server: &str) {
        self.workers.set_server(server);
        self.resend_pending().await;
    }

    async fn resend_pending(&self) {
        for end in self.pending.all() {
            self.outbox.send(AgentMessage::SessionEnded(end)).await;
        }
    }

    /// Resend unacknowledged ends now and then (an end lost in flight is not lost for good).
    pub fn spawn_resender(self: &Arc<Self>) {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RESEND_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                svc.resend_pending().await;
            }
        });
    }

    /// Whether this message is for the session service.
    pub fn handles(msg: &ServerMessage) -> bool {
        matches!(
            msg,
            ServerMessage::StartSession(_)
                | ServerMessage::TerminateSession { .. }
                | ServerMessage::SessionEndAck { .. }
        )
    }

    pub async fn handle(self: &Arc<Self>, msg: ServerMessage) {
        match msg {
            ServerMessage::StartSession(start) => self.start(start).await,
            ServerMessage::TerminateSession { session_id, reason } => {
                let running = lock(&self.live).contains(&session_id);
                if running {
                    self.workers.stop(&session_id, reason);
                } else if let Some(end) = self.pending.get(&session_id) {
                    // Already over: say so again.
                    self.outbox.send(AgentMessage::SessionEnded(end)).await;
                }
            }
            ServerMessage::SessionEndAck { session_id } => {
                if let Err(e) = self.pending.remove(&session_id) {
                    tracing::error!(%session_id, error = %e, "could not drop an acknowledged session end");
                }
            }
            _ => {}
        }
    }

    async fn start(self: &Arc<Self>, start: SessionStart) {
        let id = start.session_id.clone();
        self.outbox
            .send(AgentMessage::SessionAccepted {
                session_id: id.clone(),
            })
            .await;
        if lock(&self.live).contains(&id) || lock(&self.finished).contains(&id) {
            return;
        }
        if let Some(end) = self.pending.get(&id) {
            self.outbox.send(AgentMessage::SessionEnded(end)).await;
            return;
        }
        let full = {
            let mut live = lock(&self.live);
            let full = live.len() >= self.settings.workers_limit;
            if !full {
                live.insert(id.clone());
            }
            full
        };
        if full {
            let error = format!(
                "the node already runs {} sessions, the agent's Mgs.SessionWorkersLimit",
                self.settings.workers_limit
            );
            let end = run::ended(&id, SessionEndReason::Failed, None, None, Some(error));
            self.finish(end).await;
            return;
        }
        let spec = WorkerSpec {
            start,
            node_id: self.settings.node_id.clone(),
            ca_file: self.settings.ca_file.clone(),
            stop_grace_ms: self.settings.run.stop_grace.as_millis() as u64,
        };
        match self.workers.start(&spec) {
            Ok(worker) => self.spawn_waiter(id, worker),
            Err(e) => {
                lock(&self.live).remove(&id);
                let error = format!("the agent could not start the session's worker: {e}");
                let end = run::ended(&id, SessionEndReason::Failed, None, None, Some(error));
                self.finish(end).await;
                self.workers.forget(&id);
            }
        }
    }

    /// Report the session's end when its worker ends.
    fn spawn_waiter(self: &Arc<Self>, id: String, worker: Worker) {
        let svc = self.clone();
        tokio::spawn(async move {
            let end = svc.workers.wait(&id, worker).await;
            lock(&svc.live).remove(&id);
            svc.finish(end).await;
            svc.workers.forget(&id);
        });
    }

    /// Persist, then report.
    async fn finish(&self, end: SessionEnd) {
        if let Err(e) = self.pending.save(&end) {
            tracing::error!(session_id = %end.session_id, error = %e, "could not persist a session end");
        }
        lock(&self.finished).insert(end.session_id.clone());
        self.outbox.send(AgentMessage::SessionEnded(end)).await;
    }
}
