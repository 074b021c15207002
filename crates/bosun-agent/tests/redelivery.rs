//! The agent's delivery contract, driven directly: a command is acknowledged only after it is
//! persisted, a re-delivered command runs once, a late one never runs, and results stay
//! spooled until the server acknowledges them.

use std::path::PathBuf;
use std::time::Duration;

use bosun_agent::commands::{CommandService, Settings};
use bosun_agent::config::AgentConfig;
use bosun_core::document::StepPlan;
use bosun_proto::command::NotRunReason;
use bosun_proto::{AgentMessage, CommandDelivery, ServerMessage};
use tokio::sync::mpsc;

const NODE: &str = "mi-0123456789abcdef0";

fn service(dir: &std::path::Path) -> std::sync::Arc<CommandService> {
    let settings = Settings::from_config(
        &AgentConfig::default(),
        PathBuf::from(env!("CARGO_BIN_EXE_bosun-agent")),
    );
    CommandService::new(dir, NODE, settings).unwrap()
}

fn delivery(id: &str, script: &str, deliver_by_ms: i64) -> CommandDelivery {
    CommandDelivery {
        command_id: id.into(),
        document_name: "AWS-RunShellScript".into(),
        document_hash: String::new(),
        steps: vec![StepPlan {
            name: "aws:runShellScript".into(),
            action: "aws:runShellScript".into(),
            run_command: vec![script.into()],
            working_directory: String::new(),
            timeout_seconds: 60,
            ..Default::default()
        }],
        deliver_by_ms,
        region: "us-east-1".into(),
    }
}

fn far_future() -> i64 {
    jiff::Timestamp::now().as_millisecond() + 3_600_000
}

/// Collect messages until a result arrives (with a deadline).
async fn until_result(
    rx: &mut mpsc::Receiver<AgentMessage>,
) -> (Vec<AgentMessage>, bosun_proto::CommandResult) {
    let mut seen = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("a result in time")
            .expect("open");
        if let AgentMessage::Result(r) = &msg {
            return (seen, r.clone());
        }
        seen.push(msg);
    }
}

#[tokio::test]
async fn a_redelivered_command_runs_once_and_its_result_is_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    let svc = service(&dir.path().join("state"));
    let (tx, mut rx) = mpsc::channel(64);
    svc.outbox.connect(tx);
    let id = "00000000-0000-4000-8000-0000000000a1";
    let d = delivery(id, &format!("echo x >> {}", count.display()), far_future());
    svc.handle(ServerMessage::RunCommand(d.clone())).await;
    let (before, first) = until_result(&mut rx).await;
    assert!(
        matches!(before.first(), Some(AgentMessage::CommandAck { command_id }) if command_id == id)
    );
    // The same delivery again (the server never saw the ack): acked again, result repeated, not re-run.
    svc.handle(ServerMessage::RunCommand(d)).await;
    let (again, second) = until_result(&mut rx).await;
    assert!(matches!(
        again.first(),
        Some(AgentMessage::CommandAck { .. })
    ));
    assert_eq!(first, second);
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\n");

    // The result stays spooled (and is re-sent on reconnect) until acknowledged.
    let replies = dir.path().join("state").join(NODE).join("replies");
    assert!(replies.join(id).exists());
    svc.on_connected().await;
    assert!(matches!(rx.recv().await, Some(AgentMessage::Result(_))));
    svc.handle(ServerMessage::ResultAck {
        command_id: id.into(),
    })
    .await;
    assert!(!replies.join(id).exists());
}

#[tokio::test]
async fn a_command_past_its_deadline_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let svc = service(&dir.path().join("state"));
    let (tx, mut rx) = mpsc::channel(64);
    svc.outbox.connect(tx);
    let id = "00000000-0000-4000-8000-0000000000a2";
    let past = jiff::Timestamp::now().as_millisecond() - 1;
    svc.handle(ServerMessage::RunCommand(delivery(
        id,
        &format!("touch {}", marker.display()),
        past,
    )))
    .await;
    let (_, result) = until_result(&mut rx).await;
    assert_eq!(result.not_run, Some(NotRunReason::DeliveryTimedOut));
    assert!(!marker.exists());
}

#[tokio::test]
async fn accepted_commands_survive_an_agent_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let marker = dir.path().join("ran");
    let id = "00000000-0000-4000-8000-0000000000a3";
    {
        // Accepted (persisted) but the agent stops before running it.
        let spool = bosun_agent::commands::spool::Spool::open(&state, NODE).unwrap();
        spool
            .accept(&delivery(
                id,
                &format!("echo ok > {}", marker.display()),
                far_future(),
            ))
            .unwrap();
    }
    let svc = service(&state);
    let (tx, mut rx) = mpsc::channel(64);
    svc.outbox.connect(tx);
    svc.recover().unwrap();
    let (_, result) = until_result(&mut rx).await;
    assert_eq!(result.command_id, id);
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "ok\n");
}
