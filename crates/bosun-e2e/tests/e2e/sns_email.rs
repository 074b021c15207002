//! SNS `email` and `email-json` subscriptions against a real SMTP server on loopback
//! (aiosmtpd), driven with the AWS CLI: AWS's confirmation mail whose link confirms, nothing
//! mailed while pending, notifications with Japanese subject and body decoded back intact by
//! Python's `email` package, AWS's email-json documents, a mail sent during an SMTP outage and a
//! server `kill -9` delivered once after recovery, and email subscriptions refused by a server
//! without SMTP. (A rule reaching a mailbox: `sns_email_rules.rs`; TLS and AUTH:
//! `sns_email_tls.rs`.)

use std::time::Duration;

use bosun_e2e::poll::wait_for;
use bosun_e2e::smtp::{MailSink, ReceivedMail};
use bosun_e2e::TestServer;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(30);
/// The first mail retry comes 10 s after a failed attempt (AWS's SMTP policy).
const RETRY_LIMIT: Duration = Duration::from_secs(60);
const FROM: &str = "bosun@example.test";

async fn server_mailing_to(sink: &MailSink) -> TestServer {
    let args = sink.server_args(FROM);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    TestServer::start_with(&args).await
}

fn subscribe(server: &TestServer, topic: &str, protocol: &str, to: &str) -> Value {
    server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            topic,
            "--protocol",
            protocol,
            "--notification-endpoint",
            to,
            "--return-subscription-arn",
        ])
        .expect("subscribe")
}

/// The link line of an `email` confirmation mail.
fn subscribe_link(mail: &ReceivedMail) -> String {
    mail.body
        .lines()
        .find(|l| l.starts_with("http://") || l.starts_with("https://"))
        .unwrap_or_else(|| panic!("no link in {}", mail.body))
        .to_string()
}

/// Follow a link Bosun mailed, as a mail reader's browser would.
async fn follow(server: &TestServer, link: &str) {
    let path = link
        .strip_prefix(&server.url)
        .expect("a link to the server");
    let r = bosun_e2e::http::get(&server.addr, path).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

fn pending(server: &TestServer, arn: &str) -> String {
    server
        .aws(&[
            "sns",
            "get-subscription-attributes",
            "--subscription-arn",
            arn,
        ])
        .expect("get-subscription-attributes")["Attributes"]["PendingConfirmation"]
        .as_str()
        .unwrap()
        .to_string()
}

fn publish(server: &TestServer, topic: &str, extra: &[&str]) -> String {
    let mut args = vec!["sns", "publish", "--topic-arn", topic];
    args.extend_from_slice(extra);
    server.aws(&args).expect("publish")["MessageId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_subscriptions_confirm_by_mail_and_receive_what_is_published() {
    let Some(sink) = MailSink::start().await else {
        return;
    };
    let server = server_mailing_to(&sink).await;
    let topic = server
        .aws(&[
            "sns",
            "create-topic",
            "--name",
            "alerts",
            "--attributes",
            "DisplayName=運用チーム",
        ])
        .expect("create-topic")["TopicArn"]
        .as_str()
        .unwrap()
        .to_string();

    // Bad addresses and per-protocol texts Bosun cannot honour are refused.
    for bad in ["ops", "ops@", "ops@example.test\r\nBcc: x@example.test"] {
        let e = server
            .aws(&[
                "sns",
                "subscribe",
                "--topic-arn",
                &topic,
                "--protocol",
                "email",
                "--notification-endpoint",
                bad,
            ])
            .unwrap_err();
        assert!(e.contains("InvalidParameter"), "{e}");
    }

    // Raw delivery is for http/https (and SQS) only, as on AWS: refused, not ignored.
    let raw = server
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
            "RawMessageDelivery=true",
        ])
        .unwrap_err();
    assert!(
        raw.contains("Delivery protocol [email] does not support raw message delivery."),
        "{raw}"
    );

    // email: AWS's confirmation mail, with a link that confirms.
    let ops = subscribe(&server, &topic, "email", "ops@example.test");
    let ops_arn = ops["SubscriptionArn"].as_str().unwrap().to_string();
    let default = server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "ops@example.test",
        ])
        .expect("subscribe again");
    assert_eq!(default["SubscriptionArn"], "pending confirmation");
    let confirmation = sink.wait("ops@example.test", 1, LIMIT).await;
    assert_eq!(
        confirmation.subject(),
        "AWS Notification - Subscription Confirmation"
    );
    assert_eq!(
        confirmation.header("From"),
        Some("AWS Notifications <bosun@example.test>")
    );
    assert_eq!(confirmation.mail_from, FROM);
    assert!(
        confirmation.body.starts_with(&format!(
            "You have chosen to subscribe to the topic: \n{topic}\n"
        )),
        "{}",
        confirmation.body
    );
    assert!(confirmation.header("Message-ID").is_some());
    assert_eq!(pending(&server, &ops_arn), "true");

    // email-json: AWS's SubscriptionConfirmation document, confirmed with its token.
    let app = subscribe(&server, &topic, "email-json", "app@example.test");
    let app_arn = app["SubscriptionArn"].as_str().unwrap().to_string();
    let doc = sink.wait("app@example.test", 1, LIMIT).await;
    assert_eq!(
        doc.subject(),
        "AWS Notification - Subscription Confirmation"
    );
    let doc = doc.json();
    assert_eq!(doc["Type"], "SubscriptionConfirmation");
    assert_eq!(doc["TopicArn"], topic.as_str());
    assert!(doc["SubscribeURL"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/?Action=ConfirmSubscription", server.url)));

    // Nothing is mailed while pending: this message goes to no one.
    publish(&server, &topic, &["--message", "not yet"]);

    // Confirm both: the ops link by GET (anonymously, as a mail reader clicks), app by API.
    // The ops confirmation mail was sent twice (the second Subscribe asked again).
    let second = sink.wait("ops@example.test", 2, LIMIT).await;
    assert_eq!(subscribe_link(&second), subscribe_link(&confirmation));
    follow(&server, &subscribe_link(&confirmation)).await;
    assert_eq!(pending(&server, &ops_arn), "false");
    let confirmed = server
        .aws(&[
            "sns",
            "confirm-subscription",
            "--topic-arn",
            &topic,
            "--token",
            doc["Token"].as_str().unwrap(),
        ])
        .expect("confirm-subscription");
    assert_eq!(confirmed["SubscriptionArn"], app_arn.as_str());
    let raw = server
        .aws(&[
            "sns",
            "set-subscription-attributes",
            "--subscription-arn",
            &app_arn,
            "--attribute-name",
            "RawMessageDelivery",
            "--attribute-value",
            "true",
        ])
        .unwrap_err();
    assert!(
        raw.contains("Delivery protocol [email-json] does not support raw message delivery."),
        "{raw}"
    );

    // A Japanese subject and body survive (RFC 2047 encoded words, a UTF-8 body), from the
    // topic's DisplayName.
    let subject = "[本番][AWS-UpdateSSMAgent]ERROR";
    let message = "運用チーム各位\nRunCommandが異常終了しました。";
    let id = publish(
        &server,
        &topic,
        &["--subject", subject, "--message", message],
    );
    let mail = sink.wait("ops@example.test", 3, LIMIT).await;
    assert_eq!(mail.subject(), subject);
    assert!(
        mail.raw.contains("Subject: =?utf-8?b?"),
        "an encoded word: {}",
        mail.raw
    );
    assert!(mail.raw.is_ascii(), "7-bit on the wire");
    assert_eq!(mail.charset.as_deref(), Some("utf-8"));
    assert_eq!(mail.header("From"), Some("運用チーム <bosun@example.test>"));
    assert!(
        mail.body.starts_with(&format!("{message}\n\n--\n")),
        "{}",
        mail.body
    );
    assert!(mail.body.contains(&format!(
        "{}/?Action=Unsubscribe&SubscriptionArn=",
        server.url
    )));
    let json_mail = sink.wait("app@example.test", 2, LIMIT).await;
    assert_eq!(json_mail.subject(), subject);
    let n = json_mail.json();
    assert_eq!(n["Type"], "Notification");
    assert_eq!(n["MessageId"], id.as_str());
    assert_eq!(n["TopicArn"], topic.as_str());
    assert_eq!(n["Subject"], subject);
    assert_eq!(n["Message"], message);
    assert!(n["Timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(n["UnsubscribeURL"]
        .as_str()
        .unwrap()
        .contains("Unsubscribe"));

    // Without a Subject: AWS's default one. MessageStructure=json sends `default`.
    publish(
        &server,
        &topic,
        &[
            "--message-structure",
            "json",
            "--message",
            r#"{"default":"既定の本文"}"#,
        ],
    );
    let plain = sink.wait("ops@example.test", 4, LIMIT).await;
    assert_eq!(plain.subject(), "AWS Notification Message");
    assert!(plain.body.starts_with("既定の本文\n"), "{}", plain.body);
    let e = server
        .aws(&[
            "sns",
            "publish",
            "--topic-arn",
            &topic,
            "--message-structure",
            "json",
            "--message",
            r#"{"default":"a","email":"b"}"#,
        ])
        .unwrap_err();
    assert!(e.contains("InvalidParameter"), "{e}");

    // The message published while pending never went out.
    sink.wait("app@example.test", 3, LIMIT).await;
    let all = sink.mails();
    assert!(all.iter().all(|m| !m.body.contains("not yet")), "{all:?}");
    assert_eq!(all.len(), 7, "{all:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_sent_during_an_smtp_outage_and_a_kill_arrives_once() {
    let Some(mut sink) = MailSink::start().await else {
        return;
    };
    let mut server = server_mailing_to(&sink).await;
    let topic = server
        .aws(&["sns", "create-topic", "--name", "pager"])
        .expect("create-topic")["TopicArn"]
        .as_str()
        .unwrap()
        .to_string();
    subscribe(&server, &topic, "email", "oncall@example.test");
    let confirmation = sink.wait("oncall@example.test", 1, LIMIT).await;
    follow(&server, &subscribe_link(&confirmation)).await;

    // The relay is down: the attempt fails; the server is killed (-9) while the mail waits for
    // its retry; the relay comes back; the new server process sends it.
    sink.stop().await;
    publish(&server, &topic, &["--message", "sent during the outage"]);
    wait_for("a failed attempt", LIMIT, || async {
        server
            .log()
            .contains("SNS delivery attempt failed")
            .then_some(())
    })
    .await;
    server.restart().await;
    sink.resume().await;
    let late = sink.wait("oncall@example.test", 2, RETRY_LIMIT).await;
    assert!(
        late.body.starts_with("sent during the outage\n"),
        "{}",
        late.body
    );

    // Once: the queue is empty and there is no second copy.
    wait_for("the delivery queue to empty", LIMIT, || async {
        server
            .read_store(|s| s.list_deliveries("us-east-1").unwrap())
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    let copies = sink
        .mails_to("oncall@example.test")
        .into_iter()
        .filter(|m| m.body.contains("sent during the outage"))
        .count();
    assert_eq!(copies, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_email_subscriptions_are_refused() {
    let server = TestServer::start().await;
    let topic = server
        .aws(&["sns", "create-topic", "--name", "t"])
        .expect("create-topic")["TopicArn"]
        .as_str()
        .unwrap()
        .to_string();
    for protocol in ["email", "email-json"] {
        let e = server
            .aws(&[
                "sns",
                "subscribe",
                "--topic-arn",
                &topic,
                "--protocol",
                protocol,
                "--notification-endpoint",
                "ops@example.test",
            ])
            .unwrap_err();
        assert!(e.contains("InvalidParameter"), "{e}");
        assert!(e.contains("no SMTP relay configured"), "{e}");
    }
    let subs = server
        .aws(&["sns", "list-subscriptions-by-topic", "--topic-arn", &topic])
        .expect("list");
    assert_eq!(subs["Subscriptions"], json!([]));
}
