//! `bosun events rules|targets|test|tail` and `bosun notify test` against a real server: rules
//! and targets made with the AWS CLI are listed, a pattern is tried by the server, the tail
//! shows past and new events as they are stored, and a sample event published to a topic
//! reaches its confirmed http subscriber as a real event would.

use std::process::Stdio;
use std::time::Duration;

use bosun_e2e::subscriber::{confirmed_topic, Subscriber};
use bosun_e2e::{bin, TestServer};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

const LIMIT: Duration = Duration::from_secs(30);
const PATTERN: &str = r#"{"source":["aws.ssm"],"detail":{"status":["Failed"]}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_targets_and_patterns_are_shown_and_tried_by_the_server() {
    let server = TestServer::start().await;
    let hook = Subscriber::start().await;
    let topic = confirmed_topic(&server, &hook, "ops", "/ops", LIMIT).await;
    server
        .aws(&[
            "events",
            "put-rule",
            "--name",
            "failed-runs",
            "--event-pattern",
            PATTERN,
        ])
        .expect("put-rule");
    let targets = json!([{"Id": "mail", "Arn": topic}]).to_string();
    server
        .aws(&[
            "events",
            "put-targets",
            "--rule",
            "failed-runs",
            "--targets",
            &targets,
        ])
        .expect("put-targets");

    let (ok, out, err) = server.cli(&["events", "rules"]).await;
    assert!(ok, "{err}");
    let row = out
        .lines()
        .find(|l| l.starts_with("failed-runs"))
        .unwrap_or_else(|| panic!("the rule in {out}"));
    assert!(row.contains("ENABLED") && row.contains(&topic), "{row}");
    let (ok, out, _) = server.cli(&["events", "rules", "--prefix", "nope"]).await;
    assert!(ok && out.contains("no rules"), "{out}");

    let (ok, out, err) = server.cli(&["events", "targets", "failed-runs"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("mail") && out.contains("the whole event"),
        "{out}"
    );
    let (ok, _, err) = server.cli(&["events", "targets", "no-such-rule"]).await;
    assert!(!ok && err.contains("ResourceNotFoundException"), "{err}");

    let failed = json!({"version": "0", "id": "1", "detail-type": "x", "source": "aws.ssm",
        "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"status": "Failed"}});
    let mut success = failed.clone();
    success["detail"]["status"] = json!("Success");
    let event_file = server.data_dir().join("../event.json");
    std::fs::write(&event_file, failed.to_string()).unwrap();
    let at_file = format!("@{}", event_file.display());
    let (ok, out, err) = server
        .cli(&["events", "test", "--pattern", PATTERN, "--event", &at_file])
        .await;
    assert!(ok && out.trim() == "matches", "{out} {err}");
    let (ok, out, _) = server
        .cli(&[
            "events",
            "test",
            "--pattern",
            PATTERN,
            "--event",
            &success.to_string(),
        ])
        .await;
    assert!(!ok && out.trim() == "does not match", "{out}");
    let (ok, _, err) = server
        .cli(&[
            "events",
            "test",
            "--pattern",
            r#"{"detail":"x"}"#,
            "--event",
            &success.to_string(),
        ])
        .await;
    assert!(!ok && err.contains("InvalidEventPatternException"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_test_publishes_a_sample_event_to_the_topics_subscribers() {
    let server = TestServer::start().await;
    let hook = Subscriber::start().await;
    let topic = confirmed_topic(&server, &hook, "ops", "/ops", LIMIT).await;

    let (ok, out, err) = server
        .cli(&["notify", "test", "ops", "--document", "AWS-UpdateSSMAgent"])
        .await;
    assert!(ok, "{err}");
    assert!(out.contains(&topic), "{out}");
    let got = hook.wait("/ops", "Notification", 1, LIMIT).await.json();
    assert_eq!(got["TopicArn"], topic.as_str());
    assert_eq!(got["Subject"], "Bosun test notification");
    let event: Value = serde_json::from_str(got["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        event["detail-type"],
        "EC2 Command Invocation Status-change Notification"
    );
    assert_eq!(event["source"], "aws.ssm");
    assert_eq!(event["detail"]["status"], "Failed");
    assert_eq!(event["detail"]["document-name"], "AWS-UpdateSSMAgent");
    assert_eq!(event["account"], topic.split(':').nth(4).unwrap());

    let (ok, _, err) = server
        .cli(&["notify", "test", &topic, "--status", "Success"])
        .await;
    assert!(ok, "{err}");
    let second = hook.wait("/ops", "Notification", 2, LIMIT).await.json();
    assert!(second["Message"]
        .as_str()
        .unwrap()
        .contains(r#""status":"Success""#));

    let (ok, _, err) = server.cli(&["notify", "test", "no-such-topic"]).await;
    assert!(!ok && err.contains("no topic named no-such-topic"), "{err}");
}

fn put_event(server: &TestServer, detail_type: &str) {
    let entries = json!([{"Source": "ops.deploy", "DetailType": detail_type,
        "Detail": json!({"status": "Failed", "name": detail_type}).to_string()}]);
    let out = server
        .aws(&["events", "put-events", "--entries", &entries.to_string()])
        .expect("put-events");
    assert_eq!(out["FailedEntryCount"], 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_shows_the_last_events_then_new_ones_as_they_are_stored() {
    let server = TestServer::start().await;
    put_event(&server, "before-1");
    put_event(&server, "before-2");
    put_event(&server, "before-3");

    let mut command = tokio::process::Command::new(bin("bosun"));
    if let Some(database) = server.database() {
        command.env("BOSUN_DATABASE", database);
    }
    let mut tail = command
        .args([
            "events",
            "tail",
            "--last",
            "2",
            "--pattern",
            r#"{"source":["ops.deploy"]}"#,
        ])
        .arg("--data-dir")
        .arg(server.data_dir())
        .args(["--endpoint-url", &server.url])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bosun events tail");
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    let first = next(&mut lines).await;
    assert!(
        first.contains("[before-2]") && first.contains("name=before-2"),
        "{first}"
    );
    assert!(next(&mut lines).await.contains("[before-3]"));

    put_event(&server, "after-1");
    let line = next(&mut lines).await;
    assert!(
        line.contains("[after-1]") && line.contains("status=Failed"),
        "{line}"
    );
    tail.kill().await.unwrap();
}

/// The tail's next line, within the deadline.
async fn next(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> String {
    tokio::time::timeout(LIMIT, lines.next_line())
        .await
        .expect("a tail line in time")
        .expect("reading the tail")
        .expect("the tail goes on")
}
