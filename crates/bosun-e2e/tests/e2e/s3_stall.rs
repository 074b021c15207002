//! An S3 endpoint that stalls (accepts connections, never answers) must not wedge the server:
//! `/readyz` reports the blob store within its bound, the API keeps answering, a command's
//! result is still recorded, and the agent's result stays unacknowledged (the agent keeps
//! its output) because its bytes could not be stored. Runs everywhere: the blackhole is a
//! plain TCP listener in the test.

use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocationStatus, ParameterType};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::http::get;
use bosun_e2e::{wait_for, TestServer};
use tokio::net::TcpListener;

const LIMIT: Duration = Duration::from_secs(60);
/// A request the server answers must come back well within this, even while S3 stalls.
const ANSWER_LIMIT: Duration = Duration::from_secs(15);

/// Accept every connection and hold it open without a byte in return.
async fn blackhole() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_s3_endpoint_fails_within_bounds_and_never_wedges_the_server() {
    let endpoint = blackhole().await;
    let blobs = format!("s3://stalled-bucket/out?endpoint={endpoint}&region=us-east-1");
    let env = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ];
    let server = TestServer::start_with_env(&["--blobs", &blobs], &env).await;
    let fleet = Fleet::start_on(server, 1, 1).await;
    let id = fleet.ids()[0].clone();

    // Readiness names the blob store, each probe answered within its bound.
    wait_for(
        "/readyz to report the stalled blob store",
        LIMIT,
        || async {
            let r = tokio::time::timeout(ANSWER_LIMIT, get(&fleet.server.addr, "/readyz"))
                .await
                .expect("/readyz answers within its bound while S3 stalls")
                .ok()?;
            (r.status == 503 && r.body.contains("blob store")).then_some(())
        },
    )
    .await;

    // A command whose output cannot be stored: its result is still recorded...
    let cmd = fleet
        .run(std::slice::from_ref(&id), &["echo stalled-output"], &[])
        .await;
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(inv.standard_output_content(), Some("stalled-output\n"));
    // ...but not acknowledged: the agent keeps the reply (and its output) for a later retry.
    let reply = fleet.agents[0]
        .state_dir
        .join(&id)
        .join("replies")
        .join(&cmd);
    assert!(
        reply.exists(),
        "no ResultAck while the output is not stored"
    );

    // The API keeps answering while blob writes stall in the background.
    let c = &fleet.client;
    tokio::time::timeout(
        ANSWER_LIMIT,
        c.put_parameter()
            .name("/stall/p")
            .value("v")
            .r#type(ParameterType::String)
            .send(),
    )
    .await
    .expect("PutParameter answers while S3 stalls")
    .expect("PutParameter succeeds");
    let described = tokio::time::timeout(ANSWER_LIMIT, c.describe_instance_information().send())
        .await
        .expect("DescribeInstanceInformation answers while S3 stalls")
        .expect("DescribeInstanceInformation succeeds");
    assert_eq!(described.instance_information_list().len(), 1);
}
