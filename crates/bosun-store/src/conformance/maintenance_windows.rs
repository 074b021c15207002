//! Maintenance windows, their targets and tasks.

use super::concurrency::race;
use super::fixtures::{tags, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{
    Changed, Registered, StoreError, WindowRecord, WindowTargetRecord, WindowTaskRecord,
    WINDOW_TAG_TYPE,
};

pub(super) fn window(i: usize) -> WindowRecord {
    WindowRecord {
        region: REGION.into(),
        window_id: format!("mw-{i:017x}"),
        name: format!("window-{i}"),
        description: String::new(),
        schedule: "cron(0 2 ? * SUN *)".into(),
        schedule_timezone: "Europe/Paris".into(),
        schedule_offset: 0,
        start_date: String::new(),
        end_date: String::new(),
        duration_hours: 3,
        cutoff_hours: 1,
        allow_unassociated_targets: false,
        enabled: true,
        client_token: String::new(),
        request_hash: format!("hash-{i}"),
        created_ms: 1_000,
        modified_ms: 1_000,
    }
}

pub(super) fn target(window: &str, i: usize) -> WindowTargetRecord {
    WindowTargetRecord {
        region: REGION.into(),
        window_id: window.into(),
        window_target_id: format!("00000000-0000-4000-8000-{i:012}"),
        resource_type: "INSTANCE".into(),
        targets_json: r#"[{"Key":"tag:role","Values":["web"]}]"#.into(),
        owner_information: String::new(),
        name: String::new(),
        description: String::new(),
        client_token: String::new(),
        request_hash: format!("target-{i}"),
        created_ms: 2_000,
    }
}

pub(super) fn task(window: &str, i: usize, target_ids: &[&str]) -> WindowTaskRecord {
    WindowTaskRecord {
        region: REGION.into(),
        window_id: window.into(),
        window_task_id: format!("11111111-0000-4000-8000-{i:012}"),
        task_arn: "AWS-RunShellScript".into(),
        task_type: "RUN_COMMAND".into(),
        targets_json: serde_json::json!([{"Key": "WindowTargetIds", "Values": target_ids}])
            .to_string(),
        service_role_arn: String::new(),
        task_parameters_json: "{}".into(),
        invocation_parameters_json: r#"{"RunCommand":{"Parameters":{"commands":["uptime"]}}}"#
            .into(),
        priority: 1,
        max_concurrency: "1".into(),
        max_errors: "0".into(),
        name: String::new(),
        description: String::new(),
        cutoff_behavior: "CONTINUE_TASK".into(),
        client_token: String::new(),
        request_hash: format!("task-{i}"),
        created_ms: 3_000,
        registered_by: format!("user-{i}"),
    }
}

pub fn windows_are_created_updated_listed_and_deleted_with_their_parts(store: &dyn Store) {
    let (a, b) = (window(2), window(1));
    assert_eq!(
        store
            .create_window(&a, &tags(&[("team", "ops")]), 50)
            .unwrap(),
        Registered::Created
    );
    store.create_window(&b, &[], 50).unwrap();
    assert_eq!(
        store.get_window(REGION, &a.window_id).unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.get_window(OTHER_REGION, &a.window_id).unwrap(), None);
    let ids: Vec<String> = store
        .list_windows(REGION)
        .unwrap()
        .into_iter()
        .map(|w| w.window_id)
        .collect();
    assert_eq!(ids, [b.window_id.clone(), a.window_id.clone()], "by id");

    let mut changed = a.clone();
    changed.enabled = false;
    changed.name = "renamed".into();
    changed.modified_ms = 5_000;
    changed.client_token = "ignored".into();
    assert!(store.update_window(&changed).unwrap());
    let stored = store.get_window(REGION, &a.window_id).unwrap().unwrap();
    assert_eq!((stored.name.as_str(), stored.enabled), ("renamed", false));
    assert_eq!(stored.modified_ms, 5_000);
    assert_eq!(stored.client_token, "", "the token is the creation's");
    assert!(!store.update_window(&window(9)).unwrap());

    store
        .register_target(&target(&a.window_id, 1), 100)
        .unwrap();
    store
        .register_task(
            &task(
                &a.window_id,
                1,
                &[&target(&a.window_id, 1).window_target_id],
            ),
            20,
        )
        .unwrap();
    assert!(store.delete_window(REGION, &a.window_id).unwrap());
    assert!(!store.delete_window(REGION, &a.window_id).unwrap());
    assert_eq!(store.get_window(REGION, &a.window_id).unwrap(), None);
    assert!(store.list_targets(REGION, &a.window_id).unwrap().is_empty());
    assert!(store.list_tasks(REGION, &a.window_id).unwrap().is_empty());
    assert!(store
        .tags(REGION, WINDOW_TAG_TYPE, &a.window_id)
        .unwrap()
        .is_empty());
    assert_eq!(store.list_windows(REGION).unwrap(), vec![b]);
}

pub fn client_tokens_replay_identical_creations_and_refuse_others(store: &dyn Store) {
    let mut first = window(1);
    first.client_token = "token-1".into();
    assert_eq!(
        store.create_window(&first, &[], 50).unwrap(),
        Registered::Created
    );
    let mut retry = window(2);
    retry.client_token = "token-1".into();
    retry.request_hash = first.request_hash.clone();
    assert_eq!(
        store.create_window(&retry, &[], 50).unwrap(),
        Registered::Replayed(first.window_id.clone())
    );
    retry.request_hash = "other".into();
    assert_eq!(
        store.create_window(&retry, &[], 50).unwrap(),
        Registered::TokenMismatch
    );
    retry.region = OTHER_REGION.into();
    assert_eq!(
        store.create_window(&retry, &[], 50).unwrap(),
        Registered::Created,
        "a token is the region's"
    );
    assert_eq!(store.list_windows(REGION).unwrap().len(), 1);

    let w = &first.window_id;
    let mut t1 = target(w, 1);
    t1.client_token = "t".into();
    assert_eq!(
        store.register_target(&t1, 100).unwrap(),
        Registered::Created
    );
    let mut t2 = target(w, 2);
    t2.client_token = "t".into();
    t2.request_hash = t1.request_hash.clone();
    assert_eq!(
        store.register_target(&t2, 100).unwrap(),
        Registered::Replayed(t1.window_target_id.clone())
    );
    t2.request_hash = "x".into();
    assert_eq!(
        store.register_target(&t2, 100).unwrap(),
        Registered::TokenMismatch
    );

    let mut k1 = task(w, 1, &[]);
    k1.client_token = "k".into();
    assert_eq!(store.register_task(&k1, 20).unwrap(), Registered::Created);
    let mut k2 = task(w, 2, &[]);
    k2.client_token = "k".into();
    k2.request_hash = k1.request_hash.clone();
    assert_eq!(
        store.register_task(&k2, 20).unwrap(),
        Registered::Replayed(k1.window_task_id.clone())
    );
    k2.request_hash = "x".into();
    assert_eq!(
        store.register_task(&k2, 20).unwrap(),
        Registered::TokenMismatch
    );
    assert_eq!(store.list_tasks(REGION, w).unwrap().len(), 1);
}

pub fn targets_and_tasks_follow_their_window_and_safe_deregistration(store: &dyn Store) {
    let w = window(1);
    let id = w.window_id.clone();
    store.create_window(&w, &[], 50).unwrap();
    assert_eq!(
        store
            .register_target(&target("mw-00000000000000009", 1), 100)
            .unwrap(),
        Registered::NoSuchWindow
    );
    let (t1, t2) = (target(&id, 1), target(&id, 2));
    store.register_target(&t2, 100).unwrap();
    store.register_target(&t1, 100).unwrap();
    assert_eq!(
        store.list_targets(REGION, &id).unwrap(),
        vec![t1.clone(), t2.clone()]
    );
    assert_eq!(store.list_region_targets(REGION).unwrap().len(), 2);
    assert!(store.list_region_targets(OTHER_REGION).unwrap().is_empty());
    assert!(matches!(
        store.register_target(&target(&id, 3), 2),
        Err(StoreError::LimitExceeded(_))
    ));

    let mut renamed = t1.clone();
    renamed.name = "web".into();
    renamed.targets_json = r#"[{"Key":"InstanceIds","Values":["mi-00000000000000001"]}]"#.into();
    assert_eq!(store.update_target(&renamed).unwrap(), Changed::Done);
    assert_eq!(store.list_targets(REGION, &id).unwrap()[0], renamed);
    assert_eq!(
        store.update_target(&target(&id, 7)).unwrap(),
        Changed::NotFound
    );

    assert_eq!(
        store
            .register_task(&task(&id, 1, &["00000000-0000-4000-8000-000000000009"]), 20)
            .unwrap(),
        Registered::NoSuchTarget("00000000-0000-4000-8000-000000000009".into())
    );
    let k = task(&id, 1, &[&t1.window_target_id]);
    assert_eq!(store.register_task(&k, 20).unwrap(), Registered::Created);
    assert_eq!(
        store.get_task(REGION, &id, &k.window_task_id).unwrap(),
        Some(k.clone())
    );
    assert!(matches!(
        store.register_task(&task(&id, 2, &[]), 1),
        Err(StoreError::LimitExceeded(_))
    ));
    assert_eq!(
        store
            .deregister_target(REGION, &id, &t1.window_target_id, true)
            .unwrap(),
        Changed::InUse(vec![k.window_task_id.clone()])
    );
    assert_eq!(
        store
            .deregister_target(REGION, &id, &t2.window_target_id, true)
            .unwrap(),
        Changed::Done,
        "no task names it"
    );

    let mut moved = k.clone();
    moved.targets_json =
        r#"[{"Key":"WindowTargetIds","Values":["00000000-0000-4000-8000-000000000002"]}]"#.into();
    assert_eq!(
        store.update_task(&moved).unwrap(),
        Changed::NoSuchTarget(t2.window_target_id.clone()),
        "that target is gone"
    );
    moved.targets_json = "[]".into();
    moved.priority = 5;
    moved.registered_by = "bob".into();
    assert_eq!(store.update_task(&moved).unwrap(), Changed::Done);
    assert_eq!(store.list_tasks(REGION, &id).unwrap(), vec![moved.clone()]);
    assert_eq!(store.list_region_tasks(REGION).unwrap(), vec![moved]);
    assert_eq!(
        store
            .deregister_target(REGION, &id, &t1.window_target_id, true)
            .unwrap(),
        Changed::Done
    );
    assert_eq!(
        store
            .deregister_target(REGION, &id, &t1.window_target_id, false)
            .unwrap(),
        Changed::NotFound
    );
    assert!(store
        .deregister_task(REGION, &id, &k.window_task_id)
        .unwrap());
    assert!(!store
        .deregister_task(REGION, &id, &k.window_task_id)
        .unwrap());
    assert_eq!(
        store.get_task(REGION, &id, &k.window_task_id).unwrap(),
        None
    );
}

pub fn concurrent_creations_never_exceed_the_window_limit(store: &dyn Store) {
    store.create_window(&window(100), &[], 3).unwrap();
    let outcomes = race(|i| store.create_window(&window(i), &[], 3));
    let created = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(created, 2, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .filter(|o| o.is_err())
        .all(|o| matches!(o, Err(StoreError::LimitExceeded(_)))));
    assert_eq!(store.list_windows(REGION).unwrap().len(), 3);

    // One token creates once, whoever wins.
    let outcomes = race(|i| {
        let mut w = window(200 + i);
        w.region = OTHER_REGION.into();
        w.client_token = "same".into();
        w.request_hash = "same".into();
        store.create_window(&w, &[], 50).unwrap()
    });
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Registered::Created)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(store.list_windows(OTHER_REGION).unwrap().len(), 1);
}

pub fn concurrent_registrations_never_exceed_the_task_limit(store: &dyn Store) {
    let w = window(1);
    store.create_window(&w, &[], 50).unwrap();
    let outcomes = race(|i| store.register_task(&task(&w.window_id, i, &[]), 3));
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        3,
        "{outcomes:?}"
    );
    let outcomes = race(|i| store.register_target(&target(&w.window_id, i), 5));
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        5,
        "{outcomes:?}"
    );
    assert_eq!(store.list_tasks(REGION, &w.window_id).unwrap().len(), 3);
    assert_eq!(store.list_targets(REGION, &w.window_id).unwrap().len(), 5);
}

/// A `Safe` deregistration and a registration of a task naming the target never both succeed.
pub fn safe_deregistration_races_task_registration(store: &dyn Store) {
    let w = window(1);
    let id = w.window_id.clone();
    store.create_window(&w, &[], 50).unwrap();
    for round in 0..4 {
        let t = target(&id, round);
        store.register_target(&t, 100).unwrap();
        let outcomes = race(|i| {
            if i % 2 == 0 {
                Ok(store
                    .deregister_target(REGION, &id, &t.window_target_id, true)
                    .unwrap()
                    == Changed::Done)
            } else {
                Err(store
                    .register_task(&task(&id, round * 100 + i, &[&t.window_target_id]), 1000)
                    .unwrap()
                    == Registered::Created)
            }
        });
        let removed = outcomes.contains(&Ok(true));
        let tasks = outcomes.iter().filter(|o| **o == Err(true)).count();
        assert!(removed != (tasks > 0), "round {round}: {outcomes:?}");
        for k in store.list_tasks(REGION, &id).unwrap() {
            store
                .deregister_task(REGION, &id, &k.window_task_id)
                .unwrap();
        }
        store
            .deregister_target(REGION, &id, &t.window_target_id, false)
            .unwrap();
    }
}
