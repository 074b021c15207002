//! A live session's log (Shell and command sessions; port sessions carry other programs' bytes
//! and are not logged): cast lines from the recorder pile up in memory and go to the blob store
//! at least every second, or sooner when 64 KiB are waiting, each piece at its offset. The last
//! piece is written when the session ends. A failed write is retried with the next flush.

use std::sync::Arc;

use bosun_core::session::frame::ClientMessage;
use bosun_core::session::message_type::{MessageType, PayloadType};
use bosun_core::session::payloads::TerminalSize;
use bosun_core::session_log::Recorder;

use crate::state::AppState;

/// How long cast lines may wait in memory.
const FLUSH_EVERY_MS: i64 = 1_000;
/// How much may wait before a flush is due anyway.
const FLUSH_BYTES: usize = 64 * 1024;
/// Most kept in memory when the blob store refuses writes (the oldest are kept: the log stays
/// a prefix of the session).
const MAX_PENDING_BYTES: usize = 8 * 1024 * 1024;

/// One session's log while it runs.
pub struct LiveLog {
    recorder: Recorder,
    /// Cast lines not yet stored (or being stored).
    pending: Vec<u8>,
    /// Bytes stored from offset 0.
    stored: u64,
    /// Bytes handed to a write that has not finished.
    in_flight: u64,
    oldest_pending_ms: i64,
    dropped: bool,
}

/// A piece to store: `data` at `offset` of session `session_id`'s log.
pub struct Piece {
    pub session_id: String,
    pub offset: u64,
    pub data: Vec<u8>,
}

impl LiveLog {
    pub fn new(start_ms: i64, session_id: &str) -> LiveLog {
        LiveLog {
            recorder: Recorder::new(start_ms, session_id),
            pending: Vec::new(),
            stored: 0,
            in_flight: 0,
            oldest_pending_ms: start_ms,
            dropped: false,
        }
    }

    fn push(&mut self, lines: String, now_ms: i64) {
        if lines.is_empty() {
            return;
        }
        if self.pending.len() + lines.len() > MAX_PENDING_BYTES {
            if !self.dropped {
                tracing::error!("session log backlog full (the blob store refuses writes); later output is not logged");
                self.dropped = true;
            }
            return;
        }
        if self.pending.is_empty() {
            self.oldest_pending_ms = now_ms;
        }
        self.pending.extend_from_slice(lines.as_bytes());
    }

    /// Record what a frame carries (output from the agent, terminal sizes from the client).
    pub fn on_frame(&mut self, from_agent: bool, frame: &ClientMessage, now_ms: i64) {
        let kind = MessageType::parse(&frame.message_type);
        let payload = PayloadType::from_u32(frame.payload_type);
        let lines = match (from_agent, kind) {
            (true, MessageType::OutputStreamData) => {
                let output = matches!(payload, Some(PayloadType::Output | PayloadType::StdErr));
                self.recorder.agent_frame(
                    frame.sequence_number,
                    now_ms,
                    output.then_some(frame.payload.as_slice()),
                )
            }
            (false, MessageType::InputStreamData) if payload == Some(PayloadType::Size) => {
                match serde_json::from_slice::<TerminalSize>(&frame.payload) {
                    Ok(size) => self.recorder.resize(now_ms, size.cols, size.rows),
                    Err(_) => String::new(),
                }
            }
            _ => String::new(),
        };
        self.push(lines, now_ms);
    }

    /// The piece due now, if any (and no earlier write is still running).
    pub fn due(&mut self, session_id: &str, now_ms: i64) -> Option<Piece> {
        let due = !self.pending.is_empty()
            && self.in_flight == 0
            && (now_ms - self.oldest_pending_ms >= FLUSH_EVERY_MS
                || self.pending.len() >= FLUSH_BYTES);
        if !due {
            return None;
        }
        let data = std::mem::take(&mut self.pending);
        self.in_flight = data.len() as u64;
        Some(Piece {
            session_id: session_id.to_string(),
            offset: self.stored,
            data,
        })
    }

    /// A write of [`LiveLog::due`]'s piece ended.
    pub fn written(&mut self, piece: Piece, ok: bool, now_ms: i64) {
        self.in_flight = 0;
        if ok {
            self.stored += piece.data.len() as u64;
        } else {
            let mut data = piece.data;
            data.extend_from_slice(&self.pending);
            self.pending = data;
            self.oldest_pending_ms = now_ms;
        }
    }

    /// The session ended: everything left, placed after what is stored or being stored.
    pub fn last_piece(mut self, session_id: &str, now_ms: i64) -> Piece {
        let tail = self.recorder.finish(now_ms);
        self.push(tail, now_ms);
        Piece {
            session_id: session_id.to_string(),
            offset: self.stored + self.in_flight,
            data: self.pending,
        }
    }
}

/// Store a piece (blocking).
pub fn store(state: &AppState, piece: &Piece) -> bool {
    match state
        .blobs
        .write_session_log(&piece.session_id, piece.offset, &piece.data)
    {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(session_id = %piece.session_id, error = %e, "could not store a piece of a session log; retrying");
            false
        }
    }
}

/// Store the pieces due now, each in its own task so a slow store delays no timer.
pub fn flush_due(state: &Arc<AppState>, now_ms: i64) {
    let pieces: Vec<Piece> = {
        let mut map = state.sessions.lock();
        map.iter_mut()
            .filter_map(|(id, live)| live.log.as_mut()?.due(id, now_ms))
            .collect()
    };
    for piece in pieces {
        let st = state.clone();
        tokio::spawn(async move {
            let (st2, piece) = (st.clone(), piece);
            let Ok((ok, piece)) = tokio::task::spawn_blocking(move || {
                let ok = store(&st2, &piece);
                (ok, piece)
            })
            .await
            else {
                return;
            };
            let mut map = st.sessions.lock();
            match map.get_mut(&piece.session_id).and_then(|l| l.log.as_mut()) {
                Some(log) => log.written(piece, ok, crate::state::now_ms()),
                None if !ok => {
                    tracing::error!(session_id = %piece.session_id, "a piece of an ended session's log could not be stored; the log stops before it")
                }
                None => {}
            }
        });
    }
}

/// Whether sessions of this kind are logged.
pub fn is_logged(kind: bosun_proto::session::SessionKind) -> bool {
    kind != bosun_proto::session::SessionKind::Port
}

/// Where a session's log is read (`DescribeSessions` `OutputUrl.S3OutputUrl`): Bosun's own
/// SigV4-signed endpoint, like command output.
pub fn log_url(base_url: &str, session_id: &str) -> String {
    format!("{base_url}/v1/sessions/{session_id}/log")
}
