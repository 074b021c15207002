//! The Session Manager data channel protocol as pure code: frames, payloads and per-direction
//! reliability (sequence numbers, acks, retransmission, ordering), compatible with AWS's
//! `session-manager-plugin`, AWS's agent and the independent clients in
//! `shared/reference/session-clients.md`.
//!
//! Facts come from `agent-protocol.md` §5 and `session-clients.md`; no code from AWS or any
//! client is used. Nothing here does IO or reads a clock: `now_ms` (epoch milliseconds) and
//! message ids (random UUIDs) come from the caller.
//!
//! Files: `frame` (the binary frame), `message_type` (message/payload types, flags),
//! `payloads` (JSON/text payloads), `reliability` (per-direction send/receive state),
//! `retransmission_timer` (RTO), `channel` (one end routing inbound frames), `handshake`,
//! `versions` (port mode and features from the peer's version), `smux` (port sessions).
//!
//! Choices where the references leave room (doubts):
//! - Decoding refuses a `HeaderLength` other than 116 and a `PayloadLength` that differs from the
//!   bytes that follow. AWS's readers ignore `PayloadLength` and start the payload at
//!   `HeaderLength + 4`; every known client writes 116 and a correct length, and the issue asks for
//!   frames with wrong lengths to be refused.
//! - Digests are never checked while decoding (the npm client writes wrong ones and AWS's agent
//!   accepts them); `ClientMessage::has_valid_digest` lets the caller decide. Frames Bosun emits
//!   always carry a correct SHA-256.
//! - A zero `CreatedDate` is refused both ways (AWS's `Validate` requires it non-zero).
//! - Retransmission: AWS resends only the oldest unacked frame per 100 ms tick; Bosun's
//!   `OutgoingStream::due_retransmissions` returns every frame older than the RTO (bounded by the
//!   caller), each with its own resend time updated (AWS's plugin has a bug that resends every
//!   100 ms). Receivers buffer or ignore out-of-order copies, so this only speeds recovery.
//! - RTT samples are taken from the last (re)send of the acked frame, as AWS does; Karn's rule
//!   (skip samples of retransmitted frames) is not applied, to stay with AWS's timing.
//! - A full incoming window refuses (does not ack) frames beyond it, so the sender retransmits
//!   them later; AWS buffers by count (10 000 client / 100 000 agent) and otherwise the same.
//! - Stale duplicates (sequence below the expected one) are re-acked by default, as AWS's agent
//!   does and as session-clients.md §5.4 asks; AWS's plugin ignores them.
//! - The initial RTT variation is assumed 0 (only the initial RTT 100 ms and RTO 200 ms are given).
//! - `channel_closed` with a payload that is not the expected JSON still closes the channel.
//! - `pause_publication`/`start_publication` act on the agent end only (the plugin ignores them);
//!   any inbound data or ack un-pauses the agent, as AWS's agent does.
//! - An ack naming a parseable message id that differs from the frame at that sequence number
//!   (as sent or half-swapped) is ignored: the npm client acks every frame, including acks with
//!   sequence number 0. Whether independent clients un-swap the wire id is unverified, so both
//!   forms are accepted; an ack with no parseable id matches by sequence number alone.
//! - Bosun's own client answers a `KMSEncryption` action `Unsupported` (it does not call KMS).
//! - How AWS's agent compares client versions that are not four numeric parts is unknown; see
//!   `versions`.

pub mod channel;
pub mod frame;
pub mod handshake;
pub mod message_type;
pub mod payloads;
pub mod reliability;
pub mod retransmission_timer;
pub mod smux;
pub mod versions;
