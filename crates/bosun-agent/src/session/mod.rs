//! Session Manager on the node: the far end of AWS's data channel, as AWS's
//! `ssm-session-worker` is. The server relays; this end runs the shell or command, acks,
//! orders and retransmits, and reports how the session ended (contract:
//! `bosun_proto::session`).
//!
//! Files: `pump` (frames, acks, retransmission, reconnects over an abstract [`pump::Link`]),
//! `link` (the websocket dialer), `run` (one session: connect, handshake, spawn), `shell` (the
//! process relay and its end), `process` (PTY or pipes, run-as), `user` (passwd), `utf8` (whole characters per frame), `reap`
//! (process group ending, escaped processes), `port` and `port_target` (TCP forwarding, basic
//! and smux), `pending` (unacknowledged ends on disk).

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

#[cfg(test)]
mod port_tests;
#[cfg(test)]
mod service_tests;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bosun_proto::session::{SessionEnd, SessionEndReason, SessionStart};
use bosun_proto::{AgentMessage, ServerMessage};
use tokio::sync::mpsc;

use crate::commands::outbox::Outbox;
use pending::PendingEnds;
use run::RunSettings;

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
}

pub struct SessionService {
    settings: SessionSettings,
    pub outbox: Outbox,
    /// The server URL the agent channel is connected to.
    server: Arc<Mutex<String>>,
    live: Mutex<HashMap<String, mpsc::Sender<SessionEndReason>>>,
    /// Sessions that ended while this agent ran (a late `StartSession` is only re-answered).
    finished: Mutex<HashSet<String>>,
    pending: PendingEnds,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SessionService {
    pub fn new(state_dir: &Path, server: &str, settings: SessionSettings) -> std::io::Result<Self> {
        Ok(Self {
            settings,
            outbox: Outbox::default(),
            server: Arc::new(Mutex::new(server.to_string())),
            live: Mutex::new(HashMap::new()),
            finished: Mutex::new(HashSet::new()),
            pending: PendingEnds::open(state_dir)?,
        })
    }

    /// The agent channel is up on `server`: remember it for dialling and resend pending ends.
    pub async fn on_connected(&self, server: &str) {
        *lock(&self.server) = server.to_string();
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
                let tx = lock(&self.live).get(&session_id).cloned();
                match tx {
                    Some(tx) => {
                        let _ = tx.try_send(reason);
                    }
                    // Already over: say so again.
                    None => {
                        if let Some(end) = self.pending.get(&session_id) {
                            self.outbox.send(AgentMessage::SessionEnded(end)).await;
                        }
                    }
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
        if lock(&self.live).contains_key(&id) || lock(&self.finished).contains(&id) {
            return;
        }
        if let Some(end) = self.pending.get(&id) {
            self.outbox.send(AgentMessage::SessionEnded(end)).await;
            return;
        }
        let (stop_tx, stop_rx) = mpsc::channel(4);
        let full = {
            let mut live = lock(&self.live);
            let full = live.len() >= self.settings.workers_limit;
            if !full {
                live.insert(id.clone(), stop_tx);
            }
            full
        };
        {
            if full {
                let error = format!(
                    "the node already runs {} sessions, the agent's Mgs.SessionWorkersLimit",
                    self.settings.workers_limit
                );
                let end = run::ended(&id, SessionEndReason::Failed, None, None, Some(error));
                self.finish(end).await;
                return;
            }
        }
        tracing::info!(session_id = %id, kind = ?start.kind, "session starting");
        let (links_tx, links_rx) = mpsc::channel(1);
        let target = link::DialTarget {
            server: self.server.clone(),
            ca_file: self.settings.ca_file.clone(),
            session_id: id.clone(),
            token: start.agent_token.clone(),
            node_id: self.settings.node_id.clone(),
        };
        tokio::spawn(link::dial_loop(target, links_tx));
        let svc = self.clone();
        let settings = self.settings.run.clone();
        tokio::spawn(async move {
            let end = run::run_session(start, settings, links_rx, stop_rx).await;
            tracing::info!(session_id = %end.session_id, reason = ?end.reason, exit_code = ?end.exit_code, signal = ?end.signal, "session ended");
            lock(&svc.live).remove(&end.session_id);
            svc.finish(end).await;
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
