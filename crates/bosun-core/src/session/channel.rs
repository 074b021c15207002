//! One end of a data channel: routes each decoded inbound frame to the reliability halves and
//! says what the caller must do (write an ack, hand data to the session, stop, pause).
//!
//! The agent end receives `input_stream_data` and sends `output_stream_data`; a client end the
//! reverse. A server relay forwards frames unchanged and does not use this.

use uuid::Uuid;

use super::frame::ClientMessage;
use super::message_type::MessageType;
use super::payloads::ChannelClosed;
use super::reliability::{
    acknowledge_frame, parse_acknowledge, AckOutcome, IncomingConfig, IncomingStream,
    OutgoingConfig, OutgoingStream, Received,
};

/// Which end this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelRole {
    /// Receives `input_stream_data`, sends `output_stream_data`.
    Agent,
    /// Receives `output_stream_data`, sends `input_stream_data`.
    Client,
}

/// What one inbound frame means for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundEvent {
    /// Stream data from the peer: write `acknowledge` (if any) and hand `received.deliver` to the
    /// session in order.
    Data {
        received: Received,
        acknowledge: Option<ClientMessage>,
    },
    /// An ack from the peer was applied.
    Acknowledged(AckOutcome),
    /// The service ended the channel; `Output` is the reason to show (all fields empty when the
    /// payload was not the expected JSON: the channel ends anyway).
    Closed(ChannelClosed),
    /// `pause_publication` (agent end only): stop writing data (the outgoing half holds frames meanwhile).
    Paused,
    /// `start_publication`: writing may resume.
    Resumed,
    /// Dropped: a bad digest when digests are required (AWS's plugin drops such frames silently;
    /// no ack, so the sender retransmits).
    BadDigest,
    /// Dropped: a frame this end does not take (its own direction's data, `agent_session_state`,
    /// an unparseable ack or close, an unknown type). Carries the message type.
    Ignored(String),
}

/// Both reliability halves of one end, plus the role's rules.
#[derive(Debug, Clone)]
pub struct DataChannel {
    role: ChannelRole,
    /// Sending half; use it directly to send, retransmit, and on reconnect.
    pub outgoing: OutgoingStream,
    /// Receiving half.
    pub incoming: IncomingStream,
    require_valid_digest: bool,
}

impl DataChannel {
    /// `require_valid_digest`: refuse inbound stream data whose SHA-256 does not match. The stock
    /// plugin does; AWS's agent does not (and the npm `ssm-session` client sends bad digests).
    pub fn new(
        role: ChannelRole,
        outgoing: OutgoingConfig,
        incoming: IncomingConfig,
        require_valid_digest: bool,
    ) -> Self {
        let sends = match role {
            ChannelRole::Agent => MessageType::OutputStreamData,
            ChannelRole::Client => MessageType::InputStreamData,
        };
        Self {
            role,
            outgoing: OutgoingStream::new(sends, outgoing),
            incoming: IncomingStream::new(incoming),
            require_valid_digest,
        }
    }

    pub fn role(&self) -> ChannelRole {
        self.role
    }

    /// Handles one decoded inbound frame. `ack_message_id` is used only if an ack is written.
    pub fn on_frame(
        &mut self,
        frame: ClientMessage,
        now_ms: u64,
        ack_message_id: Uuid,
    ) -> InboundEvent {
        let receives = match self.role {
            ChannelRole::Agent => MessageType::InputStreamData,
            ChannelRole::Client => MessageType::OutputStreamData,
        };
        let message_type = MessageType::parse(&frame.message_type);
        match message_type {
            t if t == receives => {
                if self.require_valid_digest && !frame.has_valid_digest() {
                    return InboundEvent::BadDigest;
                }
                if self.role == ChannelRole::Agent {
                    self.outgoing.set_paused(false);
                }
                let received = self.incoming.receive(frame);
                let acknowledge = received
                    .acknowledge
                    .as_ref()
                    .map(|content| acknowledge_frame(content, ack_message_id, now_ms));
                InboundEvent::Data {
                    received,
                    acknowledge,
                }
            }
            MessageType::Acknowledge => match parse_acknowledge(&frame) {
                Ok(content) => {
                    if self.role == ChannelRole::Agent {
                        self.outgoing.set_paused(false);
                    }
                    InboundEvent::Acknowledged(self.outgoing.on_acknowledge(&content, now_ms))
                }
                Err(_) => InboundEvent::Ignored(frame.message_type),
            },
            MessageType::ChannelClosed => match serde_json::from_slice(&frame.payload) {
                Ok(closed) => InboundEvent::Closed(closed),
                Err(_) => InboundEvent::Closed(ChannelClosed::default()),
            },
            MessageType::PausePublication | MessageType::StartPublication
                if self.role == ChannelRole::Client =>
            {
                InboundEvent::Ignored(frame.message_type)
            }
            MessageType::PausePublication => {
                self.outgoing.set_paused(true);
                InboundEvent::Paused
            }
            MessageType::StartPublication => {
                self.outgoing.set_paused(false);
                InboundEvent::Resumed
            }
            _ => InboundEvent::Ignored(frame.message_type),
        }
    }
}

#[cfg(test)]
#[path = "channel_tests.rs"]
mod tests;
