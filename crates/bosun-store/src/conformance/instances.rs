//! Managed nodes.

use super::concurrency::race;
use super::fixtures::{activation, node, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{NodeFacts, RegisterOutcome};

/// Register nodes `nodes` (fixtures' numbering) through one activation `a`.
pub(super) fn register(store: &dyn Store, nodes: &[usize]) {
    store
        .create_activation(&activation("a", 10), "hash", &[])
        .unwrap();
    for i in nodes {
        assert_eq!(
            store
                .register_instance("a", "hash", &node(*i, "a"), 5)
                .unwrap(),
            RegisterOutcome::Registered
        );
    }
}

pub fn nodes_are_read_by_ids_in_one_call(store: &dyn Store) {
    register(store, &[1, 2, 3]);
    let (one, three) = (node(1, "a").instance_id, node(3, "a").instance_id);
    let ids = [
        three.clone(),
        "mi-unknown".to_string(),
        one.clone(),
        three.clone(),
    ];
    let mut found: Vec<String> = store
        .instances_by_ids(&ids)
        .unwrap()
        .into_iter()
        .map(|n| n.instance_id)
        .collect();
    found.sort();
    let mut expected = vec![one, three];
    expected.sort();
    assert_eq!(found, expected, "the nodes that exist, each once");
    assert!(store.instances_by_ids(&[]).unwrap().is_empty());
}

pub fn nodes_are_listed_updated_touched_and_re_roled(store: &dyn Store) {
    register(store, &[2, 1]);
    let (one, two) = (node(1, "a").instance_id, node(2, "a").instance_id);
    let listed = store.list_instances(REGION).unwrap();
    assert_eq!(
        listed.iter().map(|n| &n.instance_id).collect::<Vec<_>>(),
        [&one, &two],
        "by id"
    );
    assert!(store.list_instances(OTHER_REGION).unwrap().is_empty());
    assert_eq!(store.get_instance("mi-unknown").unwrap(), None);

    let facts = NodeFacts {
        computer_name: "renamed".into(),
        ip_address: "10.0.0.9".into(),
        platform_type: "Linux".into(),
        platform_name: "Ubuntu".into(),
        platform_version: "24.04".into(),
        agent_version: "0.2.0".into(),
        network_interfaces: vec![bosun_core::power::NetworkInterface {
            name: "eth0".into(),
            mac_address: "aa:bb:cc:dd:ee:01".into(),
            ipv4_addresses: vec!["10.0.0.9/24".into(), "192.168.1.9/16".into()],
        }],
        boot_id: "6f0c2b6e-0000-4000-8000-000000000001".into(),
        packages: vec![bosun_core::document::InstalledPackage {
            name: "Tools".into(),
            version: "1.0".into(),
        }],
    };
    store.update_instance_info(&one, &facts, 100).unwrap();
    let stored = store.get_instance(&one).unwrap().unwrap();
    assert_eq!(stored.info, facts);
    assert_eq!(stored.last_ping_ms, 100);
    // A later report replaces the interfaces, boot id (a restarted node has a new boot id) and
    // installed packages.
    let rebooted = NodeFacts {
        network_interfaces: Vec::new(),
        packages: Vec::new(),
        boot_id: "6f0c2b6e-0000-4000-8000-000000000002".into(),
        ..facts.clone()
    };
    store.update_instance_info(&one, &rebooted, 150).unwrap();
    assert_eq!(store.get_instance(&one).unwrap().unwrap().info, rebooted);
    store.update_instance_info(&one, &facts, 100).unwrap();
    store.touch_instance(&one, 200).unwrap();
    assert_eq!(store.get_instance(&one).unwrap().unwrap().last_ping_ms, 200);
    assert_eq!(
        store.get_instance(&two).unwrap().unwrap().info,
        node(2, "a").info,
        "other nodes are untouched"
    );
    store.touch_instance("mi-unknown", 1).unwrap();

    assert!(store.set_instance_role(REGION, &one, "new-role").unwrap());
    assert_eq!(
        store.get_instance(&one).unwrap().unwrap().iam_role,
        "new-role"
    );
    assert!(!store.set_instance_role(OTHER_REGION, &one, "x").unwrap());
    assert!(!store.set_instance_role(REGION, "mi-unknown", "x").unwrap());
}

pub fn deregistration_happens_once_and_freezes_the_role(store: &dyn Store) {
    register(store, &[1]);
    let one = node(1, "a").instance_id;
    assert!(!store.deregister_instance(OTHER_REGION, &one).unwrap());
    assert!(!store.get_instance(&one).unwrap().unwrap().deregistered);
    assert!(store.deregister_instance(REGION, &one).unwrap());
    assert!(!store.deregister_instance(REGION, &one).unwrap());
    assert!(!store.deregister_instance(REGION, "mi-unknown").unwrap());
    let stored = store.get_instance(&one).unwrap().unwrap();
    assert!(stored.deregistered);
    assert_eq!(
        store.list_instances(REGION).unwrap(),
        std::slice::from_ref(&stored),
        "deregistered nodes are still listed"
    );
    assert!(!store.set_instance_role(REGION, &one, "x").unwrap());
    assert_eq!(
        store.get_instance(&one).unwrap().unwrap().iam_role,
        stored.iam_role
    );
}

pub fn concurrent_deregistrations_succeed_once_and_stop_role_changes(store: &dyn Store) {
    register(store, &[1]);
    let one = node(1, "a").instance_id;
    // Even threads deregister the node, odd ones give it a role of their own.
    let outcomes = race(|i| {
        if i % 2 == 0 {
            store.deregister_instance(REGION, &one).unwrap()
        } else {
            store
                .set_instance_role(REGION, &one, &format!("role-{i}"))
                .unwrap()
        }
    });
    let deregistered: Vec<usize> = (0..outcomes.len())
        .filter(|i| i % 2 == 0 && outcomes[*i])
        .collect();
    assert_eq!(
        deregistered.len(),
        1,
        "exactly one deregistration: {outcomes:?}"
    );
    let stored = store.get_instance(&one).unwrap().unwrap();
    assert!(stored.deregistered);
    let roles_set: Vec<String> = (0..outcomes.len())
        .filter(|i| i % 2 == 1 && outcomes[*i])
        .map(|i| format!("role-{i}"))
        .collect();
    assert!(
        roles_set.contains(&stored.iam_role)
            || (roles_set.is_empty() && stored.iam_role == node(1, "a").iam_role),
        "the role is one a call reported set: {} of {roles_set:?}",
        stored.iam_role
    );
    assert!(!store.deregister_instance(REGION, &one).unwrap());
    assert!(!store.set_instance_role(REGION, &one, "late").unwrap());
}
