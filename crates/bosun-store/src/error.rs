//! The store's one error type, shared by every engine.

/// A storage failure; the API maps it to `InternalServerError` (except the outcomes callers
/// check for: `AlreadyExists`, `NotFound`, `LimitExceeded`). Messages never carry secret
/// values (secrets, sealed bodies, connection passwords).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A failure of another engine's database or driver, described without secrets.
    #[error("database error: {0}")]
    Database(String),
    #[error("database file: {0}")]
    Io(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("the limit of {0} is reached")]
    LimitExceeded(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;
