//! SNS-compatible topics: topics with tags, subscriptions and their confirmation, and the
//! delivery queue (publish fan-out to confirmed subscriptions only, leases, retries, dead
//! letters).

use super::concurrency::race;
use super::fixtures::{tags, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{
    DeliveryRecord, PublishedMessage, StoreError, SubscriptionRecord, TopicAttribute, TopicRecord,
    CONFIRMATION, NOTIFICATION, TOPIC_TAG_TYPE,
};

pub(super) fn topic(name: &str) -> TopicRecord {
    TopicRecord {
        region: REGION.into(),
        name: name.into(),
        display_name: String::new(),
        policy: String::new(),
        delivery_policy: String::new(),
        created_ms: 1_000,
    }
}

pub(super) fn subscription(id: &str, topic: &str, created_ms: i64) -> SubscriptionRecord {
    SubscriptionRecord {
        region: REGION.into(),
        subscription_id: id.into(),
        topic_name: topic.into(),
        protocol: "http".into(),
        endpoint: format!("http://127.0.0.1:9/{id}"),
        confirmed: false,
        token: format!("token-{id}"),
        raw_message_delivery: false,
        delivery_template: String::new(),
        base_url: "http://bosun.test:8443".into(),
        created_ms,
    }
}

pub(super) fn confirmation(sub: &SubscriptionRecord, created_ms: i64) -> DeliveryRecord {
    DeliveryRecord {
        delivery_id: format!("c-{}:{}", sub.subscription_id, sub.subscription_id),
        region: sub.region.clone(),
        subscription_id: sub.subscription_id.clone(),
        topic_name: sub.topic_name.clone(),
        kind: CONFIRMATION.into(),
        message_id: format!("c-{}", sub.subscription_id),
        subject: None,
        message: "confirm".into(),
        message_attributes: "{}".into(),
        created_ms,
        attempts: 0,
        next_attempt_ms: created_ms,
        failed: false,
        last_error: String::new(),
    }
}

pub(super) fn message(id: &str, topic: &str, at: i64) -> PublishedMessage {
    PublishedMessage {
        region: REGION.into(),
        topic_name: topic.into(),
        message_id: id.into(),
        subject: Some("hello".into()),
        message: "body".into(),
        message_attributes: "{}".into(),
        published_ms: at,
    }
}

pub fn topics_are_created_listed_changed_and_deleted_with_their_tags(store: &dyn Store) {
    store
        .create_topic(&topic("orders"), &tags(&[("team", "ops")]))
        .unwrap();
    store.create_topic(&topic("alerts"), &[]).unwrap();
    assert!(matches!(
        store.create_topic(&topic("orders"), &[]),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        store.get_topic(REGION, "orders").unwrap(),
        Some(topic("orders"))
    );
    assert_eq!(store.get_topic(OTHER_REGION, "orders").unwrap(), None);
    let names: Vec<String> = store
        .list_topics(REGION)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["alerts", "orders"], "listed by name");
    assert!(store
        .set_topic_attribute(REGION, "orders", TopicAttribute::DisplayName, "Orders")
        .unwrap());
    assert!(store
        .set_topic_attribute(REGION, "orders", TopicAttribute::Policy, "{}")
        .unwrap());
    assert!(!store
        .set_topic_attribute(REGION, "none", TopicAttribute::Policy, "{}")
        .unwrap());
    let t = store.get_topic(REGION, "orders").unwrap().unwrap();
    assert_eq!(
        (t.display_name.as_str(), t.policy.as_str()),
        ("Orders", "{}")
    );

    let s = subscription("s1", "orders", 5);
    store
        .add_subscription(&s, Some(&confirmation(&s, 5)))
        .unwrap();
    assert!(store.delete_topic(REGION, "orders").unwrap());
    assert!(!store.delete_topic(REGION, "orders").unwrap());
    assert_eq!(store.get_topic(REGION, "orders").unwrap(), None);
    assert!(store
        .tags(REGION, TOPIC_TAG_TYPE, "orders")
        .unwrap()
        .is_empty());
    assert_eq!(store.get_subscription(REGION, "s1").unwrap(), None);
    assert!(store.list_deliveries(REGION).unwrap().is_empty());
}

pub fn subscriptions_confirm_by_token_and_only_confirmed_ones_get_messages(store: &dyn Store) {
    store.create_topic(&topic("orders"), &[]).unwrap();
    store.create_topic(&topic("alerts"), &[]).unwrap();
    assert!(matches!(
        store.add_subscription(&subscription("x", "none", 1), None),
        Err(StoreError::NotFound(_))
    ));
    let pending = subscription("s1", "orders", 10);
    let confirmed = subscription("s2", "orders", 20);
    let other = subscription("s3", "alerts", 30);
    for s in [&pending, &confirmed, &other] {
        store
            .add_subscription(s, Some(&confirmation(s, s.created_ms)))
            .unwrap();
    }
    assert_eq!(
        store
            .confirm_subscription(REGION, "alerts", "token-s2")
            .unwrap(),
        None,
        "a token confirms only on its own topic"
    );
    let got = store
        .confirm_subscription(REGION, "orders", "token-s2")
        .unwrap()
        .unwrap();
    assert!(got.confirmed);
    assert!(
        store
            .get_subscription(REGION, "s2")
            .unwrap()
            .unwrap()
            .confirmed
    );
    assert!(
        !store
            .get_subscription(REGION, "s1")
            .unwrap()
            .unwrap()
            .confirmed
    );
    let ids = |topic: Option<&str>| -> Vec<String> {
        store
            .list_subscriptions(REGION, topic)
            .unwrap()
            .into_iter()
            .map(|s| s.subscription_id)
            .collect()
    };
    assert_eq!(ids(None), ["s3", "s1", "s2"], "by topic, then creation");
    assert_eq!(ids(Some("orders")), ["s1", "s2"]);
    assert!(store.set_raw_message_delivery(REGION, "s2", true).unwrap());
    assert!(!store.set_raw_message_delivery(REGION, "zz", true).unwrap());
    let template = r#"{"body":"件名 {{ message }}"}"#;
    assert!(store.set_delivery_template(REGION, "s2", template).unwrap());
    assert!(!store.set_delivery_template(REGION, "zz", template).unwrap());
    let s2 = store.get_subscription(REGION, "s2").unwrap().unwrap();
    assert_eq!(
        s2.delivery_template, template,
        "kept as written, UTF-8 included"
    );
    assert!(s2.raw_message_delivery);
    assert!(store.set_delivery_template(REGION, "s2", "").unwrap());
    assert_eq!(
        store
            .get_subscription(REGION, "s2")
            .unwrap()
            .unwrap()
            .delivery_template,
        ""
    );

    assert_eq!(
        store.publish(&message("m1", "orders", 100)).unwrap(),
        Some(1)
    );
    assert_eq!(store.publish(&message("m2", "none", 100)).unwrap(), None);
    let notes: Vec<DeliveryRecord> = store
        .list_deliveries(REGION)
        .unwrap()
        .into_iter()
        .filter(|d| d.kind == NOTIFICATION)
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0].subscription_id, "s2",
        "never to the unconfirmed s1"
    );
    assert_eq!(notes[0].delivery_id, "m1:s2");
    assert_eq!(notes[0].subject.as_deref(), Some("hello"));

    let mut again = confirmation(&pending, 200);
    again.delivery_id = "again:s1".into();
    assert!(store.queue_delivery(&again).unwrap());
    again.subscription_id = "gone".into();
    again.delivery_id = "again:gone".into();
    assert!(
        !store.queue_delivery(&again).unwrap(),
        "no subscription, no delivery"
    );
    assert!(store
        .list_deliveries(REGION)
        .unwrap()
        .iter()
        .any(|d| d.delivery_id == "again:s1"));

    assert!(store.delete_subscription(REGION, "s2").unwrap());
    assert!(!store.delete_subscription(REGION, "s2").unwrap());
    assert!(
        store
            .list_deliveries(REGION)
            .unwrap()
            .iter()
            .all(|d| d.subscription_id != "s2"),
        "its deliveries go with it"
    );
}

pub fn deliveries_are_leased_retried_and_kept_as_dead_letters(store: &dyn Store) {
    store.create_topic(&topic("orders"), &[]).unwrap();
    let s = subscription("s1", "orders", 10);
    store
        .add_subscription(&s, Some(&confirmation(&s, 10)))
        .unwrap();
    store
        .confirm_subscription(REGION, "orders", "token-s1")
        .unwrap();
    store.publish(&message("m1", "orders", 20)).unwrap();

    assert!(
        store
            .claim_deliveries("a", 5, 1_000, 10)
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let claimed = store.claim_deliveries("a", 50, 1_000, 10).unwrap();
    let ids: Vec<&str> = claimed.iter().map(|d| d.delivery_id.as_str()).collect();
    assert_eq!(ids, ["c-s1:s1", "m1:s1"], "oldest first");
    assert!(
        store
            .claim_deliveries("b", 60, 2_000, 10)
            .unwrap()
            .is_empty(),
        "leased"
    );
    assert!(
        !store.finish_delivery("c-s1:s1", "b").unwrap(),
        "not b's lease"
    );
    assert!(store.finish_delivery("c-s1:s1", "a").unwrap());
    assert!(store
        .retry_delivery("m1:s1", "a", Some(3_000), "the endpoint answered 503")
        .unwrap());
    assert!(store
        .claim_deliveries("b", 2_500, 4_000, 10)
        .unwrap()
        .is_empty());
    let again = store.claim_deliveries("b", 3_000, 4_000, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].last_error, "the endpoint answered 503");
    // b's lease expires; c takes the row over and b can no longer act on it.
    let taken = store.claim_deliveries("c", 4_001, 5_000, 10).unwrap();
    assert_eq!(taken.len(), 1);
    assert!(!store
        .retry_delivery("m1:s1", "b", Some(1), "not b's")
        .unwrap());
    assert!(store
        .retry_delivery("m1:s1", "c", None, "connection refused")
        .unwrap());
    assert!(
        store
            .claim_deliveries("d", 99_999, 100_000, 10)
            .unwrap()
            .is_empty(),
        "failed"
    );
    let left = store.list_deliveries(REGION).unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].failed, "kept as a dead letter");
    assert_eq!(left[0].attempts, 2);
    assert_eq!(
        left[0].last_error, "connection refused",
        "the last attempt's reason"
    );

    // An operator sends the dead letters again: due now, attempts from zero.
    assert_eq!(
        store
            .redrive_deliveries(REGION, Some("other"), 200_000)
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .redrive_deliveries(OTHER_REGION, None, 200_000)
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .redrive_deliveries(REGION, Some("orders"), 200_000)
            .unwrap(),
        1
    );
    assert_eq!(
        store.redrive_deliveries(REGION, None, 200_000).unwrap(),
        0,
        "none failed now"
    );
    let again = store.claim_deliveries("e", 200_000, 210_000, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].attempts, again[0].failed), (0, false));
}

pub fn a_subscriptions_burst_is_postponed_and_claimed_together(store: &dyn Store) {
    store.create_topic(&topic("orders"), &[]).unwrap();
    for id in ["s1", "s2"] {
        let s = subscription(id, "orders", 10);
        store.add_subscription(&s, None).unwrap();
        store
            .confirm_subscription(REGION, "orders", &format!("token-{id}"))
            .unwrap();
    }
    for (m, at) in [("m1", 100), ("m2", 150), ("m3", 400)] {
        store.publish(&message(m, "orders", at)).unwrap();
    }
    // m1 for s1 comes due; its window is not over: put off without counting an attempt.
    let first = store.claim_deliveries("a", 100, 1_000, 1).unwrap();
    assert_eq!(first[0].delivery_id, "m1:s1");
    assert!(
        !store.postpone_delivery("m1:s1", "b", 300).unwrap(),
        "not b's"
    );
    assert!(store.postpone_delivery("m1:s1", "a", 300).unwrap());
    let due: Vec<String> = store
        .claim_deliveries("x", 200, 1_000, 10)
        .unwrap()
        .into_iter()
        .map(|d| d.delivery_id)
        .collect();
    assert_eq!(due, ["m1:s2", "m2:s1", "m2:s2"], "m1:s1 waits until 300");
    for d in &due {
        assert!(store.postpone_delivery(d, "x", 5_000).unwrap());
    }
    let again = store.claim_deliveries("a", 300, 1_000, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 0, "a postponement is not an attempt");
    // The window's end: s1's notifications created up to 350 go together (m3 is later; s2's
    // are another subscription's), leased by a (already holding m1) until 2_000.
    let group: Vec<String> = store
        .claim_subscription_deliveries(REGION, "s1", 350, "a", 300, 2_000, 10)
        .unwrap()
        .into_iter()
        .map(|d| d.delivery_id)
        .collect();
    assert_eq!(group, ["m1:s1", "m2:s1"], "oldest first");
    assert!(
        store
            .claim_subscription_deliveries(REGION, "s1", 350, "b", 300, 2_000, 10)
            .unwrap()
            .is_empty(),
        "leased to a"
    );
    for id in &group {
        assert!(store.finish_delivery(id, "a").unwrap());
    }
    let left: Vec<String> = store
        .list_deliveries(REGION)
        .unwrap()
        .into_iter()
        .map(|d| d.delivery_id)
        .collect();
    assert_eq!(left, ["m1:s2", "m2:s2", "m3:s1", "m3:s2"]);
}

pub fn concurrent_claims_send_each_delivery_once(store: &dyn Store) {
    store.create_topic(&topic("orders"), &[]).unwrap();
    let s = subscription("s1", "orders", 10);
    store.add_subscription(&s, None).unwrap();
    store
        .confirm_subscription(REGION, "orders", "token-s1")
        .unwrap();
    for i in 0..20 {
        store
            .publish(&message(&format!("m{i:02}"), "orders", 20 + i))
            .unwrap();
    }
    let outcomes = race(|i| store.claim_deliveries(&format!("r{i}"), 100, 10_000, 5));
    let mut all: Vec<String> = outcomes
        .into_iter()
        .flat_map(|o| o.unwrap())
        .map(|d| d.delivery_id)
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "no delivery claimed twice");
}

pub fn concurrent_subscriptions_of_one_endpoint_succeed_once(store: &dyn Store) {
    store.create_topic(&topic("orders"), &[]).unwrap();
    let outcomes = race(|i| {
        let mut s = subscription(&format!("s{i}"), "orders", 10);
        s.endpoint = "http://127.0.0.1:9/same".into();
        store.add_subscription(&s, Some(&confirmation(&s, 10)))
    });
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .filter(|o| o.is_err())
        .all(|o| matches!(o, Err(StoreError::AlreadyExists(_)))));
    assert_eq!(store.list_subscriptions(REGION, None).unwrap().len(), 1);
    assert_eq!(
        store.list_deliveries(REGION).unwrap().len(),
        1,
        "one confirmation"
    );
}

pub fn concurrent_creations_of_one_topic_succeed_once(store: &dyn Store) {
    let outcomes = race(|_| store.create_topic(&topic("race"), &[]));
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .filter(|o| o.is_err())
        .all(|o| matches!(o, Err(StoreError::AlreadyExists(_)))));
}

/// The event dispatcher's step: the cursor moves and the messages are published together, once;
/// a second attempt from the same cursor (a replica that lost the race, or a retry after a
/// crash before the answer) writes nothing.
pub fn messages_from_events_are_published_once_with_the_cursor(store: &dyn Store) {
    store.create_topic(&topic("alarms"), &[]).unwrap();
    let sub = subscription("e1", "alarms", 10);
    store
        .add_subscription(&sub, Some(&confirmation(&sub, 10)))
        .unwrap();
    store
        .confirm_subscription(REGION, "alarms", "token-e1")
        .unwrap()
        .unwrap();
    let notifications = || {
        store
            .list_deliveries(REGION)
            .unwrap()
            .into_iter()
            .filter(|d| d.kind == NOTIFICATION)
            .count()
    };
    let before = notifications();
    let batch = [
        message("m-ev-1", "alarms", 50),
        message("m-ev-2", "gone", 50),
    ];
    assert!(store
        .publish_from_events("rules", 0, 7, 50, &batch, &[])
        .unwrap());
    assert_eq!(store.event_cursor("rules").unwrap(), 7);
    assert_eq!(notifications(), before + 1, "a missing topic gets nothing");
    assert!(!store
        .publish_from_events("rules", 0, 7, 60, &batch, &[])
        .unwrap());
    assert_eq!(notifications(), before + 1, "nothing twice");
    assert!(store
        .publish_from_events("rules", 7, 9, 70, &[message("m-ev-3", "alarms", 70)], &[])
        .unwrap());
    assert_eq!(notifications(), before + 2);
    assert_eq!(store.event_cursor("rules").unwrap(), 9);
}

/// Two outbox consumers (EventBridge rules and command notifications) publish from the same
/// events with their own cursors: one's move neither moves nor blocks the other.
pub fn two_consumers_publish_from_the_same_events_with_their_own_cursors(store: &dyn Store) {
    store.create_topic(&topic("ops"), &[]).unwrap();
    let sub = subscription("o1", "ops", 10);
    store
        .add_subscription(&sub, Some(&confirmation(&sub, 10)))
        .unwrap();
    store
        .confirm_subscription(REGION, "ops", "token-o1")
        .unwrap()
        .unwrap();
    let notifications = || {
        store
            .list_deliveries(REGION)
            .unwrap()
            .into_iter()
            .filter(|d| d.kind == NOTIFICATION)
            .count()
    };
    let before = notifications();
    assert!(store
        .publish_from_events("rules", 0, 5, 50, &[message("m-r-1", "ops", 50)], &[])
        .unwrap());
    assert_eq!(store.event_cursor("command-notifications").unwrap(), 0);
    assert!(store
        .publish_from_events(
            "command-notifications",
            0,
            5,
            60,
            &[message("m-n-1", "ops", 60)],
            &[]
        )
        .unwrap());
    assert!(!store
        .publish_from_events(
            "command-notifications",
            0,
            5,
            70,
            &[message("m-n-1", "ops", 70)],
            &[]
        )
        .unwrap());
    assert_eq!(store.event_cursor("rules").unwrap(), 5);
    assert_eq!(store.event_cursor("command-notifications").unwrap(), 5);
    assert_eq!(notifications(), before + 2);
}
