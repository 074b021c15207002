//! A burst is one mail: a command failing on three nodes makes three invocation events, which
//! an `email` subscription with `BosunGroupWindowSeconds` and `BosunGroupBy` (the command id)
//! turns into a single mail listing every node; a later, unrelated message is its own mail.

use std::time::Duration;

use aws_sdk_ssm::types::CommandStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::smtp::MailSink;
use bosun_e2e::TestServer;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_failed_nodes_make_one_mail() {
    let Some(sink) = MailSink::start().await else {
        return;
    };
    let args = sink.server_args("bosun@example.test");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let fleet = Fleet::start_on(TestServer::start_with(&args).await, 3, 3).await;
    let server = &fleet.server;
    let topic = server
        .aws(&["sns", "create-topic", "--name", "ops"])
        .expect("create-topic")["TopicArn"]
        .as_str()
        .unwrap()
        .to_string();
    let attributes = json!({
        "BosunGroupWindowSeconds": "8",
        "BosunGroupBy": "$.detail.command-id",
        "BosunTemplateSubject": "{% if event %}{{ event.detail[\"document-name\"] }} failed on {{ count }} nodes{% else %}{{ message }}{% endif %}",
        "BosunTemplateBody": "{% for m in messages %}{% if m.event %}{{ m.event.detail[\"instance-id\"] }} {{ m.event.detail.status }}{% else %}{{ m.message }}{% endif %}\n{% endfor %}",
    });
    // BosunGroupBy alone is refused: it needs a window.
    let e = server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "x@example.test",
            "--attributes",
            &json!({"BosunGroupBy": "$.detail.command-id"}).to_string(),
        ])
        .expect_err("a group key without a window");
    assert!(e.contains("BosunGroupWindowSeconds"), "{e}");
    server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "ops@example.test",
            "--attributes",
            &attributes.to_string(),
        ])
        .expect("subscribe");
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
            "failed",
            "--event-pattern",
            &pattern.to_string(),
        ])
        .expect("put-rule");
    let targets = json!([{ "Id": "ops", "Arn": topic }]);
    server
        .aws(&[
            "events",
            "put-targets",
            "--rule",
            "failed",
            "--targets",
            &targets.to_string(),
        ])
        .expect("put-targets");

    let nodes = fleet.ids();
    let bad = fleet.run(&nodes, &["exit 1"], &[]).await;
    let c = fleet.wait_command(&bad, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Failed));

    let mail = sink.wait("ops@example.test", 2, LIMIT).await;
    assert_eq!(
        mail.subject(),
        "AWS-RunShellScript failed on 3 nodes",
        "{}",
        mail.body
    );
    for node in &nodes {
        assert!(
            mail.body.lines().any(|l| l == format!("{node} Failed")),
            "{node} in\n{}",
            mail.body
        );
    }
    // Another message after the burst is a mail of its own (held for its own window).
    server
        .aws(&[
            "sns",
            "publish",
            "--topic-arn",
            &topic,
            "--message",
            "marker",
        ])
        .expect("publish");
    let marker = sink.wait("ops@example.test", 3, LIMIT).await;
    assert_eq!(marker.subject(), "marker");
    assert_eq!(marker.body.trim_end(), "marker");
    assert_eq!(
        sink.mails_to("ops@example.test").len(),
        3,
        "the burst was one mail"
    );
}
