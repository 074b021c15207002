//! The receiving half: delivers stream frames once each, in sequence order, and says what to ack.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use crate::session::frame::ClientMessage;
use crate::session::payloads::AcknowledgeContent;

use super::acknowledge::acknowledge_for;

/// Limits and policy of an [`IncomingStream`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingConfig {
    /// How far ahead of the expected sequence number a frame may be and still be buffered
    /// (`expected .. expected + window`). Frames beyond are refused without an ack, so the sender
    /// retransmits them later; this also bounds the buffer to `window - 1` frames.
    pub window: i64,
    /// Re-ack frames below the expected sequence number (AWS's agent does; AWS's plugin does not,
    /// which leaves a sender whose ack was lost retransmitting forever).
    pub ack_stale_duplicates: bool,
}

impl Default for IncomingConfig {
    fn default() -> Self {
        Self {
            window: 10_000,
            ack_stale_duplicates: true,
        }
    }
}

/// What happened to one received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// It was the expected frame: delivered, with any buffered successors.
    Delivered,
    /// Ahead of the expected frame: kept until the gap fills.
    Buffered,
    /// Already delivered or already buffered: dropped (acked again unless policy says otherwise).
    Duplicate,
    /// Negative or too far ahead: dropped without an ack.
    OutOfWindow,
}

/// The result of [`IncomingStream::receive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub disposition: Disposition,
    /// The ack to send back (see [`super::acknowledge_frame`]).
    pub acknowledge: Option<AcknowledgeContent>,
    /// Frames now in order, to hand to the session, oldest first.
    pub deliver: Vec<ClientMessage>,
}

/// One direction's receiver.
#[derive(Debug, Clone)]
pub struct IncomingStream {
    expected: i64,
    buffered: BTreeMap<i64, ClientMessage>,
    config: IncomingConfig,
}

impl IncomingStream {
    /// A receiver expecting sequence number 0.
    pub fn new(config: IncomingConfig) -> Self {
        Self::resuming_at(0, config)
    }

    /// A receiver that already delivered everything below `expected` (restored state).
    pub fn resuming_at(expected: i64, config: IncomingConfig) -> Self {
        Self {
            expected,
            buffered: BTreeMap::new(),
            config,
        }
    }

    /// Takes one sequenced frame (the caller has checked its message type).
    pub fn receive(&mut self, frame: ClientMessage) -> Received {
        let seq = frame.sequence_number;
        if seq < 0 || seq >= self.expected.saturating_add(self.config.window.max(1)) {
            return Received {
                disposition: Disposition::OutOfWindow,
                acknowledge: None,
                deliver: Vec::new(),
            };
        }
        let ack = acknowledge_for(&frame);
        if seq < self.expected {
            return Received {
                disposition: Disposition::Duplicate,
                acknowledge: self.config.ack_stale_duplicates.then_some(ack),
                deliver: Vec::new(),
            };
        }
        if seq > self.expected {
            let disposition = match self.buffered.entry(seq) {
                Entry::Occupied(_) => Disposition::Duplicate,
                Entry::Vacant(slot) => {
                    slot.insert(frame);
                    Disposition::Buffered
                }
            };
            return Received {
                disposition,
                acknowledge: Some(ack),
                deliver: Vec::new(),
            };
        }
        let mut deliver = vec![frame];
        self.expected += 1;
        while let Some(next) = self.buffered.remove(&self.expected) {
            deliver.push(next);
            self.expected += 1;
        }
        Received {
            disposition: Disposition::Delivered,
            acknowledge: Some(ack),
            deliver,
        }
    }

    /// The sequence number the next in-order frame must carry (kept across reconnects).
    pub fn expected_sequence_number(&self) -> i64 {
        self.expected
    }

    /// Frames held waiting for a gap to fill.
    pub fn buffered(&self) -> usize {
        self.buffered.len()
    }
}

#[cfg(test)]
#[path = "incoming_tests.rs"]
mod tests;
