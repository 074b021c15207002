//! Rules deliver: an EventBridge rule made with the AWS CLI (`aws events put-rule` /
//! `put-targets`) on Run Command invocation failures sends, through an SNS topic, each
//! target's body (an `InputTransformer` text and the whole event) to a real confirmed http
//! subscriber; a success sends nothing, and each matched event is delivered once.

use std::time::Duration;

use aws_sdk_ssm::types::CommandStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::subscriber::{confirmed_topic, Subscriber};
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_invocation_reaches_the_topic_subscriber_once_per_target() {
    let fleet = Fleet::start(1, 1).await;
    let server = &fleet.server;
    let node = fleet.ids()[0].clone();
    let sub = Subscriber::start().await;

    let topic = confirmed_topic(server, &sub, "ops-alerts", "/alerts", LIMIT).await;

    let pattern = json!({
        "source": ["aws.ssm"],
        "detail-type": ["EC2 Command Invocation Status-change Notification"],
        "detail": {"status": ["Failed"]}
    });
    server
        .aws(&[
            "events",
            "put-rule",
            "--name",
            "ssm-failed",
            "--event-pattern",
            &pattern.to_string(),
        ])
        .expect("put-rule");
    let targets = json!([
        {
            "Id": "text",
            "Arn": topic,
            "InputTransformer": {
                "InputPathsMap": {"node": "$.detail.instance-id", "cmd": "$.detail.command-id"},
                "InputTemplate": "\"<node> failed command <cmd>\""
            }
        },
        {"Id": "whole", "Arn": topic}
    ]);
    let put = server
        .aws(&[
            "events",
            "put-targets",
            "--rule",
            "ssm-failed",
            "--targets",
            &targets.to_string(),
        ])
        .expect("put-targets");
    assert_eq!(put["FailedEntryCount"], 0, "{put}");

    let ok = fleet
        .run(std::slice::from_ref(&node), &["echo fine"], &[])
        .await;
    let c = fleet.wait_command(&ok, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));
    let bad = fleet
        .run(std::slice::from_ref(&node), &["exit 4"], &[])
        .await;
    let c = fleet.wait_command(&bad, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Failed));

    sub.wait("/alerts", "Notification", 2, LIMIT).await;
    // A marker published after both arrived: anything the success or a duplicate would have
    // produced comes before it (the outbox is dispatched in order).
    server
        .aws(&[
            "sns",
            "publish",
            "--topic-arn",
            &topic,
            "--message",
            "marker",
        ])
        .expect("publish");
    sub.wait("/alerts", "Notification", 3, LIMIT).await;
    let messages: Vec<Value> = sub
        .at("/alerts")
        .into_iter()
        .filter(|r| r.header("x-amz-sns-message-type") == Some("Notification"))
        .map(|r| r.json())
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(messages[2]["Message"], "marker");
    let bodies: Vec<&str> = messages[..2]
        .iter()
        .map(|m| m["Message"].as_str().unwrap())
        .collect();
    let text = format!("\"{node} failed command {bad}\"");
    assert!(bodies.contains(&text.as_str()), "{bodies:?}");
    let whole = bodies
        .iter()
        .find(|b| b.starts_with('{'))
        .expect("the whole event");
    let event: Value = serde_json::from_str(whole).unwrap();
    assert_eq!(
        event["detail-type"],
        "EC2 Command Invocation Status-change Notification"
    );
    assert_eq!(event["detail"]["command-id"], bad.as_str());
    assert_eq!(event["detail"]["status"], "Failed");
    for m in &messages[..2] {
        assert_eq!(m["TopicArn"], topic.as_str());
        assert!(m.get("Subject").is_none_or(Value::is_null), "{m}");
    }
}
