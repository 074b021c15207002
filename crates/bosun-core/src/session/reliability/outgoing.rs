//! The sending half: numbers stream frames, keeps them until acked, says when to resend.

use std::collections::VecDeque;

use thiserror::Error;
use uuid::Uuid;

use crate::session::frame::{message_id_to_wire, ClientMessage};
use crate::session::message_type::{stream_data_flags, MessageType};
use crate::session::payloads::AcknowledgeContent;
use crate::session::retransmission_timer::RetransmissionTimer;

/// Limits of an [`OutgoingStream`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingConfig {
    /// Most unacked frames kept; [`OutgoingStream::send`] refuses more (back-pressure) instead of
    /// dropping silently as AWS's agent does.
    pub capacity: usize,
    /// Give up once one frame was resent this many times (AWS's plugin: 3000; AWS's agent: never).
    pub max_resends: Option<u32>,
}

impl Default for OutgoingConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            max_resends: None,
        }
    }
}

/// Why the sending half refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OutgoingError {
    #[error("{unacknowledged} frames are waiting for acknowledgement; the send buffer is full")]
    Full { unacknowledged: usize },
    #[error("frame {sequence_number} was resent {resends} times without an acknowledgement")]
    GaveUp { sequence_number: i64, resends: u32 },
}

/// What an incoming ack did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// Removed the frame; carries the round-trip sample used, in milliseconds.
    Acknowledged { round_trip_ms: u64 },
    /// Not a frame waiting here (already acked, never sent, or its message id does not match).
    Unknown,
}

#[derive(Debug, Clone)]
struct PendingFrame {
    frame: ClientMessage,
    /// `None` while held back (paused or reconnecting): due at once.
    last_sent_ms: Option<u64>,
    resends: u32,
}

/// One direction's sender (`output_stream_data` on the agent, `input_stream_data` on a client).
#[derive(Debug, Clone)]
pub struct OutgoingStream {
    message_type: MessageType,
    next_sequence_number: i64,
    pending: VecDeque<PendingFrame>,
    timer: RetransmissionTimer,
    paused: bool,
    config: OutgoingConfig,
}

impl OutgoingStream {
    /// A sender starting at sequence number 0.
    pub fn new(message_type: MessageType, config: OutgoingConfig) -> Self {
        Self {
            message_type,
            next_sequence_number: 0,
            pending: VecDeque::new(),
            timer: RetransmissionTimer::default(),
            paused: false,
            config,
        }
    }

    /// Numbers a new frame and keeps it until acked. `Ok(Some(frame))`: write it now;
    /// `Ok(None)`: paused, it comes out of [`Self::due_retransmissions`] once resumed.
    pub fn send(
        &mut self,
        payload_type: u32,
        payload: Vec<u8>,
        message_id: Uuid,
        now_ms: u64,
    ) -> Result<Option<ClientMessage>, OutgoingError> {
        if self.pending.len() >= self.config.capacity {
            return Err(OutgoingError::Full {
                unacknowledged: self.pending.len(),
            });
        }
        let sequence_number = self.next_sequence_number;
        let frame = ClientMessage::new(
            self.message_type.as_str(),
            now_ms,
            sequence_number,
            stream_data_flags(sequence_number),
            message_id,
            payload_type,
            payload,
        );
        self.next_sequence_number += 1;
        let send_now = !self.paused;
        self.pending.push_back(PendingFrame {
            frame: frame.clone(),
            last_sent_ms: send_now.then_some(now_ms),
            resends: 0,
        });
        Ok(send_now.then_some(frame))
    }

    /// Applies an ack: selective, by sequence number. When the ack names a message id that parses
    /// as a UUID it must match too (as sent, or with its halves swapped, for clients that read
    /// the wire id without un-swapping it), so an npm-style ack of some other frame (which may
    /// carry sequence number 0) cannot remove the wrong one. The ack's message type is not
    /// checked.
    pub fn on_acknowledge(&mut self, ack: &AcknowledgeContent, now_ms: u64) -> AckOutcome {
        let seq = ack.acknowledged_message_sequence_number;
        let Ok(index) = self
            .pending
            .binary_search_by_key(&seq, |p| p.frame.sequence_number)
        else {
            return AckOutcome::Unknown;
        };
        let pending_id = self.pending[index].frame.message_id;
        let swapped_id = Uuid::from_bytes(message_id_to_wire(pending_id));
        let named_id = Uuid::parse_str(&ack.acknowledged_message_id).ok();
        if named_id.is_some_and(|id| id != pending_id && id != swapped_id) {
            return AckOutcome::Unknown;
        }
        let Some(acked) = self.pending.remove(index) else {
            return AckOutcome::Unknown;
        };
        // A frame never written (held while paused) gives no meaningful sample.
        let Some(sent) = acked.last_sent_ms else {
            return AckOutcome::Acknowledged { round_trip_ms: 0 };
        };
        let round_trip_ms = now_ms.saturating_sub(sent);
        self.timer.observe(round_trip_ms);
        AckOutcome::Acknowledged { round_trip_ms }
    }

    /// Frames to write now: every unacked frame whose last send is at least one RTO old (or that
    /// was never written), oldest first, at most `max`. Each returned frame's send time is set to
    /// `now_ms`. Nothing while paused.
    pub fn due_retransmissions(
        &mut self,
        now_ms: u64,
        max: usize,
    ) -> Result<Vec<ClientMessage>, OutgoingError> {
        if self.paused {
            return Ok(Vec::new());
        }
        let timeout = self.timer.timeout_ms();
        let mut due = Vec::new();
        for pending in self.pending.iter_mut() {
            if due.len() >= max {
                break;
            }
            let overdue = match pending.last_sent_ms {
                None => true,
                Some(sent) => now_ms.saturating_sub(sent) >= timeout,
            };
            if !overdue {
                continue;
            }
            if pending.last_sent_ms.is_some() {
                if self
                    .config
                    .max_resends
                    .is_some_and(|limit| pending.resends >= limit)
                {
                    return Err(OutgoingError::GaveUp {
                        sequence_number: pending.frame.sequence_number,
                        resends: pending.resends,
                    });
                }
                pending.resends += 1;
            }
            pending.last_sent_ms = Some(now_ms);
            due.push(pending.frame.clone());
        }
        Ok(due)
    }

    /// When the next frame becomes due (`None`: nothing waits, or paused). A frame never written
    /// is due at once (returns the earliest possible time, 0).
    pub fn next_retransmission_at_ms(&self) -> Option<u64> {
        if self.paused {
            return None;
        }
        let timeout = self.timer.timeout_ms();
        self.pending
            .iter()
            .map(|p| {
                p.last_sent_ms
                    .map_or(0, |sent| sent.saturating_add(timeout))
            })
            .min()
    }

    /// `pause_publication` (true) / `start_publication` or any inbound data or ack (false).
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The socket was replaced: every unacked frame is due at once on the new one, in order.
    /// Sequence numbers and the RTT estimate are kept.
    pub fn on_reconnect(&mut self) {
        for pending in self.pending.iter_mut() {
            pending.last_sent_ms = None;
        }
    }

    /// Frames sent (or held) and not yet acked.
    pub fn unacknowledged(&self) -> usize {
        self.pending.len()
    }

    /// The sequence number the next [`Self::send`] will use.
    pub fn next_sequence_number(&self) -> i64 {
        self.next_sequence_number
    }

    /// The current retransmission timeout.
    pub fn retransmission_timeout_ms(&self) -> u64 {
        self.timer.timeout_ms()
    }
}

#[cfg(test)]
#[path = "outgoing_tests.rs"]
mod tests;
