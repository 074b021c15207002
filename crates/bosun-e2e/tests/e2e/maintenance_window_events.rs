//! Maintenance windows' EventBridge events reach a rule's target: a rule made with the AWS CLI
//! on `Maintenance Window Execution State-change Notification` with `status: FAILED` sends,
//! through an SNS topic, the whole event of a window whose `RUN_COMMAND` task fails on a real
//! agent to a real confirmed http subscriber, with AWS's detail, once. A second rule on
//! `Maintenance Window Task Target Invocation State-change Notification` gets the node's: its
//! start (`IN_PROGRESS`, no end time) and its end, once each.

use bosun_e2e::fleet::Fleet;
use bosun_e2e::subscriber::{confirmed_topic, publish, rule_to_topic, Subscriber};
use bosun_e2e::windows::*;
use serde_json::{json, Value};

fn notifications(sub: &Subscriber, path: &str) -> Vec<Value> {
    sub.at(path)
        .into_iter()
        .filter(|r| r.header("x-amz-sns-message-type") == Some("Notification"))
        .map(|r| r.json())
        .collect()
}

/// `2016-11-16T01:00:56.427Z`: ISO-8601 in UTC with milliseconds.
fn is_detail_time(s: &str) -> bool {
    s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.'
}

/// Publish a marker to `topic` and check that `path` got exactly `before` notifications
/// before it.
async fn only_these_before_marker(
    server: &bosun_e2e::TestServer,
    sub: &Subscriber,
    topic: &str,
    path: &str,
    before: usize,
) {
    publish(server, topic, "marker");
    sub.wait(path, "Notification", before + 1, LIMIT).await;
    let messages = notifications(sub, path);
    assert_eq!(messages.len(), before + 1, "{messages:?}");
    assert_eq!(messages[before]["Message"], "marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_window_run_reaches_the_rule_target_with_its_detail() {
    let fleet = Fleet::start(1, 1).await;
    let server = &fleet.server;
    let node = fleet.ids()[0].clone();
    let sub = Subscriber::start().await;
    let alerts = confirmed_topic(server, &sub, "window-alerts", "/alerts", LIMIT).await;
    let nodes = confirmed_topic(server, &sub, "window-nodes", "/nodes", LIMIT).await;

    let window = create_window(server, "nightly-check");
    let pattern = json!({
        "source": ["aws.ssm"],
        "detail-type": ["Maintenance Window Execution State-change Notification"],
        "detail": {"status": ["FAILED"]}
    });
    rule_to_topic(server, "window-failed", &pattern, &alerts);
    let pattern = json!({
        "source": ["aws.ssm"],
        "detail-type": ["Maintenance Window Task Target Invocation State-change Notification"],
        "detail": {"window-id": [window.as_str()]}
    });
    rule_to_topic(server, "window-nodes", &pattern, &nodes);

    let target = register_target(
        server,
        &window,
        "INSTANCE",
        &format!("Key=InstanceIds,Values={node}"),
    );
    register_task(server, &window, &target, "1", "echo checking; exit 3");
    arm(server, &window, 10);
    let e = wait_execution(server, &window).await;
    assert_eq!(e["Status"], "FAILED", "{e}");
    let execution = e["WindowExecutionId"].as_str().unwrap().to_string();
    let tasks = tasks_of(server, &execution);
    assert_eq!(tasks[0]["Status"], "FAILED", "{tasks:?}");
    let task = tasks[0]["TaskExecutionId"].as_str().unwrap().to_string();
    let invs = invocations_of(server, &execution, &task);
    assert_eq!(invs.len(), 1, "{invs:?}");
    assert_eq!(invs[0]["Status"], "FAILED", "{invs:?}");

    let first = sub.wait("/alerts", "Notification", 1, LIMIT).await.json();
    let event: Value = serde_json::from_str(first["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        event["detail-type"],
        "Maintenance Window Execution State-change Notification"
    );
    assert_eq!(event["source"], "aws.ssm");
    assert_eq!(event["account"], "000000000000");
    assert_eq!(event["region"], "us-east-1");
    let arn = format!("arn:aws:ssm:us-east-1:000000000000:maintenancewindow/{window}");
    assert_eq!(event["resources"], json!([arn]));
    let detail = &event["detail"];
    assert_eq!(detail["window-id"], window.as_str());
    assert_eq!(detail["window-execution-id"], execution.as_str());
    assert_eq!(detail["status"], "FAILED");
    for key in ["start-time", "end-time"] {
        assert!(
            is_detail_time(detail[key].as_str().unwrap_or_default()),
            "{key}: {detail}"
        );
    }
    assert!(
        detail["start-time"].as_str() <= detail["end-time"].as_str(),
        "{detail}"
    );
    assert!(detail.get("task-execution-id").is_none(), "{detail}");
    only_these_before_marker(server, &sub, &alerts, "/alerts", 1).await;

    // The node's invocation started, then ended FAILED: one event each, naming the task,
    // target and owner. SNS posts concurrently, so they may arrive in either order.
    let by_status = |status: &'static str| {
        let sub = &sub;
        async move {
            bosun_e2e::wait_for(
                &format!("the invocation's {status} event"),
                LIMIT,
                || async {
                    notifications(sub, "/nodes")
                        .iter()
                        .filter_map(|n| serde_json::from_str::<Value>(n["Message"].as_str()?).ok())
                        .find(|e| e["detail"]["status"] == status)
                },
            )
            .await
        }
    };
    let started = by_status("IN_PROGRESS").await;
    assert_eq!(started["detail"]["task-execution-id"], task.as_str());
    assert!(is_detail_time(
        started["detail"]["start-time"].as_str().unwrap_or_default()
    ));
    assert!(started["detail"].get("end-time").is_none(), "{started}");
    let event = by_status("FAILED").await;
    assert_eq!(
        event["detail-type"],
        "Maintenance Window Task Target Invocation State-change Notification"
    );
    assert_eq!(event["resources"], json!([arn]));
    let detail = &event["detail"];
    assert_eq!(detail["window-execution-id"], execution.as_str());
    assert_eq!(detail["task-execution-id"], task.as_str());
    assert_eq!(detail["window-target-id"], target.as_str());
    assert_eq!(detail["owner-information"], "seed-002");
    assert_eq!(detail["status"], "FAILED");
    only_these_before_marker(server, &sub, &nodes, "/nodes", 2).await;
}
