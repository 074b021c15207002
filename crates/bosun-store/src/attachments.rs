//! Files uploaded for package documents' attachments (`bosun package upload`): one row per
//! (region, SHA-256) with the file's size, written after the bytes are durably in the blob
//! store under their hash. A document version's attachments are the files its manifest names,
//! so the rows here are all the metadata the API needs (migration 26). Deleting the last
//! version naming a file removes its row (`remove_unreferenced_attachment_blobs`).

use crate::Result;

/// One uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentBlobRecord {
    pub region: String,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: i64,
    pub uploaded_ms: i64,
}

/// Uploaded attachment files.
pub trait AttachmentStore {
    /// Record an uploaded file. Uploading the same bytes again keeps the first row, which is
    /// returned.
    fn record_attachment_blob(&self, record: &AttachmentBlobRecord)
        -> Result<AttachmentBlobRecord>;

    /// The uploaded file with this hash in the region, if any.
    fn attachment_blob(&self, region: &str, sha256: &str) -> Result<Option<AttachmentBlobRecord>>;

    /// After a document or version was deleted: remove the region's uploads among `sha256s`
    /// that no document version of the region names any more (its content holds the hash,
    /// compared case-insensitively — conservative: a hash written anywhere in a version keeps
    /// the file). Atomic with document writes: a version added concurrently is either seen
    /// here or added after the removal. Returns the hashes among `sha256s` that no region has
    /// an upload of afterwards, whose bytes may go from the blob store.
    fn remove_unreferenced_attachment_blobs(
        &self,
        region: &str,
        sha256s: &[String],
    ) -> Result<Vec<String>>;
}
