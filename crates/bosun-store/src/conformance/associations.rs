//! Associations: creation, reads, filters and paging, versioned updates with their optimistic
//! check, deletion, the region's limit and the legacy (document, node) uniqueness, and races.

use super::concurrency::race;
use super::fixtures::{tags, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{
    AssociationDefinition, AssociationFilter, AssociationRecord, AssociationState, StoreError,
    UpdateAssociation,
};

pub(super) fn definition(document: &str) -> AssociationDefinition {
    AssociationDefinition {
        name: document.into(),
        document_version: String::new(),
        instance_id: String::new(),
        association_name: String::new(),
        schedule_expression: "rate(30 minutes)".into(),
        apply_only_at_cron_interval: false,
        schedule_offset: 0,
        duration_hours: 0,
        spec_json: r#"{"Targets":[{"Key":"tag:env","Values":["prod"]}]}"#.into(),
    }
}

pub(super) fn association(id: &str, document: &str, created_ms: i64) -> AssociationRecord {
    AssociationRecord {
        region: REGION.into(),
        association_id: id.into(),
        version: 1,
        created_ms,
        updated_ms: created_ms,
        definition: definition(document),
        state: AssociationState {
            status_name: "Pending".into(),
            status_message: "Associated with the document".into(),
            status_date_ms: created_ms,
            overview_status: "Pending".into(),
            overview_detailed_status: "Creating".into(),
            overview_counts_json: "{}".into(),
            last_execution_ms: None,
            last_successful_execution_ms: None,
        },
    }
}

pub(super) fn id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012x}")
}

fn ids(list: &[AssociationRecord]) -> Vec<String> {
    list.iter().map(|a| a.association_id.clone()).collect()
}

pub fn associations_are_created_read_listed_and_deleted_with_their_tags(store: &dyn Store) {
    let first = association(&id(1), "Deploy", 10);
    store
        .create_association(&first, &tags(&[("team", "ops")]), 10)
        .unwrap();
    assert_eq!(
        store.get_association(REGION, &id(1)).unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.get_association(OTHER_REGION, &id(1)).unwrap(), None);
    assert_eq!(
        store.tags(REGION, "Association", &id(1)).unwrap(),
        tags(&[("team", "ops")])
    );
    let v1 = store
        .association_version(REGION, &id(1), 1)
        .unwrap()
        .unwrap();
    assert_eq!((v1.version, v1.created_ms), (1, 10));
    assert_eq!(v1.definition, first.definition);

    // Legacy associations: one per document and node; `Targets` ones are unlimited.
    let mut legacy = association(&id(2), "Deploy", 20);
    legacy.definition.instance_id = "mi-00000000000000001".into();
    legacy.definition.association_name = "nightly".into();
    store.create_association(&legacy, &[], 10).unwrap();
    let mut again = association(&id(3), "Deploy", 30);
    again.definition.instance_id = legacy.definition.instance_id.clone();
    assert!(matches!(
        store.create_association(&again, &[], 10),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(store.get_association(REGION, &id(3)).unwrap(), None);
    store
        .create_association(&association(&id(3), "Deploy", 30), &[], 10)
        .unwrap();
    let mut other_doc = association(&id(4), "Patch", 40);
    other_doc.state.overview_status = "Success".into();
    other_doc.state.last_execution_ms = Some(500);
    store.create_association(&other_doc, &[], 10).unwrap();
    assert_eq!(
        store
            .association_of_node(REGION, "Deploy", "mi-00000000000000001")
            .unwrap()
            .map(|a| a.association_id),
        Some(id(2))
    );
    assert_eq!(
        store.association_of_node(REGION, "Deploy", "").unwrap(),
        None
    );

    // Filters and paging.
    let all = AssociationFilter::default();
    assert_eq!(
        ids(&store.list_associations(REGION, &all, None, 50).unwrap()),
        vec![id(1), id(2), id(3), id(4)]
    );
    assert!(store
        .list_associations(OTHER_REGION, &all, None, 50)
        .unwrap()
        .is_empty());
    let page = store.list_associations(REGION, &all, None, 3).unwrap();
    assert_eq!(ids(&page), vec![id(1), id(2), id(3)]);
    let rest = store
        .list_associations(REGION, &all, Some(&id(3)), 3)
        .unwrap();
    assert_eq!(ids(&rest), vec![id(4)]);
    let by = |f: AssociationFilter| ids(&store.list_associations(REGION, &f, None, 50).unwrap());
    assert_eq!(
        by(AssociationFilter {
            name: Some("Deploy".into()),
            ..Default::default()
        }),
        vec![id(1), id(2), id(3)]
    );
    assert_eq!(
        by(AssociationFilter {
            association_id: Some(id(4)),
            ..Default::default()
        }),
        vec![id(4)]
    );
    assert_eq!(
        by(AssociationFilter {
            association_name: Some("nightly".into()),
            ..Default::default()
        }),
        vec![id(2)]
    );
    assert_eq!(
        by(AssociationFilter {
            instance_id: Some("mi-00000000000000001".into()),
            ..Default::default()
        }),
        vec![id(2)]
    );
    assert_eq!(
        by(AssociationFilter {
            overview_status: Some("Success".into()),
            ..Default::default()
        }),
        vec![id(4)]
    );
    for (before, after, expected) in [
        (Some(501), None, vec![id(4)]),
        (Some(500), None, vec![]),
        (None, Some(499), vec![id(4)]),
        (None, Some(500), vec![]),
    ] {
        assert_eq!(
            by(AssociationFilter {
                last_executed_before_ms: before,
                last_executed_after_ms: after,
                ..Default::default()
            }),
            expected,
            "{before:?} {after:?}"
        );
    }
    assert_eq!(
        by(AssociationFilter {
            name: Some("Deploy".into()),
            overview_status: Some("Success".into()),
            ..Default::default()
        }),
        Vec::<String>::new()
    );

    assert!(store.delete_association(REGION, &id(1)).unwrap());
    assert!(!store.delete_association(REGION, &id(1)).unwrap());
    assert_eq!(store.get_association(REGION, &id(1)).unwrap(), None);
    assert_eq!(store.association_version(REGION, &id(1), 1).unwrap(), None);
    assert!(store
        .tags(REGION, "Association", &id(1))
        .unwrap()
        .is_empty());
    // The freed legacy pair can be taken again once its association is gone.
    assert!(store.delete_association(REGION, &id(2)).unwrap());
    let mut reuse = association(&id(5), "Deploy", 50);
    reuse.definition.instance_id = "mi-00000000000000001".into();
    store.create_association(&reuse, &[], 10).unwrap();
}

pub fn updates_add_versions_checked_against_the_expected_one(store: &dyn Store) {
    store
        .create_association(&association(&id(1), "Deploy", 10), &[], 10)
        .unwrap();
    let mut second = definition("Deploy");
    second.schedule_expression = "cron(0 5 ? * TUE *)".into();
    second.apply_only_at_cron_interval = true;
    second.schedule_offset = 2;
    second.duration_hours = 3;
    second.association_name = "weekly".into();
    let updated = match store
        .update_association(REGION, &id(1), Some(1), &second, 20, 5)
        .unwrap()
    {
        UpdateAssociation::Updated(a) => a,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        (updated.version, updated.created_ms, updated.updated_ms),
        (2, 10, 20)
    );
    assert_eq!(updated.definition, second);
    assert_eq!(
        updated.state.overview_detailed_status, "Creating",
        "state kept"
    );
    assert_eq!(
        store
            .update_association(REGION, &id(1), Some(1), &second, 30, 5)
            .unwrap(),
        UpdateAssociation::VersionMismatch(2)
    );
    assert_eq!(
        store
            .update_association(REGION, &id(9), None, &second, 30, 5)
            .unwrap(),
        UpdateAssociation::NoSuchAssociation
    );
    assert_eq!(
        store
            .update_association(OTHER_REGION, &id(1), None, &second, 30, 5)
            .unwrap(),
        UpdateAssociation::NoSuchAssociation
    );
    assert!(matches!(
        store
            .update_association(REGION, &id(1), None, &definition("Deploy"), 30, 5)
            .unwrap(),
        UpdateAssociation::Updated(a) if a.version == 3
    ));
    assert_eq!(
        store
            .update_association(REGION, &id(1), Some(3), &second, 40, 3)
            .unwrap(),
        UpdateAssociation::LimitExceeded
    );
    let versions = store.association_versions(REGION, &id(1), 0, 50).unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version, v.created_ms))
            .collect::<Vec<_>>(),
        vec![(1, 10), (2, 20), (3, 30)]
    );
    assert_eq!(versions[1].definition, second);
    assert_eq!(
        store
            .association_versions(REGION, &id(1), 1, 1)
            .unwrap()
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>(),
        vec![2]
    );
    let head = store.get_association(REGION, &id(1)).unwrap().unwrap();
    assert_eq!((head.version, head.definition), (3, definition("Deploy")));

    // An update may not take a legacy pair another association has.
    let mut legacy = association(&id(2), "Deploy", 50);
    legacy.definition.instance_id = "mi-00000000000000002".into();
    store.create_association(&legacy, &[], 10).unwrap();
    assert!(matches!(
        store.update_association(REGION, &id(1), None, &legacy.definition, 60, 10),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        store
            .get_association(REGION, &id(1))
            .unwrap()
            .unwrap()
            .version,
        3
    );
}

pub fn concurrent_updates_expecting_one_version_succeed_once(store: &dyn Store) {
    store
        .create_association(&association(&id(1), "Deploy", 10), &[], 10)
        .unwrap();
    let outcomes = race(|t| {
        let mut d = definition("Deploy");
        d.association_name = format!("thread-{t}");
        store
            .update_association(REGION, &id(1), Some(1), &d, 20 + t as i64, 100)
            .unwrap()
    });
    let winners: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            UpdateAssociation::Updated(a) => Some(a.definition.association_name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(
        o,
        UpdateAssociation::Updated(_) | UpdateAssociation::VersionMismatch(2)
    )));
    let head = store.get_association(REGION, &id(1)).unwrap().unwrap();
    assert_eq!(head.version, 2);
    assert_eq!(head.definition.association_name, winners[0]);

    // Without an expected version every update lands, on distinct consecutive numbers.
    let numbers = race(|t| {
        let mut d = definition("Deploy");
        d.association_name = format!("free-{t}");
        match store
            .update_association(REGION, &id(1), None, &d, 100, 100)
            .unwrap()
        {
            UpdateAssociation::Updated(a) => a.version,
            other => panic!("unexpected {other:?}"),
        }
    });
    let mut numbers = numbers;
    numbers.sort_unstable();
    let total = 2 + numbers.len() as i64;
    assert_eq!(numbers, (3..=total).collect::<Vec<_>>());
    assert_eq!(
        store
            .association_versions(REGION, &id(1), 0, 100)
            .unwrap()
            .len() as i64,
        total
    );
}

pub fn concurrent_creations_never_exceed_the_limit(store: &dyn Store) {
    store
        .create_association(&association(&id(100), "Deploy", 1), &[], 4)
        .unwrap();
    let outcomes = race(|t| store.create_association(&association(&id(t), "Deploy", 2), &[], 4));
    let created = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(created, 3, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(()) | Err(StoreError::LimitExceeded(_)))));
    let listed = store
        .list_associations(REGION, &AssociationFilter::default(), None, 50)
        .unwrap();
    assert_eq!(listed.len(), 4);
    // Other regions have their own limit.
    let mut elsewhere = association(&id(200), "Deploy", 1);
    elsewhere.region = OTHER_REGION.into();
    store.create_association(&elsewhere, &[], 4).unwrap();

    // Of racing legacy creations for one document and node, exactly one succeeds.
    let outcomes = race(|t| {
        let mut a = association(&id(300 + t), "Legacy", 3);
        a.definition.instance_id = "mi-00000000000000003".into();
        store.create_association(&a, &[], 100)
    });
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(()) | Err(StoreError::AlreadyExists(_)))));
}
