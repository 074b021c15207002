//! Activations and registering nodes against them.

use super::fixtures::{activation, node, tags, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{NodeFacts, RegisterOutcome};

pub fn activations_are_listed_fetched_and_deleted_with_their_tags(store: &dyn Store) {
    store
        .create_activation(&activation("b", 1), "hash-b", &tags(&[("env", "dev")]))
        .unwrap();
    store
        .create_activation(&activation("a", 2), "hash-a", &[])
        .unwrap();
    let listed = store.list_activations(REGION).unwrap();
    assert_eq!(listed, [activation("a", 2), activation("b", 1)], "by id");
    assert!(store.list_activations(OTHER_REGION).unwrap().is_empty());
    assert_eq!(
        store.get_activation(REGION, "b").unwrap(),
        Some(activation("b", 1))
    );
    assert_eq!(store.get_activation(OTHER_REGION, "b").unwrap(), None);
    assert_eq!(
        store.tags(REGION, "Activation", "b").unwrap(),
        tags(&[("env", "dev")])
    );
    assert!(
        store
            .create_activation(&activation("b", 1), "x", &[])
            .is_err(),
        "ids are unique in a region"
    );

    assert_eq!(
        store
            .register_instance("b", "hash-b", &node(1, "b"), 5)
            .unwrap(),
        RegisterOutcome::Registered
    );
    assert!(store.delete_activation(REGION, "b").unwrap());
    assert!(!store.delete_activation(REGION, "b").unwrap());
    assert_eq!(store.get_activation(REGION, "b").unwrap(), None);
    assert!(store.tags(REGION, "Activation", "b").unwrap().is_empty());
    assert!(
        store
            .get_instance(&node(1, "b").instance_id)
            .unwrap()
            .is_some(),
        "registered nodes stay registered"
    );
    assert_eq!(
        store
            .register_instance("b", "hash-b", &node(2, "b"), 5)
            .unwrap(),
        RegisterOutcome::InvalidActivation
    );
}

pub fn registration_checks_code_expiry_and_region(store: &dyn Store) {
    store
        .create_activation(&activation("a", 5), "hash", &[])
        .unwrap();
    assert_eq!(
        store
            .register_instance("a", "wrong", &node(1, "a"), 5)
            .unwrap(),
        RegisterOutcome::InvalidActivation
    );
    assert_eq!(
        store
            .register_instance("a", "hash", &node(1, "a"), 10_000)
            .unwrap(),
        RegisterOutcome::Expired
    );
    let mut elsewhere = node(1, "a");
    elsewhere.region = OTHER_REGION.into();
    assert_eq!(
        store.register_instance("a", "hash", &elsewhere, 5).unwrap(),
        RegisterOutcome::InvalidActivation
    );
    assert_eq!(
        store
            .register_instance("unknown", "hash", &node(1, "unknown"), 5)
            .unwrap(),
        RegisterOutcome::InvalidActivation
    );
    assert!(store.list_instances(REGION).unwrap().is_empty());
    assert_eq!(
        store
            .get_activation(REGION, "a")
            .unwrap()
            .unwrap()
            .registrations_count,
        0,
        "refusals are not counted"
    );
}

pub fn a_registration_stores_the_node_counts_it_and_copies_the_tags(store: &dyn Store) {
    store
        .create_activation(
            &activation("a", 1),
            "hash",
            &tags(&[("env", "dev"), ("team", "ops")]),
        )
        .unwrap();
    let n = node(7, "a");
    assert_eq!(
        store.register_instance("a", "hash", &n, 5).unwrap(),
        RegisterOutcome::Registered
    );
    assert_eq!(
        store
            .register_instance("a", "hash", &node(8, "a"), 5)
            .unwrap(),
        RegisterOutcome::LimitExceeded
    );
    let stored = store.get_instance(&n.instance_id).unwrap().unwrap();
    assert_eq!(stored.region, n.region);
    assert_eq!(stored.activation_id, "a");
    assert_eq!(stored.public_key, n.public_key);
    assert_eq!(stored.name, n.name);
    assert_eq!(stored.iam_role, n.iam_role);
    assert_eq!(stored.registration_ms, n.registration_ms);
    assert_eq!(stored.info, n.info);
    assert_ne!(stored.info, NodeFacts::default());
    assert_eq!(stored.last_ping_ms, n.registration_ms);
    assert!(!stored.deregistered);
    assert_eq!(
        store
            .get_activation(REGION, "a")
            .unwrap()
            .unwrap()
            .registrations_count,
        1
    );
    assert_eq!(
        store
            .tags(REGION, "ManagedInstance", &n.instance_id)
            .unwrap(),
        tags(&[("env", "dev"), ("team", "ops")])
    );
}
