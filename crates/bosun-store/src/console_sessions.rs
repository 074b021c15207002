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
    /// Failed sign-in counts expired at `now_ms` go too (not counted in the answer).
    fn prune_console_sessions(&self, now_ms: i64) -> Result<usize>;

    /// Count one failed sign-in against `key` (an address's or an access key id's, see
    /// `bosun_core::signin_limit`) in the window starting `window_start_ms`, whose row expires
    /// at `expires_ms`; the window's count after it. One atomic insert-or-increment, so
    /// concurrent failures on any replica are all counted (migration 32).
    fn note_signin_failure(&self, key: &str, window_start_ms: i64, expires_ms: i64) -> Result<u32>;

    /// The failed sign-ins counted against `key` in the window starting `window_start_ms`.
    fn signin_failures(&self, key: &str, window_start_ms: i64) -> Result<u32>;
}
