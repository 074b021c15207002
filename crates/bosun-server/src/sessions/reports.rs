//! The agent's session reports on its channel: it accepted a join request, or a session ended
//! on the node (stored once, acknowledged every time, so a re-sent report is harmless).

use bosun_proto::session::{SessionEnd, SessionEndReason};
use bosun_proto::ServerMessage;
use bosun_store::AgentReport;

use super::ending::{end_session, reason_name};
use super::frames::channel_closed;
use super::Side;
use crate::state::{now_ms, AppState};

/// `SessionAccepted` from `instance_id` (blocking).
pub fn on_accepted(
    state: &AppState,
    instance_id: &str,
    session_id: &str,
) -> bosun_store::Result<()> {
    let Some(s) = state.store.get_session(session_id)? else {
        return Ok(());
    };
    if s.target != instance_id {
        tracing::warn!(%instance_id, %session_id, "a node accepted another node's session");
        return Ok(());
    }
    if let Some(live) = state.sessions.lock().get_mut(session_id) {
        live.accepted = true;
    }
    state.store.mark_agent_accepted(session_id)?;
    Ok(())
}

/// `SessionEnded` from `instance_id` (blocking): store the end and the agent's report, tell the
/// client (with the exit code when the agent did not close its side itself), acknowledge.
pub fn on_ended(state: &AppState, instance_id: &str, end: &SessionEnd) -> bosun_store::Result<()> {
    let id = &end.session_id;
    let Some(s) = state.store.get_session(id)? else {
        // Unknown here: acknowledge so the agent stops re-sending.
        state.hub.send(
            instance_id,
            ServerMessage::SessionEndAck {
                session_id: id.clone(),
            },
        );
        return Ok(());
    };
    if s.target != instance_id {
        tracing::warn!(%instance_id, session_id = %id, "a node reported another node's session");
        return Ok(());
    }
    let escaped = serde_json::to_string(&end.escaped).unwrap_or_else(|_| "[]".into());
    let report = AgentReport {
        reason: reason_name(end.reason),
        exit_code: end.exit_code,
        signal: end.signal.clone(),
        escaped_json: escaped,
        error: end.error.clone(),
        ended_ms: end.ended_at_ms,
    };
    state.store.record_agent_report(id, &report)?;
    let (status, details) = match (end.reason, &end.error, end.exit_code, &end.signal) {
        (SessionEndReason::Failed, Some(e), _, _) => {
            ("Failed", format!("The session failed on the node: {e}"))
        }
        (SessionEndReason::Failed, None, _, _) => {
            ("Failed", "The session failed on the node.".into())
        }
        (_, _, Some(code), _) => (
            "Terminated",
            format!("The session ended with exit code {code}."),
        ),
        (_, _, None, Some(sig)) => ("Terminated", format!("The session ended by signal {sig}.")),
        _ => ("Terminated", "The session ended.".into()),
    };
    if let Some(live) = state.sessions.lock().get(id.as_str()) {
        if !live.agent_closed_client {
            live.send_to(Side::Client, channel_closed(id, &details, now_ms()));
        }
    }
    if let Some(live) = state.sessions.lock().get_mut(id.as_str()) {
        live.agent_closed_client = true;
    }
    end_session(state, id, status, &details, end.reason, false, now_ms())?;
    state.hub.send(
        instance_id,
        ServerMessage::SessionEndAck {
            session_id: id.clone(),
        },
    );
    Ok(())
}
