//! Maintenance window executions: a slot fires once, overlaps are recorded as skipped, a task
//! starts once and a node is sent its task once, also when writers race.

use super::concurrency::race;
use super::fixtures::{command, invocation, plugin, REGION};
use super::maintenance_windows::window;
use crate::prelude::*;
use crate::{
    NewCommand, SlotFired, TaskExecutionRecord, TaskInvocationRecord, WindowExecutionRecord,
};

pub(super) fn execution(window_id: &str, id: &str, slot_ms: i64) -> WindowExecutionRecord {
    WindowExecutionRecord {
        region: REGION.into(),
        window_id: window_id.into(),
        window_execution_id: id.into(),
        slot_ms,
        status: "IN_PROGRESS".into(),
        status_details: String::new(),
        start_ms: slot_ms + 5,
        end_ms: 0,
        cancel_requested: false,
        duration_hours: 2,
        cutoff_hours: 1,
    }
}

fn skipped(e: &WindowExecutionRecord) -> WindowExecutionRecord {
    WindowExecutionRecord {
        status: "SKIPPED_OVERLAPPING".into(),
        status_details: "skipped".into(),
        end_ms: e.start_ms,
        ..e.clone()
    }
}

pub(super) fn task_execution(execution_id: &str, n: usize, priority: i64) -> TaskExecutionRecord {
    TaskExecutionRecord {
        region: REGION.into(),
        window_execution_id: execution_id.into(),
        task_execution_id: format!("{execution_id}-t{n}"),
        window_task_id: format!("task-{n}"),
        task_arn: "AWS-RunShellScript".into(),
        task_type: "RUN_COMMAND".into(),
        priority,
        max_concurrency: "1".into(),
        max_errors: "0".into(),
        cutoff_behavior: "CONTINUE_TASK".into(),
        task_json: "{}".into(),
        status: "PENDING".into(),
        status_details: String::new(),
        stopping: String::new(),
        start_ms: 0,
        end_ms: 0,
    }
}

pub(super) fn task_invocation(t: &TaskExecutionRecord, seq: i64) -> TaskInvocationRecord {
    TaskInvocationRecord {
        region: REGION.into(),
        window_execution_id: t.window_execution_id.clone(),
        task_execution_id: t.task_execution_id.clone(),
        invocation_id: format!("{}-i{seq}", t.task_execution_id),
        seq,
        node_id: format!("mi-{seq:017x}"),
        window_target_id: "wt".into(),
        target_order: 0,
        via: "Tag".into(),
        execution_id: String::new(),
        parameters: String::new(),
        owner_information: "owner".into(),
        phase: "Waiting".into(),
        outcome: String::new(),
        status: "PENDING".into(),
        status_details: String::new(),
        start_ms: 0,
        end_ms: 0,
    }
}

/// A slot fires once; a slot while an execution is live is recorded `SKIPPED_OVERLAPPING`
/// without tasks; an ended execution is final; a deleted window fires nothing.
pub fn window_slots_fire_once_and_overlaps_are_skipped(store: &dyn Store) {
    let w = window(1);
    store.create_window(&w, &[], 50).unwrap();
    let id = &w.window_id;
    let first = execution(id, "e1", 1_000);
    let tasks = [task_execution("e1", 2, 5), task_execution("e1", 1, 1)];
    let fire = |e: &WindowExecutionRecord, t: &[TaskExecutionRecord]| {
        store.fire_window_slot(e, t, &skipped(e)).unwrap()
    };
    assert_eq!(fire(&first, &tasks), SlotFired::Started);
    // The same slot again (another replica, a restart) is taken, whatever its id.
    assert_eq!(
        fire(&execution(id, "e1-again", 1_000), &[]),
        SlotFired::SlotTaken
    );
    // A later slot while e1 is live is skipped, with no task.
    assert_eq!(fire(&execution(id, "e2", 2_000), &[]), SlotFired::Skipped);
    let e2 = store.get_window_execution(REGION, "e2").unwrap().unwrap();
    assert_eq!(e2.status, "SKIPPED_OVERLAPPING");
    assert!(store.task_executions(REGION, "e2").unwrap().is_empty());
    let listed: Vec<String> = store
        .window_executions(REGION, id)
        .unwrap()
        .into_iter()
        .map(|e| e.window_execution_id)
        .collect();
    assert_eq!(listed, ["e2", "e1"]);
    assert_eq!(
        store.latest_window_slots(REGION).unwrap(),
        [(id.clone(), 2_000)]
    );
    let planned = store.task_executions(REGION, "e1").unwrap();
    assert_eq!(planned, [tasks[1].clone(), tasks[0].clone()]);
    let open = store.open_window_executions().unwrap();
    assert_eq!(open, std::slice::from_ref(&first));
    // Cancel marks a live execution only.
    assert!(store.cancel_window_execution(REGION, "e1").unwrap());
    assert!(!store.cancel_window_execution(REGION, "e2").unwrap());
    assert!(!store.cancel_window_execution(REGION, "nope").unwrap());
    let ended = WindowExecutionRecord {
        status: "FAILED".into(),
        status_details: "why".into(),
        end_ms: 9_000,
        ..first.clone()
    };
    assert!(store.update_window_execution(&ended).unwrap());
    // Final is final.
    assert!(!store.update_window_execution(&first).unwrap());
    let got = store.get_window_execution(REGION, "e1").unwrap().unwrap();
    assert_eq!((got.status.as_str(), got.end_ms), ("FAILED", 9_000));
    assert!(got.cancel_requested);
    assert!(store.open_window_executions().unwrap().is_empty());
    assert_eq!(fire(&execution(id, "e3", 3_000), &[]), SlotFired::Started);
    // A deleted window fires nothing.
    assert!(store.delete_window(REGION, id).unwrap());
    assert_eq!(fire(&execution(id, "e4", 4_000), &[]), SlotFired::SlotTaken);
}

/// A planned task starts once with its invocations; an invocation is sent once, with its
/// command; later changes name the phase they expect.
pub fn tasks_start_once_and_invocations_are_sent_once(store: &dyn Store) {
    let w = window(1);
    store.create_window(&w, &[], 50).unwrap();
    let e = execution(&w.window_id, "e1", 1_000);
    let t = task_execution("e1", 1, 1);
    store
        .fire_window_slot(&e, std::slice::from_ref(&t), &skipped(&e))
        .unwrap();
    let started = TaskExecutionRecord {
        status: "IN_PROGRESS".into(),
        start_ms: 1_100,
        ..t.clone()
    };
    let invs = [task_invocation(&t, 0), task_invocation(&t, 1)];
    assert!(store.start_window_task(&started, &invs).unwrap());
    assert!(!store.start_window_task(&started, &invs).unwrap());
    assert_eq!(
        store
            .task_invocations(REGION, "e1", &t.task_execution_id)
            .unwrap(),
        invs
    );
    let sent = TaskInvocationRecord {
        phase: "Running".into(),
        status: "IN_PROGRESS".into(),
        execution_id: "cmd-1".into(),
        parameters: "{\"commands\":[\"date\"]}".into(),
        start_ms: 1_200,
        ..invs[0].clone()
    };
    let c = command("cmd-1", 1_200);
    let ci = [invocation("cmd-1", &invs[0].node_id, 0)];
    let cp = [plugin("cmd-1", &invs[0].node_id, 0)];
    let new = NewCommand {
        command: &c,
        invocations: &ci,
        plugins: &cp,
    };
    assert!(store.send_task_invocation(&sent, new).unwrap());
    assert!(store.get_command(REGION, "cmd-1").unwrap().is_some());
    let sent_events: Vec<serde_json::Value> = store
        .events_after(0, 100_000)
        .unwrap()
        .iter()
        .filter(|e| {
            e.detail_type == "Maintenance Window Task Target Invocation State-change Notification"
        })
        .map(|e| serde_json::from_str(&e.envelope).unwrap())
        .collect();
    assert_eq!(sent_events.len(), 1, "the send writes the node's start");
    assert_eq!(sent_events[0]["detail"]["status"], "IN_PROGRESS");
    assert_eq!(
        sent_events[0]["detail"]["start-time"],
        "1970-01-01T00:00:01.200Z"
    );
    // A second send of the same invocation stores nothing.
    let c2 = command("cmd-2", 1_300);
    let again = TaskInvocationRecord {
        execution_id: "cmd-2".into(),
        ..sent.clone()
    };
    let new2 = NewCommand {
        command: &c2,
        invocations: &[],
        plugins: &[],
    };
    assert!(!store.send_task_invocation(&again, new2).unwrap());
    assert!(store.get_command(REGION, "cmd-2").unwrap().is_none());
    let done = TaskInvocationRecord {
        phase: "Ended".into(),
        status: "SUCCESS".into(),
        outcome: "\"Succeeded\"".into(),
        end_ms: 2_000,
        ..sent.clone()
    };
    assert!(!store.update_task_invocation(&done, "Waiting").unwrap());
    assert!(store.update_task_invocation(&done, "Running").unwrap());
    let stored = store
        .task_invocations(REGION, "e1", &t.task_execution_id)
        .unwrap();
    assert_eq!(stored[0], done);
    let ended = TaskExecutionRecord {
        status: "SUCCESS".into(),
        end_ms: 2_000,
        ..started.clone()
    };
    assert!(store.update_window_task(&ended).unwrap());
    assert!(!store.update_window_task(&started).unwrap());
    assert_eq!(store.task_executions(REGION, "e1").unwrap(), [ended]);
}

/// Of concurrent firings of one slot exactly one starts; of concurrent sends of one
/// invocation exactly one creates a command.
pub fn concurrent_firings_and_sends_happen_once(store: &dyn Store) {
    let w = window(1);
    store.create_window(&w, &[], 50).unwrap();
    let outcomes = race(|i| {
        let e = execution(&w.window_id, &format!("e{i}"), 1_000);
        let t = task_execution(&e.window_execution_id, 1, 1);
        store.fire_window_slot(&e, &[t], &skipped(&e)).unwrap()
    });
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == SlotFired::Started)
            .count(),
        1,
        "{outcomes:?}"
    );
    let e = store.open_window_executions().unwrap().remove(0);
    let t = store
        .task_executions(REGION, &e.window_execution_id)
        .unwrap()
        .remove(0);
    let started = TaskExecutionRecord {
        status: "IN_PROGRESS".into(),
        ..t.clone()
    };
    let inv = task_invocation(&t, 0);
    let starts = race(|_| {
        store
            .start_window_task(&started, std::slice::from_ref(&inv))
            .unwrap()
    });
    assert_eq!(starts.iter().filter(|s| **s).count(), 1, "{starts:?}");
    let sends = race(|i| {
        let id = format!("cmd-{i}");
        let c = command(&id, 1_000);
        let sent = TaskInvocationRecord {
            phase: "Running".into(),
            execution_id: id.clone(),
            ..inv.clone()
        };
        let new = NewCommand {
            command: &c,
            invocations: &[],
            plugins: &[],
        };
        store.send_task_invocation(&sent, new).unwrap()
    });
    assert_eq!(sends.iter().filter(|s| **s).count(), 1, "{sends:?}");
    let commands = (0..super::concurrency::THREADS)
        .filter(|i| {
            store
                .get_command(REGION, &format!("cmd-{i}"))
                .unwrap()
                .is_some()
        })
        .count();
    assert_eq!(commands, 1);
}

/// Retention: executions that ended before the bound go with their task executions and
/// invocations; live ones stay, and so does each window's latest slot (it anchors the
/// window's next slot); pruning again (another replica) deletes nothing more.
pub fn old_executions_are_pruned_with_their_tasks_but_each_windows_latest_slot_stays(
    store: &dyn Store,
) {
    let (a, b) = (window(1), window(2));
    store.create_window(&a, &[], 50).unwrap();
    store.create_window(&b, &[], 50).unwrap();
    let end = |e: &WindowExecutionRecord, at: i64| {
        let ended = WindowExecutionRecord {
            status: "SUCCESS".into(),
            end_ms: at,
            ..e.clone()
        };
        assert!(store.update_window_execution(&ended).unwrap());
    };
    let fire = |e: &WindowExecutionRecord, t: &[TaskExecutionRecord]| {
        assert_eq!(
            store.fire_window_slot(e, t, &skipped(e)).unwrap(),
            SlotFired::Started
        );
    };
    let e1 = execution(&a.window_id, "a1", 1_000);
    let t1 = task_execution("a1", 1, 1);
    fire(&e1, std::slice::from_ref(&t1));
    let started = TaskExecutionRecord {
        status: "IN_PROGRESS".into(),
        start_ms: 1_100,
        ..t1.clone()
    };
    assert!(store
        .start_window_task(&started, &[task_invocation(&t1, 0)])
        .unwrap());
    end(&e1, 2_000);
    let e2 = execution(&a.window_id, "a2", 3_000);
    fire(&e2, &[task_execution("a2", 1, 1)]);
    end(&e2, 4_000);
    let e3 = execution(&a.window_id, "a3", 5_000);
    fire(&e3, &[]);
    let b1 = execution(&b.window_id, "b1", 1_000);
    fire(&b1, &[]);
    end(&b1, 2_000);

    // Only what ended before the bound goes.
    assert_eq!(store.prune_window_executions(3_000).unwrap(), 1);
    assert!(store.get_window_execution(REGION, "a1").unwrap().is_none());
    assert!(store.task_executions(REGION, "a1").unwrap().is_empty());
    assert!(store
        .task_invocations(REGION, "a1", &t1.task_execution_id)
        .unwrap()
        .is_empty());
    assert!(store.get_window_execution(REGION, "a2").unwrap().is_some());
    assert_eq!(store.task_executions(REGION, "a2").unwrap().len(), 1);
    // b1 ended long ago but is its window's latest slot; a3 is live.
    assert_eq!(store.prune_window_executions(100_000).unwrap(), 1);
    assert!(store.get_window_execution(REGION, "a2").unwrap().is_none());
    assert!(store.task_executions(REGION, "a2").unwrap().is_empty());
    assert!(store.get_window_execution(REGION, "b1").unwrap().is_some());
    assert_eq!(
        store.open_window_executions().unwrap(),
        std::slice::from_ref(&e3)
    );
    let mut slots = store.latest_window_slots(REGION).unwrap();
    slots.sort();
    let mut want = vec![(a.window_id.clone(), 5_000), (b.window_id.clone(), 1_000)];
    want.sort();
    assert_eq!(slots, want);
    // Ended, a3 is still its window's latest slot; pruning again deletes nothing.
    end(&e3, 6_000);
    assert_eq!(store.prune_window_executions(100_000).unwrap(), 0);
    assert_eq!(
        store.window_executions(REGION, &a.window_id).unwrap().len(),
        1
    );
}
