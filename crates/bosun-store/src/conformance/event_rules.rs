//! EventBridge rules and their targets.

use super::concurrency::race;
use super::fixtures::{tags, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{EventRuleRecord, EventTargetRecord, RuleDeletion, StoreError, RULE_TAG_TYPE};

fn rule(name: &str) -> EventRuleRecord {
    EventRuleRecord {
        region: REGION.into(),
        name: name.into(),
        event_pattern: Some(r#"{"source":["aws.ssm"]}"#.into()),
        state: "ENABLED".into(),
        description: Some("failures".into()),
        role_arn: None,
        created_ms: 1_000,
    }
}

fn target(id: &str, arn: &str) -> EventTargetRecord {
    EventTargetRecord {
        target_id: id.into(),
        arn: arn.into(),
        definition: format!(r#"{{"Id":"{id}","Arn":"{arn}"}}"#),
    }
}

const TOPIC: &str = "arn:aws:sns:us-east-1:000000000000:ops";

fn names(rules: &[EventRuleRecord]) -> Vec<&str> {
    rules.iter().map(|r| r.name.as_str()).collect()
}

pub fn rules_are_put_replaced_listed_switched_and_deleted(store: &dyn Store) {
    assert!(store
        .put_rule(&rule("b-rule"), &tags(&[("team", "ops")]), 10)
        .unwrap());
    assert!(store.put_rule(&rule("a-rule"), &[], 10).unwrap());
    assert_eq!(
        store.get_rule(REGION, "b-rule").unwrap(),
        Some(rule("b-rule"))
    );
    assert_eq!(store.get_rule(OTHER_REGION, "b-rule").unwrap(), None);
    assert_eq!(
        names(&store.list_rules(REGION).unwrap()),
        ["a-rule", "b-rule"]
    );

    let replacement = EventRuleRecord {
        event_pattern: None,
        state: "DISABLED".into(),
        description: None,
        role_arn: Some("arn:aws:iam::000000000000:role/r".into()),
        created_ms: 9_999,
        ..rule("b-rule")
    };
    assert!(!store
        .put_rule(&replacement, &tags(&[("ignored", "on update")]), 10)
        .unwrap());
    let stored = store.get_rule(REGION, "b-rule").unwrap().unwrap();
    assert_eq!(
        stored,
        EventRuleRecord {
            created_ms: 1_000,
            ..replacement
        },
        "a replacement keeps the creation time"
    );
    assert_eq!(
        store.tags(REGION, RULE_TAG_TYPE, "b-rule").unwrap(),
        tags(&[("team", "ops")]),
        "tags are written on creation only"
    );

    assert!(store.set_rule_state(REGION, "a-rule", "DISABLED").unwrap());
    assert!(!store.set_rule_state(REGION, "none", "DISABLED").unwrap());
    assert_eq!(
        store.get_rule(REGION, "a-rule").unwrap().unwrap().state,
        "DISABLED"
    );

    assert!(matches!(
        store.put_rule(&rule("c-rule"), &[], 2),
        Err(StoreError::LimitExceeded(_))
    ));
    assert_eq!(store.get_rule(REGION, "c-rule").unwrap(), None);
    assert!(
        !store.put_rule(&rule("a-rule"), &[], 2).unwrap(),
        "replacing a rule at the limit is allowed"
    );

    assert_eq!(
        store.delete_rule(REGION, "b-rule").unwrap(),
        RuleDeletion::Deleted
    );
    assert_eq!(
        store.delete_rule(REGION, "b-rule").unwrap(),
        RuleDeletion::NotFound
    );
    assert!(store
        .tags(REGION, RULE_TAG_TYPE, "b-rule")
        .unwrap()
        .is_empty());
    assert!(store.put_rule(&rule("b-rule"), &[], 10).unwrap());
    assert!(store
        .tags(REGION, RULE_TAG_TYPE, "b-rule")
        .unwrap()
        .is_empty());
}

pub fn targets_are_put_limited_removed_and_block_deletion(store: &dyn Store) {
    assert!(matches!(
        store.put_targets(REGION, "none", &[target("t1", TOPIC)], 5),
        Err(StoreError::NotFound(_))
    ));
    store.put_rule(&rule("r"), &[], 10).unwrap();
    store.put_rule(&rule("other"), &[], 10).unwrap();
    store
        .put_targets(
            REGION,
            "r",
            &[target("t2", TOPIC), target("t1", "arn:x")],
            3,
        )
        .unwrap();
    store
        .put_targets(REGION, "r", &[target("t1", TOPIC)], 3)
        .unwrap();
    assert_eq!(
        store.rule_targets(REGION, "r").unwrap(),
        [target("t1", TOPIC), target("t2", TOPIC)],
        "an id put again is replaced; listed by id"
    );
    assert!(matches!(
        store.put_targets(REGION, "r", &[target("t3", TOPIC), target("t4", TOPIC)], 3),
        Err(StoreError::LimitExceeded(_))
    ));
    assert_eq!(
        store.rule_targets(REGION, "r").unwrap().len(),
        2,
        "a refused put changes nothing"
    );
    store
        .put_targets(REGION, "other", &[target("x", TOPIC)], 3)
        .unwrap();
    assert_eq!(
        store.rule_names_by_target(REGION, TOPIC).unwrap(),
        ["other", "r"]
    );
    assert!(store
        .rule_names_by_target(OTHER_REGION, TOPIC)
        .unwrap()
        .is_empty());

    assert_eq!(
        store.delete_rule(REGION, "r").unwrap(),
        RuleDeletion::HasTargets
    );
    assert!(store.get_rule(REGION, "r").unwrap().is_some());
    assert!(matches!(
        store.remove_targets(REGION, "none", &["t1".into()]),
        Err(StoreError::NotFound(_))
    ));
    store
        .remove_targets(REGION, "r", &["t1".into(), "absent".into()])
        .unwrap();
    assert_eq!(
        store.rule_targets(REGION, "r").unwrap(),
        [target("t2", TOPIC)]
    );
    store.remove_targets(REGION, "r", &["t2".into()]).unwrap();
    assert_eq!(
        store.delete_rule(REGION, "r").unwrap(),
        RuleDeletion::Deleted
    );
    assert!(store.rule_targets(REGION, "r").unwrap().is_empty());
}

pub fn enabled_rules_come_with_their_targets(store: &dyn Store) {
    store.put_rule(&rule("on"), &[], 10).unwrap();
    store.put_rule(&rule("bare"), &[], 10).unwrap();
    store
        .put_rule(
            &EventRuleRecord {
                state: "DISABLED".into(),
                ..rule("off")
            },
            &[],
            10,
        )
        .unwrap();
    store
        .put_targets(REGION, "on", &[target("b", TOPIC), target("a", TOPIC)], 5)
        .unwrap();
    store
        .put_targets(REGION, "off", &[target("a", TOPIC)], 5)
        .unwrap();
    let matched = store.enabled_rules_with_targets(REGION).unwrap();
    let shape: Vec<(&str, Vec<&str>)> = matched
        .iter()
        .map(|(r, ts)| {
            (
                r.name.as_str(),
                ts.iter().map(|t| t.target_id.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(shape, [("bare", vec![]), ("on", vec!["a", "b"])]);
    assert!(store
        .enabled_rules_with_targets(OTHER_REGION)
        .unwrap()
        .is_empty());
}

pub fn concurrent_rule_creations_never_exceed_the_limit(store: &dyn Store) {
    let created = race(|i| store.put_rule(&rule(&format!("rule-{i}")), &[], 3));
    let ok = created.iter().filter(|r| matches!(r, Ok(true))).count();
    assert_eq!(ok, 3, "{created:?}");
    assert!(created
        .iter()
        .all(|r| matches!(r, Ok(true) | Err(StoreError::LimitExceeded(_)))));
    assert_eq!(store.list_rules(REGION).unwrap().len(), 3);
}

pub fn concurrent_target_additions_never_exceed_the_limit(store: &dyn Store) {
    store.put_rule(&rule("r"), &[], 10).unwrap();
    let added = race(|i| store.put_targets(REGION, "r", &[target(&format!("t{i}"), TOPIC)], 5));
    assert_eq!(added.iter().filter(|r| r.is_ok()).count(), 5, "{added:?}");
    assert_eq!(store.rule_targets(REGION, "r").unwrap().len(), 5);
}

pub fn a_rule_racing_its_deletion_never_keeps_orphan_targets(store: &dyn Store) {
    store.put_rule(&rule("r"), &[], 10).unwrap();
    race(|i| {
        if i % 2 == 0 {
            let _ = store.put_targets(REGION, "r", &[target(&format!("t{i}"), TOPIC)], 100);
        } else {
            let _ = store.delete_rule(REGION, "r");
        }
    });
    let rule_left = store.get_rule(REGION, "r").unwrap().is_some();
    let targets_left = !store.rule_targets(REGION, "r").unwrap().is_empty();
    assert!(rule_left || !targets_left, "targets outlived their rule");
}
