//! An SDK retry of `StartSession` (same `amz-sdk-invocation-id`, same body) gets the first
//! attempt's session and token back instead of opening a second session; a separate call opens
//! a new one. The replayed token still opens the data channel once.

use std::time::{Duration, SystemTime};

use aws_sdk_ssm::types::{SessionFilter, SessionFilterKey, SessionState};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::http::{send_signed, sign_request, SignedRequest};
use bosun_e2e::TestServer;
use serde_json::Value;

/// Attempt `n` of the call `invocation_id`, signed `n` seconds ahead (no two attempts share a
/// signature), with the headers the SDKs add.
fn attempt(server: &TestServer, body: &str, invocation_id: &str, n: u32) -> SignedRequest {
    let (akid, secret) = server.admin_credentials();
    let time = SystemTime::now() + Duration::from_secs(u64::from(n));
    let mut req = sign_request(
        &server.addr,
        "StartSession",
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

fn answer(r: &bosun_e2e::http::Response) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_session_retry_gets_the_first_session_not_a_second() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let body = format!(r#"{{"Target":"{node}","Reason":"retry test"}}"#);
    let first = answer(
        &send_signed(
            &fleet.server.addr,
            &attempt(&fleet.server, &body, "inv-1", 1),
        )
        .await,
    );
    let retry = answer(
        &send_signed(
            &fleet.server.addr,
            &attempt(&fleet.server, &body, "inv-1", 2),
        )
        .await,
    );
    assert!(
        first["SessionId"].as_str().is_some_and(|s| !s.is_empty()),
        "{first}"
    );
    assert_eq!(
        retry, first,
        "the retry gets the first answer, token included"
    );
    let other = answer(
        &send_signed(
            &fleet.server.addr,
            &attempt(&fleet.server, &body, "inv-2", 1),
        )
        .await,
    );
    assert_ne!(
        other["SessionId"], first["SessionId"],
        "a separate call is a new session"
    );

    let active = fleet
        .client
        .describe_sessions()
        .state(SessionState::Active)
        .filters(
            SessionFilter::builder()
                .key(SessionFilterKey::TargetId)
                .value(node.as_str())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .sessions
        .unwrap_or_default();
    let mut ids: Vec<_> = active.iter().filter_map(|s| s.session_id.clone()).collect();
    ids.sort();
    let mut want = vec![
        first["SessionId"].as_str().unwrap().to_string(),
        other["SessionId"].as_str().unwrap().to_string(),
    ];
    want.sort();
    assert_eq!(ids, want, "two calls, two sessions");
}
