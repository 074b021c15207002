//! IAM is checked against every node a call acts on, not only the document: `SendCommand` and
//! `CancelCommand` by id, by tag and by `InstanceIds=*`, with explicit deny winning. And fields
//! Bosun cannot honour are refused by name, never accepted and ignored.

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{CloudWatchOutputConfig, CommandInvocationStatus, Target};
use aws_sdk_ssm::Client;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::TestServer;

const LIMIT: Duration = Duration::from_secs(30);
const NODE_ARN: &str = "arn:aws:ssm:us-east-1:000000000000:managed-instance/";

/// A user holding `policy`, and a client signing as that user.
async fn user_with_policy(server: &TestServer, user: &str, policy: &str) -> Client {
    server.user_with_policy(user, policy).await.0
}

/// `SendCommand` of `echo` as `who`, to these ids or else to this target.
async fn send(
    who: &Client,
    ids: &[&str],
    target: Option<(&str, &str)>,
) -> Result<String, (String, String)> {
    let mut req = who
        .send_command()
        .document_name("AWS-RunShellScript")
        .parameters("commands", vec!["echo authorized".to_string()]);
    if let Some((key, value)) = target {
        req = req.targets(Target::builder().key(key).values(value).build());
    } else {
        req = req.set_instance_ids(Some(ids.iter().map(|s| s.to_string()).collect()));
    }
    match req.send().await {
        Ok(out) => Ok(out.command.unwrap().command_id.unwrap()),
        Err(e) => Err((
            e.code().unwrap_or_default().to_string(),
            e.message().unwrap_or_default().to_string(),
        )),
    }
}

async fn command_count(fleet: &Fleet) -> usize {
    fleet
        .client
        .list_commands()
        .send()
        .await
        .unwrap()
        .commands()
        .len()
}

fn assert_denied(r: Result<String, (String, String)>, node: &str) {
    let (code, message) = r.expect_err("the call must be refused");
    assert_eq!(code, "AccessDeniedException", "{message}");
    assert!(
        message.contains(&format!("{NODE_ARN}{node}")),
        "the message names the node: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_command_is_authorized_on_every_target_node() {
    let fleet = Fleet::start(2, 2).await;
    let ids = fleet.ids();
    let (a, b) = (ids[0].as_str(), ids[1].as_str());
    let doc = "arn:aws:ssm:us-east-1:000000000000:document/AWS-RunShellScript";

    let allow_one = user_with_policy(
        &fleet.server,
        "only-a",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":["ssm:SendCommand","ssm:CancelCommand"],"Resource":["{doc}","{NODE_ARN}{a}"]}},
            {{"Effect":"Allow","Action":["ssm:List*","ssm:Get*"],"Resource":"*"}}]}}"#
        ),
    )
    .await;
    let deny_b = user_with_policy(
        &fleet.server,
        "not-b",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"ssm:*","Resource":"*"}},
            {{"Effect":"Deny","Action":"ssm:SendCommand","Resource":"{NODE_ARN}{b}"}}]}}"#
        ),
    )
    .await;
    let everything = user_with_policy(
        &fleet.server,
        "star",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["ssm:SendCommand","ssm:ListCommands"],"Resource":"*"}]}"#,
    )
    .await;

    // Allowed on one node: that node runs, the other is refused by id, by tag and by `*`.
    let ok = send(&allow_one, &[a], None).await.expect("allowed on a");
    let inv = fleet.wait_done(&ok, a, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    let before = command_count(&fleet).await;
    assert_denied(send(&allow_one, &[b], None).await, b);
    assert_denied(send(&allow_one, &[a, b], None).await, b);
    let err = send(&allow_one, &[], Some(("tag:env", "test"))).await;
    assert_eq!(err.unwrap_err().0, "AccessDeniedException");
    let err = send(&allow_one, &[], Some(("InstanceIds", "*"))).await;
    assert_eq!(err.unwrap_err().0, "AccessDeniedException");
    // A node it may not command is refused before its existence is looked up.
    let ghost = "mi-0123456789abcdef0";
    assert_denied(send(&allow_one, &[ghost], None).await, ghost);
    assert_eq!(command_count(&fleet).await, before, "nothing was stored");

    // Explicit deny on one node wins over `ssm:*` on `*`, whichever way the node is reached.
    assert_denied(send(&deny_b, &[a, b], None).await, b);
    let err = send(&deny_b, &[], Some(("tag:env", "test"))).await;
    assert_eq!(err.unwrap_err().0, "AccessDeniedException");
    assert_eq!(command_count(&fleet).await, before, "nothing was stored");
    send(&deny_b, &[a], None).await.expect("a is not denied");

    // `Resource: "*"` reaches every node, by tag and by `InstanceIds=*`.
    for target in [("tag:env", "test"), ("InstanceIds", "*")] {
        let cmd = send(&everything, &[], Some(target)).await.expect("allowed");
        for node in [a, b] {
            let inv = fleet.wait_done(&cmd, node, LIMIT).await;
            assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
        }
    }

    // Cancelling acts on the nodes too: a command on b (sent by the admin) cannot be cancelled
    // by a user allowed only on a.
    let admins = fleet.run(&[b.to_string()], &["sleep 30"], &[]).await;
    let err = allow_one
        .cancel_command()
        .command_id(&admins)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");
    let err = allow_one
        .cancel_command()
        .command_id(&admins)
        .instance_ids(b)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");
    fleet
        .client
        .cancel_command()
        .command_id(&admins)
        .send()
        .await
        .expect("the admin may cancel");

    // Every denial is in the audit trail with the node it was about.
    let records = fleet
        .server
        .read_store(|s| s.audit_records().unwrap())
        .await;
    for (user, action) in [
        ("only-a", "ssm:SendCommand"),
        ("not-b", "ssm:SendCommand"),
        ("only-a", "ssm:CancelCommand"),
    ] {
        assert!(
            records.iter().any(|(_, r)| r.principal == user
                && r.action == action
                && r.outcome == "Denied"
                && r.resource == format!("{NODE_ARN}{b}")),
            "{user} {action} on {b} is audited as Denied"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_bosun_cannot_honour_are_refused_by_name() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let base = || {
        fleet
            .client
            .send_command()
            .document_name("AWS-RunShellScript")
            .instance_ids(&id)
            .parameters("commands", vec!["echo hi".to_string()])
    };
    let cases = [
        (
            base().output_s3_bucket_name("my-bucket"),
            "InvalidOutputFolder",
            "OutputS3BucketName",
        ),
        (
            base().output_s3_key_prefix("out/"),
            "InvalidOutputFolder",
            "OutputS3KeyPrefix",
        ),
        (
            base().cloud_watch_output_config(
                CloudWatchOutputConfig::builder()
                    .cloud_watch_output_enabled(true)
                    .build(),
            ),
            "InvalidParameters",
            "CloudWatchOutputEnabled",
        ),
    ];
    for (req, code, field) in cases {
        let err = req.send().await.unwrap_err();
        assert_eq!(err.code(), Some(code), "{field}: {err:?}");
        assert!(err.message().unwrap_or_default().contains(field), "{err:?}");
    }
    assert_eq!(command_count(&fleet).await, 0, "nothing was stored");

    // Fields that ask for nothing are fine, as in AWS.
    let cmd = base()
        .output_s3_region("us-east-1")
        .cloud_watch_output_config(
            CloudWatchOutputConfig::builder()
                .cloud_watch_output_enabled(false)
                .build(),
        )
        .send()
        .await
        .expect("nothing asked of S3 or CloudWatch")
        .command
        .unwrap()
        .command_id
        .unwrap();
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));

    // The same holds through the AWS CLI, and for other operations.
    let err = fleet
        .server
        .aws(&[
            "ssm",
            "send-command",
            "--document-name",
            "AWS-RunShellScript",
            "--instance-ids",
            &id,
            "--parameters",
            "commands=echo hi",
            "--output-s3-bucket-name",
            "my-bucket",
        ])
        .unwrap_err();
    assert!(err.contains("InvalidOutputFolder"), "{err}");
    let err = fleet
        .server
        .aws(&["ssm", "describe-parameters", "--shared"])
        .unwrap_err();
    assert!(err.contains("Shared"), "{err}");
}
