//! Per-direction reliability of the data channel: numbering, acks, retransmission, ordering and
//! dedupe of sequenced stream frames (agent-protocol.md §5.8, session-clients.md §1.4 and §5).
//!
//! One [`OutgoingStream`] per direction a side sends, one [`IncomingStream`] per direction it
//! receives. Both keep their state across a reconnect: sequence numbers continue, nothing is
//! re-handshaken, and every unacked frame is resent once the new socket is up
//! ([`OutgoingStream::on_reconnect`]).

mod acknowledge;
mod incoming;
mod outgoing;

pub use acknowledge::{acknowledge_for, acknowledge_frame, parse_acknowledge};
pub use incoming::{Disposition, IncomingConfig, IncomingStream, Received};
pub use outgoing::{AckOutcome, OutgoingConfig, OutgoingError, OutgoingStream};

#[cfg(test)]
mod props;
