//! Sessions' events from stored rows (`Session Manager Session State-change Notification`,
//! built by `bosun_core::events::envelope_sessions`), appended by the engines in the
//! transaction of [`crate::SessionStore::create_session`] (its start) and
//! [`crate::SessionStore::end_session`] (its end, only when that write ends it), so a session
//! announces its start and its end once each.

use bosun_core::events::envelope::{Event, Origin};
use bosun_core::events::envelope_sessions::{session_state_change, SessionFacts};

use crate::event_outbox::new_event_id;
use crate::sessions::SessionRecord;

/// The event storing `s` emits: its status as created (and its end when it is created ended).
pub fn session_created_event(account: &str, now_ms: i64, s: &SessionRecord) -> Event {
    let id = new_event_id();
    session_state_change(
        Origin {
            account,
            region: &s.region,
            id: &id,
            now_ms,
        },
        &SessionFacts {
            session_id: &s.session_id,
            target: &s.target,
            owner: &s.owner,
            document_name: &s.document_name,
            status: &s.status,
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            end_reason: s.end_reason.as_deref().unwrap_or_default(),
        },
    )
}

/// What an ended session's row says, read back by the write that ends it.
#[derive(Debug, Clone)]
pub struct EndedSession {
    pub region: String,
    pub target: String,
    pub document_name: String,
    pub owner: String,
    pub start_ms: i64,
}

/// The event ending session `session_id` with `status` at `end_ms` for `end_reason` emits.
pub fn session_ended_event(
    account: &str,
    now_ms: i64,
    session_id: &str,
    row: &EndedSession,
    status: &str,
    end_ms: i64,
    end_reason: &str,
) -> Event {
    let id = new_event_id();
    session_state_change(
        Origin {
            account,
            region: &row.region,
            id: &id,
            now_ms,
        },
        &SessionFacts {
            session_id,
            target: &row.target,
            owner: &row.owner,
            document_name: &row.document_name,
            status,
            start_ms: row.start_ms,
            end_ms: Some(end_ms),
            end_reason,
        },
    )
}
