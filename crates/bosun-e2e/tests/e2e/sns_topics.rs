//! SNS-compatible topics through the real AWS CLI (`aws sns …` against the server's endpoint)
//! and a real HTTP subscriber on loopback: AWS's confirmation flow (SubscriptionConfirmation,
//! the SubscribeURL followed by plain GET), notifications with AWS's headers and body, raw
//! delivery, nothing ever sent to an unconfirmed endpoint, delivery after the subscriber's
//! outage and a server `kill -9`, bad inputs storing nothing, and IAM checked on topic ARNs.

use std::process::Command;
use std::time::Duration;

use bosun_e2e::poll::wait_for;
use bosun_e2e::subscriber::{confirmed_topic, Subscriber};
use bosun_e2e::TestServer;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);
/// A retry comes 20 s after a failed attempt (AWS's default http policy); an interrupted
/// attempt's lease lasts 60 s.
const RETRY_LIMIT: Duration = Duration::from_secs(90);

fn error_code(result: Result<Value, String>) -> String {
    let err = result.expect_err("an error");
    err.split('(')
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or(&err)
        .to_string()
}

fn publish(server: &TestServer, topic: &str, message: &str) -> String {
    let out = server
        .aws(&["sns", "publish", "--topic-arn", topic, "--message", message])
        .expect("publish");
    out["MessageId"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_confirm_subscribers_and_deliver_what_is_published() {
    let mut server = TestServer::start().await;
    let sub = Subscriber::start().await;

    // Topics: created idempotently, conflicting attributes refused, bad names store nothing.
    let created = server
        .aws(&[
            "sns",
            "create-topic",
            "--name",
            "alerts",
            "--attributes",
            "DisplayName=Ops",
            "--tags",
            "Key=team,Value=ops",
        ])
        .expect("create-topic");
    let topic = created["TopicArn"].as_str().unwrap().to_string();
    assert_eq!(topic, "arn:aws:sns:us-east-1:000000000000:alerts");
    let again = server
        .aws(&[
            "sns",
            "create-topic",
            "--name",
            "alerts",
            "--attributes",
            "DisplayName=Ops",
        ])
        .expect("the same topic again");
    assert_eq!(again["TopicArn"], topic.as_str());
    let conflict = server.aws(&[
        "sns",
        "create-topic",
        "--name",
        "alerts",
        "--attributes",
        "DisplayName=Other",
    ]);
    let text = conflict.clone().unwrap_err();
    assert!(
        text.contains("Topic already exists with different attributes"),
        "{text}"
    );
    assert_eq!(error_code(conflict), "InvalidParameter");
    for bad in [
        vec!["--name", "bad name!"],
        vec!["--name", "orders.fifo", "--attributes", "FifoTopic=true"],
        vec![
            "--name",
            "kms",
            "--attributes",
            "KmsMasterKeyId=alias/aws/sns",
        ],
    ] {
        let mut args = vec!["sns", "create-topic"];
        args.extend(bad.iter().copied());
        assert_eq!(error_code(server.aws(&args)), "InvalidParameter", "{bad:?}");
    }
    let listed = server.aws(&["sns", "list-topics"]).unwrap();
    assert_eq!(listed["Topics"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["Topics"][0]["TopicArn"], topic.as_str());

    let attrs = server
        .aws(&["sns", "get-topic-attributes", "--topic-arn", &topic])
        .unwrap();
    assert_eq!(attrs["Attributes"]["DisplayName"], "Ops");
    assert_eq!(attrs["Attributes"]["Owner"], "000000000000");
    let policy: Value =
        serde_json::from_str(attrs["Attributes"]["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Principal"]["AWS"], "*");
    server
        .aws(&[
            "sns",
            "set-topic-attributes",
            "--topic-arn",
            &topic,
            "--attribute-name",
            "DisplayName",
            "--attribute-value",
            "Operators",
        ])
        .expect("set DisplayName");
    assert_eq!(
        error_code(server.aws(&[
            "sns",
            "set-topic-attributes",
            "--topic-arn",
            &topic,
            "--attribute-name",
            "DeliveryPolicy",
            "--attribute-value",
            "{}",
        ])),
        "InvalidParameter"
    );
    assert_eq!(
        error_code(server.aws(&[
            "sns",
            "get-topic-attributes",
            "--topic-arn",
            "arn:aws:sns:us-east-1:000000000000:nope",
        ])),
        "NotFound"
    );

    // Protocols Bosun cannot deliver to (email: this server has no SMTP relay) are refused,
    // and store nothing.
    for (protocol, endpoint) in [
        ("email", "ops@example.com"),
        ("sqs", "arn:aws:sqs:us-east-1:000000000000:q"),
        ("http", "ftp://x"),
    ] {
        assert_eq!(
            error_code(server.aws(&[
                "sns",
                "subscribe",
                "--topic-arn",
                &topic,
                "--protocol",
                protocol,
                "--notification-endpoint",
                endpoint,
            ])),
            "InvalidParameter",
            "{protocol}"
        );
    }
    let none = server.aws(&["sns", "list-subscriptions"]).unwrap();
    assert_eq!(none["Subscriptions"].as_array().unwrap().len(), 0, "{none}");

    // Two http subscriptions: /confirmed will confirm, /pending never does.
    let subscribed = server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "http",
            "--notification-endpoint",
            &sub.url("/confirmed"),
            "--return-subscription-arn",
        ])
        .expect("subscribe");
    let sub_arn = subscribed["SubscriptionArn"].as_str().unwrap().to_string();
    assert!(sub_arn.starts_with(&format!("{topic}:")), "{sub_arn}");
    let pending = server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "http",
            "--notification-endpoint",
            &sub.url("/pending"),
        ])
        .expect("subscribe");
    assert_eq!(pending["SubscriptionArn"], "pending confirmation");
    let got = server
        .aws(&[
            "sns",
            "get-subscription-attributes",
            "--subscription-arn",
            &sub_arn,
        ])
        .unwrap();
    assert_eq!(got["Attributes"]["PendingConfirmation"], "true");

    let confirmation = sub
        .wait("/confirmed", "SubscriptionConfirmation", 1, LIMIT)
        .await;
    assert_eq!(
        confirmation.header("x-amz-sns-topic-arn"),
        Some(topic.as_str())
    );
    assert!(confirmation.header("x-amz-sns-message-id").is_some());
    let body = confirmation.json();
    assert_eq!(body["Type"], "SubscriptionConfirmation");
    assert_eq!(body["TopicArn"], topic.as_str());
    assert!(body["Message"].as_str().unwrap().contains(&topic));
    let token = body["Token"].as_str().unwrap();
    let subscribe_url = body["SubscribeURL"].as_str().unwrap();
    assert!(subscribe_url.starts_with(&server.url), "{subscribe_url}");
    assert!(subscribe_url.contains(token));
    sub.wait("/pending", "SubscriptionConfirmation", 1, LIMIT)
        .await;
    // Subscribing a pending endpoint again sends its confirmation request again.
    let again = server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "http",
            "--notification-endpoint",
            &sub.url("/pending"),
        ])
        .expect("subscribe again");
    assert_eq!(again["SubscriptionArn"], "pending confirmation");
    let resent = sub
        .wait("/pending", "SubscriptionConfirmation", 2, LIMIT)
        .await;
    let first = &sub.at("/pending")[0];
    assert_eq!(resent.json()["Token"], first.json()["Token"]);

    // The SubscribeURL confirms with a plain GET, as a subscriber would follow it.
    let path = &subscribe_url[server.url.len()..];
    let confirmed = bosun_e2e::http::get(&server.addr, path).await.unwrap();
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(
        confirmed
            .body
            .contains(&format!("<SubscriptionArn>{sub_arn}</SubscriptionArn>")),
        "{}",
        confirmed.body
    );
    let bad_token = bosun_e2e::http::get(&server.addr, &path.replace(token, "0000"))
        .await
        .unwrap();
    assert_eq!(bad_token.status, 400);
    assert!(
        bad_token.body.contains("<Code>InvalidParameter</Code>"),
        "{}",
        bad_token.body
    );
    let got = server
        .aws(&[
            "sns",
            "get-subscription-attributes",
            "--subscription-arn",
            &sub_arn,
        ])
        .unwrap();
    assert_eq!(got["Attributes"]["PendingConfirmation"], "false");
    let topic_attrs = server
        .aws(&["sns", "get-topic-attributes", "--topic-arn", &topic])
        .unwrap();
    assert_eq!(topic_attrs["Attributes"]["SubscriptionsConfirmed"], "1");
    assert_eq!(topic_attrs["Attributes"]["SubscriptionsPending"], "1");

    // A publish reaches the confirmed subscriber with AWS's headers and body.
    let published = server
        .aws(&[
            "sns",
            "publish",
            "--topic-arn",
            &topic,
            "--subject",
            "[本番] RunCommand failed",
            "--message",
            "運用チーム各位\nRunCommandが異常終了しました。",
            "--message-attributes",
            r#"{"severity":{"DataType":"String","StringValue":"high"}}"#,
        ])
        .expect("publish");
    let message_id = published["MessageId"].as_str().unwrap().to_string();
    let note = sub.wait("/confirmed", "Notification", 1, LIMIT).await;
    assert_eq!(
        note.header("x-amz-sns-message-id"),
        Some(message_id.as_str())
    );
    assert_eq!(note.header("x-amz-sns-topic-arn"), Some(topic.as_str()));
    assert_eq!(
        note.header("x-amz-sns-subscription-arn"),
        Some(sub_arn.as_str())
    );
    assert_eq!(
        note.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    let body = note.json();
    assert_eq!(body["Type"], "Notification");
    assert_eq!(body["MessageId"], message_id.as_str());
    assert_eq!(body["Subject"], "[本番] RunCommand failed");
    assert_eq!(
        body["Message"],
        "運用チーム各位\nRunCommandが異常終了しました。"
    );
    assert_eq!(body["MessageAttributes"]["severity"]["Value"], "high");
    assert!(body["Timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(body["UnsubscribeURL"]
        .as_str()
        .unwrap()
        .starts_with(&server.url));
    // The unconfirmed endpoint got its confirmation request and nothing else.
    assert!(
        sub.at("/pending")
            .iter()
            .all(|r| r.header("x-amz-sns-message-type") == Some("SubscriptionConfirmation")),
        "an unconfirmed endpoint received a notification"
    );

    // Raw delivery: the message itself; filter policies are refused, not ignored.
    server
        .aws(&[
            "sns",
            "set-subscription-attributes",
            "--subscription-arn",
            &sub_arn,
            "--attribute-name",
            "RawMessageDelivery",
            "--attribute-value",
            "true",
        ])
        .expect("RawMessageDelivery");
    assert_eq!(
        error_code(server.aws(&[
            "sns",
            "set-subscription-attributes",
            "--subscription-arn",
            &sub_arn,
            "--attribute-name",
            "FilterPolicy",
            "--attribute-value",
            r#"{"a":"b"}"#,
        ])),
        "InvalidParameter",
        "a filter policy whose values are not lists is refused"
    );
    publish(&server, &topic, "raw text");
    let raw = sub.wait("/confirmed", "Notification", 2, LIMIT).await;
    assert_eq!(raw.body, "raw text");
    assert_eq!(raw.header("x-amz-sns-rawdelivery"), Some("true"));

    // The subscriber is down: the attempt fails, the server is killed, the subscriber comes
    // back, and the message still arrives (from the new server process).
    let mut sub = sub;
    sub.stop().await;
    publish(&server, &topic, "sent during the outage");
    wait_for("a failed attempt", LIMIT, || async {
        server
            .log()
            .contains("SNS delivery attempt failed")
            .then_some(())
    })
    .await;
    server.restart().await;
    sub.resume().await;
    let late = sub.wait("/confirmed", "Notification", 3, RETRY_LIMIT).await;
    assert_eq!(late.body, "sent during the outage");

    // Tags on the topic.
    server
        .aws(&[
            "sns",
            "tag-resource",
            "--resource-arn",
            &topic,
            "--tags",
            "Key=env,Value=prod",
        ])
        .expect("tag-resource");
    server
        .aws(&[
            "sns",
            "untag-resource",
            "--resource-arn",
            &topic,
            "--tag-keys",
            "team",
        ])
        .expect("untag-resource");
    let tags = server
        .aws(&["sns", "list-tags-for-resource", "--resource-arn", &topic])
        .unwrap();
    assert_eq!(
        tags["Tags"],
        serde_json::json!([{"Key": "env", "Value": "prod"}])
    );

    // Listing, unsubscribing, deleting.
    let by_topic = server
        .aws(&["sns", "list-subscriptions-by-topic", "--topic-arn", &topic])
        .unwrap();
    let arns: Vec<&str> = by_topic["Subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["SubscriptionArn"].as_str().unwrap())
        .collect();
    assert!(
        arns.contains(&sub_arn.as_str()) && arns.contains(&"PendingConfirmation"),
        "{arns:?}"
    );
    server
        .aws(&["sns", "unsubscribe", "--subscription-arn", &sub_arn])
        .expect("unsubscribe");
    assert_eq!(
        error_code(server.aws(&[
            "sns",
            "get-subscription-attributes",
            "--subscription-arn",
            &sub_arn
        ])),
        "NotFound"
    );
    server
        .aws(&["sns", "delete-topic", "--topic-arn", &topic])
        .expect("delete-topic");
    server
        .aws(&["sns", "delete-topic", "--topic-arn", &topic])
        .expect("deleting a deleted topic succeeds");
    let listed = server.aws(&["sns", "list-topics"]).unwrap();
    assert_eq!(listed["Topics"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_policies_are_checked_on_the_topic_arn() {
    let server = TestServer::start().await;
    for name in ["open", "closed"] {
        server
            .aws(&["sns", "create-topic", "--name", name])
            .expect("create-topic");
    }
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:000000000000:open"}]}"#;
    let (_, akid, secret) = server.user_with_policy("publisher", policy).await;
    let as_publisher = |topic: &str| {
        let out = Command::new("aws")
            .args(["sns", "publish", "--topic-arn", topic, "--message", "hi"])
            .args([
                "--endpoint-url",
                &server.url,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .env("AWS_ACCESS_KEY_ID", &akid)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("the AWS CLI");
        if out.status.success() {
            Ok(Value::Null)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    as_publisher("arn:aws:sns:us-east-1:000000000000:open").expect("allowed");
    let denied = as_publisher("arn:aws:sns:us-east-1:000000000000:closed");
    let text = denied.clone().unwrap_err();
    assert!(
        text.contains("is not authorized to perform: sns:Publish on resource: arn:aws:sns:us-east-1:000000000000:closed"),
        "{text}"
    );
    assert_eq!(error_code(denied), "AuthorizationError");
}

/// Terraform's operation sequence for `aws_sns_topic` and `aws_sns_topic_subscription`,
/// through boto3 (`tests/data/sns_terraform.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraforms_topic_and_subscription_sequences_get_the_answers_it_expects() {
    let server = TestServer::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sns_terraform.py");
    let out = server
        .as_admin("python3")
        .arg(script)
        .arg(&server.url)
        .output()
        .expect("python3 with boto3 is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "sns_terraform.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert!(
        report["steps"].as_u64().unwrap_or_default() >= 20,
        "{report}"
    );
    assert_eq!(report["failures"], serde_json::json!([]), "{report}");
}

/// The query protocol's shapes outside a handler: an unsigned call gets the XML
/// `<ErrorResponse>` with a 403, and an SDK retry of a `Publish` (same
/// `amz-sdk-invocation-id`) gets the first answer, as XML, and publishes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_calls_and_retries_answer_in_the_query_protocol() {
    let server = TestServer::start().await;
    let body = "Action=ListTopics&Version=2010-03-31";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    let unsigned = bosun_e2e::http::send_raw(&server.addr, request.as_bytes())
        .await
        .unwrap();
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    assert!(
        unsigned.body.starts_with(
            r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code>"#
        ),
        "{}",
        unsigned.body
    );

    let script = r#"
import sys, boto3
c = boto3.client("sns", endpoint_url=sys.argv[1], region_name="us-east-1")
def same_id(request, **kw):
    request.headers["amz-sdk-invocation-id"] = "0b3f2a4e-7c1d-4e8f-9a6b-5d2c1e0f3a7b"
c.meta.events.register("before-send.sns.Publish", same_id)
arn = c.create_topic(Name="retried")["TopicArn"]
first = c.publish(TopicArn=arn, Message="once")
again = c.publish(TopicArn=arn, Message="once")
print(first["MessageId"], again["MessageId"], again["ResponseMetadata"]["HTTPHeaders"]["content-type"])
"#;
    let data = server.data_dir();
    let out = Command::new("python3")
        .args(["-c", script, &server.url])
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
        .env("AWS_CONFIG_FILE", data.join("config"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 with boto3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = printed.split_whitespace().collect();
    assert_eq!(words.len(), 3, "{printed}");
    assert_eq!(words[0], words[1], "the retry got the first answer");
    assert_eq!(words[2], "text/xml");
}

/// Two replicas of one PostgreSQL database both run the delivery task: every message reaches
/// the subscriber exactly once (deliveries are leased with `FOR UPDATE SKIP LOCKED`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_deliver_each_message_once() {
    let Some(url) = bosun_e2e::server::postgres_database().await else {
        return;
    };
    let first = TestServer::start_with(&["--database", &url]).await;
    let keyring = first.data_dir().join("kms/keyring.json");
    let _second = TestServer::start_with(&[
        "--database",
        &url,
        "--kms-key-file",
        keyring.to_str().unwrap(),
    ])
    .await;
    let sub = Subscriber::start().await;
    let topic = confirmed_topic(&first, &sub, "fanout", "/hook", LIMIT).await;

    const MESSAGES: usize = 40;
    let script = format!(
        r#"
import sys, boto3
c = boto3.client("sns", endpoint_url=sys.argv[1], region_name="us-east-1")
for i in range({MESSAGES}):
    c.publish(TopicArn=sys.argv[2], Message="m%02d" % i)
"#
    );
    let data = first.data_dir();
    let out = Command::new("python3")
        .args(["-c", &script, &first.url, &topic])
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
        .env("AWS_CONFIG_FILE", data.join("config"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 with boto3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sub.wait("/hook", "Notification", MESSAGES, LIMIT).await;
    let mut bodies: Vec<String> = sub
        .at("/hook")
        .into_iter()
        .filter(|r| r.header("x-amz-sns-message-type") == Some("Notification"))
        .map(|r| r.json()["Message"].as_str().unwrap().to_string())
        .collect();
    bodies.sort();
    let expected: Vec<String> = (0..MESSAGES).map(|i| format!("m{i:02}")).collect();
    assert_eq!(bodies, expected, "each message exactly once");
}
