//! Announced node ping statuses: compare-and-set with the event, once under races.

use bosun_core::events::envelope::{self, Event, Origin};
use serde_json::json;

use super::concurrency::race;
use super::fixtures::{node, REGION};
use super::instances::register;
use crate::prelude::*;

fn change<'a>(instance_id: &'a str, status: &'static str) -> impl Fn(&str) -> Event + 'a {
    move |previous: &str| {
        let id = format!("{instance_id}-{previous}-{status}");
        envelope::envelope(
            Origin {
                account: "123456789012",
                region: REGION,
                id: &id,
                now_ms: 1_000,
            },
            "Managed Node Ping Status-change Notification",
            vec![],
            json!({"instance-id": instance_id, "previous-ping-status": previous, "ping-status": status}),
        )
    }
}

fn announced(store: &dyn Store) -> Vec<(String, String)> {
    store
        .events_after(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.envelope).unwrap();
            (
                v["detail"]["previous-ping-status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                v["detail"]["ping-status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn a_nodes_first_status_is_silent_and_changes_are_announced_once(store: &dyn Store) {
    register(store, &[1, 2]);
    let (one, two) = (node(1, "a").instance_id, node(2, "a").instance_id);
    let listed = store.reported_pings().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .all(|p| p.reported.is_empty() && !p.deregistered));
    assert_eq!(listed[0].instance_id, one);

    assert!(store
        .report_ping(&one, None, "Online", 10, &change(&one, "Online"))
        .unwrap());
    assert!(
        announced(store).is_empty(),
        "a first status is recorded silently"
    );
    assert!(!store
        .report_ping(&one, None, "Online", 11, &change(&one, "Online"))
        .unwrap());
    assert!(
        !store
            .report_ping(
                &one,
                Some("ConnectionLost"),
                "Inactive",
                12,
                &change(&one, "Inactive")
            )
            .unwrap(),
        "only from the expected status"
    );
    assert!(store
        .report_ping(
            &one,
            Some("Online"),
            "ConnectionLost",
            13,
            &change(&one, "ConnectionLost")
        )
        .unwrap());
    assert_eq!(
        announced(store),
        [("Online".into(), "ConnectionLost".into())]
    );
    let reported = store.reported_pings().unwrap();
    assert_eq!(reported[0].reported, "ConnectionLost");
    assert_eq!(reported[1].reported, "", "the other node is untouched");

    assert!(store.deregister_instance(REGION, &two).unwrap());
    assert!(store
        .report_ping(&two, None, "Online", 14, &change(&two, "Online"))
        .unwrap());
    assert!(store
        .report_ping(&two, None, "Inactive", 15, &change(&two, "Inactive"))
        .unwrap());
    let left = store.reported_pings().unwrap();
    assert_eq!(left.len(), 1, "Inactive nodes are no longer watched");
    assert!(!store
        .report_ping(
            "mi-unknown",
            None,
            "Online",
            16,
            &change("mi-unknown", "Online")
        )
        .unwrap());
}

pub fn concurrent_announcements_of_one_change_write_one_event(store: &dyn Store) {
    register(store, &[1]);
    let one = node(1, "a").instance_id;
    store
        .report_ping(&one, None, "Online", 1, &change(&one, "Online"))
        .unwrap();
    let outcomes = race(|_| {
        store
            .report_ping(
                &one,
                Some("Online"),
                "ConnectionLost",
                2,
                &change(&one, "ConnectionLost"),
            )
            .unwrap()
    });
    assert_eq!(outcomes.iter().filter(|o| **o).count(), 1, "{outcomes:?}");
    assert_eq!(
        announced(store),
        [("Online".into(), "ConnectionLost".into())]
    );
}
