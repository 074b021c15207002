//! Rate-limit slots and dedupe keys of SNS subscriptions: counted per window up to the
//! limit, claimed once per holder until they expire, pruned, deleted with the subscription,
//! and never over-granted under races.

use super::concurrency::{race, THREADS};
use super::fixtures::{OTHER_REGION, REGION};
use super::topics::{subscription, topic};
use crate::prelude::*;

fn subscribed(store: &dyn Store, ids: &[&str]) {
    store.create_topic(&topic("orders"), &[]).unwrap();
    for id in ids {
        store
            .add_subscription(&subscription(id, "orders", 10), None)
            .unwrap();
    }
}

pub fn slots_are_counted_per_window_and_subscription_up_to_the_limit(store: &dyn Store) {
    subscribed(store, &["s1", "s2"]);
    let take = |sub: &str, window: i64| {
        store
            .take_delivery_slot(REGION, sub, window, 2, window + 5_000)
            .unwrap()
    };
    assert!(take("s1", 0));
    assert!(take("s1", 0));
    assert!(!take("s1", 0), "the third of a limit of 2");
    assert!(!take("s1", 0), "still full");
    assert!(take("s1", 5_000), "the next window starts again");
    assert!(take("s2", 0), "each subscription has its own count");
    assert!(
        !store
            .take_delivery_slot(REGION, "s1", 10_000, 0, 15_000)
            .unwrap(),
        "a limit of 0 grants nothing"
    );
    assert!(
        store
            .take_delivery_slot(REGION, "gone", 0, 2, 5_000)
            .is_err(),
        "no marks for a subscription that does not exist"
    );
    assert!(store
        .take_delivery_slot(OTHER_REGION, "s1", 0, 2, 5_000)
        .is_err());
    // A raised limit grants more in the same window.
    assert!(store.take_delivery_slot(REGION, "s1", 0, 3, 5_000).unwrap());
    // Pruning drops expired windows only: the window at 0 counts from zero again.
    assert_eq!(store.prune_delivery_marks(5_000).unwrap(), 2);
    assert!(take("s1", 0));
    assert!(
        take("s1", 5_000),
        "the window at 5000 was kept with its count of 1"
    );
    assert!(!take("s1", 5_000));
}

pub fn a_key_is_claimed_once_per_holder_until_it_expires(store: &dyn Store) {
    subscribed(store, &["s1", "s2"]);
    let claim = |sub: &str, key: &str, holder: &str, now: i64| {
        store
            .claim_delivery_key(REGION, sub, key, holder, now, now + 1_000)
            .unwrap()
    };
    assert!(claim("s1", "k", "d1", 100));
    assert!(
        !claim("s1", "k", "d2", 200),
        "a duplicate within the window"
    );
    assert!(
        claim("s1", "k", "d1", 300),
        "the same delivery again (a retry)"
    );
    assert!(claim("s1", "other", "d2", 300), "another key");
    assert!(claim("s2", "k", "d2", 300), "another subscription");
    // d1's retry moved the expiry to 1300.
    assert!(!claim("s1", "k", "d3", 1_299));
    assert!(claim("s1", "k", "d3", 1_300), "expired: a new claim");
    assert!(!claim("s1", "k", "d1", 1_400), "d1 lost it to d3");
    assert!(claim("s1", "k", "d3", 1_400));
    assert!(store
        .claim_delivery_key(REGION, "gone", "k", "d1", 0, 10)
        .is_err());

    // Pruning removes what expired; deleting a subscription removes its marks.
    assert!(store
        .take_delivery_slot(REGION, "s2", 0, 1, 100_000)
        .unwrap());
    assert_eq!(
        store.prune_delivery_marks(1_300).unwrap(),
        2,
        "s1's other and s2's k"
    );
    assert!(store.delete_subscription(REGION, "s2").unwrap());
    store
        .add_subscription(&subscription("s2", "orders", 10), None)
        .unwrap();
    assert!(
        store
            .take_delivery_slot(REGION, "s2", 0, 1, 100_000)
            .unwrap(),
        "the old subscription's count went with it"
    );
    assert!(store.delete_topic(REGION, "orders").unwrap());
    assert_eq!(
        store.prune_delivery_marks(i64::MAX).unwrap(),
        0,
        "the topic's subscriptions took their marks"
    );
}

pub fn concurrent_takers_never_exceed_the_limit(store: &dyn Store) {
    subscribed(store, &["s1"]);
    let limit = (THREADS / 2) as u32 - 1;
    let granted: usize = race(|_| {
        (0..3)
            .filter(|_| {
                store
                    .take_delivery_slot(REGION, "s1", 0, limit, 60_000)
                    .unwrap()
            })
            .count()
    })
    .into_iter()
    .sum();
    assert_eq!(granted, limit as usize);
}

pub fn concurrent_holders_of_one_key_claim_it_once(store: &dyn Store) {
    subscribed(store, &["s1"]);
    let won: Vec<usize> = race(|i| {
        store
            .claim_delivery_key(REGION, "s1", "k", &format!("d{i}"), 100, 10_000)
            .unwrap()
            .then_some(i)
    })
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(won.len(), 1, "{won:?}");
    let winner = format!("d{}", won[0]);
    assert!(store
        .claim_delivery_key(REGION, "s1", "k", &winner, 200, 10_000)
        .unwrap());
}
