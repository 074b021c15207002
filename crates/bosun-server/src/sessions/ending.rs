//! Ending a session, whoever ends it (`TerminateSession`, a timer, the agent): the record is
//! stored first, then both sides get `channel_closed` and their sockets close, and the agent is
//! told to end the session's processes unless it is the one that ended it. Every end is in the
//! audit log with the node, document, reason and why it ended.

use bosun_proto::session::SessionEndReason;
use bosun_proto::ServerMessage;
use bosun_store::AuditRecord;

use super::frames::channel_closed;
use super::Side;
use crate::state::AppState;

/// The snake-case name of an end reason, as stored.
pub fn reason_name(reason: SessionEndReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// End a session (blocking: it writes the store). `false` when it had ended already.
/// `tell_agent`: the agent must still end the session's processes. `details` is what `DescribeSessions` shows and what the client reads in `channel_closed`.
pub fn end_session(
    state: &AppState,
    session_id: &str,
    status: &str,
    details: &str,
    reason: SessionEndReason,
    tell_agent: bool,
    now_ms: i64,
) -> bosun_store::Result<bool> {
    let changed =
        state
            .store
            .end_session(session_id, status, details, &reason_name(reason), now_ms)?;
    let mut live = state.sessions.lock().remove(session_id);
    if let Some(log) = live.as_mut().and_then(|l| l.log.take()) {
        let piece = log.last_piece(session_id, now_ms);
        if !super::log::store(state, &piece) && !super::log::store(state, &piece) {
            tracing::error!(%session_id, "the end of the session's log could not be stored");
        }
    }
    // Relayed by another replica: that one closes its sockets and tells the node.
    let record = match &live {
        Some(_) => None,
        None => state.store.get_session(session_id)?,
    };
    if let Some(r) = record.as_ref().filter(|r| r.replica_id != state.replica.id) {
        state.doorbell.session(&r.replica_id, session_id);
    }
    let target = match &live {
        Some(l) => Some(l.target.clone()),
        None if tell_agent => record.as_ref().map(|s| s.target.clone()),
        None => None,
    };
    if let (true, Some(target)) = (tell_agent, &target) {
        // Also when another replica (or a predecessor) relayed it, if the node is connected
        // here: the agent ends its processes.
        state.hub.send(
            target,
            ServerMessage::TerminateSession {
                session_id: session_id.to_string(),
                reason,
            },
        );
    }
    if let Some(live) = &live {
        if !live.agent_closed_client {
            live.send_to(Side::Client, channel_closed(session_id, details, now_ms));
        }
        live.send_to(Side::Agent, channel_closed(session_id, details, now_ms));
        live.close_side(Side::Client, "the session ended");
        live.close_side(Side::Agent, "the session ended");
    }
    if changed {
        if let Some(s) = state.store.get_session(session_id)? {
            let detail = serde_json::json!({
                "SessionId": s.session_id,
                "Target": s.target,
                "DocumentName": s.document_name,
                "Owner": s.owner,
                "Reason": s.reason,
                "Status": status,
                "EndReason": reason_name(reason),
                "Details": details,
            });
            let record = AuditRecord {
                time_ms: now_ms,
                principal: s.owner.rsplit('/').next().unwrap_or_default().to_string(),
                action: "bosun:SessionEnded".into(),
                region: s.region.clone(),
                resource: crate::api::sessions::session_arn(state, &s.region, session_id),
                request_id: String::new(),
                source: String::new(),
                outcome: "Allowed".into(),
                detail: detail.to_string(),
            };
            state.store.append_audit(&record)?;
        }
    }
    Ok(changed)
}
