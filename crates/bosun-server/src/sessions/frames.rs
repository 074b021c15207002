//! What the relay does with each binary frame: decode it (malformed frames are dropped with a
//! log line; a wrong digest is not a reason to drop), note new user data for the idle timer (a retransmitted frame is not activity),
//! swallow the agent's `agent_session_state`, and pass the bytes on unchanged to the other
//! side, or buffer them while that side is away. Also the `channel_closed` frames Bosun sends.

use axum::extract::ws::Message;
use bosun_core::session::frame::ClientMessage;
use bosun_core::session::message_type::{MessageType, PayloadType};
use bosun_core::session::payloads::ChannelClosed;

use super::{Buffer, Live, Sessions, Side, MAX_BUFFERED_BYTES};

impl Sessions {
    /// Handle one binary frame from `side` of a session.
    pub(super) fn on_frame(&self, session_id: &str, side: Side, bytes: Vec<u8>, now_ms: i64) {
        let frame = match ClientMessage::decode(&bytes) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(%session_id, ?side, error = %e, "dropping a malformed data channel frame");
                return;
            }
        };
        let kind = MessageType::parse(&frame.message_type);
        let user_data = PayloadType::from_u32(frame.payload_type) == Some(PayloadType::Output)
            || PayloadType::from_u32(frame.payload_type) == Some(PayloadType::StdErr);
        let mut map = self.lock();
        let Some(live) = map.get_mut(session_id) else {
            return;
        };
        if let Some(log) = live.log.as_mut() {
            log.on_frame(side == Side::Agent, &frame, now_ms);
        }
        match (side, &kind) {
            (Side::Agent, MessageType::AgentSessionState) => return,
            (Side::Agent, MessageType::ChannelClosed) => live.agent_closed_client = true,
            (Side::Agent, MessageType::OutputStreamData)
                if user_data && frame.sequence_number > live.newest_output_seq =>
            {
                live.newest_output_seq = frame.sequence_number;
                live.last_activity_ms = now_ms;
            }
            (Side::Client, MessageType::InputStreamData)
                if user_data && frame.sequence_number > live.newest_input_seq =>
            {
                live.newest_input_seq = frame.sequence_number;
                if live.idle_counts_input {
                    live.last_activity_ms = now_ms;
                }
            }
            _ => {}
        }
        let (peer, buffer) = match side {
            Side::Client => (&live.agent, &mut live.to_agent),
            Side::Agent => (&live.client, &mut live.to_client),
        };
        forward(session_id, peer.as_ref().map(|p| &p.tx), buffer, bytes);
    }
}

fn forward(
    session_id: &str,
    peer: Option<&tokio::sync::mpsc::UnboundedSender<Message>>,
    buffer: &mut Buffer,
    bytes: Vec<u8>,
) {
    if let Some(tx) = peer {
        if buffer.frames.is_empty() {
            let _ = tx.send(Message::Binary(bytes.into()));
            return;
        }
    }
    if buffer.bytes + bytes.len() > MAX_BUFFERED_BYTES {
        // The sender retransmits what is never acknowledged, so a dropped frame comes again.
        tracing::warn!(%session_id, "data channel buffer full; dropping a frame for an absent side");
        return;
    }
    buffer.bytes += bytes.len();
    buffer.frames.push_back(bytes);
}

/// A `channel_closed` frame for one side, with a correct digest.
pub fn channel_closed(session_id: &str, output: &str, now_ms: i64) -> Vec<u8> {
    let id = uuid::Uuid::new_v4();
    let body = ChannelClosed {
        message_id: id.to_string(),
        created_date: now_ms.to_string(),
        destination_id: session_id.to_string(),
        session_id: session_id.to_string(),
        message_type: "channel_closed".into(),
        schema_version: 1,
        output: output.to_string(),
    };
    let payload = serde_json::to_vec(&body).expect("channel_closed serializes");
    ClientMessage::new(
        "channel_closed",
        now_ms.max(1) as u64,
        0,
        0,
        id,
        PayloadType::Output.as_u32(),
        payload,
    )
    .encode()
    .expect("a channel_closed frame encodes")
}

impl Live {
    /// Send `frame` to a side now, if it is connected.
    pub(super) fn send_to(&self, side: Side, frame: Vec<u8>) -> bool {
        let peer = match side {
            Side::Client => &self.client,
            Side::Agent => &self.agent,
        };
        peer.as_ref()
            .is_some_and(|p| p.tx.send(Message::Binary(frame.into())).is_ok())
    }

    /// Close a side's socket with a reason.
    pub(super) fn close_side(&self, side: Side, reason: &str) {
        let peer = match side {
            Side::Client => &self.client,
            Side::Agent => &self.agent,
        };
        if let Some(p) = peer {
            let _ = p.tx.send(super::close(reason));
        }
    }
}
