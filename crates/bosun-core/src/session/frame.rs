//! The binary frame of the SSM data channel (`ClientMessage`/`AgentMessage`, one layout both ways).
//!
//! Layout (all integers big-endian), agent-protocol.md §5.4: a 120-byte header then the payload.
//! `HeaderLength` is always 116 (the offset of `PayloadLength`), the message type is a 32-byte ASCII
//! field right-padded with spaces, and the message id is a UUID whose two 8-byte halves are swapped
//! on the wire. Decoding is lenient where real clients need it (NUL or space padding on either side
//! of the message type, a wrong payload digest kept and reported rather than refused) and strict on
//! lengths, so a truncated or padded frame is refused instead of being misread.

use sha2::{Digest, Sha256};
use thiserror::Error;
use uuid::Uuid;

/// Value written in the `HeaderLength` field: the offset of `PayloadLength`.
pub const HEADER_LENGTH_FIELD: u32 = 116;
/// Bytes before the payload: `HeaderLength + 4`.
pub const FRAME_HEADER_BYTES: usize = 120;
/// Width of the space-padded message type field.
pub const MESSAGE_TYPE_FIELD_BYTES: usize = 32;
/// The only schema version AWS's agent and plugin write.
pub const FRAME_SCHEMA_VERSION: u32 = 1;

const MESSAGE_TYPE_OFFSET: usize = 4;
const SCHEMA_VERSION_OFFSET: usize = 36;
const CREATED_DATE_OFFSET: usize = 40;
const SEQUENCE_NUMBER_OFFSET: usize = 48;
const FLAGS_OFFSET: usize = 56;
const MESSAGE_ID_OFFSET: usize = 64;
const PAYLOAD_DIGEST_OFFSET: usize = 80;
const PAYLOAD_TYPE_OFFSET: usize = 112;
const PAYLOAD_LENGTH_OFFSET: usize = 116;

/// Why a binary frame could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("frame is {len} bytes, shorter than the {FRAME_HEADER_BYTES}-byte header")]
    TooShort { len: usize },
    #[error("frame header length is {found}, expected {HEADER_LENGTH_FIELD}")]
    BadHeaderLength { found: u32 },
    #[error(
        "frame payload length field says {declared} bytes but {actual} bytes follow the header"
    )]
    PayloadLengthMismatch { declared: u32, actual: usize },
    #[error("frame message type is empty")]
    EmptyMessageType,
    #[error("frame message type is not printable ASCII")]
    MessageTypeNotAscii,
    #[error("message type {0:?} is longer than {MESSAGE_TYPE_FIELD_BYTES} bytes")]
    MessageTypeTooLong(String),
    #[error("frame created date is zero")]
    ZeroCreatedDate,
    #[error("frame payload of {0} bytes does not fit the 32-bit length field")]
    PayloadTooLarge(usize),
}

/// One data-channel frame with every header field.
///
/// `payload_digest` is whatever the frame carries; [`ClientMessage::new`] computes it and
/// [`ClientMessage::has_valid_digest`] checks it, so a relay can forward frames unchanged and an
/// endpoint can choose whether to refuse a bad digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMessage {
    /// Trimmed message type, e.g. `input_stream_data` (see `message_type`).
    pub message_type: String,
    pub schema_version: u32,
    /// Epoch milliseconds, UTC.
    pub created_date_ms: u64,
    pub sequence_number: i64,
    pub flags: u64,
    pub message_id: Uuid,
    pub payload_digest: [u8; 32],
    pub payload_type: u32,
    pub payload: Vec<u8>,
}

/// SHA-256 of a payload, as carried in `PayloadDigest`.
pub fn payload_digest(payload: &[u8]) -> [u8; 32] {
    Sha256::digest(payload).into()
}

impl ClientMessage {
    /// A frame with schema version 1 and a correct payload digest.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        message_type: &str,
        created_date_ms: u64,
        sequence_number: i64,
        flags: u64,
        message_id: Uuid,
        payload_type: u32,
        payload: Vec<u8>,
    ) -> Self {
        Self {
            message_type: message_type.to_owned(),
            schema_version: FRAME_SCHEMA_VERSION,
            created_date_ms,
            sequence_number,
            flags,
            message_id,
            payload_digest: payload_digest(&payload),
            payload_type,
            payload,
        }
    }

    /// Whether `payload_digest` is the SHA-256 of the payload. AWS's plugin drops frames that fail
    /// this (when the payload is non-empty); AWS's agent never checks it.
    pub fn has_valid_digest(&self) -> bool {
        self.payload_digest == payload_digest(&self.payload)
    }

    /// The wire bytes. Refuses what AWS's readers could not parse back.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let message_type = self.message_type.as_bytes();
        if message_type.is_empty() {
            return Err(FrameError::EmptyMessageType);
        }
        if message_type.len() > MESSAGE_TYPE_FIELD_BYTES {
            return Err(FrameError::MessageTypeTooLong(self.message_type.clone()));
        }
        if !message_type.iter().all(|b| b.is_ascii_graphic()) {
            return Err(FrameError::MessageTypeNotAscii);
        }
        if self.created_date_ms == 0 {
            return Err(FrameError::ZeroCreatedDate);
        }
        let payload_len = u32::try_from(self.payload.len())
            .map_err(|_| FrameError::PayloadTooLarge(self.payload.len()))?;
        let mut out = Vec::with_capacity(FRAME_HEADER_BYTES + self.payload.len());
        out.extend_from_slice(&HEADER_LENGTH_FIELD.to_be_bytes());
        out.extend_from_slice(message_type);
        out.resize(MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_FIELD_BYTES, b' ');
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        out.extend_from_slice(&self.created_date_ms.to_be_bytes());
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.extend_from_slice(&message_id_to_wire(self.message_id));
        out.extend_from_slice(&self.payload_digest);
        out.extend_from_slice(&self.payload_type.to_be_bytes());
        out.extend_from_slice(&payload_len.to_be_bytes());
        out.extend_from_slice(&self.payload);
        Ok(out)
    }

    /// Reads one frame. The payload digest is not checked here (see [`Self::has_valid_digest`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        if bytes.len() < FRAME_HEADER_BYTES {
            return Err(FrameError::TooShort { len: bytes.len() });
        }
        let header_length = read_u32(bytes, 0);
        if header_length != HEADER_LENGTH_FIELD {
            return Err(FrameError::BadHeaderLength {
                found: header_length,
            });
        }
        let message_type = decode_message_type(
            &bytes[MESSAGE_TYPE_OFFSET..MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_FIELD_BYTES],
        )?;
        let created_date_ms = read_u64(bytes, CREATED_DATE_OFFSET);
        if created_date_ms == 0 {
            return Err(FrameError::ZeroCreatedDate);
        }
        let declared = read_u32(bytes, PAYLOAD_LENGTH_OFFSET);
        let payload = &bytes[FRAME_HEADER_BYTES..];
        if declared as usize != payload.len() {
            return Err(FrameError::PayloadLengthMismatch {
                declared,
                actual: payload.len(),
            });
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&bytes[MESSAGE_ID_OFFSET..MESSAGE_ID_OFFSET + 16]);
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&bytes[PAYLOAD_DIGEST_OFFSET..PAYLOAD_DIGEST_OFFSET + 32]);
        Ok(Self {
            message_type,
            schema_version: read_u32(bytes, SCHEMA_VERSION_OFFSET),
            created_date_ms,
            sequence_number: read_u64(bytes, SEQUENCE_NUMBER_OFFSET) as i64,
            flags: read_u64(bytes, FLAGS_OFFSET),
            message_id: message_id_from_wire(id),
            payload_digest: digest,
            payload_type: read_u32(bytes, PAYLOAD_TYPE_OFFSET),
            payload: payload.to_vec(),
        })
    }
}

/// Trims NULs and whitespace on both sides: the Go code right-pads with spaces, the npm
/// `ssm-session` client left-pads with NULs.
fn decode_message_type(field: &[u8]) -> Result<String, FrameError> {
    let is_padding = |b: &u8| *b == 0 || b.is_ascii_whitespace();
    let start = field.iter().position(|b| !is_padding(b));
    let Some(start) = start else {
        return Err(FrameError::EmptyMessageType);
    };
    let end = field.iter().rposition(|b| !is_padding(b)).unwrap_or(start) + 1;
    let trimmed = &field[start..end];
    if !trimmed.iter().all(|b| b.is_ascii_graphic()) {
        return Err(FrameError::MessageTypeNotAscii);
    }
    Ok(String::from_utf8_lossy(trimmed).into_owned())
}

/// The wire form of a message id: UUID bytes 8..16, then bytes 0..8.
pub fn message_id_to_wire(id: Uuid) -> [u8; 16] {
    let b = id.as_bytes();
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&b[8..]);
    out[8..].copy_from_slice(&b[..8]);
    out
}

/// Inverse of [`message_id_to_wire`].
pub fn message_id_from_wire(wire: [u8; 16]) -> Uuid {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&wire[8..]);
    b[8..].copy_from_slice(&wire[..8]);
    Uuid::from_bytes(b)
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_be_bytes(b)
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_be_bytes(b)
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
