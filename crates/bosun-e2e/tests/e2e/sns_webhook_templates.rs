//! A webhook without a relay: an `http` subscription with Bosun's `BosunTemplateBody` posts the
//! JSON its endpoint wants (a Slack-style `{"text": …}`) instead of AWS's document — values
//! written as JSON whatever they hold — and its confirmation request is rendered with the same
//! template, carrying the link the channel's people follow to confirm it.

use std::time::Duration;

use bosun_e2e::subscriber::Subscriber;
use bosun_e2e::TestServer;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_templated_webhook_gets_its_own_json_and_can_be_confirmed_from_it() {
    let server = TestServer::start().await;
    let hook = Subscriber::start().await;
    let topic = server
        .aws(&["sns", "create-topic", "--name", "chat-ops"])
        .expect("create-topic")["TopicArn"]
        .as_str()
        .unwrap()
        .to_string();
    let body = r#"{% if confirmation %}{"text": {{ "Confirm: " ~ subscribe_url }}, "confirm": {{ subscribe_url }}}{% else %}{"text": {{ message }}, "node": {{ event.detail["instance-id"] if event else none }}, "at": {{ timestamp | datetimeformat(format="%H:%M", tz="UTC") }}}{% endif %}"#;
    let subscribe = |attributes: serde_json::Value| {
        server.aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "http",
            "--notification-endpoint",
            &hook.url("/slack"),
            "--attributes",
            &attributes.to_string(),
        ])
    };
    // Mail-only attributes are refused on http, with SNS's error.
    let e = subscribe(json!({"BosunTemplateCharset": "ISO-2022-JP"}))
        .expect_err("a mail attribute on http");
    assert!(
        e.contains("InvalidParameter") && e.contains("BosunTemplateCharset"),
        "{e}"
    );
    subscribe(json!({"BosunTemplateBody": body})).expect("subscribe");

    let confirmation = hook
        .wait("/slack", "SubscriptionConfirmation", 1, LIMIT)
        .await;
    assert_eq!(
        confirmation.header("content-type"),
        Some("application/json")
    );
    let c = confirmation.json();
    let url = c["confirm"]
        .as_str()
        .expect("the template's JSON")
        .to_string();
    assert_eq!(c["text"], format!("Confirm: {url}"));
    let r = bosun_e2e::http::get(&server.addr, &url[server.url.len()..])
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);

    let tricky = "He said \"stop\" <now> & then\nleft";
    server
        .aws(&["sns", "publish", "--topic-arn", &topic, "--message", tricky])
        .expect("publish");
    let event = json!({"detail-type": "x", "detail": {"instance-id": "mi-0123456789abcdef0"}});
    server
        .aws(&[
            "sns",
            "publish",
            "--topic-arn",
            &topic,
            "--message",
            &event.to_string(),
        ])
        .expect("publish");
    // Deliveries run in parallel: find each by its content.
    hook.wait("/slack", "Notification", 2, LIMIT).await;
    let bodies: Vec<serde_json::Value> = hook
        .at("/slack")
        .iter()
        .filter(|r| r.header("x-amz-sns-message-type") == Some("Notification"))
        .map(|r| {
            assert_eq!(r.header("content-type"), Some("application/json"));
            serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
        })
        .collect();
    let plain = bodies
        .iter()
        .find(|b| b["text"] == tricky)
        .expect("the text, JSON-escaped");
    assert_eq!(plain["node"], serde_json::Value::Null);
    let at = plain["at"].as_str().unwrap();
    assert!(at.len() == 5 && at.as_bytes()[2] == b':', "{at}");
    let from_event = bodies
        .iter()
        .find(|b| b["node"] == "mi-0123456789abcdef0")
        .expect("the event's node");
    assert_eq!(from_event["text"], event.to_string());
}
