//! The seam between the output layout and where objects live: a small, synchronous object
//! interface (put, get, list one folder, delete, probe) with a local-folder and an S3
//! implementation. Callers run on blocking threads, like the store's.

use bytes::Bytes;

/// Why a blob operation failed. Messages never hold credentials.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The bucket or object does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The credentials may not do this.
    #[error("access denied: {0}")]
    Denied(String),
    #[error("object store: {0}")]
    Remote(String),
    #[error("the object store did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    #[error("malformed output location")]
    BadLocation,
}

impl BlobError {
    /// Trying again later cannot help (a missing bucket, refused credentials).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            BlobError::NotFound(_) | BlobError::Denied(_) | BlobError::BadLocation
        )
    }
}

/// An object stored under a folder-like key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The last segment of the key.
    pub name: String,
    pub size: u64,
}

/// Where objects live. Keys are `/`-separated paths built only from validated ids.
pub trait ObjectBackend: Send + Sync {
    /// Store `data` at `key`, replacing any object there, atomically. `durable`: it survives a
    /// power loss once this returns (the local folder fsyncs; S3 always is).
    fn put(&self, key: &str, data: Bytes, durable: bool) -> Result<(), BlobError>;
    /// The object at `key`, `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError>;
    /// Objects directly under the folder `dir` (no trailing slash); empty when none.
    fn list(&self, dir: &str) -> Result<Vec<Listed>, BlobError>;
    /// Remove the object at `key` (no error when it is already gone).
    fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// Whether the store answers (for `/readyz`).
    fn probe(&self) -> Result<(), BlobError>;
    /// Where it is, for logs (never credentials).
    fn describe(&self) -> String;
}
