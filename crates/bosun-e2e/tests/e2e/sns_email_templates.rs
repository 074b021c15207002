//! Seed 003 without its Lambda: an EventBridge rule on failed Run Command invocations sends
//! the raw event to an SNS topic whose `email` subscription carries Bosun's mail template
//! attributes. The mail is the seed's own Japanese text, kept in Parameter Store, rendered with
//! the node, command and document and the time in JST, and sent as ISO-2022-JP; a template
//! that cannot render sends nothing half-done; bad template attributes are refused.

use std::time::Duration;

use aws_sdk_ssm::types::CommandStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::smtp::MailSink;
use bosun_e2e::TestServer;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

/// The seed's mail_context.txt, its `ver_*` placeholders written as template expressions.
const SEED_TEMPLATE: &str = r#"運用チーム各位

以下のアラートを検知しました。

------------------------------------------

発生日時    :{{ event.time | datetimeformat(format="%Y/%m/%d %H:%M:%S") }}
コマンドID   :{{ event.detail["command-id"] }}
ドキュメント  :{{ event.detail["document-name"] }}
インスタンスID :{{ event.detail["instance-id"] }}

------------------------------------------

RunCommandが異常終了しました。
下記コマンドで履歴を確認の上調査をお願い致します
bosun results {{ event.detail["command-id"] }}
"#;

fn put_parameter(server: &TestServer, name: &str, value: &str) {
    server
        .aws(&[
            "ssm",
            "put-parameter",
            "--name",
            name,
            "--type",
            "String",
            "--value",
            value,
        ])
        .expect("put-parameter");
}

/// Subscribe `to` with `attributes` and confirm by following the confirmation mail's link.
async fn subscribe_confirmed(
    server: &TestServer,
    sink: &MailSink,
    topic: &str,
    to: &str,
    attributes: &serde_json::Value,
) -> String {
    let out = server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            to,
            "--attributes",
            &attributes.to_string(),
            "--return-subscription-arn",
        ])
        .expect("subscribe");
    sink.confirm(server, to, LIMIT).await;
    out["SubscriptionArn"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_003_mail_comes_from_its_template_in_parameter_store() {
    let Some(sink) = MailSink::start().await else {
        return;
    };
    let args = sink.server_args("bosun@example.test");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let fleet = Fleet::start_on(TestServer::start_with(&args).await, 1, 1).await;
    let server = &fleet.server;
    let node = fleet.ids()[0].clone();
    put_parameter(server, "/ops/mail/template", SEED_TEMPLATE);
    put_parameter(server, "/ops/mail/account-name", "本番環境");
    let topic = server
        .aws(&["sns", "create-topic", "--name", "OPE"])
        .expect("create-topic")["TopicArn"]
        .as_str()
        .unwrap()
        .to_string();

    // Bad template attributes are refused with SNS's error.
    for (name, value) in [
        ("BosunTemplateBody", "{{ event.detail"),
        ("BosunTemplateTimeZone", "Mars/Olympus"),
        ("BosunTemplateCharset", "Shift_JIS"),
    ] {
        let e = server
            .aws(&[
                "sns",
                "subscribe",
                "--topic-arn",
                &topic,
                "--protocol",
                "email",
                "--notification-endpoint",
                "bad@example.test",
                "--attributes",
                &json!({ name: value }).to_string(),
            ])
            .expect_err("a bad template attribute is refused");
        assert!(e.contains("InvalidParameter") && e.contains(name), "{e}");
    }

    let template = json!({
        "BosunTemplateSubject": "[RunCommand Failed] [{{ parameter(\"/ops/mail/account-name\") }}] {{ event.detail[\"document-name\"] }}",
        "BosunTemplateBody": "{% include \"ssm:/ops/mail/template\" %}",
        "BosunTemplateTimeZone": "Asia/Tokyo",
        "BosunTemplateCharset": "ISO-2022-JP",
    });
    let ops = subscribe_confirmed(server, &sink, &topic, "ops@example.test", &template).await;
    let shown = server
        .aws(&[
            "sns",
            "get-subscription-attributes",
            "--subscription-arn",
            &ops,
        ])
        .expect("get-subscription-attributes");
    assert_eq!(shown["Attributes"]["BosunTemplateCharset"], "ISO-2022-JP");
    assert_eq!(shown["Attributes"]["BosunTemplateTimeZone"], "Asia/Tokyo");
    // A second reader's template names a parameter that does not exist: its mail fails, and
    // is never sent half-rendered.
    let broken = json!({ "BosunTemplateBody": "{{ parameter(\"/ops/mail/missing\") }}" });
    subscribe_confirmed(server, &sink, &topic, "broken@example.test", &broken).await;

    let pattern = json!({
        "source": ["aws.ssm"],
        "detail-type": ["EC2 Command Invocation Status-change Notification"],
        "detail": {"status": ["Failed"], "document-name": ["AWS-RunShellScript"]}
    });
    server
        .aws(&[
            "events",
            "put-rule",
            "--name",
            "SendSNSRunCommandFailure",
            "--event-pattern",
            &pattern.to_string(),
        ])
        .expect("put-rule");
    let targets = json!([{ "Id": "ope", "Arn": topic }]);
    let put = server
        .aws(&[
            "events",
            "put-targets",
            "--rule",
            "SendSNSRunCommandFailure",
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
    let before = jiff::Timestamp::now();
    let bad = fleet
        .run(std::slice::from_ref(&node), &["exit 4"], &[])
        .await;
    let c = fleet.wait_command(&bad, Duration::from_secs(60)).await;
    assert_eq!(c.status(), Some(&CommandStatus::Failed));

    let mail = sink
        .wait("ops@example.test", 2, Duration::from_secs(60))
        .await;
    assert_eq!(mail.charset.as_deref(), Some("iso-2022-jp"), "{}", mail.raw);
    assert!(
        mail.raw.is_ascii(),
        "an ISO-2022-JP mail is 7-bit on the wire"
    );
    assert_eq!(
        mail.subject(),
        "[RunCommand Failed] [本番環境] AWS-RunShellScript"
    );
    let want_lines = [
        format!("コマンドID   :{bad}"),
        "ドキュメント  :AWS-RunShellScript".to_string(),
        format!("インスタンスID :{node}"),
        format!("bosun results {bad}"),
    ];
    for line in &want_lines {
        assert!(
            mail.body.lines().any(|l| l == line),
            "{line:?} in\n{}",
            mail.body
        );
    }
    assert!(mail.body.starts_with("運用チーム各位\n"), "{}", mail.body);
    assert!(
        !mail.body.contains("unsubscribe"),
        "a template replaces AWS's footer"
    );
    // The time is the event's, in JST (UTC+9), as the seed's Lambda wrote it.
    let when = mail
        .body
        .lines()
        .find_map(|l| l.strip_prefix("発生日時    :"))
        .expect("the time line");
    let jst = jiff::civil::DateTime::strptime("%Y/%m/%d %H:%M:%S", when)
        .expect("the seed's time format")
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9)))
        .unwrap()
        .timestamp();
    let after = jiff::Timestamp::now();
    assert!(
        jst >= before - jiff::SignedDuration::from_secs(2) && jst <= after,
        "{when} (JST) is not when the command failed ({before} … {after})"
    );

    // The broken template's delivery failed with the reason (and will be retried), and its
    // reader got nothing but the confirmation.
    bosun_e2e::wait_for("the failed rendering in the server log", LIMIT, || async {
        let log = server.log();
        log.lines()
            .any(|l| {
                l.contains("SNS delivery attempt failed")
                    && l.contains("parameter /ops/mail/missing does not exist")
            })
            .then_some(())
    })
    .await;
    assert_eq!(sink.mails_to("broken@example.test").len(), 1);
}
