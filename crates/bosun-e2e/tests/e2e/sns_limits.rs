//! Rate limits and dedupe of SNS subscriptions, mailed to a real SMTP sink: a limit of 2 per
//! 10 s lets 2 of 5 messages through at once and the rest only in the next windows, none lost;
//! the same event reported twice (other `id` and `time`) is one mail, and with `BosunDedupeBy`
//! only the chosen value counts; a duplicate leaves a grouped burst whose rest goes as one mail;
//! bad values are refused with their reason.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bosun_e2e::poll::wait_for;
use bosun_e2e::smtp::MailSink;
use bosun_e2e::TestServer;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(60);
const WINDOW_MS: i64 = 10_000;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn mail_server(sink: &MailSink) -> TestServer {
    let args = sink.server_args("bosun@example.test");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    TestServer::start_with(&args).await
}

fn create_topic(server: &TestServer, name: &str) -> String {
    server
        .aws(&["sns", "create-topic", "--name", name])
        .expect("create-topic")["TopicArn"]
        .as_str()
        .unwrap()
        .to_string()
}

fn subscribe(
    server: &TestServer,
    topic: &str,
    protocol: &str,
    to: &str,
    attributes: &serde_json::Value,
) -> Result<String, String> {
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
            "--attributes",
            &attributes.to_string(),
        ])
        .map(|v| v["SubscriptionArn"].as_str().unwrap().to_string())
}

fn publish(server: &TestServer, topic: &str, message: &str) -> String {
    server
        .aws(&["sns", "publish", "--topic-arn", topic, "--message", message])
        .expect("publish")["MessageId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The notifications `to` got (its confirmation left out), as their bodies.
fn notifications(sink: &MailSink, to: &str) -> Vec<String> {
    sink.mails_to(to)
        .into_iter()
        .filter(|m| m.subject() != "AWS Notification - Subscription Confirmation")
        .map(|m| m.body)
        .collect()
}

async fn wait_notifications(sink: &MailSink, to: &str, n: usize, limit: Duration) -> Vec<String> {
    wait_for(&format!("{n} notifications to {to}"), limit, || async {
        let got = notifications(sink, to);
        (got.len() >= n).then_some(got)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_postpones_messages_to_the_next_windows_and_loses_none() {
    let Some(sink) = MailSink::start().await else {
        return;
    };
    let server = mail_server(&sink).await;
    let topic = create_topic(&server, "ops");

    // Bad values and combinations are refused with the reason.
    for (attributes, reason) in [
        (
            json!({"BosunRateLimitWindowSeconds": "5"}),
            "BosunRateLimitWindowSeconds needs BosunRateLimitCount",
        ),
        (
            json!({"BosunRateLimitCount": "0"}),
            "BosunRateLimitCount: Invalid value [0]. Must be a whole number of messages from 1 to 100000.",
        ),
        (
            json!({"BosunRateLimitCount": "2", "BosunRateLimitWindowSeconds": "3601"}),
            "BosunRateLimitWindowSeconds: Invalid value [3601]",
        ),
        (
            json!({"BosunDedupeWindowSeconds": "86401"}),
            "BosunDedupeWindowSeconds: Invalid value [86401]",
        ),
        (
            json!({"BosunDedupeBy": "$.detail.command-id"}),
            "BosunDedupeBy needs BosunDedupeWindowSeconds",
        ),
        (
            json!({"BosunDedupeWindowSeconds": "60", "BosunDedupeBy": "detail"}),
            "BosunDedupeBy: Invalid value [detail]",
        ),
    ] {
        let e = subscribe(&server, &topic, "email", "x@example.test", &attributes)
            .expect_err("refused");
        assert!(e.contains("InvalidParameter"), "{e}");
        assert!(
            e.contains(&format!("Invalid parameter: Attributes Reason: {reason}")),
            "{attributes}: {e}"
        );
    }
    let e = subscribe(
        &server,
        &topic,
        "email-json",
        "x@example.test",
        &json!({"BosunRateLimitCount": "2"}),
    )
    .expect_err("not on email-json");
    assert!(
        e.contains("Delivery protocol [email-json] does not support BosunRateLimitCount"),
        "{e}"
    );

    let arn = subscribe(
        &server,
        &topic,
        "email",
        "ops@example.test",
        &json!({"BosunRateLimitCount": "2", "BosunRateLimitWindowSeconds": "10"}),
    )
    .expect("subscribe");
    sink.confirm(&server, "ops@example.test", LIMIT).await;
    let attributes = server
        .aws(&[
            "sns",
            "get-subscription-attributes",
            "--subscription-arn",
            &arn,
        ])
        .expect("get-subscription-attributes");
    assert_eq!(attributes["Attributes"]["BosunRateLimitCount"], "2");
    assert_eq!(
        attributes["Attributes"]["BosunRateLimitWindowSeconds"],
        "10"
    );
    let e = server
        .aws(&[
            "sns",
            "set-subscription-attributes",
            "--subscription-arn",
            &arn,
            "--attribute-name",
            "BosunRateLimitCount",
            "--attribute-value",
            "many",
        ])
        .expect_err("not a number");
    assert!(
        e.contains("BosunRateLimitCount: Invalid value [many]"),
        "{e}"
    );

    // Start early in a window, so that all five are published within it (at once: the CLI is
    // slow to start on a busy machine).
    wait_for("the start of a rate-limit window", LIMIT, || async {
        (now_ms().rem_euclid(WINDOW_MS) < 1_000).then_some(())
    })
    .await;
    let published = now_ms();
    let boundary = published - published.rem_euclid(WINDOW_MS) + WINDOW_MS;
    std::thread::scope(|s| {
        for i in 1..=5 {
            let (server, topic) = (&server, &topic);
            s.spawn(move || publish(server, topic, &format!("message {i}")));
        }
    });
    wait_notifications(&sink, "ops@example.test", 2, LIMIT).await;
    assert!(
        now_ms() < boundary,
        "two messages should go out within the window they were published in"
    );
    // Until the window closes nothing more arrives (polled up to the boundary).
    while now_ms() < boundary {
        assert_eq!(
            notifications(&sink, "ops@example.test").len(),
            2,
            "a third message before the window at {boundary} ms"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The next window takes two more, and the one after the last: none is lost.
    wait_notifications(&sink, "ops@example.test", 4, LIMIT).await;
    let second = boundary + WINDOW_MS;
    if now_ms() < second {
        while now_ms() < second {
            assert_eq!(
                notifications(&sink, "ops@example.test").len(),
                4,
                "a fifth message before the window at {second} ms"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let all = wait_notifications(&sink, "ops@example.test", 5, LIMIT).await;
    for i in 1..=5 {
        assert!(
            all.iter()
                .any(|b| b.contains(&format!("message {i}\n"))
                    || b.starts_with(&format!("message {i}"))),
            "message {i} in {all:#?}"
        );
    }
    assert_eq!(all.len(), 5, "each message once");
}

fn event(id: &str, command: &str, status: &str) -> String {
    json!({
        "version": "0",
        "id": id,
        "detail-type": "EC2 Command Invocation Status-change Notification",
        "source": "aws.ssm",
        "account": "000000000000",
        "time": format!("2026-12-05T03:00:0{}Z", id.len() % 10),
        "region": "us-east-1",
        "resources": [],
        "detail": {"command-id": command, "instance-id": "mi-0123456789abcdef0", "status": status},
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_events_are_mailed_once_within_the_dedupe_window() {
    let Some(sink) = MailSink::start().await else {
        return;
    };
    let server = mail_server(&sink).await;
    let topic = create_topic(&server, "ops");
    let all = subscribe(
        &server,
        &topic,
        "email",
        "all@example.test",
        &json!({"BosunDedupeWindowSeconds": "300"}),
    )
    .expect("subscribe all");
    let by = subscribe(
        &server,
        &topic,
        "email",
        "by@example.test",
        &json!({"BosunDedupeWindowSeconds": "300", "BosunDedupeBy": "$.detail.command-id"}),
    )
    .expect("subscribe by");
    sink.confirm(&server, "all@example.test", LIMIT).await;
    sink.confirm(&server, "by@example.test", LIMIT).await;
    let subscription_id = |arn: &str| arn.rsplit(':').next().unwrap().to_string();
    let (all_id, by_id) = (subscription_id(&all), subscription_id(&by));

    let first = event("e-1", "c-1", "Failed");
    publish(&server, &topic, &first);
    wait_notifications(&sink, "all@example.test", 1, LIMIT).await;
    wait_notifications(&sink, "by@example.test", 1, LIMIT).await;

    // The same failure reported again (another id and time), then the command's success, then
    // a plain message.
    let again = publish(&server, &topic, &event("e-22", "c-1", "Failed"));
    let success = publish(&server, &topic, &event("e-333", "c-1", "Success"));
    publish(&server, &topic, "plain text");
    let dropped = |delivery: String| {
        let server = &server;
        async move {
            wait_for(
                &format!("{delivery} dropped as a duplicate"),
                LIMIT,
                || async {
                    let log = server.log();
                    log.lines()
                        .any(|l| l.contains(&delivery) && l.contains("not sent again"))
                        .then_some(())
                },
            )
            .await
        }
    };
    dropped(format!("{again}:{all_id}")).await;
    dropped(format!("{again}:{by_id}")).await;
    dropped(format!("{success}:{by_id}")).await;

    let to_all = wait_notifications(&sink, "all@example.test", 3, LIMIT).await;
    let to_by = wait_notifications(&sink, "by@example.test", 2, LIMIT).await;
    // Everything published has been sent or dropped by now: the counts are final.
    assert_eq!(to_all.len(), 3, "{to_all:#?}");
    assert_eq!(to_all.iter().filter(|b| b.contains("Failed")).count(), 1);
    assert_eq!(to_all.iter().filter(|b| b.contains("Success")).count(), 1);
    assert_eq!(
        to_all.iter().filter(|b| b.contains("plain text")).count(),
        1
    );
    assert_eq!(to_by.len(), 2, "{to_by:#?}");
    assert!(to_by[0].contains("Failed"), "{to_by:#?}");
    assert!(
        to_by.iter().any(|b| b.contains("plain text")),
        "a message without the path is never a duplicate: {to_by:#?}"
    );
    assert!(!to_by.iter().any(|b| b.contains("Success")), "{to_by:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_leave_a_burst_and_the_rest_go_as_one_mail() {
    let Some(sink) = MailSink::start().await else {
        return;
    };
    let server = mail_server(&sink).await;
    let topic = create_topic(&server, "ops");
    let arn = subscribe(
        &server,
        &topic,
        "email",
        "ops@example.test",
        &json!({
            "BosunGroupWindowSeconds": "10",
            "BosunDedupeWindowSeconds": "300",
            "BosunTemplateSubject": "{{ count }} notifications",
            "BosunTemplateBody": "{% for m in messages %}{{ m.event.id }} {{ m.event.detail.status }}\n{% endfor %}",
        }),
    )
    .expect("subscribe");
    sink.confirm(&server, "ops@example.test", LIMIT).await;
    let subscription_id = arn.rsplit(':').next().unwrap();
    // The window is long enough for three publishes by the CLI on a busy machine.
    publish(&server, &topic, &event("e-1", "c-1", "Failed"));
    let again = publish(&server, &topic, &event("e-22", "c-1", "Failed"));
    publish(&server, &topic, &event("e-333", "c-1", "Success"));
    let mails = wait_notifications(&sink, "ops@example.test", 1, LIMIT).await;
    assert_eq!(
        mails[0]
            .lines()
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>(),
        ["e-1 Failed", "e-333 Success"],
        "the duplicate left the burst"
    );
    let delivery = format!("{again}:{subscription_id}");
    assert!(
        server
            .log()
            .lines()
            .any(|l| l.contains(&delivery) && l.contains("not sent again")),
        "{delivery} logged as a duplicate"
    );
    let subjects: Vec<String> = sink
        .mails_to("ops@example.test")
        .iter()
        .map(|m| m.subject().to_string())
        .collect();
    assert_eq!(subjects.last().map(String::as_str), Some("2 notifications"));
}
