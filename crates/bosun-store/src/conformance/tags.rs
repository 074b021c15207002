//! Tags of resources.

use super::concurrency::{race, THREADS};
use super::fixtures::{tags, OTHER_REGION, REGION};
use crate::prelude::*;

pub fn tags_are_added_overwritten_limited_and_removed(store: &dyn Store) {
    assert!(store
        .add_tags(REGION, "Document", "d", &tags(&[("b", "1"), ("a", "1")]), 3)
        .unwrap());
    assert!(store
        .add_tags(REGION, "Document", "d", &tags(&[("b", "2"), ("c", "1")]), 3)
        .unwrap());
    assert_eq!(
        store.tags(REGION, "Document", "d").unwrap(),
        tags(&[("a", "1"), ("b", "2"), ("c", "1")]),
        "sorted by key, values overwritten"
    );
    assert!(
        !store
            .add_tags(REGION, "Document", "d", &tags(&[("a", "9"), ("d", "1")]), 3)
            .unwrap(),
        "a fourth key is refused"
    );
    assert_eq!(
        store.tags(REGION, "Document", "d").unwrap(),
        tags(&[("a", "1"), ("b", "2"), ("c", "1")]),
        "a refused addition changes nothing"
    );
    assert!(store
        .add_tags(REGION, "Document", "d", &tags(&[("a", "9")]), 3)
        .unwrap());
    assert!(store
        .tags(OTHER_REGION, "Document", "d")
        .unwrap()
        .is_empty());
    assert!(store.tags(REGION, "Parameter", "d").unwrap().is_empty());

    store
        .remove_tags(
            REGION,
            "Document",
            "d",
            &["a".to_string(), "zz".to_string()],
        )
        .unwrap();
    assert_eq!(
        store.tags(REGION, "Document", "d").unwrap(),
        tags(&[("b", "2"), ("c", "1")])
    );
    store
        .remove_tags(REGION, "Document", "unknown", &["a".to_string()])
        .unwrap();
}

pub fn tags_of_a_type_are_listed_by_resource(store: &dyn Store) {
    store
        .add_tags(
            REGION,
            "ManagedInstance",
            "mi-2",
            &tags(&[("env", "prod")]),
            50,
        )
        .unwrap();
    store
        .add_tags(
            REGION,
            "ManagedInstance",
            "mi-1",
            &tags(&[("team", "ops"), ("env", "dev")]),
            50,
        )
        .unwrap();
    store
        .add_tags(REGION, "Document", "mi-1", &tags(&[("x", "y")]), 50)
        .unwrap();
    store
        .add_tags(
            OTHER_REGION,
            "ManagedInstance",
            "mi-3",
            &tags(&[("env", "dev")]),
            50,
        )
        .unwrap();
    let row = |id: &str, k: &str, v: &str| (id.to_string(), k.to_string(), v.to_string());
    assert_eq!(
        store.tags_of_type(REGION, "ManagedInstance").unwrap(),
        [
            row("mi-1", "env", "dev"),
            row("mi-1", "team", "ops"),
            row("mi-2", "env", "prod")
        ]
    );
    assert!(store.tags_of_type(REGION, "Parameter").unwrap().is_empty());
}

pub fn concurrent_additions_never_exceed_the_limit(store: &dyn Store) {
    // A resource with no tags yet (nothing to lock row by row) and one with some.
    store
        .add_tags(REGION, "Document", "some", &tags(&[("a", "1")]), 4)
        .unwrap();
    for resource in ["none", "some"] {
        let added = race(|t| {
            let key = format!("k{t}");
            store
                .add_tags(
                    REGION,
                    "Document",
                    resource,
                    &tags(&[(key.as_str(), "v")]),
                    4,
                )
                .unwrap()
        });
        let mut expected = store.tags(REGION, "Document", resource).unwrap();
        assert_eq!(expected.len(), 4, "{resource}: {added:?}");
        expected.retain(|(k, _)| k != "a");
        let winners: Vec<(String, String)> = (0..THREADS)
            .filter(|&t| added[t])
            .map(|t| (format!("k{t}"), "v".to_string()))
            .collect();
        assert_eq!(
            expected, winners,
            "{resource}: only refused additions are missing"
        );
    }
}

pub fn concurrent_overwrites_of_a_full_resource_are_all_accepted(store: &dyn Store) {
    store
        .add_tags(REGION, "Document", "d", &tags(&[("a", "0"), ("b", "0")]), 2)
        .unwrap();
    let added = race(|t| {
        let value = t.to_string();
        let key = if t % 2 == 0 { "a" } else { "b" };
        store
            .add_tags(REGION, "Document", "d", &tags(&[(key, value.as_str())]), 2)
            .unwrap()
    });
    assert!(added.iter().all(|a| *a), "{added:?}");
    let now = store.tags(REGION, "Document", "d").unwrap();
    assert_eq!(
        now.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
}
