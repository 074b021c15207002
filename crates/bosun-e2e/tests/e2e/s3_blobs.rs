//! Command output in an S3-compatible store (`--blobs s3://…`, against `moto_server`): full
//! output is served from the bucket, `OutputS3BucketName`/`OutputS3KeyPrefix` get each
//! step's complete streams in AWS's layout, and output sent while S3 is down is complete once
//! it is back — with the agent's result unacknowledged until then. Skipped with a message
//! without `moto_server` (a failure under `BOSUN_REQUIRE_S3=1`, as in CI).

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_ssm::types::CommandInvocationStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::http::{get, signed_get};
use bosun_e2e::s3::MotoServer;
use bosun_e2e::{wait_for, TestServer};

const LIMIT: Duration = Duration::from_secs(60);

/// `seq 1 n` as the shell prints it.
fn seq(n: u32) -> Vec<u8> {
    (1..=n)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

async fn server_on(moto: &MotoServer, bucket_and_prefix: &str) -> TestServer {
    let blobs = moto.blobs_url(bucket_and_prefix);
    TestServer::start_with_env(&["--blobs", &blobs], &moto.env()).await
}

async fn send_to_bucket(
    fleet: &Fleet,
    id: &str,
    commands: &[&str],
    bucket: &str,
    prefix: &str,
) -> String {
    fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(id)
        .parameters("commands", commands.iter().map(|c| c.to_string()).collect())
        .output_s3_bucket_name(bucket)
        .output_s3_key_prefix(prefix)
        .send()
        .await
        .expect("SendCommand with OutputS3BucketName")
        .command
        .unwrap()
        .command_id
        .unwrap()
}

fn reply_file(fleet: &Fleet, id: &str, command_id: &str) -> PathBuf {
    fleet.agents[0]
        .state_dir
        .join(id)
        .join("replies")
        .join(command_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_is_stored_in_s3_and_written_to_command_buckets_in_aws_layout() {
    let Some(moto) = MotoServer::start().await else {
        return;
    };
    moto.create_bucket("bosun-blobs");
    moto.create_bucket("run-output");
    let server = server_on(&moto, "bosun-blobs/srv").await;
    let ready = get(&server.addr, "/readyz").await.expect("GET /readyz");
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready"));
    let fleet = Fleet::start_on(server, 1, 1).await;
    let id = fleet.ids()[0].clone();
    let (akid, secret) = fleet.server.admin_credentials();

    // Output of several chunks (the agent sends at most 64 KiB at a time), served in full
    // through Bosun's signed output URL from the bucket.
    let plain = fleet
        .run(
            std::slice::from_ref(&id),
            &["seq 1 30000", "echo oops >&2"],
            &[],
        )
        .await;
    let inv = fleet.wait_done(&plain, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    let full = seq(30000);
    assert!(
        inv.standard_output_content().unwrap().as_bytes() == &full[..24000],
        "StandardOutputContent is the first 24,000 characters"
    );
    let url = inv.standard_output_url().unwrap().to_string();
    assert!(url.starts_with(&fleet.server.url), "{url}");
    let got = signed_get(&url, &akid, &secret, "us-east-1").await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(
        got.body.as_bytes() == full.as_slice(),
        "the full output ({} bytes) through the output URL",
        got.body.len()
    );
    let err = signed_get(
        inv.standard_error_url().unwrap(),
        &akid,
        &secret,
        "us-east-1",
    )
    .await;
    assert_eq!(err.body, "oops\n");
    let stored = moto.keys("bosun-blobs", &format!("srv/commands/{plain}/{id}/"));
    assert!(
        stored
            .iter()
            .any(|k| k.ends_with("/stdout/00000000000000000000")),
        "output objects live in Bosun's bucket: {stored:?}"
    );
    assert!(
        !fleet.server.data_dir().join("blobs/commands").exists(),
        "nothing in the local folder"
    );

    // OutputS3BucketName/OutputS3KeyPrefix: the complete streams, where AWS puts them.
    let to_bucket = send_to_bucket(
        &fleet,
        &id,
        &["seq 1 20000", "echo to-stderr >&2"],
        "run-output",
        "logs",
    )
    .await;
    let inv = fleet.wait_done(&to_bucket, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    let folder = format!("logs/{to_bucket}/{id}/awsrunShellScript/0.awsrunShellScript");
    assert_eq!(
        inv.standard_output_url(),
        Some(format!("{}/run-output/{folder}/stdout", moto.endpoint()).as_str())
    );
    assert_eq!(
        inv.standard_error_url(),
        Some(format!("{}/run-output/{folder}/stderr", moto.endpoint()).as_str())
    );
    let stdout = wait_for("the stdout object", LIMIT, || async {
        moto.get_object("run-output", &format!("{folder}/stdout"))
    })
    .await;
    assert!(
        stdout == seq(20000),
        "the object holds exactly the output ({} bytes)",
        stdout.len()
    );
    assert_eq!(
        moto.get_object("run-output", &format!("{folder}/stderr")),
        Some(b"to-stderr\n".to_vec())
    );
    let listed = fleet
        .client
        .list_commands()
        .command_id(&to_bucket)
        .send()
        .await
        .expect("ListCommands");
    let c = &listed.commands()[0];
    assert_eq!(c.output_s3_bucket_name(), Some("run-output"));
    assert_eq!(c.output_s3_key_prefix(), Some("logs"));
    let invs = fleet
        .client
        .list_command_invocations()
        .command_id(&to_bucket)
        .details(true)
        .send()
        .await
        .expect("ListCommandInvocations");
    let plugin = &invs.command_invocations()[0].command_plugins()[0];
    assert_eq!(plugin.output_s3_bucket_name(), Some("run-output"));
    assert_eq!(
        plugin.output_s3_key_prefix(),
        Some(format!("logs/{to_bucket}/{id}/awsrunShellScript").as_str())
    );
    assert_eq!(
        plugin.standard_output_url(),
        Some(format!("{}/run-output/{folder}/stdout", moto.endpoint()).as_str())
    );

    // A bucket that does not exist: as on AWS, the command's outcome stands and the output
    // is simply not there; the agent's result is acknowledged all the same.
    let lost = send_to_bucket(&fleet, &id, &["echo nowhere"], "no-such-bucket", "").await;
    let inv = fleet.wait_done(&lost, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(inv.standard_output_content(), Some("nowhere\n"));
    let reply = reply_file(&fleet, &id, &lost);
    wait_for("the result to be acknowledged", LIMIT, || async {
        (!reply.exists()).then_some(())
    })
    .await;
    assert!(
        fleet
            .server
            .log()
            .contains("could not write command output to its OutputS3BucketName"),
        "the server says why the bucket holds nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_sent_while_s3_is_down_is_complete_after_it_returns() {
    let Some(mut moto) = MotoServer::start().await else {
        return;
    };
    moto.create_bucket("bosun-blobs");
    let server = server_on(&moto, "bosun-blobs").await;
    let fleet = Fleet::start_on(server, 1, 1).await;
    let id = fleet.ids()[0].clone();
    let (akid, secret) = fleet.server.admin_credentials();

    moto.kill().await;
    wait_for("/readyz to report the blob store", LIMIT, || async {
        let r = get(&fleet.server.addr, "/readyz").await.ok()?;
        (r.status == 503 && r.body.contains("blob store")).then_some(())
    })
    .await;
    let cmd = send_to_bucket(&fleet, &id, &["seq 1 20000"], "run-output", "down").await;
    // The result is stored (its first 24,000 characters are in the database)...
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert!(inv.standard_output_content().unwrap().as_bytes() == &seq(20000)[..24000]);
    // ...but not acknowledged: the agent keeps it, and its output, while the bytes are missing.
    let reply = reply_file(&fleet, &id, &cmd);
    assert!(reply.exists(), "no ResultAck before the output is stored");
    let own_url = format!(
        "{}/v1/output/{cmd}/{id}/awsrunShellScript/stdout",
        fleet.server.url
    );
    assert_ne!(
        signed_get(&own_url, &akid, &secret, "us-east-1")
            .await
            .status,
        200,
        "no output to serve while S3 is down"
    );

    // S3 comes back (empty: moto keeps objects in memory). The command's bucket first: a
    // missing one would be given up on once Bosun's own bucket takes the output again.
    moto.restart().await;
    moto.create_bucket("run-output");
    moto.create_bucket("bosun-blobs");
    let full = seq(20000);
    wait_for("the full output after S3 returns", LIMIT, || async {
        let got = signed_get(&own_url, &akid, &secret, "us-east-1").await;
        (got.status == 200 && got.body.as_bytes() == full.as_slice()).then_some(())
    })
    .await;
    let key = format!("down/{cmd}/{id}/awsrunShellScript/0.awsrunShellScript/stdout");
    let object = wait_for("the command bucket's object", LIMIT, || async {
        moto.get_object("run-output", &key)
    })
    .await;
    assert!(object == full, "the whole output ({} bytes)", object.len());
    wait_for(
        "the ResultAck after the output is stored",
        LIMIT,
        || async { (!reply.exists()).then_some(()) },
    )
    .await;
    let ready = get(&fleet.server.addr, "/readyz")
        .await
        .expect("GET /readyz");
    assert_eq!(ready.status, 200);
}
