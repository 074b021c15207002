//! Parameter policies' events end to end: a rule on `Parameter Store Policy Action` made with
//! the AWS CLI delivers, through an SNS topic, the `ExpirationNotification` and then the
//! `Expiration` of a real parameter (written by the server's policy enforcer) to a confirmed
//! http subscriber, once each and in AWS's shape.

use std::time::Duration;

use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use bosun_e2e::subscriber::{confirmed_topic, messages, publish, rule_to_topic, Subscriber};
use bosun_e2e::TestServer;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parameters_expiration_reaches_a_rules_subscriber() {
    let server = TestServer::start().await;
    let hook = Subscriber::start().await;
    let topic = confirmed_topic(&server, &hook, "params", "/params", LIMIT).await;
    let pattern = json!({"source": ["aws.ssm"],
        "detail-type": ["Parameter Store Policy Action"],
        "detail": {"parameter-name": [{"prefix": "/tmp/"}]}});
    rule_to_topic(&server, "policies", &pattern, &topic);

    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
    let expiration =
        format!(r#"{{"Type":"Expiration","Version":"1.0","Attributes":{{"Timestamp":"{at}"}}}}"#);
    let policies = format!(
        r#"[{expiration},
            {{"Type":"ExpirationNotification","Version":"1.0","Attributes":{{"Before":"1","Unit":"Hours"}}}}]"#
    );
    server
        .client()
        .put_parameter()
        .name("/tmp/token")
        .value("s3cret-value")
        .r#type(ParameterType::SecureString)
        .policies(&policies)
        .tier(ParameterTier::Advanced)
        .send()
        .await
        .expect("PutParameter");

    let first = event(&hook.wait("/params", "Notification", 1, LIMIT).await.json());
    assert_eq!(first["detail-type"], "Parameter Store Policy Action");
    assert_eq!(first["source"], "aws.ssm");
    assert!(first["resources"][0]
        .as_str()
        .unwrap()
        .ends_with(":parameter/tmp/token"));
    assert_eq!(first["detail"]["policy-type"], "ExpirationNotification");
    assert_eq!(first["detail"]["parameter-name"], "/tmp/token");
    assert_eq!(first["detail"]["parameter-type"], "SecureString");
    assert_eq!(first["detail"]["action-status"], "SUCCESS");
    let content: Value =
        serde_json::from_str(first["detail"]["policy-content"].as_str().unwrap()).unwrap();
    assert_eq!(content["Type"], "ExpirationNotification");

    let second = event(&hook.wait("/params", "Notification", 2, LIMIT).await.json());
    assert_eq!(second["detail"]["policy-type"], "Expiration");
    assert_eq!(
        second["detail"]["action-reason"],
        "Parameter expired and was deleted"
    );
    let gone = server
        .client()
        .get_parameter()
        .name("/tmp/token")
        .send()
        .await;
    assert!(gone.is_err(), "the expired parameter is deleted");

    // A marker published after both: a duplicate would have arrived before it.
    publish(&server, &topic, "marker");
    hook.wait("/params", "Notification", 3, LIMIT).await;
    let bodies = messages(&hook, "/params");
    assert_eq!(bodies.len(), 3, "one event per policy: {bodies:?}");
    assert_eq!(bodies[2], "marker");
    assert!(
        bodies.iter().all(|b| !b.contains("s3cret-value")),
        "the value is never in the event"
    );
}

fn event(notification: &Value) -> Value {
    serde_json::from_str(notification["Message"].as_str().expect("a Message")).expect("an event")
}
