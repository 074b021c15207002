//! The session service's dispatch: de-duplicated starts, the concurrent-sessions limit, ends
//! kept on disk until acknowledged.

use std::time::Duration;

use bosun_proto::session::{SessionEndReason, SessionKind, SessionStart};
use tokio::sync::mpsc;

use super::run::RunSettings;

const LIMIT: Duration = Duration::from_secs(20);

fn start(kind: SessionKind) -> SessionStart {
    SessionStart {
        session_id: format!("test-{}", uuid::Uuid::new_v4().simple()),
        document_name: "doc".into(),
        kind,
        command: None,
        port: None,
        run_as_user: None,
        shell_profile: None,
        agent_token: "t".into(),
        denied_remote_networks: Vec::new(),
        start_by_ms: 0,
    }
}

fn settings() -> RunSettings {
    RunSettings::default()
}

#[tokio::test]
async fn the_service_dedupes_starts_refuses_beyond_its_limit_and_keeps_ends_until_acked() {
    use super::{SessionService, SessionSettings};
    use bosun_proto::{AgentMessage, ServerMessage};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let svc = Arc::new(
        SessionService::new(
            dir.path(),
            // Nothing listens there: session A waits for its data channel.
            "http://127.0.0.1:9",
            SessionSettings {
                node_id: "mi-0123456789abcdef0".into(),
                ca_file: None,
                workers_limit: 1,
                run: settings(),
                worker_program: None,
            },
        )
        .unwrap(),
    );
    let (tx, mut rx) = mpsc::channel(16);
    svc.outbox.connect(tx);
    let a = start(SessionKind::StandardStream);
    let a_id = a.session_id.clone();
    let accepted_a = AgentMessage::SessionAccepted {
        session_id: a_id.clone(),
    };
    for _ in 0..2 {
        svc.handle(ServerMessage::StartSession(a.clone())).await;
        assert_eq!(next(&mut rx).await, accepted_a);
    }
    let b = start(SessionKind::StandardStream);
    svc.handle(ServerMessage::StartSession(b.clone())).await;
    assert!(matches!(
        next(&mut rx).await,
        AgentMessage::SessionAccepted { .. }
    ));
    let AgentMessage::SessionEnded(end) = next(&mut rx).await else {
        panic!("no end for the refused session")
    };
    assert_eq!(
        (end.session_id.as_str(), end.reason),
        (b.session_id.as_str(), SessionEndReason::Failed)
    );
    assert!(end.error.unwrap().contains("Mgs.SessionWorkersLimit"));

    svc.handle(ServerMessage::TerminateSession {
        session_id: a_id.clone(),
        reason: SessionEndReason::IdleTimeout,
    })
    .await;
    let AgentMessage::SessionEnded(end) = next(&mut rx).await else {
        panic!("no end for the terminated session")
    };
    assert_eq!(
        (end.session_id.as_str(), end.reason),
        (a_id.as_str(), SessionEndReason::IdleTimeout)
    );
    let pending = dir.path().join(format!("sessions/ended/{a_id}.json"));
    assert!(pending.exists());
    svc.handle(ServerMessage::SessionEndAck {
        session_id: a_id.clone(),
    })
    .await;
    assert!(!pending.exists());
    // Still pending: B's end, sent again on the next connection.
    svc.on_connected("http://127.0.0.1:9").await;
    assert!(
        matches!(next(&mut rx).await, AgentMessage::SessionEnded(e) if e.session_id == b.session_id)
    );
}

async fn next(rx: &mut mpsc::Receiver<bosun_proto::AgentMessage>) -> bosun_proto::AgentMessage {
    tokio::time::timeout(LIMIT, rx.recv())
        .await
        .unwrap()
        .unwrap()
}
