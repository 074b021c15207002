//! Sessions relayed by a replica other than the one that started them. A session is relayed by
//! the replica holding its node's channel, so the node's join request, its reports and its
//! data channel stay on one replica:
//!
//! - a `StartSession` that lands elsewhere stores the session *handed over* to that replica
//!   (its join request without the agent's token, [`Handoff`]) and rings it;
//! - that replica takes it over ([`take_over`]): it makes the agent's token (so no token ever
//!   crosses between replicas) and relays the session as if it had started it;
//! - a session ended elsewhere (`TerminateSession`, a report through another replica) is closed
//!   here when the relaying replica hears of it ([`look_at`]);
//! - data channel sockets that land on another replica are forwarded here (`super::proxy`).
//!
//! [`reconcile`] is the periodic fallback for a lost ring, and ends the sessions of replicas
//! that are gone.

use std::collections::HashSet;

use bosun_proto::session::{SessionEndReason, SessionStart};
use bosun_store::SessionRecord;
use serde::{Deserialize, Serialize};

use super::ending::end_session;
use super::NewLive;
use crate::replicas::live_since;
use crate::state::{now_ms, AppState};

/// What a relaying replica needs of a session it did not start, beyond its record.
#[derive(Debug, Serialize, Deserialize)]
pub struct Handoff {
    /// The join request; `agent_token` is empty (the relaying replica makes it).
    pub start: SessionStart,
    pub idle_counts_input: bool,
}

impl Handoff {
    /// The JSON stored in the session's record.
    pub fn to_json(mut start: SessionStart, idle_counts_input: bool) -> String {
        start.agent_token.clear();
        serde_json::to_string(&Handoff {
            start,
            idle_counts_input,
        })
        .unwrap_or_default()
    }
}

/// Take over a session handed to this replica and ask its node to join. `true` when the
/// session is relayed here now (taken over by this call or before). Blocks.
pub fn take_over(state: &AppState, session_id: &str) -> bosun_store::Result<bool> {
    let _one_at_a_time = state
        .sessions
        .taking_over
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if state.sessions.is_live(session_id) {
        return Ok(true);
    }
    let Some(record) = state.store.get_session(session_id)? else {
        return Ok(false);
    };
    if record.end_ms.is_some() || record.replica_id != state.replica.id || record.handoff.is_empty()
    {
        return Ok(false);
    }
    let handoff: Handoff = match serde_json::from_str(&record.handoff) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(%session_id, error = %e, "a handed-over session is unreadable");
            let details = "The session could not be handed to the server replica holding the \
                           node's connection.";
            end_session(
                state,
                session_id,
                "Failed",
                details,
                SessionEndReason::Failed,
                false,
                now_ms(),
            )?;
            return Ok(false);
        }
    };
    let (token, hash) = crate::api::sessions::new_token();
    if !state
        .store
        .take_over_session(session_id, &state.replica.id, &hash)?
    {
        return Ok(false);
    }
    let mut start = handoff.start;
    start.agent_token = token;
    state.sessions.add(
        state,
        NewLive {
            target: record.target.clone(),
            start,
            idle_timeout_s: record.idle_timeout_s,
            max_duration_s: record.max_duration_s,
            idle_counts_input: handoff.idle_counts_input,
            start_ms: record.start_ms,
        },
    );
    state
        .sessions
        .resumed(session_id, record.client_token_expires_ms);
    tracing::info!(%session_id, target = %record.target, "relaying a session started on another replica");
    Ok(true)
}

/// A stored end reason (snake case) as the protocol's.
fn end_reason(record: &SessionRecord) -> SessionEndReason {
    record
        .end_reason
        .as_deref()
        .and_then(|r| serde_json::from_value(serde_json::Value::String(r.into())).ok())
        .unwrap_or(SessionEndReason::Terminated)
}

/// Act on a session another replica changed: take it over if it is handed to this replica,
/// close it here if it ended. Blocks.
pub fn look_at(state: &AppState, session_id: &str) {
    let outcome = match state.store.get_session(session_id) {
        Ok(Some(record)) if record.end_ms.is_some() => close_here(state, &record).map(|_| ()),
        Ok(Some(_)) => take_over(state, session_id).map(|_| ()),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = outcome {
        tracing::warn!(%session_id, error = %e, "could not act on a session changed elsewhere");
    }
}

/// Close the sockets of a session that ended elsewhere and tell its node, if it is relayed
/// here (its end is stored and audited already).
fn close_here(state: &AppState, record: &SessionRecord) -> bosun_store::Result<bool> {
    if record.end_ms.is_none() || !state.sessions.is_live(&record.session_id) {
        return Ok(false);
    }
    end_session(
        state,
        &record.session_id,
        &record.status,
        &record.details,
        end_reason(record),
        true,
        record.end_ms.unwrap_or_else(now_ms),
    )?;
    Ok(true)
}

/// The periodic look at every active session: take over those handed here, close those
/// relayed here that ended elsewhere, end those whose relaying replica is gone (its sockets
/// went with it). Blocks.
pub fn reconcile(state: &AppState) -> bosun_store::Result<usize> {
    let now = now_ms();
    let live_replicas: HashSet<String> = state
        .store
        .live_replicas(live_since(now))?
        .into_iter()
        .map(|r| r.replica_id)
        .collect();
    let active = state.store.active_sessions()?;
    let mut orphans = 0;
    for s in &active {
        if s.replica_id == state.replica.id {
            if !s.handoff.is_empty() {
                take_over(state, &s.session_id)?;
            }
            continue;
        }
        if live_replicas.contains(&s.replica_id) {
            continue;
        }
        let details = "The Bosun server relaying the session stopped.";
        if end_session(
            state,
            &s.session_id,
            "Terminated",
            details,
            SessionEndReason::Terminated,
            true,
            now,
        )? {
            orphans += 1;
        }
    }
    let active_ids: HashSet<&str> = active.iter().map(|s| s.session_id.as_str()).collect();
    for id in state.sessions.live_ids() {
        if !active_ids.contains(id.as_str()) {
            if let Some(record) = state.store.get_session(&id)? {
                close_here(state, &record)?;
            }
        }
    }
    Ok(orphans)
}
