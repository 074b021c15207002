//! Session logs in the blob store: `sessions/<session-id>/log/<offset:020>`, appended in pieces
//! as a session runs (so a replica or node dying mid-session keeps the log up to its last
//! piece) and read back like command output. A session id that is not a plain name (a
//! principal may hold `@`, `+`, `=` or `,`) is hex-encoded in the key.

use bosun_core::ids;
use bytes::Bytes;

use super::{layout, BlobError, Blobs, StoredStream};

fn log_dir(session_id: &str) -> Result<String, BlobError> {
    if session_id.is_empty() || session_id.len() > 256 {
        return Err(BlobError::BadLocation);
    }
    let name = if ids::is_plain_name(session_id) {
        session_id.to_string()
    } else {
        hex::encode(session_id)
    };
    Ok(format!("sessions/{name}/log"))
}

impl Blobs {
    /// Store a piece of a session's log at its offset (idempotent, like output chunks).
    pub fn write_session_log(
        &self,
        session_id: &str,
        offset: u64,
        data: &[u8],
    ) -> Result<(), BlobError> {
        if data.is_empty() {
            return Ok(());
        }
        let key = format!("{}/{}", log_dir(session_id)?, layout::chunk_name(offset));
        self.backend.put(&key, Bytes::copy_from_slice(data), false)
    }

    /// What is stored of a session's log (read it with [`Blobs::read`]).
    pub fn session_log(&self, session_id: &str) -> Result<StoredStream, BlobError> {
        self.stored_dir(log_dir(session_id)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_only_plain_names() {
        assert_eq!(
            log_dir("alice-0123abc").unwrap(),
            "sessions/alice-0123abc/log"
        );
        let odd = log_dir("a@b.c+d/../x-01").unwrap();
        assert!(!odd.contains(".."), "{odd}");
        assert!(
            odd.trim_start_matches("sessions/").split('/').count() == 2,
            "{odd}"
        );
        assert!(log_dir("").is_err());
    }
}
