//! `PgError`: what can go wrong talking to PostgreSQL, classified so callers know what to retry.
//!
//! Trait implementations return `bosun_store::StoreError`; `?` converts a `PgError` into it
//! (`Io` for the server and the connection, `Corrupt` for a schema this binary cannot use), and a
//! domain outcome (`AlreadyExists`, `NotFound`, …) raised inside a transaction passes through
//! unchanged. No message here carries the connection URL, so no password reaches logs.

use std::time::Duration;

use bosun_store::StoreError;
use tokio_postgres::error::SqlState;

/// A PostgreSQL failure.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// A statement or the connection failed; the message includes the server's text.
    #[error("PostgreSQL: {}", describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool within the acquire timeout, or a new one could
    /// not be opened.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
    /// The whole operation took longer than the operation timeout; its connection was dropped.
    #[error("PostgreSQL operation timed out after {0:?}")]
    TimedOut(Duration),
    /// The URL or options cannot be used (the message never repeats the URL).
    #[error("PostgreSQL configuration: {0}")]
    Config(String),
    /// The database's schema is not one this binary can use (newer, or an applied migration
    /// changed).
    #[error("PostgreSQL schema: {0}")]
    Schema(String),
    /// A domain outcome or store error raised by the caller's own code, passed through.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PgError {
    /// The operation may succeed if tried again later: the server was unreachable, restarting or
    /// shutting down, the connection broke, the pool had no connection in time, the operation
    /// timed out, or a transaction lost a serialization race or a deadlock.
    pub fn is_retryable(&self) -> bool {
        match self {
            PgError::Postgres(e) => is_unavailable(e) || is_conflict(e) || is_timeout_code(e),
            PgError::Pool(_) | PgError::TimedOut(_) => true,
            PgError::Config(_) | PgError::Schema(_) | PgError::Store(_) => false,
        }
    }

    /// The transaction was rolled back because it conflicted with a concurrent one
    /// (serialization failure or deadlock): running it again from the start is safe.
    pub fn is_conflict(&self) -> bool {
        matches!(self, PgError::Postgres(e) if is_conflict(e))
    }

    /// The SQLSTATE of a server error, if this is one (`"23505"` for a unique violation, …).
    pub fn sql_state(&self) -> Option<&str> {
        match self {
            PgError::Postgres(e) => e.code().map(SqlState::code),
            _ => None,
        }
    }
}

impl From<deadpool_postgres::PoolError> for PgError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => PgError::Postgres(e),
            other => PgError::Pool(other.to_string()),
        }
    }
}

impl From<PgError> for StoreError {
    fn from(e: PgError) -> Self {
        match e {
            PgError::Store(inner) => inner,
            PgError::Schema(_) => StoreError::Corrupt(e.to_string()),
            other if other.is_retryable() => {
                StoreError::Io(format!("{other} (temporary; retry later)"))
            }
            other => StoreError::Io(other.to_string()),
        }
    }
}

fn is_conflict(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// `statement_timeout` or `lock_timeout` fired on the server.
fn is_timeout_code(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::QUERY_CANCELED || *c == SqlState::LOCK_NOT_AVAILABLE
    )
}

/// The server or the connection is gone or going: connection errors (no SQLSTATE but an I/O
/// cause, or a closed connection) and the server's shutdown and connection-class codes.
fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(c) => {
            c.code().starts_with("08")
                || *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::TOO_MANY_CONNECTIONS
        }
        None => {
            let text = e.to_string();
            text.starts_with("error connecting to server")
                || text.starts_with("error communicating with the server")
                || text.starts_with("timeout waiting for server")
        }
    }
}

/// `tokio_postgres::Error`'s own text is only its kind ("db error"); add the cause, which for a
/// server error is its severity, message and detail. A connection-string parse error keeps only
/// the option's name: its parser may quote characters of the string, which can hold a password.
fn describe(e: &tokio_postgres::Error) -> String {
    let kind = e.to_string();
    if kind == "invalid connection string" {
        return kind;
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_errors_are_corrupt_and_domain_errors_pass_through() {
        let schema: StoreError = PgError::Schema("newer".into()).into();
        assert!(matches!(schema, StoreError::Corrupt(m) if m.contains("newer")));
        let domain: StoreError = PgError::Store(StoreError::NotFound("x".into())).into();
        assert!(matches!(domain, StoreError::NotFound(n) if n == "x"));
        let pool: StoreError = PgError::Pool("no slot".into()).into();
        assert!(matches!(pool, StoreError::Io(m) if m.contains("retry later")));
    }

    #[test]
    fn a_bad_connection_string_is_described_without_its_text() {
        let err = "host=h password='s3cret"
            .parse::<tokio_postgres::Config>()
            .unwrap_err();
        let text = PgError::from(err).to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("invalid connection string"), "{text}");
    }
}
