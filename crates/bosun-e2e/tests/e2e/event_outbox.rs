//! Run Command's events, end to end: a real command on a real agent leaves AWS's command and
//! invocation status-change events in the outbox (read from the server's store), one per
//! transition, in AWS's envelope; a server killed with SIGKILL mid-command emits nothing
//! twice after its restart.

use std::time::Duration;

use aws_sdk_ssm::types::CommandStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::{wait_for, TestServer};
use bosun_store::OutboxEvent;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(40);
const COMMAND: &str = "EC2 Command Status-change Notification";
const INVOCATION: &str = "EC2 Command Invocation Status-change Notification";

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

/// The statuses of one command's events of `detail_type`, in outbox order.
fn statuses(events: &[(OutboxEvent, Value)], command_id: &str, detail_type: &str) -> Vec<String> {
    of_command(events, command_id)
        .filter(|(e, _)| e.detail_type == detail_type)
        .map(|(_, v)| v["detail"]["status"].as_str().unwrap().to_string())
        .collect()
}

fn of_command<'a>(
    events: &'a [(OutboxEvent, Value)],
    command_id: &'a str,
) -> impl Iterator<Item = &'a (OutboxEvent, Value)> {
    events
        .iter()
        .filter(move |(_, v)| v["detail"]["command-id"] == command_id)
}

/// `2016-07-10T21:51:30.049Z` for a timestamp (the API sends epoch seconds as a float, so the
/// nearest millisecond).
fn detail_time(t: &aws_sdk_ssm::primitives::DateTime) -> String {
    let ms = t.secs() * 1000 + (f64::from(t.subsec_nanos()) / 1e6).round() as i64;
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The envelope's fixed fields and the shape of its time and id.
fn assert_envelope(e: &OutboxEvent, v: &Value) {
    assert_eq!(v["version"], "0");
    assert_eq!(v["source"], "aws.ssm");
    assert_eq!(v["account"], "000000000000");
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["detail-type"], e.detail_type.as_str());
    assert_eq!(v["id"], e.event_id.as_str());
    let uuid = e.event_id.as_bytes();
    assert!(
        uuid.len() == 36
            && [8, 13, 18, 23].iter().all(|&i| uuid[i] == b'-')
            && uuid
                .iter()
                .all(|b| *b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(b)),
        "{e:?}"
    );
    let time = v["time"].as_str().unwrap();
    assert_eq!(time.len(), 20, "{time}");
    assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 9, "{keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_and_a_failure_emit_one_event_per_transition_in_awss_envelope() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let ok = fleet
        .run(std::slice::from_ref(&node), &["echo hi"], &[])
        .await;
    let c = fleet.wait_command(&ok, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));
    let bad = fleet
        .run(std::slice::from_ref(&node), &["exit 3"], &[])
        .await;
    let failed = fleet.wait_command(&bad, LIMIT).await;
    assert_eq!(failed.status(), Some(&CommandStatus::Failed));

    let all = events(&fleet.server).await;
    assert!(all.windows(2).all(|w| w[0].0.seq < w[1].0.seq));
    for (e, v) in &all {
        assert_envelope(e, v);
    }
    let lifecycle = |end: &str| vec!["Pending".to_string(), "InProgress".into(), end.into()];
    assert_eq!(statuses(&all, &ok, INVOCATION), lifecycle("Success"));
    assert_eq!(statuses(&all, &ok, COMMAND), lifecycle("Success"));
    assert_eq!(statuses(&all, &bad, INVOCATION), lifecycle("Failed"));
    assert_eq!(statuses(&all, &bad, COMMAND), lifecycle("Failed"));
    // The command ends after (never before) its invocation's end.
    let last = of_command(&all, &ok).last().unwrap();
    assert_eq!(last.0.detail_type, COMMAND);
    assert_eq!(last.1["detail"]["status"], "Success");

    let node_arn = format!("arn:aws:ssm:us-east-1:000000000000:managed-instance/{node}");
    let requested = detail_time(c.requested_date_time().unwrap());
    let (_, ended) = of_command(&all, &ok)
        .find(|(e, v)| e.detail_type == INVOCATION && v["detail"]["status"] == "Success")
        .unwrap();
    assert_eq!(ended["resources"], json!([node_arn]));
    assert_eq!(
        ended["detail"],
        json!({
            "command-id": ok,
            "document-name": "AWS-RunShellScript",
            "instance-id": node,
            "requested-date-time": requested,
            "status": "Success"
        })
    );
    let (_, done) = of_command(&all, &ok).last().unwrap();
    assert_eq!(done["resources"], json!([node_arn]));
    assert_eq!(
        done["detail"],
        json!({
            "command-id": ok,
            "document-name": "AWS-RunShellScript",
            "expire-after": detail_time(c.expires_after().unwrap()),
            "parameters": {"commands": ["echo hi"]},
            "requested-date-time": requested,
            "status": "Success"
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_command_emits_nothing_twice() {
    let mut fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let script = format!(
        "while [ ! -e {gate} ]; do sleep 0.05; done; echo finished",
        gate = gate.display()
    );
    let cmd = fleet
        .run(std::slice::from_ref(&node), &[&script], &[])
        .await;
    // Both InProgress events before the kill: the command's aggregate is written by the
    // orchestrator's next pass, and a command that ends before a pass after the restart goes
    // from Pending straight to Success (an honest record of what was stored, but not this test).
    wait_for(
        "the invocation's and the command's InProgress events",
        LIMIT,
        || async {
            let all = events(&fleet.server).await;
            let in_progress = "InProgress".to_string();
            (statuses(&all, &cmd, INVOCATION).contains(&in_progress)
                && statuses(&all, &cmd, COMMAND).contains(&in_progress))
            .then_some(())
        },
    )
    .await;
    fleet.server.restart().await;
    fleet.wait_online(&node).await;
    std::fs::write(&gate, "").unwrap();
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));

    let all = events(&fleet.server).await;
    let lifecycle = vec!["Pending".to_string(), "InProgress".into(), "Success".into()];
    assert_eq!(statuses(&all, &cmd, INVOCATION), lifecycle);
    assert_eq!(statuses(&all, &cmd, COMMAND), lifecycle);
    let mut ids: Vec<&str> = all.iter().map(|(e, _)| e.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "event ids are unique");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_store_changes_emit_awss_parameter_store_change() {
    let server = TestServer::start().await;
    let client = server.client();
    let put = |overwrite: bool, value: &str| {
        client
            .put_parameter()
            .name("/app/db-url")
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .description("where the database is")
            .overwrite(overwrite)
            .send()
    };
    put(false, "one").await.unwrap();
    put(true, "two").await.unwrap();
    assert!(put(false, "three").await.is_err(), "refused: no event");
    client
        .label_parameter_version()
        .name("/app/db-url")
        .parameter_version(1)
        .labels("old")
        .send()
        .await
        .unwrap();
    client
        .delete_parameter()
        .name("/app/db-url")
        .send()
        .await
        .unwrap();

    let all = events(&server).await;
    for (e, v) in &all {
        assert_envelope(e, v);
        assert_eq!(e.detail_type, "Parameter Store Change");
        assert_eq!(
            v["resources"],
            json!(["arn:aws:ssm:us-east-1:000000000000:parameter/app/db-url"])
        );
        assert!(
            !e.envelope.contains("one") && !e.envelope.contains("two"),
            "never the value"
        );
    }
    let details: Vec<&Value> = all.iter().map(|(_, v)| &v["detail"]).collect();
    let detail = |operation: &str| json!({"operation": operation, "name": "/app/db-url", "type": "String", "description": "where the database is"});
    assert_eq!(
        details,
        [
            &detail("Create"),
            &detail("Update"),
            &detail("LabelParameterVersion"),
            &detail("Delete")
        ]
    );
}
