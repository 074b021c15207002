//! Managed-node connection events end to end: a rule on `Managed Node Ping Status-change
//! Notification` delivers to an http subscriber when a real agent is killed (`ConnectionLost`,
//! after the heartbeat timeout), comes back (`Online`) and is deregistered (`Inactive`); an
//! agent that restarts within the timeout announces nothing.

use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use bosun_e2e::subscriber::{confirmed_topic, rule_to_topic, Subscriber};
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_connection_changes_reach_a_rules_subscriber_once_each() {
    let mut fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let hook = Subscriber::start().await;
    let topic = confirmed_topic(&fleet.server, &hook, "nodes", "/nodes", LIMIT).await;
    let pattern = json!({"source": ["aws.ssm"],
        "detail-type": ["Managed Node Ping Status-change Notification"]});
    rule_to_topic(&fleet.server, "nodes", &pattern, &topic);

    // A restart well within the heartbeat timeout (3 s here) is not a lost connection.
    fleet.agents[0].kill().await;
    fleet.agents[0].start();
    fleet.wait_online(&id).await;

    fleet.agents[0].kill().await;
    let lost = event(&hook.wait("/nodes", "Notification", 1, LIMIT).await.json());
    assert_eq!(
        lost["detail-type"],
        "Managed Node Ping Status-change Notification"
    );
    assert_eq!(lost["detail"]["instance-id"], id.as_str());
    assert_eq!(lost["detail"]["previous-ping-status"], "Online");
    assert_eq!(lost["detail"]["ping-status"], "ConnectionLost");
    assert!(lost["resources"][0]
        .as_str()
        .unwrap()
        .ends_with(&format!(":managed-instance/{id}")));

    fleet.agents[0].start();
    let back = event(&hook.wait("/nodes", "Notification", 2, LIMIT).await.json());
    assert_eq!(back["detail"]["previous-ping-status"], "ConnectionLost");
    assert_eq!(back["detail"]["ping-status"], "Online");

    fleet
        .client
        .deregister_managed_instance()
        .instance_id(&id)
        .send()
        .await
        .expect("DeregisterManagedInstance");
    let gone = event(&hook.wait("/nodes", "Notification", 3, LIMIT).await.json());
    assert_eq!(gone["detail"]["previous-ping-status"], "Online");
    assert_eq!(gone["detail"]["ping-status"], "Inactive");

    let statuses: Vec<String> = hook
        .at("/nodes")
        .iter()
        .filter(|r| r.header("x-amz-sns-message-type") == Some("Notification"))
        .map(|r| {
            event(&r.json())["detail"]["ping-status"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        statuses,
        ["ConnectionLost", "Online", "Inactive"],
        "one event per change"
    );
}

fn event(notification: &Value) -> Value {
    serde_json::from_str(notification["Message"].as_str().expect("a Message")).expect("an event")
}
