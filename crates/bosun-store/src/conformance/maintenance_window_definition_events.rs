//! Maintenance window definitions' events: a window's `Enabled` flipping, and a target's or
//! task's registration, update and deregistration, write their event with the change, once;
//! a retried registration, an update that changes nothing of the state, or a change of a
//! missing row writes none.

use serde_json::Value;

use super::maintenance_windows::{target, task, window};
use crate::prelude::*;
use crate::{Changed, Registered};

const STATE: &str = "Maintenance Window State-change Notification";
const TARGET: &str = "Maintenance Window Target Registration Notification";
const TASK: &str = "Maintenance Window Task Registration Notification";

/// (detail-type, status, the target or task id, or the window id) of the definition events.
fn definition_events(store: &dyn Store) -> Vec<(String, String, String)> {
    store
        .events_after(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|e| [STATE, TARGET, TASK].contains(&e.detail_type.as_str()))
        .map(|e| {
            let v: Value = serde_json::from_str(&e.envelope).unwrap();
            let d = &v["detail"];
            let about = ["window-target-id", "window-task-id", "window-id"]
                .iter()
                .find_map(|k| d[*k].as_str())
                .unwrap()
                .to_string();
            let status = d["status"].as_str().unwrap().to_string();
            (e.detail_type, status, about)
        })
        .collect()
}

fn ev(kind: &str, status: &str, about: &str) -> (String, String, String) {
    (kind.to_string(), status.to_string(), about.to_string())
}

pub fn definition_changes_write_their_events_with_the_change(store: &dyn Store) {
    let mut w = window(1);
    store.create_window(&w, &[], 50).unwrap();
    assert!(
        definition_events(store).is_empty(),
        "a creation is no state change"
    );
    let id = w.window_id.clone();

    w.description = "renamed".into();
    assert!(store.update_window(&w).unwrap());
    assert!(definition_events(store).is_empty(), "still enabled");
    w.enabled = false;
    assert!(store.update_window(&w).unwrap());
    assert!(store.update_window(&w).unwrap());
    w.enabled = true;
    assert!(store.update_window(&w).unwrap());
    let mut want = vec![ev(STATE, "DISABLED", &id), ev(STATE, "ENABLED", &id)];
    assert_eq!(definition_events(store), want);

    let t = target(&id, 1);
    let tid = t.window_target_id.clone();
    assert_eq!(store.register_target(&t, 5).unwrap(), Registered::Created);
    let mut retried = t.clone();
    retried.client_token = "token".into();
    let mut first = t.clone();
    first.window_target_id = "00000000-0000-4000-8000-000000000009".into();
    first.client_token = "token".into();
    assert_eq!(
        store.register_target(&first, 5).unwrap(),
        Registered::Created
    );
    let replay = store.register_target(&retried, 5).unwrap();
    assert!(matches!(replay, Registered::Replayed(_)), "{replay:?}");
    let mut changed = t.clone();
    changed.name = "web".into();
    assert_eq!(store.update_target(&changed).unwrap(), Changed::Done);
    want.extend([
        ev(TARGET, "REGISTERED", &tid),
        ev(TARGET, "REGISTERED", &first.window_target_id),
        ev(TARGET, "UPDATED", &tid),
    ]);
    assert_eq!(definition_events(store), want);

    let k = task(&id, 1, &[&tid]);
    let kid = k.window_task_id.clone();
    assert_eq!(store.register_task(&k, 5).unwrap(), Registered::Created);
    let mut k2 = k.clone();
    k2.priority = 3;
    assert_eq!(store.update_task(&k2).unwrap(), Changed::Done);
    let in_use = store.deregister_target(&w.region, &id, &tid, true).unwrap();
    assert!(matches!(in_use, Changed::InUse(_)), "{in_use:?}");
    assert!(store.deregister_task(&w.region, &id, &kid).unwrap());
    assert!(!store.deregister_task(&w.region, &id, &kid).unwrap());
    assert_eq!(
        store.deregister_target(&w.region, &id, &tid, true).unwrap(),
        Changed::Done
    );
    assert_eq!(
        store
            .deregister_target(&w.region, &id, &tid, false)
            .unwrap(),
        Changed::NotFound
    );
    want.extend([
        ev(TASK, "REGISTERED", &kid),
        ev(TASK, "UPDATED", &kid),
        ev(TASK, "DEREGISTERED", &kid),
        ev(TARGET, "DEREGISTERED", &tid),
    ]);
    assert_eq!(definition_events(store), want);

    let stored = store.events_after(0, 100_000).unwrap();
    let last: Value = serde_json::from_str(&stored.last().unwrap().envelope).unwrap();
    assert_eq!(last["source"], "aws.ssm");
    assert_eq!(last["region"], w.region.as_str());
    let resources = last["resources"].as_array().unwrap();
    assert!(resources[0]
        .as_str()
        .unwrap()
        .ends_with(&format!(":maintenancewindow/{id}")));
    assert!(resources[1]
        .as_str()
        .unwrap()
        .ends_with(&format!(":windowtarget/{tid}")));
}
