//! Bosun's `BosunEvents` operations (issue 17): `bosun events tail` and `bosun notify
//! failed|redrive` read the server over its API, not its store, so they work from any machine
//! with a key: events are those of the caller's region, a bad pattern gets EventBridge's error,
//! and each call needs `bosun:<Operation>` on the event bus or the topic (a user allowed one
//! topic's dead letters cannot list every topic's).

use bosun_e2e::TestServer;
use serde_json::json;

const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["ssm:Describe*","ssm:List*","ssm:Get*"],"Resource":"*"}]}"#;

fn put_event(server: &TestServer, region: &str, name: &str) {
    let entries = json!([{"Source": "ops.deploy", "DetailType": name,
        "Detail": json!({"status": "Failed", "name": name}).to_string()}]);
    let out = server
        .as_admin("aws")
        .args(["events", "put-events", "--entries", &entries.to_string()])
        .args(["--endpoint-url", &server.url, "--region", region])
        .output()
        .expect("the AWS CLI runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_dead_letters_are_read_over_the_api_by_region_and_policy() {
    let server = TestServer::start_with(&["--regions", "us-east-1,eu-west-1"]).await;
    put_event(&server, "us-east-1", "east-1");
    put_event(&server, "eu-west-1", "west-1");
    put_event(&server, "us-east-1", "east-2");

    let tail = |region: &'static str, extra: &'static [&'static str]| {
        let server = &server;
        async move {
            let mut args = vec!["events", "tail", "--no-follow"];
            args.extend_from_slice(if extra.is_empty() {
                &["--last", "5"]
            } else {
                extra
            });
            args.extend_from_slice(&["--region", region]);
            server.cli(&args).await
        }
    };
    let (ok, out, err) = tail("us-east-1", &[]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("[east-1]") && out.contains("[east-2]"),
        "{out}"
    );
    assert!(!out.contains("west-1"), "another region's events: {out}");
    assert!(
        out.find("[east-1]") < out.find("[east-2]"),
        "oldest first: {out}"
    );
    let (ok, out, err) = tail("eu-west-1", &[]).await;
    assert!(
        ok && out.contains("[west-1]") && !out.contains("east-"),
        "{out}{err}"
    );
    let (ok, out, err) = tail("us-east-1", &["--last", "1"]).await;
    assert!(
        ok && out.contains("[east-2]") && !out.contains("[east-1]"),
        "{out}{err}"
    );
    let (ok, out, err) = tail(
        "us-east-1",
        &[
            "--last",
            "5",
            "--pattern",
            r#"{"detail":{"name":["east-1"]}}"#,
        ],
    )
    .await;
    assert!(
        ok && out.contains("[east-1]") && !out.contains("[east-2]"),
        "{out}{err}"
    );
    let (ok, _, err) = tail("us-east-1", &["--pattern", r#"{"detail":"x"}"#]).await;
    assert!(!ok && err.contains("InvalidEventPatternException"), "{err}");

    // A read-only user (ssm:Describe*/List*/Get*) may do none of it.
    server.user_with_policy("reader", READ_ONLY).await;
    let reader = server
        .data_dir()
        .parent()
        .unwrap()
        .join("reader.credentials");
    let reader = reader.to_str().unwrap();
    let (ok, _, err) = server
        .cli(&[
            "events",
            "tail",
            "--no-follow",
            "--credentials-file",
            reader,
        ])
        .await;
    assert!(
        !ok && err.contains("AccessDenied") && err.contains("bosun:ListEvents"),
        "{err}"
    );
    let (ok, _, err) = server
        .cli(&["notify", "failed", "--credentials-file", reader])
        .await;
    assert!(!ok && err.contains("AccessDenied"), "{err}");

    // One topic's dead letters, not every topic's.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Action":["bosun:ListFailedDeliveries","bosun:RedriveFailedDeliveries"],
        "Resource":"arn:aws:sns:us-east-1:000000000000:ops"}]}"#;
    server.user_with_policy("oncall", policy).await;
    let oncall = server
        .data_dir()
        .parent()
        .unwrap()
        .join("oncall.credentials");
    let oncall = oncall.to_str().unwrap();
    let (ok, _, err) = server
        .cli(&[
            "notify",
            "failed",
            "--topic",
            "ops",
            "--credentials-file",
            oncall,
        ])
        .await;
    assert!(ok && err.contains("no failed deliveries"), "{err}");
    let (ok, _, err) = server
        .cli(&[
            "notify",
            "redrive",
            "--topic",
            "ops",
            "--credentials-file",
            oncall,
        ])
        .await;
    assert!(
        ok && err.contains("0 failed deliveries sent again"),
        "{err}"
    );
    let (ok, _, err) = server
        .cli(&["notify", "failed", "--credentials-file", oncall])
        .await;
    assert!(
        !ok && err.contains("AccessDenied"),
        "every topic's needs more: {err}"
    );
    let (ok, _, err) = server
        .cli(&[
            "notify",
            "failed",
            "--topic",
            "other",
            "--credentials-file",
            oncall,
        ])
        .await;
    assert!(!ok && err.contains("AccessDenied"), "{err}");
}
