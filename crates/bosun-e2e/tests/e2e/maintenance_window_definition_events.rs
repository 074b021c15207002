//! Maintenance window definitions' EventBridge events reach a rule's target: one rule made with
//! the AWS CLI on the three definition detail-types sends, through an SNS topic, to a real
//! confirmed http subscriber one event per change made with the AWS CLI — a target and a task
//! registered, updated and deregistered, the window disabled and enabled — with
//! AWS's detail; a change that changes nothing sends nothing.

use bosun_e2e::subscriber::{confirmed_topic, messages, publish, rule_to_topic, Subscriber};
use bosun_e2e::windows::*;
use bosun_e2e::TestServer;
use serde_json::{json, Value};

const DEFINITIONS: [&str; 3] = [
    "Maintenance Window State-change Notification",
    "Maintenance Window Target Registration Notification",
    "Maintenance Window Task Registration Notification",
];

/// `aws ssm OP --window-id WINDOW ARGS…`.
fn change(server: &TestServer, op: &str, window: &str, args: &[&str]) {
    let mut all = vec![op, "--window-id", window];
    all.extend_from_slice(args);
    ssm(server, &all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_definition_change_reaches_the_rule_target_once() {
    let server = TestServer::start().await;
    let sub = Subscriber::start().await;
    let topic = confirmed_topic(&server, &sub, "window-changes", "/changes", LIMIT).await;
    let pattern = json!({"source": ["aws.ssm"], "detail-type": DEFINITIONS});
    rule_to_topic(&server, "windows", &pattern, &topic);

    let window = create_window(&server, "defs");
    let target = register_target(&server, &window, "INSTANCE", "Key=tag:role,Values=web");
    let task = register_task(&server, &window, &target, "1", "uptime");
    let w = window.as_str();
    change(
        &server,
        "update-maintenance-window-target",
        w,
        &["--window-target-id", &target, "--name", "web"],
    );
    change(
        &server,
        "update-maintenance-window-task",
        w,
        &["--window-task-id", &task, "--priority", "2"],
    );
    change(
        &server,
        "update-maintenance-window",
        w,
        &["--description", "same state"],
    );
    change(&server, "update-maintenance-window", w, &["--no-enabled"]);
    change(&server, "update-maintenance-window", w, &["--enabled"]);
    change(
        &server,
        "deregister-task-from-maintenance-window",
        w,
        &["--window-task-id", &task],
    );
    change(
        &server,
        "deregister-target-from-maintenance-window",
        w,
        &["--window-target-id", &target],
    );
    // SNS delivers a batch concurrently, as AWS's standard topics do, so the eight events
    // are compared as a set. A marker published once they are in arrives after anything else
    // the rule matched (an event for the change that changed nothing would be among them).
    sub.wait("/changes", "Notification", 8, LIMIT).await;
    publish(&server, &topic, "marker");
    sub.wait("/changes", "Notification", 9, LIMIT).await;
    let messages = messages(&sub, "/changes");
    assert_eq!(messages.len(), 9, "{messages:?}");
    assert_eq!(messages[8], "marker", "nothing more before the marker");
    let events: Vec<Value> = messages[..8]
        .iter()
        .map(|m| serde_json::from_str(m).unwrap())
        .collect();
    let mut seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["detail-type"].as_str().unwrap(),
                e["detail"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    seen.sort();
    let mut expected = [
        (DEFINITIONS[1], "REGISTERED"),
        (DEFINITIONS[2], "REGISTERED"),
        (DEFINITIONS[1], "UPDATED"),
        (DEFINITIONS[2], "UPDATED"),
        (DEFINITIONS[0], "DISABLED"),
        (DEFINITIONS[0], "ENABLED"),
        (DEFINITIONS[2], "DEREGISTERED"),
        (DEFINITIONS[1], "DEREGISTERED"),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    let find = |kind: &str, status: &str| -> &Value {
        events
            .iter()
            .find(|e| e["detail-type"] == kind && e["detail"]["status"] == status)
            .unwrap()
    };
    for e in &events {
        assert_eq!(e["source"], "aws.ssm");
        assert_eq!(e["detail"]["window-id"], window.as_str());
        assert!(e["resources"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!(":maintenancewindow/{window}")));
    }
    let registered_target = find(DEFINITIONS[1], "REGISTERED");
    let registered_task = find(DEFINITIONS[2], "REGISTERED");
    assert_eq!(
        registered_target["detail"]["window-target-id"],
        target.as_str()
    );
    assert!(registered_target["resources"][1]
        .as_str()
        .unwrap()
        .ends_with(&format!(":windowtarget/{target}")));
    assert_eq!(registered_task["detail"]["window-task-id"], task.as_str());
    assert!(registered_task["resources"][1]
        .as_str()
        .unwrap()
        .ends_with(&format!(":windowtask/{task}")));
}
