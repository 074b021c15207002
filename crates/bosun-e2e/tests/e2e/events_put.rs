//! EventBridge `PutEvents` and State Manager's events, end to end: custom events sent with the
//! real AWS CLI land in the event outbox (read from the server's store) in AWS's envelope, and
//! refused entries get AWS's per-entry error in place; an SDK retry (boto3 retrying after a
//! lost answer) gets the first answer and stores nothing twice; `events:PutEvents` is checked
//! on the default bus's ARN; and an association run on a real agent leaves the association's
//! and the node's State Manager events.

use std::process::Command;
use std::time::Duration;

use aws_sdk_ssm::types::Target;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::{wait_for, TestServer};
use bosun_store::OutboxEvent;
use serde_json::{json, Value};

const BUS_ARN: &str = "arn:aws:events:us-east-1:000000000000:event-bus/default";

/// Every event in the outbox, parsed, in `seq` order.
async fn events(server: &TestServer) -> Vec<(OutboxEvent, Value)> {
    let stored = server
        .read_store(|s| s.events_after(0, 10_000).unwrap())
        .await;
    stored
        .into_iter()
        .map(|e| {
            let v = serde_json::from_str(&e.envelope).unwrap();
            (e, v)
        })
        .collect()
}

fn put_events(server: &TestServer, entries: &Value) -> Result<Value, String> {
    server.aws(&["events", "put-events", "--entries", &entries.to_string()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_and_refused_entries_through_the_aws_cli() {
    let server = TestServer::start().await;
    let entries = json!([
        {"Source": "com.example.billing", "DetailType": "Invoice Paid",
         "Detail": "{\"invoice\": \"INV-1\", \"amount\": 12.5, \"tags\": [\"a\"]}",
         "Resources": ["arn:aws:ssm:us-east-1:000000000000:document/Deploy"],
         "Time": "2024-01-02T03:04:05Z"},
        {"Source": "aws.ssm", "DetailType": "Fake", "Detail": "{}"},
        {"Source": "com.example.billing", "Detail": "{}"},
        {"Source": "com.example.billing", "DetailType": "Listed", "Detail": "[1, 2]"},
        {"Source": "com.example.billing", "DetailType": "Other bus", "Detail": "{}",
         "EventBusName": "orders"},
        {"Source": "com.example.billing", "DetailType": "Now", "Detail": "{\"k\": true}",
         "EventBusName": BUS_ARN},
    ]);
    let answer = put_events(&server, &entries).expect("put-events");
    assert_eq!(answer["FailedEntryCount"], 4, "{answer}");
    let results = answer["Entries"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    let refusal = |i: usize| {
        (
            results[i]["ErrorCode"].as_str().unwrap_or_default(),
            results[i]["ErrorMessage"].as_str().unwrap_or_default(),
        )
    };
    assert_eq!(
        refusal(1),
        (
            "NotAuthorizedForSourceException",
            "Not authorized for the source."
        )
    );
    assert_eq!(
        refusal(2),
        (
            "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is a required argument."
        )
    );
    assert_eq!(refusal(3), ("MalformedDetail", "Detail is malformed."));
    assert_eq!(
        refusal(4),
        (
            "ResourceNotFoundException",
            "Event bus orders does not exist."
        )
    );
    for refused in &results[1..5] {
        assert!(refused.get("EventId").is_none(), "{refused}");
    }

    let stored = events(&server).await;
    assert_eq!(stored.len(), 2, "only the accepted entries are stored");
    let (first, envelope) = &stored[0];
    assert_eq!(first.event_id, results[0]["EventId"].as_str().unwrap());
    assert_eq!(first.detail_type, "Invoice Paid");
    assert_eq!(
        envelope,
        &json!({
            "version": "0",
            "id": first.event_id,
            "detail-type": "Invoice Paid",
            "source": "com.example.billing",
            "account": "000000000000",
            "time": "2024-01-02T03:04:05Z",
            "region": "us-east-1",
            "resources": ["arn:aws:ssm:us-east-1:000000000000:document/Deploy"],
            "detail": {"invoice": "INV-1", "amount": 12.5, "tags": ["a"]}
        })
    );
    let (second, envelope) = &stored[1];
    assert_eq!(second.event_id, results[5]["EventId"].as_str().unwrap());
    assert_eq!(envelope["detail"], json!({"k": true}));
    assert_eq!(envelope["resources"], json!([]));
    let time = envelope["time"].as_str().unwrap();
    assert!(time.len() == 20 && time.ends_with('Z'), "{time}");

    // Whole-call refusals store nothing: no entries, more than 10, over 256 KB in all.
    let none = put_events(&server, &json!([])).unwrap_err();
    assert!(
        none.contains("ValidationException") || none.contains("Invalid length"),
        "{none}"
    );
    let one = json!({"Source": "s", "DetailType": "t", "Detail": "{}"});
    let eleven = put_events(&server, &Value::Array(vec![one; 11])).unwrap_err();
    assert!(eleven.contains("ValidationException"), "{eleven}");
    assert!(
        eleven.contains("Member must have length less than or equal to 10"),
        "{eleven}"
    );
    let half = format!("{{\"x\": \"{}\"}}", "a".repeat(140 * 1024));
    let big = json!([
        {"Source": "s", "DetailType": "t", "Detail": half},
        {"Source": "s", "DetailType": "t", "Detail": half},
    ]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entries.json");
    std::fs::write(&file, big.to_string()).unwrap();
    let over = server
        .aws(&[
            "events",
            "put-events",
            "--entries",
            &format!("file://{}", file.display()),
        ])
        .unwrap_err();
    assert!(over.contains("ValidationException"), "{over}");
    assert!(
        over.contains("Total size of the entries in the request is over the limit."),
        "{over}"
    );
    assert_eq!(
        events(&server).await.len(),
        2,
        "refused calls store nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_retry_gets_the_first_answer_and_stores_once() {
    let server = TestServer::start().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/put_events_retry_boto3.py"
    );
    let out = server
        .as_admin("python3")
        .arg(script)
        .arg(&server.url)
        .output()
        .expect("python3 with boto3 is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(run["invocation_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(run["first"]["FailedEntryCount"], 0, "{run}");
    assert_eq!(
        run["returned"], run["first"],
        "the retry gets the first answer"
    );
    let stored = events(&server).await;
    let ids: Vec<&str> = stored.iter().map(|(e, _)| e.event_id.as_str()).collect();
    let answered: Vec<&str> = run["first"]["Entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, answered, "one stored event per entry, once");

    // A new call (a new invocation id) with the same entries is stored again.
    let again = put_events(
        &server,
        &json!([{"Source": "my.app", "DetailType": "Retried", "Detail": "{\"n\": 1}"}]),
    )
    .unwrap();
    assert_eq!(again["FailedEntryCount"], 0);
    assert_eq!(events(&server).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_events_is_authorized_on_the_default_bus() {
    let server = TestServer::start().await;
    let allowed = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"events:PutEvents","Resource":"{BUS_ARN}"}}]}}"#
    );
    let elsewhere = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"events:PutEvents","Resource":"arn:aws:events:us-east-1:000000000000:event-bus/orders"}]}"#;
    let entries = json!([{"Source": "my.app", "DetailType": "T", "Detail": "{}"}]).to_string();
    for (user, policy, ok) in [
        ("sender", allowed.as_str(), true),
        ("other", elsewhere, false),
    ] {
        let (_, akid, secret) = server.user_with_policy(user, policy).await;
        let out = Command::new("aws")
            .args(["events", "put-events", "--entries", &entries])
            .args(["--endpoint-url", &server.url, "--region", "us-east-1"])
            .args(["--output", "json"])
            .env("AWS_ACCESS_KEY_ID", &akid)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("the AWS CLI");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.success(), ok, "{user}: {stderr}");
        if !ok {
            assert!(stderr.contains("AccessDeniedException"), "{stderr}");
            assert!(
                stderr.contains(&format!("events:PutEvents on resource: {BUS_ARN}")),
                "{stderr}"
            );
        }
    }
    assert_eq!(
        events(&server).await.len(),
        1,
        "a denied call stores nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_association_run_on_a_real_agent_leaves_state_manager_events() {
    const ASSOCIATION: &str = "EC2 State Manager Association State Change";
    const INSTANCE: &str = "EC2 State Manager Instance Association State Change";
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let client = fleet.server.client();
    let id = client
        .create_association()
        .name("AWS-RunShellScript")
        .targets(
            Target::builder()
                .key("InstanceIds")
                .values(node.clone())
                .build(),
        )
        .parameters("commands", vec!["echo state".to_string()])
        .schedule_expression("rate(30 minutes)")
        .send()
        .await
        .expect("CreateAssociation")
        .association_description
        .unwrap()
        .association_id
        .unwrap();
    let of = |all: &[(OutboxEvent, Value)], detail_type: &str| -> Vec<Value> {
        all.iter()
            .filter(|(e, v)| e.detail_type == detail_type && v["detail"]["association-id"] == id)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let all = wait_for(
        "the node's association event",
        Duration::from_secs(60),
        || {
            let server = &fleet.server;
            async {
                let all = events(server).await;
                (!of(&all, INSTANCE).is_empty()).then_some(all)
            }
        },
    )
    .await;
    let created = &of(&all, ASSOCIATION)[0];
    assert_eq!(created["source"], "aws.ssm");
    assert_eq!(
        created["resources"],
        json!(["arn:aws:ssm:us-east-1::document/AWS-RunShellScript"])
    );
    let d = &created["detail"];
    assert_eq!(d["document-name"], "AWS-RunShellScript");
    assert_eq!(d["association-version"], "1");
    assert_eq!(d["document-version"], "Optional.empty");
    assert_eq!(d["status"], "Pending");
    assert_eq!(
        d["targets"],
        format!(r#"[{{"key":"InstanceIds","values":["{node}"]}}]"#)
    );
    assert_eq!(d["schedule-expression"], "rate(30 minutes)");
    assert_eq!(d["association-cwe-version"], "1.0");

    let ran = &of(&all, INSTANCE)[0];
    assert_eq!(
        ran["resources"],
        json!([
            format!("arn:aws:ssm:us-east-1:000000000000:managed-instance/{node}"),
            "arn:aws:ssm:us-east-1::document/AWS-RunShellScript"
        ])
    );
    let d = &ran["detail"];
    assert_eq!(d["instance-id"], node.as_str());
    assert_eq!(d["status"], "Success");
    assert_eq!(d["instance-association-cwe-version"], "1");
    assert!(d["last-successful-execution-date"].is_string(), "{d}");

    // The run changed the association's overall status: its event says so.
    let statuses: Vec<String> = of(&all, ASSOCIATION)
        .iter()
        .map(|v| v["detail"]["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["Pending", "Success"]);
    assert_eq!(
        of(&all, ASSOCIATION)[1]["detail"]["association-status-aggregated-count"],
        r#"{"Success":1}"#
    );

    client
        .delete_association()
        .association_id(&id)
        .send()
        .await
        .unwrap();
    let after = events(&fleet.server).await;
    assert_eq!(
        of(&after, ASSOCIATION).len(),
        3,
        "the deletion has its event"
    );
}
