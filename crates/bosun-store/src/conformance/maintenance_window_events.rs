//! Maintenance window runs' events: an execution, task or invocation entering a final status
//! writes its event in the same transaction, exactly once; so does starting one
//! (`IN_PROGRESS`, without an end time); going on writes none.

use super::fixtures::REGION;
use super::maintenance_window_runs::{execution, task_execution, task_invocation};
use super::maintenance_windows::window;
use crate::prelude::*;
use crate::{SlotFired, TaskExecutionRecord, TaskInvocationRecord, WindowExecutionRecord};

const EXECUTION: &str = "Maintenance Window Execution State-change Notification";
const TASK: &str = "Maintenance Window Task Execution State-change Notification";
const INVOCATION: &str = "Maintenance Window Task Target Invocation State-change Notification";

/// The maintenance window events written after outbox position `after`: (detail-type,
/// status, the id it is about).
fn window_events(store: &dyn Store, after: i64) -> Vec<(String, String, String)> {
    store
        .events_after(after, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.detail_type.starts_with("Maintenance Window"))
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.envelope).unwrap();
            let d = &v["detail"];
            let about = ["task-execution-id", "window-execution-id"]
                .iter()
                .find_map(|k| d[*k].as_str())
                .unwrap_or_default()
                .to_string();
            let status = d["status"].as_str().unwrap_or_default().to_string();
            (e.detail_type, status, about)
        })
        .collect()
}

fn outbox_end(store: &dyn Store) -> i64 {
    store
        .events_after(0, 100_000)
        .unwrap()
        .last()
        .map_or(0, |e| e.seq)
}

fn ev(kind: &str, status: &str, about: &str) -> (String, String, String) {
    (kind.to_string(), status.to_string(), about.to_string())
}

pub fn window_run_endings_write_their_events_with_the_change(store: &dyn Store) {
    let w = window(1);
    store.create_window(&w, &[], 50).unwrap();
    let id = &w.window_id;
    let start = outbox_end(store);
    let e1 = execution(id, "e1", 1_000);
    let (t1, t2) = (task_execution("e1", 1, 1), task_execution("e1", 2, 2));
    let skip = |e: &WindowExecutionRecord| WindowExecutionRecord {
        status: "SKIPPED_OVERLAPPING".into(),
        end_ms: e.start_ms,
        ..e.clone()
    };
    // Starting an execution emits its start; a slot skipped for overlapping ends at once.
    let fired = store.fire_window_slot(&e1, &[t1.clone(), t2.clone()], &skip(&e1));
    assert_eq!(fired.unwrap(), SlotFired::Started);
    let mut want = vec![ev(EXECUTION, "IN_PROGRESS", "e1")];
    assert_eq!(window_events(store, start), want);
    let e2 = execution(id, "e2", 2_000);
    let fired = store.fire_window_slot(&e2, &[], &skip(&e2)).unwrap();
    assert_eq!(fired, SlotFired::Skipped);
    want.push(ev(EXECUTION, "SKIPPED_OVERLAPPING", "e2"));
    assert_eq!(window_events(store, start), want);
    // A task starting, and an invocation leaving `Waiting`, emit their start, once.
    let started = TaskExecutionRecord {
        status: "IN_PROGRESS".into(),
        start_ms: 1_100,
        ..t1.clone()
    };
    let inv = task_invocation(&started, 0);
    assert!(store
        .start_window_task(&started, std::slice::from_ref(&inv))
        .unwrap());
    assert!(!store
        .start_window_task(&started, std::slice::from_ref(&inv))
        .unwrap());
    want.push(ev(TASK, "IN_PROGRESS", "e1-t1"));
    let running = TaskInvocationRecord {
        phase: "Running".into(),
        status: "IN_PROGRESS".into(),
        start_ms: 1_200,
        ..inv.clone()
    };
    assert!(store.update_task_invocation(&running, "Waiting").unwrap());
    assert!(!store.update_task_invocation(&running, "Waiting").unwrap());
    want.push(ev(INVOCATION, "IN_PROGRESS", "e1-t1"));
    assert_eq!(window_events(store, start), want);
    // The invocation ending emits once; a write expecting a stale phase lands nothing.
    let ended = TaskInvocationRecord {
        phase: "Ended".into(),
        status: "FAILED".into(),
        end_ms: 1_300,
        ..running.clone()
    };
    assert!(!store.update_task_invocation(&ended, "Waiting").unwrap());
    assert_eq!(window_events(store, start), want);
    assert!(store.update_task_invocation(&ended, "Running").unwrap());
    assert!(!store.update_task_invocation(&ended, "Running").unwrap());
    want.push(ev(INVOCATION, "FAILED", "e1-t1"));
    assert_eq!(window_events(store, start), want);
    // The task ending emits once; a task that fails as it starts emits too.
    let failed = TaskExecutionRecord {
        status: "FAILED".into(),
        end_ms: 1_400,
        ..started.clone()
    };
    assert!(store.update_window_task(&started).unwrap());
    assert_eq!(window_events(store, start), want);
    assert!(store.update_window_task(&failed).unwrap());
    assert!(!store.update_window_task(&failed).unwrap());
    want.push(ev(TASK, "FAILED", "e1-t1"));
    let t2_failed = TaskExecutionRecord {
        status: "FAILED".into(),
        start_ms: 1_500,
        end_ms: 1_500,
        ..t2.clone()
    };
    assert!(store.start_window_task(&t2_failed, &[]).unwrap());
    assert!(!store.start_window_task(&t2_failed, &[]).unwrap());
    want.push(ev(TASK, "FAILED", "e1-t2"));
    assert_eq!(window_events(store, start), want);
    // The execution ending emits once.
    let done = WindowExecutionRecord {
        status: "FAILED".into(),
        end_ms: 1_600,
        ..e1.clone()
    };
    assert!(store.update_window_execution(&done).unwrap());
    assert!(!store.update_window_execution(&done).unwrap());
    want.push(ev(EXECUTION, "FAILED", "e1"));
    assert_eq!(window_events(store, start), want);
    // The envelopes name the window and carry AWS's keys.
    let all: Vec<serde_json::Value> = store
        .events_after(start, 1000)
        .unwrap()
        .iter()
        .filter(|e| e.detail_type.starts_with("Maintenance Window"))
        .map(|e| serde_json::from_str(&e.envelope).unwrap())
        .collect();
    let arn = format!("arn:aws:ssm:{REGION}:000000000000:maintenancewindow/{id}");
    for v in &all {
        assert_eq!(v["resources"], serde_json::json!([arn]));
        assert_eq!(v["detail"]["window-id"], id.as_str());
        assert_eq!(v["region"], REGION);
    }
    let started = &all[0]["detail"];
    assert_eq!(started["status"], "IN_PROGRESS");
    assert_eq!(started["start-time"], "1970-01-01T00:00:01.005Z");
    assert!(started.get("end-time").is_none(), "{started}");
    let invocation = &all[4]["detail"];
    assert_eq!(invocation["status"], "FAILED");
    assert_eq!(invocation["window-execution-id"], "e1");
    assert_eq!(invocation["window-target-id"], "wt");
    assert_eq!(invocation["owner-information"], "owner");
    assert_eq!(invocation["start-time"], "1970-01-01T00:00:01.200Z");
    assert_eq!(invocation["end-time"], "1970-01-01T00:00:01.300Z");
}
