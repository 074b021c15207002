//! Bosun's own event for Session Manager sessions: `Session Manager Session State-change
//! Notification` (AWS emits no such event; like `Managed Node Ping Status-change Notification`
//! it follows the envelope and kebab-case detail style of SSM's Run Command events, from
//! source `aws.ssm`, which `PutEvents` refuses, so it cannot be forged). Emitted when a session
//! starts (`StartSession` stored it: its first status, `Connecting`) and when it ends
//! (`Terminated` or `Failed`, with the end time and Bosun's end reason).

use serde_json::{json, Map, Value};

use super::envelope::{detail_time, envelope, node_arn, Event, Origin};

/// The detail-type.
pub const SESSION_STATE_CHANGE: &str = "Session Manager Session State-change Notification";

/// What the event says about the session.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts<'a> {
    pub session_id: &'a str,
    /// The node id.
    pub target: &'a str,
    /// The caller's ARN.
    pub owner: &'a str,
    pub document_name: &'a str,
    /// AWS `SessionStatus`.
    pub status: &'a str,
    pub start_ms: i64,
    /// `None` while the session goes on (`end-time` and `end-reason` are left out).
    pub end_ms: Option<i64>,
    /// Why it ended (snake case), when it has.
    pub end_reason: &'a str,
}

/// The session is now `facts.status`.
pub fn session_state_change(origin: Origin<'_>, facts: &SessionFacts<'_>) -> Event {
    let mut detail = Map::new();
    detail.insert("session-id".into(), json!(facts.session_id));
    detail.insert("target".into(), json!(facts.target));
    detail.insert("owner".into(), json!(facts.owner));
    detail.insert("document-name".into(), json!(facts.document_name));
    detail.insert("status".into(), json!(facts.status));
    detail.insert("start-time".into(), json!(detail_time(facts.start_ms)));
    if let Some(end) = facts.end_ms {
        detail.insert("end-time".into(), json!(detail_time(end)));
        detail.insert("end-reason".into(), json!(facts.end_reason));
    }
    let resources = vec![
        format!(
            "arn:aws:ssm:{}:{}:session/{}",
            origin.region, origin.account, facts.session_id
        ),
        node_arn(origin.region, origin.account, facts.target),
    ];
    envelope(
        origin,
        SESSION_STATE_CHANGE,
        resources,
        Value::Object(detail),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin<'static> {
        Origin {
            account: "123456789012",
            region: "eu-west-1",
            id: "e-1",
            now_ms: 1_767_225_600_000,
        }
    }

    fn facts() -> SessionFacts<'static> {
        SessionFacts {
            session_id: "alice-0123456789abcdef0",
            target: "mi-0123456789abcdef0",
            owner: "arn:aws:iam::123456789012:user/alice",
            document_name: "SSM-SessionManagerRunShell",
            status: "Connecting",
            start_ms: 1_767_225_590_000,
            end_ms: None,
            end_reason: "",
        }
    }

    #[test]
    fn a_start_names_the_session_and_node_without_an_end() {
        let e = session_state_change(origin(), &facts());
        assert_eq!(e.detail_type, SESSION_STATE_CHANGE);
        let v = &e.envelope;
        assert_eq!(v["source"], "aws.ssm");
        assert_eq!(
            v["resources"],
            json!([
                "arn:aws:ssm:eu-west-1:123456789012:session/alice-0123456789abcdef0",
                "arn:aws:ssm:eu-west-1:123456789012:managed-instance/mi-0123456789abcdef0"
            ])
        );
        assert_eq!(v["detail"]["status"], "Connecting");
        assert_eq!(v["detail"]["start-time"], "2025-12-31T23:59:50.000Z");
        assert!(v["detail"].get("end-time").is_none());
        assert!(v["detail"].get("end-reason").is_none());
        assert_eq!(v["detail"]["owner"], "arn:aws:iam::123456789012:user/alice");
    }

    #[test]
    fn an_end_carries_its_time_and_reason() {
        let ended = SessionFacts {
            status: "Terminated",
            end_ms: Some(1_767_225_600_000),
            end_reason: "terminated",
            ..facts()
        };
        let v = session_state_change(origin(), &ended).envelope;
        assert_eq!(v["detail"]["status"], "Terminated");
        assert_eq!(v["detail"]["end-time"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["detail"]["end-reason"], "terminated");
    }
}
