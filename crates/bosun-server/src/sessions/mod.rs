//! Live Session Manager sessions on this replica: the agent's join request until it is
//! accepted, the two sockets of each session's data channel (client and agent) with what is
//! buffered for an absent side, and the timers (idle, maximum duration) the server enforces.
//!
//! The store holds each session's record (`bosun_store::SessionStore`); this holds what only
//! lives while the process does. A session is relayed by one replica, the one holding its
//! node's channel: sessions started on another replica are handed over ([`handoff`]), and data
//! channel sockets that land on another replica are forwarded to it ([`proxy`]).

mod ending;
mod frames;
mod handoff;
mod log;
mod log_http;
mod proxy;
mod relay;
mod reports;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::Message;
use bosun_proto::session::{SessionEndReason, SessionStart};
use bosun_proto::ServerMessage;
use tokio::sync::mpsc;

pub use ending::end_session;
pub use handoff::{look_at, Handoff};
pub use log::{is_logged, log_url};
pub use log_http::{get_log, session_log};
pub use relay::{data_channel, token_hash};
pub use reports::{on_accepted, on_ended};

use crate::state::{now_ms, AppState};

/// How long a client token is good for (to connect once).
pub const CLIENT_TOKEN_TTL_MS: i64 = 60_000;
/// How often an unaccepted join request is sent again.
const RESEND_EVERY_MS: i64 = 2_000;
/// How long past its start-by time an agent may still accept a session.
const AGENT_JOIN_GRACE_MS: i64 = 10_000;
/// How much is buffered for an absent side, per direction.
const MAX_BUFFERED_BYTES: usize = 4 * 1024 * 1024;
/// The timer loop's period (limits are enforced to the second).
const TICK: Duration = Duration::from_millis(250);
/// Ticks between two looks at every active session ([`handoff::reconcile`]).
const RECONCILE_EVERY_TICKS: u64 = 8;

/// Which end of the data channel a socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Agent,
}

/// One bound socket: what to send it goes through `tx`.
struct Peer {
    conn: u64,
    tx: mpsc::UnboundedSender<Message>,
}

/// Frames waiting for a side that is not connected.
#[derive(Default)]
struct Buffer {
    frames: VecDeque<Vec<u8>>,
    bytes: usize,
}

/// A session while it runs here.
pub struct Live {
    pub target: String,
    /// The join request (with the agent's token), re-sent until accepted.
    start: SessionStart,
    accepted: bool,
    last_sent_ms: i64,
    pub idle_timeout_s: i64,
    pub max_duration_s: Option<i64>,
    pub idle_counts_input: bool,
    pub start_ms: i64,
    last_activity_ms: i64,
    /// The highest sequence number of user data seen each way: only new data is activity, so a
    /// sender retransmitting to a peer that no longer acknowledges keeps nothing alive.
    newest_output_seq: i64,
    newest_input_seq: i64,
    client_token_expires_ms: i64,
    client_ever: bool,
    /// The agent already told the client the session closed.
    agent_closed_client: bool,
    client: Option<Peer>,
    agent: Option<Peer>,
    to_client: Buffer,
    to_agent: Buffer,
    /// The session's log (`None` for port sessions, which are not logged).
    log: Option<log::LiveLog>,
}

/// Everything a new live session needs.
pub struct NewLive {
    pub target: String,
    pub start: SessionStart,
    pub idle_timeout_s: i64,
    pub max_duration_s: Option<i64>,
    pub idle_counts_input: bool,
    pub start_ms: i64,
}

/// The live sessions of this replica.
#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Live>>,
    next_conn: AtomicU64,
    /// Held while a handed-over session is taken over, so it is taken over once.
    taking_over: Mutex<()>,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start relaying a stored session and ask its node's agent to join.
    pub fn add(&self, state: &AppState, n: NewLive) {
        let msg = ServerMessage::StartSession(n.start.clone());
        let (session_id, target) = (n.start.session_id.clone(), n.target.clone());
        let log = log::is_logged(n.start.kind)
            .then(|| log::LiveLog::new(n.start_ms, &n.start.session_id));
        let live = Live {
            target: n.target,
            start: n.start,
            accepted: false,
            last_sent_ms: n.start_ms,
            idle_timeout_s: n.idle_timeout_s,
            max_duration_s: n.max_duration_s,
            idle_counts_input: n.idle_counts_input,
            start_ms: n.start_ms,
            last_activity_ms: n.start_ms,
            newest_output_seq: -1,
            newest_input_seq: -1,
            client_token_expires_ms: n.start_ms + CLIENT_TOKEN_TTL_MS,
            client_ever: false,
            agent_closed_client: false,
            client: None,
            agent: None,
            to_client: Buffer::default(),
            to_agent: Buffer::default(),
            log,
        };
        // Live before the agent hears of it: an agent that dials back at once must find it.
        self.lock().insert(session_id.clone(), live);
        if !state.hub.send(&target, msg) {
            // Not connected here: the sweep sends it as soon as it can.
            if let Some(l) = self.lock().get_mut(&session_id) {
                l.last_sent_ms = 0;
            }
        }
    }

    pub fn is_live(&self, session_id: &str) -> bool {
        self.lock().contains_key(session_id)
    }

    /// The ids of the sessions relayed here.
    pub fn live_ids(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// The node a live session runs on.
    pub fn target_of(&self, session_id: &str) -> Option<String> {
        self.lock().get(session_id).map(|l| l.target.clone())
    }

    /// A new client token was issued (`ResumeSession`), good until `expires_ms`.
    pub fn resumed(&self, session_id: &str, expires_ms: i64) {
        if let Some(l) = self.lock().get_mut(session_id) {
            l.client_token_expires_ms = l.client_token_expires_ms.max(expires_ms);
        }
    }

    /// Bind a socket as `side` of a session; what was buffered for it is queued first.
    /// `None` when the session is not live here.
    fn attach(
        &self,
        session_id: &str,
        side: Side,
        tx: mpsc::UnboundedSender<Message>,
    ) -> Option<u64> {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let mut map = self.lock();
        let live = map.get_mut(session_id)?;
        let (slot, buffer) = match side {
            Side::Client => {
                live.client_ever = true;
                (&mut live.client, &mut live.to_client)
            }
            Side::Agent => (&mut live.agent, &mut live.to_agent),
        };
        for frame in buffer.frames.drain(..) {
            let _ = tx.send(Message::Binary(frame.into()));
        }
        buffer.bytes = 0;
        if let Some(old) = slot.replace(Peer { conn, tx }) {
            let _ = old.tx.send(close("replaced by a newer connection"));
        }
        Some(conn)
    }

    /// A socket went away (only if it is still the bound one): whether it was, so the session
    /// now has no socket on that side.
    fn detach(&self, session_id: &str, side: Side, conn: u64) -> bool {
        let mut map = self.lock();
        let Some(live) = map.get_mut(session_id) else {
            return false;
        };
        let slot = match side {
            Side::Client => &mut live.client,
            Side::Agent => &mut live.agent,
        };
        if slot.as_ref().is_some_and(|p| p.conn == conn) {
            *slot = None;
            return true;
        }
        false
    }
}

/// A close frame with a reason (cut to the 123 bytes a close reason may hold).
pub(crate) fn close(reason: &str) -> Message {
    let mut text = reason.to_string();
    while text.len() > 123 {
        text.pop();
    }
    Message::Close(Some(axum::extract::ws::CloseFrame {
        code: 1008,
        reason: text.into(),
    }))
}

/// The timers: re-send unaccepted join requests, end sessions past a limit or whose client
/// never came.
pub async fn run(state: Arc<AppState>) {
    let mut ticks: u64 = 0;
    loop {
        if ticks.is_multiple_of(RECONCILE_EVERY_TICKS) {
            let st = state.clone();
            match tokio::task::spawn_blocking(move || handoff::reconcile(&st)).await {
                Ok(Ok(n)) if n > 0 => {
                    tracing::info!(sessions = n, "ended sessions whose relay stopped")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "could not look over the active sessions"),
                _ => {}
            }
        }
        ticks += 1;
        tokio::time::sleep(TICK).await;
        let now = now_ms();
        log::flush_due(&state, now);
        let mut due = Vec::new();
        {
            let mut map = state.sessions.lock();
            for (id, live) in map.iter_mut() {
                if !live.accepted && now - live.last_sent_ms >= RESEND_EVERY_MS {
                    let msg = ServerMessage::StartSession(live.start.clone());
                    if state.hub.send(&live.target, msg) {
                        live.last_sent_ms = now;
                    }
                }
                let limit = bosun_core::session_document::time_limit_reached(
                    live.idle_timeout_s,
                    live.max_duration_s,
                    live.start_ms,
                    live.last_activity_ms,
                    now,
                );
                if let Some(limit) = limit {
                    use bosun_core::session_document::TimeLimit;
                    let (reason, seconds) = match limit {
                        TimeLimit::Idle => (SessionEndReason::IdleTimeout, live.idle_timeout_s),
                        TimeLimit::MaxDuration => (
                            SessionEndReason::MaxDuration,
                            live.max_duration_s.unwrap_or_default(),
                        ),
                    };
                    due.push((
                        id.clone(),
                        "Terminated",
                        limit.message(seconds),
                        reason,
                        false,
                    ));
                } else if !live.accepted && now > live.start.start_by_ms + AGENT_JOIN_GRACE_MS {
                    due.push((
                        id.clone(),
                        "Failed",
                        "The node's agent did not join the session in time.".to_string(),
                        SessionEndReason::Failed,
                        false,
                    ));
                } else if !live.client_ever
                    && live.client.is_none()
                    && now > live.client_token_expires_ms
                {
                    due.push((
                        id.clone(),
                        "Failed",
                        "No client connected to the session's data channel before its token expired."
                            .to_string(),
                        SessionEndReason::Failed,
                        true,
                    ));
                }
            }
        }
        for (id, status, details, reason, unless_resumed) in due {
            let st = state.clone();
            let ended = tokio::task::spawn_blocking(move || {
                if unless_resumed {
                    // `ResumeSession` through another replica gave the client a new token.
                    let expires = st
                        .store
                        .get_session(&id)?
                        .map(|s| s.client_token_expires_ms);
                    if let Some(expires) = expires.filter(|e| *e >= now_ms()) {
                        st.sessions.resumed(&id, expires);
                        return Ok(false);
                    }
                }
                end_session(&st, &id, status, &details, reason, true, now_ms())
            })
            .await;
            if let Ok(Err(e)) = ended {
                tracing::error!(error = %e, "could not end a session");
            }
        }
    }
}
