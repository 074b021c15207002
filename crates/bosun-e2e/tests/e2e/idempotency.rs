//! Repeated calls act every time; retries of one call act once. Identical calls from the AWS CLI
//! and boto3 (identical signatures within one second) each take effect, as on AWS; an attempt
//! repeating an earlier one's `amz-sdk-invocation-id` and body gets the first answer back, also
//! after a server restart between the attempts.

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, SystemTime};

use bosun_e2e::fleet::Fleet;
use bosun_e2e::http::{send_signed, sign_request, Response, SignedRequest};
use bosun_e2e::TestServer;
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(60);

/// Run a scenario of `tests/data/idempotency_boto3.py` against `server` with its admin key.
fn boto3(server: &TestServer, args: &[&str]) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/idempotency_boto3.py"
    );
    let data = server.data_dir();
    let out = Command::new("python3")
        .arg(script)
        .arg(&server.url)
        .args(args)
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
        .env("AWS_CONFIG_FILE", data.join("config"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 with boto3 is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "boto3 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// The same AWS CLI call from two processes at once (identical signatures within one second).
fn aws_twice_at_once(server: &TestServer, args: &[&str]) -> [Value; 2] {
    std::thread::scope(|s| {
        let calls = [s.spawn(|| server.aws(args)), s.spawn(|| server.aws(args))];
        calls.map(|c| {
            c.join()
                .expect("the CLI thread")
                .unwrap_or_else(|e| panic!("aws {args:?}: {e}"))
        })
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

fn all_distinct(values: &[String]) -> bool {
    values.iter().collect::<HashSet<_>>().len() == values.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_and_delete_in_a_tight_loop_take_effect_every_time() {
    let server = TestServer::start().await;
    let out = boto3(&server, &["put-delete", "/loop/p", "5"]);
    let expected: Vec<Value> = (0..5)
        .flat_map(|_| {
            [
                serde_json::json!(["put", true]),
                serde_json::json!(["delete", false]),
            ]
        })
        .collect();
    assert_eq!(out["seen"], Value::Array(expected), "state after each call");
    let gone = server.client().get_parameter().name("/loop/p").send().await;
    assert!(gone.is_err(), "the last call deleted it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_send_commands_each_run_on_the_agent() {
    let fleet = Fleet::start(1, 1).await;
    let s = &fleet.server;
    let node = fleet.agents[0].instance_id.clone();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let script = format!("echo ran >> {}", runs.display());

    let from_boto3 = boto3(s, &["send-commands", &node, &script, "2"]);
    let mut ids = strings(&from_boto3["command_ids"]);
    let parameters = serde_json::json!({ "commands": [script] }).to_string();
    let from_cli = aws_twice_at_once(
        s,
        &[
            "ssm",
            "send-command",
            "--instance-ids",
            &node,
            "--document-name",
            "AWS-RunShellScript",
            "--parameters",
            &parameters,
        ],
    );
    ids.extend(
        from_cli
            .iter()
            .map(|c| c["Command"]["CommandId"].as_str().unwrap().to_string()),
    );
    assert_eq!(ids.len(), 4);
    assert!(all_distinct(&ids), "four calls, four commands: {ids:?}");
    for id in &ids {
        let done = fleet.wait_done(id, &node, DEADLINE).await;
        assert_eq!(done.status().map(|s| s.as_str()), Some("Success"));
    }
    let lines = std::fs::read_to_string(&runs).unwrap();
    assert_eq!(lines.lines().count(), 4, "each command ran once: {lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_create_activations_make_distinct_activations() {
    let server = TestServer::start().await;
    let out = boto3(&server, &["create-activations", "5"]);
    let mut ids = strings(&out["ids"]);
    let mut codes = strings(&out["codes"]);
    for a in aws_twice_at_once(
        &server,
        &[
            "ssm",
            "create-activation",
            "--iam-role",
            "BosunNode",
            "--registration-limit",
            "1",
        ],
    ) {
        ids.push(a["ActivationId"].as_str().unwrap().to_string());
        codes.push(a["ActivationCode"].as_str().unwrap().to_string());
    }
    assert!(all_distinct(&ids), "{ids:?}");
    assert!(all_distinct(&codes), "each call gets its own one-time code");
    let listed = server.client().describe_activations().send().await.unwrap();
    assert_eq!(listed.activation_list().len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_identical_overwrites_make_a_hundred_versions() {
    let server = TestServer::start().await;
    let out = boto3(&server, &["overwrite", "/loop/versions", "100"]);
    let versions: Vec<i64> = out["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(versions, (1..=100).collect::<Vec<_>>());
    assert_eq!(out["final"], 100);
}

/// A raw SendCommand to a tag no node has: the command is stored, nothing runs.
const SEND: &str = r#"{"DocumentName":"AWS-RunShellScript","Targets":[{"Key":"tag:none","Values":["x"]}],"Parameters":{"commands":["true"]}}"#;

/// Attempt `n` of a call, signed at `time`, with the SDK headers (unsigned, as botocore sends
/// them).
fn attempt(server: &TestServer, body: &str, invocation_id: &str, n: u32) -> SignedRequest {
    let (akid, secret) = server.admin_credentials();
    // Each attempt is signed a second apart, so no two carry the same signature.
    let time = SystemTime::now() + Duration::from_secs(u64::from(n));
    let mut req = sign_request(
        &server.addr,
        "SendCommand",
        body,
        &akid,
        &secret,
        "us-east-1",
        time,
    );
    req.headers
        .push(("amz-sdk-invocation-id".into(), invocation_id.into()));
    req.headers
        .push(("amz-sdk-request".into(), format!("attempt={n}; max=3")));
    req
}

fn invocation_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("e2e-{}-{nanos:x}", std::process::id())
}

fn command_id(r: &Response) -> String {
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    v["Command"]["CommandId"].as_str().unwrap().to_string()
}

async fn command_count(server: &TestServer) -> usize {
    server
        .client()
        .list_commands()
        .send()
        .await
        .unwrap()
        .commands()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_gets_the_first_answer_and_runs_nothing_twice() {
    let server = TestServer::start().await;
    let id = invocation_id();
    let first = send_signed(&server.addr, &attempt(&server, SEND, &id, 1)).await;
    let retry = send_signed(&server.addr, &attempt(&server, SEND, &id, 2)).await;
    command_id(&first);
    assert_eq!(retry.status, first.status);
    assert_eq!(retry.body, first.body, "the retry gets the first answer");
    assert_eq!(command_count(&server).await, 1);

    // The same invocation id with another body is another call.
    let other = SEND.replace("\"true\"", "\"true # other\"");
    let second = send_signed(&server.addr, &attempt(&server, &other, &id, 3)).await;
    assert_ne!(command_id(&second), command_id(&first));
    // And a new invocation id with the first body is a new call too.
    let third = send_signed(&server.addr, &attempt(&server, SEND, &invocation_id(), 1)).await;
    assert_ne!(command_id(&third), command_id(&first));
    assert_eq!(command_count(&server).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_server_restart_gets_the_first_answer() {
    let mut server = TestServer::start().await;
    let id = invocation_id();
    let first = send_signed(&server.addr, &attempt(&server, SEND, &id, 1)).await;
    command_id(&first);
    server.restart().await;
    let retry = send_signed(&server.addr, &attempt(&server, SEND, &id, 2)).await;
    assert_eq!(retry.status, first.status);
    assert_eq!(retry.body, first.body, "the retry gets the first answer");
    assert_eq!(command_count(&server).await, 1);
}
