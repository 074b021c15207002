//! Package attachment files in the blob store, one object per file at `attachments/<sha256>`
//! (content-addressed: the same bytes are stored once), written durably before their store
//! row, so a recorded upload is always readable.

use bytes::Bytes;

use super::{BlobError, Blobs};

fn key(sha256: &str) -> Result<String, BlobError> {
    let ok = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !ok {
        return Err(BlobError::BadLocation);
    }
    Ok(format!("attachments/{sha256}"))
}

impl Blobs {
    /// Store an attachment file under its (already computed) lower-case SHA-256.
    pub fn put_attachment(&self, sha256: &str, data: Bytes) -> Result<(), BlobError> {
        self.backend.put(&key(sha256)?, data, true)
    }

    /// Remove the attachment file with this hash (no error when it is already gone).
    pub fn delete_attachment(&self, sha256: &str) -> Result<(), BlobError> {
        self.backend.delete(&key(sha256)?)
    }

    /// The attachment file with this hash, `None` when there is none.
    pub fn get_attachment(&self, sha256: &str) -> Result<Option<Bytes>, BlobError> {
        self.backend.get(&key(sha256)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_keys_are_hashes_only() {
        assert!(key("../../etc/passwd").is_err());
        assert!(key(&"A".repeat(64)).is_err());
        assert_eq!(
            key(&"a".repeat(64)).unwrap(),
            format!("attachments/{}", "a".repeat(64))
        );
    }
}
