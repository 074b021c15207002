//! An EventBridge rule on failed Run Command invocations, made with the AWS CLI, reaches a
//! mailbox through an SNS topic with a confirmed `email` subscription (aiosmtpd on loopback):
//! the failure's InputTransformer text (Japanese) is mailed, a success mails nothing.

use std::time::Duration;

use aws_sdk_ssm::types::CommandStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::smtp::MailSink;
use bosun_e2e::TestServer;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

fn subscribe(server: &TestServer, topic: &str, to: &str) {
    server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            to,
        ])
        .expect("subscribe");
}

fn publish(server: &TestServer, topic: &str, message: &str) {
    server
        .aws(&["sns", "publish", "--topic-arn", topic, "--message", message])
        .expect("publish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_command_reaches_a_mailbox_through_a_rule_and_a_topic() {
    let Some(sink) = MailSink::start().await else {
        return;
    };
    let args = sink.server_args("bosun@example.test");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let fleet = Fleet::start_on(TestServer::start_with(&args).await, 1, 1).await;
    let server = &fleet.server;
    let node = fleet.ids()[0].clone();
    let topic = server
        .aws(&["sns", "create-topic", "--name", "ops-mail"])
        .expect("create-topic")["TopicArn"]
        .as_str()
        .unwrap()
        .to_string();
    subscribe(server, &topic, "ops@example.test");
    sink.confirm(server, "ops@example.test", LIMIT).await;

    let pattern = json!({
        "source": ["aws.ssm"],
        "detail-type": ["EC2 Command Invocation Status-change Notification"],
        "detail": {"status": ["Failed"]}
    });
    server
        .aws(&[
            "events",
            "put-rule",
            "--name",
            "ssm-failed",
            "--event-pattern",
            &pattern.to_string(),
        ])
        .expect("put-rule");
    let targets = json!([{
        "Id": "mail",
        "Arn": topic,
        "InputTransformer": {
            "InputPathsMap": {"node": "$.detail.instance-id", "cmd": "$.detail.command-id"},
            "InputTemplate": "\"<node> で <cmd> が失敗しました\""
        }
    }]);
    let put = server
        .aws(&[
            "events",
            "put-targets",
            "--rule",
            "ssm-failed",
            "--targets",
            &targets.to_string(),
        ])
        .expect("put-targets");
    assert_eq!(put["FailedEntryCount"], 0, "{put}");

    let ok = fleet
        .run(std::slice::from_ref(&node), &["echo fine"], &[])
        .await;
    let c = fleet.wait_command(&ok, Duration::from_secs(60)).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));
    let bad = fleet
        .run(std::slice::from_ref(&node), &["exit 4"], &[])
        .await;
    let c = fleet.wait_command(&bad, Duration::from_secs(60)).await;
    assert_eq!(c.status(), Some(&CommandStatus::Failed));

    let mail = sink
        .wait("ops@example.test", 2, Duration::from_secs(60))
        .await;
    assert_eq!(mail.subject(), "AWS Notification Message");
    assert!(
        mail.body
            .starts_with(&format!("\"{node} で {bad} が失敗しました\"\n")),
        "{}",
        mail.body
    );
    // The success mailed nothing: a marker published now is the next mail.
    publish(server, &topic, "marker");
    let marker = sink.wait("ops@example.test", 3, LIMIT).await;
    assert!(marker.body.starts_with("marker\n"), "{}", marker.body);
}
