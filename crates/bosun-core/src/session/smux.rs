//! The smux v1 frame codec carried inside `Output` payloads of port sessions in mux mode
//! (agent-protocol.md §5.10, session-clients.md §1.4).
//!
//! Frame: `version(1) = 1 | command(1): 0 SYN, 1 FIN, 2 PSH, 3 NOP | length(2, little-endian) |
//! stream id(4, little-endian) | data`. The client opens streams with odd ids (3, 5, 7, …); the
//! agent side is the smux server. Data-channel payloads are a byte stream: one payload may hold
//! several frames (a FIN and a SYN together were seen) and a frame may be split across payloads,
//! so [`SmuxDecoder`] buffers. Nothing but smux bytes may be written in mux mode: a single stray
//! byte kills the stock plugin's smux session.

use thiserror::Error;

/// The only protocol version the stock plugin and agent speak.
pub const SMUX_VERSION: u8 = 1;
/// Bytes before a frame's data.
pub const SMUX_HEADER_BYTES: usize = 8;
/// smux's default `MaxFrameSize`: what a sender should cut data to. Readers accept up to the
/// 16-bit length field's 65535.
pub const SMUX_MAX_FRAME_DATA: usize = 32_768;

/// A smux v1 command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmuxCommand {
    /// Open a stream.
    Syn = 0,
    /// Close a stream (half-close in smux's sense: the sender writes no more).
    Fin = 1,
    /// Stream data.
    Push = 2,
    /// Keepalive; carries no stream.
    Nop = 3,
}

impl SmuxCommand {
    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Syn),
            1 => Some(Self::Fin),
            2 => Some(Self::Push),
            3 => Some(Self::Nop),
            _ => None,
        }
    }
}

/// One smux frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmuxFrame {
    pub command: SmuxCommand,
    pub stream_id: u32,
    pub data: Vec<u8>,
}

/// Why smux bytes could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SmuxError {
    #[error("smux frame has version {0}, expected {SMUX_VERSION}")]
    BadVersion(u8),
    #[error("smux frame has unknown command {0}")]
    UnknownCommand(u8),
    #[error("smux frame data of {0} bytes does not fit the 16-bit length field")]
    DataTooLong(usize),
}

impl SmuxFrame {
    pub fn new(command: SmuxCommand, stream_id: u32, data: Vec<u8>) -> Self {
        Self {
            command,
            stream_id,
            data,
        }
    }

    /// Appends this frame's bytes to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), SmuxError> {
        let length =
            u16::try_from(self.data.len()).map_err(|_| SmuxError::DataTooLong(self.data.len()))?;
        out.push(SMUX_VERSION);
        out.push(self.command as u8);
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&self.stream_id.to_le_bytes());
        out.extend_from_slice(&self.data);
        Ok(())
    }

    /// This frame's bytes.
    pub fn encode(&self) -> Result<Vec<u8>, SmuxError> {
        let mut out = Vec::with_capacity(SMUX_HEADER_BYTES + self.data.len());
        self.encode_into(&mut out)?;
        Ok(out)
    }
}

/// PSH frames carrying `data` on `stream_id`, each at most [`SMUX_MAX_FRAME_DATA`] bytes.
pub fn push_frames(stream_id: u32, data: &[u8]) -> Vec<SmuxFrame> {
    data.chunks(SMUX_MAX_FRAME_DATA)
        .map(|chunk| SmuxFrame::new(SmuxCommand::Push, stream_id, chunk.to_vec()))
        .collect()
}

/// Reassembles frames from payloads as they arrive. After an error the stream is unusable (the
/// framing is lost); callers end the port session.
#[derive(Debug, Clone, Default)]
pub struct SmuxDecoder {
    buffer: Vec<u8>,
}

impl SmuxDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes and returns every frame now complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SmuxFrame>, SmuxError> {
        self.buffer.extend_from_slice(bytes);
        let mut frames = Vec::new();
        let mut at = 0;
        while self.buffer.len() - at >= SMUX_HEADER_BYTES {
            let header = &self.buffer[at..at + SMUX_HEADER_BYTES];
            if header[0] != SMUX_VERSION {
                return Err(SmuxError::BadVersion(header[0]));
            }
            let command =
                SmuxCommand::from_byte(header[1]).ok_or(SmuxError::UnknownCommand(header[1]))?;
            let length = usize::from(u16::from_le_bytes([header[2], header[3]]));
            let stream_id = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let end = at + SMUX_HEADER_BYTES + length;
            if self.buffer.len() < end {
                break;
            }
            frames.push(SmuxFrame::new(
                command,
                stream_id,
                self.buffer[at + SMUX_HEADER_BYTES..end].to_vec(),
            ));
            at = end;
        }
        self.buffer.drain(..at);
        Ok(frames)
    }

    /// Bytes held waiting for the rest of a frame.
    pub fn pending_bytes(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
#[path = "smux_tests.rs"]
mod tests;
