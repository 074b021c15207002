//! A rule target whose `InputTransformer` renders text that is not JSON (AWS's own trap: an
//! object placed inside quotes) does not lose the event silently (issue 17): the other targets
//! of the rule get it, the bad target keeps it as a failed invocation with the reason, listed
//! by `bosun notify failed`; a redrive before the target is fixed fails again and is counted,
//! and after `aws events put-targets` fixes the template the redrive delivers it, once.

use std::time::Duration;

use bosun_e2e::poll::wait_for;
use bosun_e2e::subscriber::{confirmed_topic, messages, Subscriber};
use bosun_e2e::TestServer;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(60);

fn put_targets(server: &TestServer, targets: &Value) {
    let put = server
        .aws(&[
            "events",
            "put-targets",
            "--rule",
            "deploys",
            "--targets",
            &targets.to_string(),
        ])
        .expect("put-targets");
    assert_eq!(put["FailedEntryCount"], 0, "{put}");
}

fn transformed(topic: &str, template: &str) -> Value {
    json!({
        "Id": "shaped",
        "Arn": topic,
        "InputTransformer": {
            "InputPathsMap": {"d": "$.detail"},
            "InputTemplate": template
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unrenderable_target_keeps_the_event_until_a_redrive_delivers_it_once() {
    let server = TestServer::start().await;
    let sub = Subscriber::start().await;
    let topic = confirmed_topic(&server, &sub, "deploys", "/d", LIMIT).await;
    server
        .aws(&[
            "events",
            "put-rule",
            "--name",
            "deploys",
            "--event-pattern",
            r#"{"source":["ops.deploy"]}"#,
        ])
        .expect("put-rule");
    // The object inside quotes renders `{"payload": "{status:Failed,…}"}`-style text that is
    // not JSON; AWS accepts such a target and then drops the event.
    put_targets(
        &server,
        &json!([
            transformed(&topic, r#"{"payload": "<d>"}"#),
            {"Id": "whole", "Arn": topic}
        ]),
    );
    let entries = json!([{"Source": "ops.deploy", "DetailType": "Deploy Failed",
        "Detail": json!({"status": "Failed", "service": "api"}).to_string()}]);
    server
        .aws(&["events", "put-events", "--entries", &entries.to_string()])
        .expect("put-events");

    // The whole-event target got it; the other one kept it with the reason.
    sub.wait("/d", "Notification", 1, LIMIT).await;
    let listed = wait_for("the failed invocation", LIMIT, || async {
        let (ok, out, err) = server.cli(&["notify", "failed", "--rule", "deploys"]).await;
        assert!(ok, "{err}");
        out.contains("shaped").then_some(out)
    })
    .await;
    assert!(
        listed.contains("Deploy Failed") && listed.contains("JSON"),
        "{listed}"
    );
    assert_eq!(listed.lines().count(), 2, "one failure: {listed}");

    // Redriven as the target still is: it fails again and is counted.
    let (ok, _, err) = server
        .cli(&["notify", "redrive", "--rule", "deploys"])
        .await;
    assert!(
        ok && err.contains("0 failed rule invocations delivered, 1 still failing"),
        "{err}"
    );
    let (_, out, _) = server.cli(&["notify", "failed", "--rule", "deploys"]).await;
    let row = out.lines().nth(1).unwrap_or_default().to_string();
    assert!(
        row.split_whitespace().any(|w| w == "1"),
        "one redrive: {out}"
    );

    // Fixed with PutTargets, the redrive delivers it, once.
    put_targets(
        &server,
        &json!([transformed(&topic, r#"{"payload": <d>}"#)]),
    );
    let (ok, _, err) = server
        .cli(&["notify", "redrive", "--rule", "deploys"])
        .await;
    assert!(
        ok && err.contains("1 failed rule invocations delivered, 0 still failing"),
        "{err}"
    );
    sub.wait("/d", "Notification", 2, LIMIT).await;
    let (ok, _, err) = server
        .cli(&["notify", "redrive", "--rule", "deploys"])
        .await;
    assert!(
        ok && err.contains("0 failed rule invocations delivered, 0 still failing"),
        "{err}"
    );
    let (_, _, err) = server.cli(&["notify", "failed", "--rule", "deploys"]).await;
    assert!(err.contains("no failed rule invocations"), "{err}");
    // A marker: anything a second delivery would have sent arrives before it.
    bosun_e2e::subscriber::publish(&server, &topic, "marker");
    sub.wait("/d", "Notification", 3, LIMIT).await;
    let got = messages(&sub, "/d");
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2], "marker");
    let redriven: Value = serde_json::from_str(&got[1]).expect("JSON");
    assert_eq!(
        redriven,
        json!({"payload": {"status": "Failed", "service": "api"}})
    );

    // Reading them is `bosun:ListFailedInvocations` on the rule.
    server
        .user_with_policy(
            "oncall",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Action":"bosun:ListFailedInvocations",
            "Resource":"arn:aws:events:us-east-1:000000000000:rule/other"}]}"#,
        )
        .await;
    let oncall = server
        .data_dir()
        .parent()
        .unwrap()
        .join("oncall.credentials");
    let (ok, _, err) = server
        .cli(&[
            "notify",
            "failed",
            "--rule",
            "deploys",
            "--credentials-file",
            oncall.to_str().unwrap(),
        ])
        .await;
    assert!(
        !ok && err.contains("AccessDenied") && err.contains("bosun:ListFailedInvocations"),
        "{err}"
    );
}
