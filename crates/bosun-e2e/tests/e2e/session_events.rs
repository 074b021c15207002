//! Session events end to end: a rule on Bosun's `Session Manager Session State-change
//! Notification` made with the AWS CLI delivers, through an SNS topic, a real session's start
//! (`StartSession` to a real agent) and its end (`TerminateSession`) to a confirmed http
//! subscriber, once each; a second `TerminateSession` announces nothing.

use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use bosun_e2e::subscriber::{confirmed_topic, messages, publish, rule_to_topic, Subscriber};
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_start_and_end_reach_a_rules_subscriber_once_each() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let hook = Subscriber::start().await;
    let topic = confirmed_topic(&fleet.server, &hook, "sessions", "/sessions", LIMIT).await;
    let pattern = json!({"source": ["aws.ssm"],
        "detail-type": ["Session Manager Session State-change Notification"]});
    rule_to_topic(&fleet.server, "sessions", &pattern, &topic);

    let started = fleet
        .client
        .start_session()
        .target(&node)
        .reason("e2e")
        .send()
        .await
        .expect("StartSession");
    let id = started.session_id.unwrap();
    let first = event(
        &hook
            .wait("/sessions", "Notification", 1, LIMIT)
            .await
            .json(),
    );
    assert_eq!(
        first["detail-type"],
        "Session Manager Session State-change Notification"
    );
    assert_eq!(first["source"], "aws.ssm");
    assert_eq!(first["detail"]["session-id"], id.as_str());
    assert_eq!(first["detail"]["target"], node.as_str());
    assert_eq!(first["detail"]["status"], "Connecting");
    assert!(first["detail"].get("end-time").is_none(), "{first}");
    assert!(first["resources"][0]
        .as_str()
        .unwrap()
        .ends_with(&format!(":session/{id}")));

    for _ in 0..2 {
        fleet
            .client
            .terminate_session()
            .session_id(&id)
            .send()
            .await
            .expect("TerminateSession");
    }
    let end = event(
        &hook
            .wait("/sessions", "Notification", 2, LIMIT)
            .await
            .json(),
    );
    assert_eq!(end["detail"]["session-id"], id.as_str());
    assert_eq!(end["detail"]["status"], "Terminated");
    assert!(end["detail"]["end-time"].is_string(), "{end}");

    publish(&fleet.server, &topic, "marker");
    hook.wait("/sessions", "Notification", 3, LIMIT).await;
    let bodies = messages(&hook, "/sessions");
    assert_eq!(bodies.len(), 3, "one event per change: {bodies:?}");
    assert_eq!(bodies[2], "marker");
}

fn event(notification: &Value) -> Value {
    serde_json::from_str(notification["Message"].as_str().expect("a Message")).expect("an event")
}
