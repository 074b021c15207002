//! `aws:ec2:image` parameters, end to end: `PutParameter` answers 200 and the value is
//! validated afterwards, as AWS does. A valid image id becomes readable (with its `Parameter
//! Store Change` event); an invalid one is never readable, leaves an existing parameter's
//! version alone, and is reported by AWS's failure event in the outbox; `bosun param put`
//! waits for the outcome; a pending put left by a killed server is applied after its restart.

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::ParameterType;
use aws_sdk_ssm::Client;
use bosun_e2e::http::{send_signed, sign_request, SignedRequest};
use bosun_e2e::{wait_for, TestServer};
use bosun_store::{CallRecords, PendingPut};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);
const IMAGE: &str = "aws:ec2:image";

async fn put_image(c: &Client, name: &str, value: &str, overwrite: bool) -> i64 {
    c.put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::String)
        .data_type(IMAGE)
        .overwrite(overwrite)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {name}: {e:?}"))
        .version()
}

/// The parameter's latest (version, value), or `None` for `ParameterNotFound`.
async fn latest(c: &Client, name: &str) -> Option<(i64, String)> {
    match c.get_parameter().name(name).send().await {
        Ok(out) => {
            let p = out.parameter.unwrap();
            assert_eq!(p.data_type(), Some(IMAGE));
            Some((p.version(), p.value().unwrap().to_string()))
        }
        Err(e) if e.code() == Some("ParameterNotFound") => None,
        Err(e) => panic!("get {name}: {e:?}"),
    }
}

async fn wait_for_version(c: &Client, name: &str, version: i64, value: &str) {
    let want = (version, value.to_string());
    wait_for(&format!("{name} at version {version}"), LIMIT, || async {
        (latest(c, name).await.as_ref() == Some(&want)).then_some(())
    })
    .await;
}

/// The details of the outbox's `Parameter Store Change` events about `name`, in order.
async fn change_events(server: &TestServer, name: &str) -> Vec<Value> {
    let name = name.to_string();
    server
        .read_store(move |s| s.events_after(0, 10_000).unwrap())
        .await
        .into_iter()
        .filter(|e| e.detail_type == "Parameter Store Change")
        .map(|e| serde_json::from_str::<Value>(&e.envelope).unwrap()["detail"].clone())
        .filter(|d| d["name"] == name.as_str())
        .collect()
}

/// Wait for the failure event about `name` that follows `seen` earlier events about it.
async fn wait_for_failure(server: &TestServer, name: &str, seen: usize) -> Value {
    wait_for(&format!("the failure event of {name}"), LIMIT, || async {
        let events = change_events(server, name).await;
        events
            .get(seen)
            .filter(|d| d.get("exception").is_some())
            .cloned()
    })
    .await
}

#[tokio::test]
async fn valid_image_ids_are_applied_and_invalid_ones_never_are() {
    let server = TestServer::start().await;
    let c = server.client();

    // A valid id: 200 with the version it gets, then readable, with the usual Create event.
    assert_eq!(
        put_image(&c, "/ami/golden", "ami-0123456789abcdef0", false).await,
        1
    );
    wait_for_version(&c, "/ami/golden", 1, "ami-0123456789abcdef0").await;
    let events = change_events(&server, "/ami/golden").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["operation"], "Create");
    assert!(events[0].get("exception").is_none(), "{events:?}");

    // An invalid id: 200 as well, then AWS's failure event, and never a parameter.
    assert_eq!(put_image(&c, "/ami/bad", "ami-zz", false).await, 1);
    let failure = wait_for_failure(&server, "/ami/bad", 0).await;
    assert_eq!(
        failure,
        serde_json::json!({
            "operation": "Create",
            "name": "/ami/bad",
            "type": "String",
            "dataType": IMAGE,
            "exception": "Unable to Describe Images"
        })
    );
    assert_eq!(latest(&c, "/ami/bad").await, None);
    let described = c
        .describe_parameters()
        .send()
        .await
        .unwrap()
        .parameters()
        .iter()
        .filter_map(|p| p.name().map(str::to_string))
        .collect::<Vec<_>>();
    assert!(
        !described.contains(&"/ami/bad".to_string()),
        "{described:?}"
    );

    // An invalid update leaves the existing version; a valid one adds the next.
    assert_eq!(put_image(&c, "/ami/golden", "ami-NOTHEX1", true).await, 2);
    let failure = wait_for_failure(&server, "/ami/golden", 1).await;
    assert_eq!(failure["operation"], "Update");
    assert_eq!(
        latest(&c, "/ami/golden").await,
        Some((1, "ami-0123456789abcdef0".into()))
    );
    assert_eq!(put_image(&c, "/ami/golden", "ami-12345678", true).await, 2);
    wait_for_version(&c, "/ami/golden", 2, "ami-12345678").await;
    let history = c
        .get_parameter_history()
        .name("/ami/golden")
        .send()
        .await
        .unwrap();
    let versions: Vec<_> = history
        .parameters()
        .iter()
        .map(|p| (p.version(), p.value().unwrap().to_string()))
        .collect();
    assert_eq!(
        versions,
        [
            (1, "ami-0123456789abcdef0".to_string()),
            (2, "ami-12345678".to_string())
        ]
    );
    assert!(history.parameters()[1]
        .last_modified_user()
        .unwrap()
        .ends_with(":user/admin"));

    // Other parameter types are refused at once, as AWS does.
    let err = c
        .put_parameter()
        .name("/ami/secret")
        .value("ami-12345678")
        .r#type(ParameterType::SecureString)
        .data_type(IMAGE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));

    // The failures are logged for the operator, with the reason.
    let log = server.log();
    assert!(
        log.contains("aws:ec2:image validation failed") && log.contains("ami-zz"),
        "{log}"
    );
}

#[tokio::test]
async fn bosun_param_put_waits_for_the_validation() {
    let server = TestServer::start().await;
    let (ok, out, err) = server
        .cli(&[
            "param",
            "put",
            "/cli/ami",
            "ami-12345678",
            "--type",
            "String",
            "--data-type",
            IMAGE,
        ])
        .await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("/cli/ami version 1") && out.contains("validated"),
        "{out}"
    );
    assert_eq!(
        latest(&server.client(), "/cli/ami").await,
        Some((1, "ami-12345678".into()))
    );

    let (ok, out, err) = server
        .cli(&[
            "param",
            "put",
            "/cli/ami",
            "ami-nope",
            "--overwrite",
            "--data-type",
            IMAGE,
            "--wait-seconds",
            "3",
        ])
        .await;
    assert!(!ok, "a failed validation must fail the command: {out}");
    assert!(
        err.contains("validation failed") && err.contains("ami-nope is not an image id"),
        "{err}"
    );
    assert_eq!(
        latest(&server.client(), "/cli/ami").await,
        Some((1, "ami-12345678".into()))
    );
}

fn pending(name: &str, value: &str) -> PendingPut {
    PendingPut {
        id: 0,
        region: "us-east-1".into(),
        key: name.into(),
        name: name.into(),
        principal: "admin".into(),
        request_json: serde_json::json!({
            "Name": name, "Value": value, "Type": "String", "DataType": IMAGE
        })
        .to_string(),
        accepted_ms: 1,
        lease_owner: None,
        lease_until_ms: 0,
    }
}

#[tokio::test]
async fn pending_puts_left_by_a_killed_server_are_applied_after_its_restart() {
    let mut server = TestServer::start().await;
    let c = server.client();
    // Accepted before the crash: `/crash/served` through the API (applied already, pending, or
    // leased by the killed server: then taken again when its lease ends), one put nobody took
    // yet, and one a replica had leased (for a few seconds from now) when it died.
    assert_eq!(
        put_image(&c, "/crash/served", "ami-0123456789abcdef0", false).await,
        1
    );
    server.kill().await;
    server
        .read_store(|s| {
            s.add_pending_put(
                &pending("/crash/leased", "ami-87654321"),
                CallRecords::default(),
            )
            .unwrap();
            let now = bosun_store::now_ms();
            let claimed = s
                .claim_pending_puts("a-dead-replica", now, 3_000, 100)
                .unwrap();
            assert!(claimed.iter().any(|p| p.name == "/crash/leased"));
            s.add_pending_put(
                &pending("/crash/fresh", "ami-12345678"),
                CallRecords::default(),
            )
            .unwrap();
        })
        .await;
    server.restart().await;
    let c = server.client();
    wait_for_version(&c, "/crash/served", 1, "ami-0123456789abcdef0").await;
    wait_for_version(&c, "/crash/fresh", 1, "ami-12345678").await;
    wait_for_version(&c, "/crash/leased", 1, "ami-87654321").await;
    let left = server.read_store(|s| s.pending_puts().unwrap()).await;
    assert!(left.is_empty(), "{left:?}");
    for name in ["/crash/fresh", "/crash/leased"] {
        let events = change_events(&server, name).await;
        assert_eq!(events.len(), 1, "one Create event for {name}: {events:?}");
    }
}

/// Attempt `n` of a signed `PutParameter` carrying the SDK's invocation id, each signed a
/// second apart so no two carry the same signature.
fn put_attempt(server: &TestServer, body: &str, invocation_id: &str, n: u64) -> SignedRequest {
    let (akid, secret) = server.admin_credentials();
    let time = std::time::SystemTime::now() + Duration::from_secs(n);
    let mut req = sign_request(
        &server.addr,
        "PutParameter",
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

#[tokio::test]
async fn a_retried_put_gets_the_first_answer_and_is_applied_once() {
    let server = TestServer::start().await;
    let body = r#"{"Name":"/retry/ami","Value":"ami-12345678","Type":"String","DataType":"aws:ec2:image"}"#;
    let id = format!("e2e-image-{}", std::process::id());
    let first = send_signed(&server.addr, &put_attempt(&server, body, &id, 1)).await;
    let second = send_signed(&server.addr, &put_attempt(&server, body, &id, 2)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!((second.status, &second.body), (200, &first.body));
    let c = server.client();
    wait_for_version(&c, "/retry/ami", 1, "ami-12345678").await;
    let left = server.read_store(|s| s.pending_puts().unwrap()).await;
    assert!(left.is_empty(), "{left:?}");
    let history = c
        .get_parameter_history()
        .name("/retry/ami")
        .send()
        .await
        .unwrap();
    assert_eq!(history.parameters().len(), 1, "applied once");
    assert_eq!(change_events(&server, "/retry/ami").await.len(), 1);
}
