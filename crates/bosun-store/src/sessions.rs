//! Session Manager sessions: one row per session, from `StartSession` to its end, with the
//! hashes of the single-use tokens that let a client and the node's agent onto the session's
//! data channel (never the tokens themselves), its time limits and how it ended.
//!
//! A session is active until [`SessionStore::end_session`]; only active sessions accept tokens.
//! Client token claims are compare-and-set: of two connections presenting one token, one wins.
//! The agent's token serves the node for the session's life.

use crate::Result;

/// A session as stored. Times are epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Unique across regions (`<user name>-<17 lowercase hex>`).
    pub session_id: String,
    pub region: String,
    /// The node id.
    pub target: String,
    pub document_name: String,
    /// The caller's ARN.
    pub owner: String,
    pub reason: String,
    /// AWS `SessionStatus`: Connected, Connecting, Disconnected, Terminated, Terminating, Failed.
    pub status: String,
    pub details: String,
    pub start_ms: i64,
    /// Set when the session ends.
    pub end_ms: Option<i64>,
    /// Where the session's log is (`""` while there is none).
    pub output_url: String,
    /// Seconds; `None`: no maximum.
    pub max_duration_s: Option<i64>,
    pub idle_timeout_s: i64,
    /// SHA-256 (hex) of the client's current token; `""` once used.
    pub client_token_hash: String,
    pub client_token_expires_ms: i64,
    /// SHA-256 (hex) of the agent's token; `""` once used.
    pub agent_token_hash: String,
    pub agent_accepted: bool,
    /// The replica that relays the session.
    pub replica_id: String,
    /// The join request for the relaying replica to send when another replica started the
    /// session (JSON, without the agent's token, which the relaying replica makes); `""` once it
    /// took the session over, or when the starting replica relays it itself.
    pub handoff: String,
    /// Why it ended (`bosun_proto::session::SessionEndReason` in snake case), once it has.
    pub end_reason: Option<String>,
    /// What the agent reported at the end (absent until it does).
    pub agent_report: Option<AgentReport>,
}

/// The agent's account of a session's end, stored once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentReport {
    pub reason: String,
    pub exit_code: Option<i32>,
    pub signal: Option<String>,
    /// JSON list of `{pid, command}`.
    pub escaped_json: String,
    pub error: Option<String>,
    pub ended_ms: i64,
}

/// Which sessions [`SessionStore::list_sessions`] returns; every `Some` must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionQuery {
    pub region: String,
    /// `true`: active sessions; `false`: ended ones (AWS's `History`).
    pub active: bool,
    pub session_id: Option<String>,
    pub target: Option<String>,
    pub owner: Option<String>,
    pub status: Option<String>,
    /// Started at or after.
    pub started_from_ms: Option<i64>,
    /// Started at or before.
    pub started_until_ms: Option<i64>,
    /// Continue after this `(start_ms, session_id)` (order: newest first, then id).
    pub after: Option<(i64, String)>,
    pub limit: usize,
}

/// How a token claim went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenClaim {
    /// The token was the session's current one and is used up now.
    Claimed(Box<SessionRecord>),
    /// No such session.
    NoSession,
    /// The session has ended.
    Ended,
    /// Not the current token (wrong, already used, or expired).
    Refused,
}

/// Sessions.
pub trait SessionStore {
    /// Store a new session (`AlreadyExists` when its id is taken).
    fn create_session(&self, s: &SessionRecord) -> Result<()>;

    /// One session by id, in any region.
    fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>>;

    /// Sessions matching `q`, newest first (then by id), at most `q.limit`.
    fn list_sessions(&self, q: &SessionQuery) -> Result<Vec<SessionRecord>>;

    /// Every active session in any region, by id (for a restarted server).
    fn active_sessions(&self) -> Result<Vec<SessionRecord>>;

    /// Use the client token whose hash is `token_hash`: only the current, unexpired one of an
    /// active session, once.
    fn claim_client_token(
        &self,
        session_id: &str,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<TokenClaim>;

    /// Take over an active session handed to `replica_id`: give it the agent token whose hash is
    /// `token_hash` and clear its handoff. `false` when it ended, is another replica's, or was
    /// taken over already (so of two attempts, one wins).
    fn take_over_session(
        &self,
        session_id: &str,
        replica_id: &str,
        token_hash: &str,
    ) -> Result<bool>;

    /// Check the agent token whose hash is `token_hash` for an active session. Unlike a client
    /// token it is not used up: it is the node's for the session's life, so the agent redials
    /// with it after its data channel drops (the relay keeps one agent socket, the newest).
    fn claim_agent_token(&self, session_id: &str, token_hash: &str) -> Result<TokenClaim>;

    /// Give an active session's client a new token (`ResumeSession`); `false` when it ended.
    fn set_client_token(&self, session_id: &str, token_hash: &str, expires_ms: i64)
        -> Result<bool>;

    /// Record that the agent accepted the session; `false` when it ended (or had accepted).
    fn mark_agent_accepted(&self, session_id: &str) -> Result<bool>;

    /// Set an active session's status and details; `false` when it ended.
    fn set_session_status(&self, session_id: &str, status: &str, details: &str) -> Result<bool>;

    /// Set where the session's log is.
    fn set_session_output(&self, session_id: &str, output_url: &str) -> Result<()>;

    /// End an active session: status, details, end time and reason; both tokens are cleared.
    /// `false` (nothing changed) when it had ended already.
    fn end_session(
        &self,
        session_id: &str,
        status: &str,
        details: &str,
        end_reason: &str,
        end_ms: i64,
    ) -> Result<bool>;

    /// Store the agent's report once; `false` when one is stored already (a re-sent report).
    fn record_agent_report(&self, session_id: &str, report: &AgentReport) -> Result<bool>;
}
