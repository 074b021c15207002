//! Rule targets' failed invocations: recorded once with the dispatcher's cursor move, listed
//! per region and rule, redriven into exactly one published message, or counted again.

use super::concurrency::race;
use super::fixtures::{OTHER_REGION, REGION};
use super::topics::{confirmation, message, subscription, topic};
use crate::prelude::*;
use crate::{RuleTargetFailure, NOTIFICATION};

fn failure(id: &str, rule: &str, seq: i64, at: i64) -> RuleTargetFailure {
    RuleTargetFailure {
        failure_id: id.into(),
        region: REGION.into(),
        rule_name: rule.into(),
        target_id: "t1".into(),
        target_arn: format!("arn:aws:sns:{REGION}:123456789012:ops"),
        event_id: format!("event-{seq}"),
        event_seq: seq,
        envelope: format!("{{\"id\":\"event-{seq}\"}}"),
        error: "the input template renders text that is not JSON".into(),
        attempts: 0,
        created_ms: at,
        updated_ms: at,
    }
}

fn confirmed_ops_topic(store: &dyn Store) {
    store.create_topic(&topic("ops"), &[]).unwrap();
    let sub = subscription("f1", "ops", 10);
    store
        .add_subscription(&sub, Some(&confirmation(&sub, 10)))
        .unwrap();
    store
        .confirm_subscription(REGION, "ops", "token-f1")
        .unwrap()
        .unwrap();
}

fn notifications(store: &dyn Store) -> usize {
    store
        .list_deliveries(REGION)
        .unwrap()
        .into_iter()
        .filter(|d| d.kind == NOTIFICATION)
        .count()
}

pub fn failures_are_recorded_once_with_the_cursor_and_listed_by_rule(store: &dyn Store) {
    let batch = [failure("f-1", "a", 3, 50), failure("f-2", "b", 4, 60)];
    assert!(store
        .publish_from_events("rules", 0, 4, 60, &[], &batch)
        .unwrap());
    // The same step again (another replica, or after a crash): the cursor moved, nothing twice.
    assert!(!store
        .publish_from_events("rules", 0, 4, 70, &[], &batch)
        .unwrap());
    // The same failure id in a later step is still one record.
    assert!(store
        .publish_from_events("rules", 4, 5, 80, &[], &[failure("f-1", "a", 3, 80)])
        .unwrap());
    let all = store.list_rule_target_failures(REGION, None).unwrap();
    assert_eq!(all, batch.to_vec());
    let a = store.list_rule_target_failures(REGION, Some("a")).unwrap();
    assert_eq!(a, vec![batch[0].clone()]);
    assert!(store
        .list_rule_target_failures(REGION, Some("zz"))
        .unwrap()
        .is_empty());
    assert!(store
        .list_rule_target_failures(OTHER_REGION, None)
        .unwrap()
        .is_empty());
}

pub fn a_redrive_publishes_once_and_a_failed_one_is_counted(store: &dyn Store) {
    confirmed_ops_topic(store);
    assert!(store
        .publish_from_events(
            "rules",
            0,
            2,
            50,
            &[],
            &[failure("f-1", "a", 1, 50), failure("f-2", "a", 2, 50)]
        )
        .unwrap());
    let before = notifications(store);

    assert!(store
        .note_rule_target_failure("f-2", "still not JSON", 90)
        .unwrap());
    let f2 = &store.list_rule_target_failures(REGION, None).unwrap()[1];
    assert_eq!(
        (f2.error.as_str(), f2.attempts, f2.updated_ms),
        ("still not JSON", 1, 90)
    );
    assert!(!store.note_rule_target_failure("nope", "x", 90).unwrap());

    // Two redrives race for one failure: one publishes, the other finds it gone.
    let outcomes = race(|_| {
        store
            .redeliver_rule_target_failure("f-1", &message("f-1", "ops", 100))
            .unwrap()
    });
    assert_eq!(outcomes.iter().filter(|won| **won).count(), 1);
    assert_eq!(notifications(store), before + 1);
    let left = store.list_rule_target_failures(REGION, None).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].failure_id, "f-2");
    // A topic deleted since: the failure is taken, nothing is published.
    assert!(store
        .redeliver_rule_target_failure("f-2", &message("f-2", "gone", 110))
        .unwrap());
    assert_eq!(notifications(store), before + 1);
}
