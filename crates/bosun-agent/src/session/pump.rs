//! The agent end of one data channel over an abstract transport: encodes and decodes frames,
//! acks every sequenced inbound frame (duplicates too), hands client data over in order exactly
//! once, retransmits unacknowledged output on the RTO timer, and survives a transport being
//! replaced (sequence numbers and unacked output are kept and resent on the new one).
//!
//! A transport is a [`Link`]: two channels of encoded frames. The websocket dialer
//! (`super::link`) makes one per connection; tests make them in-process.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bosun_core::session::channel::{ChannelRole, DataChannel, InboundEvent};
use bosun_core::session::frame::ClientMessage;
use bosun_core::session::message_type::{MessageType, FLAGS_ACKNOWLEDGE};
use bosun_core::session::payloads::AgentSessionState;
use bosun_core::session::reliability::{IncomingConfig, OutgoingConfig, OutgoingError};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Frames at most resent per timer tick.
const MAX_RESENDS_PER_TICK: usize = 64;
/// Output is read from the process only while fewer frames than this wait for an ack (at most
/// 256 × 8 KiB = 2 MiB held for a slow client).
pub const SEND_WINDOW: usize = 256;

/// One connection to the relay: encoded frames in both directions. Dropping `tx` (or the far
/// end dropping `rx`'s sender) means the connection is gone.
pub struct Link {
    pub tx: mpsc::Sender<Vec<u8>>,
    pub rx: mpsc::Receiver<Vec<u8>>,
}

impl Link {
    /// Two connected ends: the agent's [`Link`] and the far end's (`tx` to the agent, `rx` from it).
    pub fn pair(capacity: usize) -> (Link, Link) {
        let (to_agent, agent_rx) = mpsc::channel(capacity);
        let (agent_tx, from_agent) = mpsc::channel(capacity);
        (
            Link {
                tx: agent_tx,
                rx: agent_rx,
            },
            Link {
                tx: to_agent,
                rx: from_agent,
            },
        )
    }
}

/// What the session must act on.
#[derive(Debug)]
pub enum Inbound {
    /// One in-order `input_stream_data` frame (each delivered once).
    Data(ClientMessage),
    /// An acknowledgement of output was applied (fewer frames wait now).
    Acked,
    /// `channel_closed` from the service, with its `Output`.
    Closed(String),
    /// No connection and none will come (the dialer gave up).
    Gone,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub struct Pump {
    session_id: String,
    chan: DataChannel,
    link: Option<Link>,
    links: mpsc::Receiver<Link>,
    links_open: bool,
    delivered: VecDeque<ClientMessage>,
}

impl Pump {
    pub fn new(session_id: &str, links: mpsc::Receiver<Link>) -> Self {
        Self {
            session_id: session_id.to_string(),
            chan: DataChannel::new(
                ChannelRole::Agent,
                OutgoingConfig {
                    capacity: 100_000,
                    max_resends: None,
                },
                IncomingConfig::default(),
                false,
            ),
            link: None,
            links,
            links_open: true,
            delivered: VecDeque::new(),
        }
    }

    /// Wait for the first connection (`false`: none came within `limit`, or none will).
    pub async fn wait_connected(&mut self, limit: Duration) -> bool {
        if self.link.is_some() {
            return true;
        }
        match tokio::time::timeout(limit, self.links.recv()).await {
            Ok(Some(link)) => {
                self.attach(link);
                true
            }
            _ => false,
        }
    }

    fn attach(&mut self, link: Link) {
        self.link = Some(link);
        self.chan.outgoing.on_reconnect();
        self.send_state("Connected");
    }

    /// Whether more output may be queued now.
    pub fn can_send(&self) -> bool {
        self.chan.outgoing.unacknowledged() < SEND_WINDOW
    }

    /// Frames sent and not yet acknowledged.
    pub fn unacknowledged(&self) -> usize {
        self.chan.outgoing.unacknowledged()
    }

    /// Queue one sequenced output frame and write it if connected.
    pub fn send_stream(
        &mut self,
        payload_type: u32,
        payload: Vec<u8>,
    ) -> Result<(), OutgoingError> {
        if let Some(frame) =
            self.chan
                .outgoing
                .send(payload_type, payload, Uuid::new_v4(), now_ms())?
        {
            self.write(&frame);
        }
        Ok(())
    }

    /// `agent_session_state` (`Connected` or `Terminating`); not sequenced, never resent.
    pub fn send_state(&mut self, state: &str) {
        let body = AgentSessionState {
            schema_version: 1,
            session_state: state.to_string(),
            session_id: self.session_id.clone(),
        };
        let frame = ClientMessage::new(
            MessageType::AgentSessionState.as_str(),
            now_ms(),
            0,
            FLAGS_ACKNOWLEDGE,
            Uuid::new_v4(),
            0,
            serde_json::to_vec(&body).unwrap_or_default(),
        );
        self.write(&frame);
    }

    /// Best effort: a frame that does not fit is resent later (sequenced) or re-acked when the
    /// client retransmits (acks).
    fn write(&mut self, frame: &ClientMessage) {
        let Some(link) = &self.link else { return };
        let Ok(bytes) = frame.encode() else { return };
        if let Err(mpsc::error::TrySendError::Closed(_)) = link.tx.try_send(bytes) {
            self.link = None;
        }
    }

    /// The next thing the session must act on; acks, retransmissions and reconnects are handled
    /// on the way. Cancel-safe: state lives in `self`, and it waits only on channels and timers.
    pub async fn next(&mut self) -> Inbound {
        loop {
            if let Some(frame) = self.delivered.pop_front() {
                return Inbound::Data(frame);
            }
            if self.link.is_none() && !self.links_open {
                return Inbound::Gone;
            }
            let resend_in = self
                .chan
                .outgoing
                .next_retransmission_at_ms()
                .map(|at| Duration::from_millis(at.saturating_sub(now_ms())));
            tokio::select! {
                bytes = recv(&mut self.link) => match bytes {
                    Some(bytes) => {
                        if let Some(event) = self.on_bytes(&bytes) {
                            return event;
                        }
                    }
                    None => self.link = None,
                },
                link = self.links.recv(), if self.links_open => match link {
                    Some(link) => self.attach(link),
                    None => self.links_open = false,
                },
                _ = sleep_opt(resend_in), if self.link.is_some() => self.retransmit(),
            }
        }
    }

    fn retransmit(&mut self) {
        match self
            .chan
            .outgoing
            .due_retransmissions(now_ms(), MAX_RESENDS_PER_TICK)
        {
            Ok(frames) => {
                for frame in frames {
                    self.write(&frame);
                }
            }
            Err(e) => tracing::warn!(session_id = %self.session_id, error = %e, "retransmission"),
        }
    }

    fn on_bytes(&mut self, bytes: &[u8]) -> Option<Inbound> {
        let frame = match ClientMessage::decode(bytes) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(session_id = %self.session_id, error = %e, "undecodable frame dropped");
                return None;
            }
        };
        match self.chan.on_frame(frame, now_ms(), Uuid::new_v4()) {
            InboundEvent::Data {
                received,
                acknowledge,
            } => {
                if let Some(ack) = acknowledge {
                    self.write(&ack);
                }
                self.delivered.extend(received.deliver);
            }
            InboundEvent::Closed(closed) => return Some(Inbound::Closed(closed.output)),
            InboundEvent::Acknowledged(_) => return Some(Inbound::Acked),
            // Whatever was held back while paused is due at once on the timer.
            InboundEvent::Resumed
            | InboundEvent::Paused
            | InboundEvent::BadDigest
            | InboundEvent::Ignored(_) => {}
        }
        None
    }

    /// Keep serving acks and retransmissions until every output frame is acknowledged or `limit`
    /// passes (AWS's agent waits up to 2 s before it closes).
    pub async fn drain(&mut self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.chan.outgoing.unacknowledged() > 0 {
            match tokio::time::timeout_at(deadline, self.next()).await {
                Ok(Inbound::Data(_) | Inbound::Acked) => {}
                Ok(Inbound::Closed(_) | Inbound::Gone) | Err(_) => return,
            }
        }
    }
}

async fn recv(link: &mut Option<Link>) -> Option<Vec<u8>> {
    match link {
        Some(l) => l.rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_opt(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
