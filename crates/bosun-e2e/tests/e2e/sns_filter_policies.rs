//! SNS filter policies (`FilterPolicy`, `FilterPolicyScope`), set with the AWS CLI as Terraform's
//! `filter_policy` would: a subscription gets only the messages its policy passes, on message
//! attributes (typed: String, Number) or on the JSON body; bad policies are refused.

use std::time::Duration;

use bosun_e2e::subscriber::{confirmed_topic, Subscriber};
use bosun_e2e::TestServer;

const LIMIT: Duration = Duration::from_secs(30);

fn set(
    server: &TestServer,
    sub_arn: &str,
    name: &str,
    value: &str,
) -> Result<serde_json::Value, String> {
    server.aws(&[
        "sns",
        "set-subscription-attributes",
        "--subscription-arn",
        sub_arn,
        "--attribute-name",
        name,
        "--attribute-value",
        value,
    ])
}

fn publish(server: &TestServer, topic: &str, message: &str, attributes: &str) {
    let mut args = vec!["sns", "publish", "--topic-arn", topic, "--message", message];
    if !attributes.is_empty() {
        args.extend(["--message-attributes", attributes]);
    }
    server.aws(&args).expect("publish");
}

/// The messages `path` received, in order.
fn messages(sub: &Subscriber, path: &str) -> Vec<String> {
    sub.at(path)
        .iter()
        .filter(|r| r.header("x-amz-sns-message-type") == Some("Notification"))
        .map(|r| r.json()["Message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_get_only_what_their_filter_policy_passes() {
    let server = TestServer::start().await;
    let sub = Subscriber::start().await;
    let topic = confirmed_topic(&server, &sub, "alerts", "/attrs", LIMIT).await;
    let subs = server
        .aws(&["sns", "list-subscriptions-by-topic", "--topic-arn", &topic])
        .expect("list");
    let attrs_sub = subs["Subscriptions"][0]["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_string();
    set(
        &server,
        &attrs_sub,
        "FilterPolicy",
        r#"{"severity": ["critical"], "load": [{"numeric": [">=", 90]}]}"#,
    )
    .expect("FilterPolicy");
    let shown = server
        .aws(&[
            "sns",
            "get-subscription-attributes",
            "--subscription-arn",
            &attrs_sub,
        ])
        .expect("get");
    assert_eq!(
        shown["Attributes"]["FilterPolicyScope"],
        "MessageAttributes"
    );
    assert!(shown["Attributes"]["FilterPolicy"]
        .as_str()
        .unwrap()
        .contains("critical"));
    for (bad, why) in [
        (r#"{"a": "b"}"#, "values must be lists"),
        (
            r#"{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}"#,
            "more than 5 keys",
        ),
    ] {
        let e = set(&server, &attrs_sub, "FilterPolicy", bad).expect_err(why);
        assert!(e.contains("InvalidParameter"), "{why}: {e}");
    }
    let e = set(&server, &attrs_sub, "FilterPolicyScope", "Everything").expect_err("bad scope");
    assert!(e.contains("MessageBody or MessageAttributes"), "{e}");

    // A second subscription filters on the JSON body.
    let body_topic = confirmed_topic(&server, &sub, "events", "/body", LIMIT).await;
    let subs = server
        .aws(&[
            "sns",
            "list-subscriptions-by-topic",
            "--topic-arn",
            &body_topic,
        ])
        .expect("list");
    let body_sub = subs["Subscriptions"][0]["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_string();
    set(&server, &body_sub, "FilterPolicyScope", "MessageBody").expect("scope");
    set(
        &server,
        &body_sub,
        "FilterPolicy",
        r#"{"detail": {"status": ["Failed"]}}"#,
    )
    .expect("policy");

    let critical =
        "severity={DataType=String,StringValue=critical},load={DataType=Number,StringValue=95}";
    let low = "severity={DataType=String,StringValue=low},load={DataType=Number,StringValue=95}";
    let idle =
        "severity={DataType=String,StringValue=critical},load={DataType=Number,StringValue=12}";
    publish(&server, &topic, "passes", critical);
    publish(&server, &topic, "low severity", low);
    publish(&server, &topic, "low load", idle);
    publish(&server, &topic, "no attributes", "");
    publish(
        &server,
        &body_topic,
        r#"{"detail": {"status": "Success"}}"#,
        "",
    );
    publish(
        &server,
        &body_topic,
        r#"{"detail": {"status": "Failed"}}"#,
        "",
    );
    // Every delivery decided: sent or filtered out, none left in the queue.
    bosun_e2e::wait_for("every delivery decided", LIMIT, || async {
        server
            .read_store(|s| s.list_deliveries("us-east-1").unwrap())
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    assert_eq!(messages(&sub, "/attrs"), ["passes"]);
    assert_eq!(
        messages(&sub, "/body"),
        [r#"{"detail": {"status": "Failed"}}"#]
    );

    // An empty policy removes the filter.
    set(&server, &attrs_sub, "FilterPolicy", "").expect("clear");
    publish(&server, &topic, "anything now", "");
    sub.wait("/attrs", "Notification", 2, LIMIT).await;
}
