//! Web console sessions (migration 28): a signed-in browser's session, derived from an access key.
//! Only the SHA-256 of the session token is stored, so the table's contents do not let anyone
//! act as the session; the key it came from is re-checked on every use by the server, so a
//! deactivated or deleted key (or user) ends its sessions at once. Sessions live in the store,
//! so every replica serves them.

use crate::Result;

/// One console session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSessionRecord {
    /// Lower-case hex SHA-256 of the session token (the token itself is never stored).
    pub token_hash: String,
    /// The access key the session was signed in with.
    pub access_key_id: String,
    pub created_ms: i64,
    /// The session is refused from this instant on.
    pub expires_ms: i64,
}

/// Console sessions.
pub trait ConsoleSessionStore {
    /// Store a new session; `AlreadyExists` if its hash is taken.
    fn create_console_session(&self, session: &ConsoleSessionRecord) -> Result<()>;

    /// The session with this token hash if it is live at `now_ms` (`expires_ms > now_ms`).
    fn live_console_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<ConsoleSessionRecord>>;

    /// Delete a session (sign out); `false` when there was none.
    fn delete_console_session(&self, token_hash: &str) -> Result<bool>;

    /// Delete every session expired at `now_ms` (`expires_ms <= now_ms`); returns how many.
    fn prune_console_sessions(&self, now_ms: i64) -> Result<usize>;
}
