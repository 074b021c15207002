//! Telling the other replicas of a PostgreSQL database at once, instead of at their next sweep:
//! a doorbell over `LISTEN`/`NOTIFY` (`bosun_store_pg::PgDoorbell`, one dedicated connection).
//!
//! - `bosun_wake`: a ring for a background loop (the orchestrator, the automation runtime) after
//!   something it acts on changed here — a command sent or cancelled, invocations started by
//!   their owner, an agent's ack or result, an automation signal. The other replicas run a pass
//!   now; their sweeps stay as the fallback, so a lost ring costs latency only. Rings are
//!   coalesced (at most one per bell per [`RING_GAP`]) and a replica ignores its own.
//! - `bosun_watch`: "someone here follows command C's live output", repeated every
//!   [`WATCH_RENEW`] while they do; replicas receiving that command's output from their agents
//!   then forward it on
//! - `bosun_live`: pieces of live output, published to the watchers on the other replicas. The
//!   stored output stays the truth: a watcher that misses a piece sees a gap by its offset and
//!   reads the stored output at the end, as it does for output from before it subscribed.
//! - `bosun_cancel`: "stop command C on these nodes": a command's owner ended their running
//!   invocations at its deadline (`DeliveryTimedOut`, terminal, so no replica's delivery pass
//!   sends a cancel for them any more); the replicas holding those nodes' channels tell them.
//!   Best effort, as on one replica: a node that misses it runs the step to its own end, and
//!   its late result changes nothing.
//! - `bosun_session`: "look at session S": sent to the replica relaying a session when another
//!   replica started it (to take it over) or ended it (to close its sockets and tell the
//!   node). That replica's periodic look at its sessions is the fallback.
//!
//! On SQLite there is one replica and the doorbell is silent ([`Doorbell::local`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_proto::command::Stream;
use bosun_proto::ServerMessage;
use bosun_store_pg::{Heard, PgDoorbell};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Notify;

use crate::state::{now_ms, AppState};

const WAKE: &str = "bosun_wake";
const WATCH: &str = "bosun_watch";
const LIVE: &str = "bosun_live";
const CANCEL: &str = "bosun_cancel";
const SESSION: &str = "bosun_session";
/// Shortest pause between two rings of one bell.
const RING_GAP: Duration = Duration::from_millis(5);
/// How often a replica says again that it follows a command's live output.
pub const WATCH_RENEW: Duration = Duration::from_secs(5);
/// How long a replica forwards a command's output after it last heard of a watcher.
const WATCH_HEARD_FOR_MS: i64 = 15_000;
/// Output bytes per `bosun_live` notification (base64 and JSON stay under PostgreSQL's limit).
const LIVE_PIECE: usize = 4_096;

/// A background loop another replica may have to wake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bell {
    Orchestrator,
    Automation,
}

const BELLS: [Bell; 2] = [Bell::Orchestrator, Bell::Automation];

/// This replica's end of the doorbell. Cheap to clone; [`Doorbell::local`] does nothing.
#[derive(Clone, Default)]
pub struct Doorbell(Option<Arc<Shared>>);

struct Shared {
    pg: PgDoorbell,
    replica_id: String,
    pending: [AtomicBool; 2],
    rung: Notify,
}

#[derive(Serialize, Deserialize)]
struct Ring {
    from: String,
    bell: Bell,
}

#[derive(Serialize, Deserialize)]
struct Watch {
    from: String,
    command_id: String,
}

#[derive(Serialize, Deserialize)]
struct CancelNotice {
    from: String,
    command_id: String,
    instance_ids: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct SessionNotice {
    to: String,
    session_id: String,
}

#[derive(Serialize, Deserialize)]
struct LivePiece {
    from: String,
    command_id: String,
    instance_id: String,
    stream: Stream,
    offset: u64,
    data: String,
}

impl Doorbell {
    /// The doorbell of a server that is the only replica (SQLite).
    pub fn local() -> Doorbell {
        Doorbell(None)
    }

    /// Connect the doorbell of a PostgreSQL replica; what it hears goes to [`run`]. Call from
    /// within the tokio runtime.
    pub fn connect(
        url: &str,
        replica_id: &str,
    ) -> anyhow::Result<(Doorbell, UnboundedReceiver<Heard>)> {
        let (pg, heard) = PgDoorbell::start(url, &[WAKE, WATCH, LIVE, CANCEL, SESSION])?;
        let shared = Arc::new(Shared {
            pg,
            replica_id: replica_id.to_string(),
            pending: [AtomicBool::new(false), AtomicBool::new(false)],
            rung: Notify::new(),
        });
        tokio::spawn(send_rings(shared.clone()));
        Ok((Doorbell(Some(shared)), heard))
    }

    /// Whether other replicas may be listening.
    pub fn is_shared(&self) -> bool {
        self.0.is_some()
    }

    /// Wake `bell`'s loop on the other replicas soon.
    pub fn ring(&self, bell: Bell) {
        if let Some(s) = &self.0 {
            if !s.pending[bell as usize].swap(true, Ordering::AcqRel) {
                s.rung.notify_one();
            }
        }
    }

    /// Say that a watcher here follows `command_id`'s live output.
    pub fn watch(&self, command_id: &str) {
        if let Some(s) = &self.0 {
            let watch = Watch {
                from: s.replica_id.clone(),
                command_id: command_id.to_string(),
            };
            s.pg.send(WATCH, json(&watch));
        }
    }

    /// Ask the replicas holding these nodes' channels to tell them to stop `command_id`.
    pub fn cancel(&self, command_id: &str, instance_ids: &[String]) {
        let Some(s) = &self.0 else { return };
        // Node ids are 19 characters: 200 of them stay well under PostgreSQL's payload limit.
        for ids in instance_ids.chunks(200) {
            let notice = CancelNotice {
                from: s.replica_id.clone(),
                command_id: command_id.to_string(),
                instance_ids: ids.to_vec(),
            };
            s.pg.send(CANCEL, json(&notice));
        }
    }

    /// Ask replica `to`, which relays `session_id`, to look at the session now.
    pub fn session(&self, to: &str, session_id: &str) {
        if let Some(s) = &self.0 {
            let notice = SessionNotice {
                to: to.to_string(),
                session_id: session_id.to_string(),
            };
            s.pg.send(SESSION, json(&notice));
        }
    }

    /// Forward a piece of live output to the watchers on other replicas.
    pub fn live(
        &self,
        command_id: &str,
        instance_id: &str,
        stream: Stream,
        offset: u64,
        data: &[u8],
    ) {
        let Some(s) = &self.0 else { return };
        for (n, piece) in data.chunks(LIVE_PIECE).enumerate() {
            let live = LivePiece {
                from: s.replica_id.clone(),
                command_id: command_id.to_string(),
                instance_id: instance_id.to_string(),
                stream,
                offset: offset + (n * LIVE_PIECE) as u64,
                data: B64.encode(piece),
            };
            s.pg.send(LIVE, json(&live));
        }
    }
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Sends pending rings, each bell at most once per [`RING_GAP`], for the process's life.
async fn send_rings(s: Arc<Shared>) {
    loop {
        s.rung.notified().await;
        for bell in BELLS {
            if s.pending[bell as usize].swap(false, Ordering::AcqRel) {
                let ring = Ring {
                    from: s.replica_id.clone(),
                    bell,
                };
                s.pg.send(WAKE, json(&ring));
            }
        }
        tokio::time::sleep(RING_GAP).await;
    }
}

/// Act on what the doorbell hears until the process ends.
pub async fn run(state: Arc<AppState>, mut heard: UnboundedReceiver<Heard>) {
    while let Some(h) = heard.recv().await {
        match h {
            Heard::Connected => {
                // Whatever was rung while the connection was down: look now.
                state.orchestrator.kick_here();
                state.automation.kick_here();
            }
            Heard::Notice { channel, payload } => on_notice(&state, &channel, &payload),
        }
    }
}

fn on_notice(state: &Arc<AppState>, channel: &str, payload: &str) {
    let me = &state.replica.id;
    match channel {
        WAKE => match serde_json::from_str::<Ring>(payload) {
            Ok(r) if &r.from != me => match r.bell {
                Bell::Orchestrator => state.orchestrator.kick_here(),
                Bell::Automation => state.automation.kick_here(),
            },
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "an unreadable doorbell ring"),
        },
        WATCH => match serde_json::from_str::<Watch>(payload) {
            Ok(w) if &w.from != me => {
                let now = now_ms();
                let until = now + WATCH_HEARD_FOR_MS;
                if state
                    .feed
                    .watched_elsewhere_until(&w.command_id, now, until)
                {
                    tracing::info!(command_id = %w.command_id, replica_id = %w.from,
                        "a watcher on another replica follows this command's live output");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "an unreadable live-output watch"),
        },
        LIVE => match serde_json::from_str::<LivePiece>(payload) {
            Ok(p) if &p.from != me => match B64.decode(&p.data) {
                Ok(data) => {
                    state
                        .feed
                        .publish(&p.command_id, &p.instance_id, p.stream, p.offset, &data)
                }
                Err(e) => tracing::warn!(error = %e, "unreadable live output from a replica"),
            },
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "unreadable live output from a replica"),
        },
        CANCEL => match serde_json::from_str::<CancelNotice>(payload) {
            Ok(c) if &c.from != me => {
                for id in &c.instance_ids {
                    let message = ServerMessage::CancelCommand {
                        command_id: c.command_id.clone(),
                    };
                    if state.hub.send(id, message) {
                        tracing::info!(command_id = %c.command_id, instance_id = %id,
                            "command past its deadline stopped on a node connected here");
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "an unreadable cancel from a replica"),
        },
        SESSION => match serde_json::from_str::<SessionNotice>(payload) {
            Ok(n) if &n.to == me => {
                let st = state.clone();
                tokio::task::spawn_blocking(move || crate::sessions::look_at(&st, &n.session_id));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "an unreadable session notice"),
        },
        other => tracing::debug!(channel = other, "a notification on an unknown channel"),
    }
}
