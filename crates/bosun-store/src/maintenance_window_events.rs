//! Maintenance window runs' events from stored rows, built by the store inside the write that
//! makes the change ([`crate::MaintenanceWindowRunStore`]: `fire_window_slot` for
//! `SKIPPED_OVERLAPPING`, `update_window_execution`, `start_window_task`, `update_window_task`,
//! `update_task_invocation`) and appended to the outbox in that transaction only when the write
//! lands, so an event exists exactly when its change does
//! (`bosun_core::events::envelope_maintenance_windows` builds the envelopes and says which
//! changes emit: entering a final status, and starting: `fire_window_slot` for a fired
//! execution, `start_window_task`, `send_task_invocation` or an invocation leaving `Waiting`
//! by `update_task_invocation`). Each of those writes lands only from a live status
//! (or, for an invocation, a phase other than `Ended`), so a final status is entered once.
//!
//! The definitions' events ([`crate::MaintenanceWindowStore`]: `update_window` when `Enabled`
//! flips, target and task registration, update and deregistration) are built here too and
//! appended in the write's transaction when it changes a row
//! (`bosun_core::events::envelope_maintenance_window_definitions`).

use bosun_core::events::envelope::{Event, Origin};
use bosun_core::events::envelope_maintenance_window_definitions::{
    target_registration, task_registration, window_state_change, Registration,
};
use bosun_core::events::envelope_maintenance_windows::{
    emits_start, emits_state_change, execution_state_change, invocation_state_change,
    task_state_change, InvocationFacts, RunFacts,
};

use crate::event_outbox::new_event_id;
use crate::maintenance_window_runs::{
    TaskExecutionRecord, TaskInvocationRecord, WindowExecutionRecord,
};

/// The phase of an invocation that has ended.
const ENDED: &str = "Ended";
/// The phase of an invocation not sent yet.
const WAITING: &str = "Waiting";

fn one(
    account: &str,
    now_ms: i64,
    region: &str,
    build: impl FnOnce(Origin<'_>) -> Event,
) -> Vec<Event> {
    let id = new_event_id();
    vec![build(Origin {
        account,
        region,
        id: &id,
        now_ms,
    })]
}

fn end_of(end_ms: i64, now_ms: i64) -> i64 {
    if end_ms > 0 {
        end_ms
    } else {
        now_ms
    }
}

/// The events storing a new execution `e` (fired, not skipped) emits: its start.
pub fn execution_started_events(
    account: &str,
    now_ms: i64,
    e: &WindowExecutionRecord,
) -> Vec<Event> {
    if !emits_start(&e.status) {
        return execution_events(account, now_ms, e);
    }
    let facts = RunFacts {
        window_id: &e.window_id,
        window_execution_id: &e.window_execution_id,
        status: &e.status,
        start_ms: if e.start_ms > 0 { e.start_ms } else { now_ms },
        end_ms: 0,
    };
    one(account, now_ms, &e.region, |o| {
        execution_state_change(o, &facts)
    })
}

/// The events starting task `t` (leaving `PENDING`) emits: its start, or its end when it ends
/// at once.
pub fn task_started_events(
    account: &str,
    now_ms: i64,
    window_id: &str,
    t: &TaskExecutionRecord,
) -> Vec<Event> {
    if !emits_start(&t.status) {
        return task_events(account, now_ms, window_id, t);
    }
    let facts = RunFacts {
        window_id,
        window_execution_id: &t.window_execution_id,
        status: &t.status,
        start_ms: if t.start_ms > 0 { t.start_ms } else { now_ms },
        end_ms: 0,
    };
    one(account, now_ms, &t.region, |o| {
        task_state_change(o, &facts, &t.task_execution_id)
    })
}

/// The events sending invocation `inv` (leaving phase `Waiting` for a running one) emits:
/// its start.
pub fn invocation_started_events(
    account: &str,
    now_ms: i64,
    window_id: &str,
    inv: &TaskInvocationRecord,
) -> Vec<Event> {
    if inv.phase == ENDED || !emits_start(&inv.status) {
        return Vec::new();
    }
    let facts = RunFacts {
        window_id,
        window_execution_id: &inv.window_execution_id,
        status: &inv.status,
        start_ms: if inv.start_ms > 0 {
            inv.start_ms
        } else {
            now_ms
        },
        end_ms: 0,
    };
    let which = InvocationFacts {
        task_execution_id: &inv.task_execution_id,
        window_target_id: &inv.window_target_id,
        owner_information: &inv.owner_information,
    };
    one(account, now_ms, &inv.region, |o| {
        invocation_state_change(o, &facts, &which)
    })
}

/// The events writing `e` (from a live status) emits: its state-change event when it now ends.
pub fn execution_events(account: &str, now_ms: i64, e: &WindowExecutionRecord) -> Vec<Event> {
    if !emits_state_change(None, &e.status) {
        return Vec::new();
    }
    let facts = RunFacts {
        window_id: &e.window_id,
        window_execution_id: &e.window_execution_id,
        status: &e.status,
        start_ms: e.start_ms,
        end_ms: end_of(e.end_ms, now_ms),
    };
    one(account, now_ms, &e.region, |o| {
        execution_state_change(o, &facts)
    })
}

/// The events writing task `t` of a run of `window_id` (from a live status) emits: its
/// state-change event when it now ends.
pub fn task_events(
    account: &str,
    now_ms: i64,
    window_id: &str,
    t: &TaskExecutionRecord,
) -> Vec<Event> {
    if !emits_state_change(None, &t.status) {
        return Vec::new();
    }
    let end_ms = end_of(t.end_ms, now_ms);
    let facts = RunFacts {
        window_id,
        window_execution_id: &t.window_execution_id,
        status: &t.status,
        start_ms: if t.start_ms > 0 { t.start_ms } else { end_ms },
        end_ms,
    };
    one(account, now_ms, &t.region, |o| {
        task_state_change(o, &facts, &t.task_execution_id)
    })
}

/// The events writing invocation `inv` of a run of `window_id`, whose stored phase was
/// `expected_phase`, emits: its state-change event when it now ends.
pub fn invocation_events(
    account: &str,
    now_ms: i64,
    window_id: &str,
    inv: &TaskInvocationRecord,
    expected_phase: &str,
) -> Vec<Event> {
    if expected_phase == WAITING && inv.phase != ENDED {
        return invocation_started_events(account, now_ms, window_id, inv);
    }
    if inv.phase != ENDED || expected_phase == ENDED || !emits_state_change(None, &inv.status) {
        return Vec::new();
    }
    let end_ms = end_of(inv.end_ms, now_ms);
    let facts = RunFacts {
        window_id,
        window_execution_id: &inv.window_execution_id,
        status: &inv.status,
        start_ms: if inv.start_ms > 0 {
            inv.start_ms
        } else {
            end_ms
        },
        end_ms,
    };
    let which = InvocationFacts {
        task_execution_id: &inv.task_execution_id,
        window_target_id: &inv.window_target_id,
        owner_information: &inv.owner_information,
    };
    one(account, now_ms, &inv.region, |o| {
        invocation_state_change(o, &facts, &which)
    })
}

/// A window of `region` is now `enabled` (or not).
pub fn window_state_events(
    account: &str,
    now_ms: i64,
    region: &str,
    window_id: &str,
    enabled: bool,
) -> Vec<Event> {
    one(account, now_ms, region, |o| {
        window_state_change(o, window_id, enabled)
    })
}

/// A target of a window of `region` was registered, updated or deregistered.
pub fn target_events(
    account: &str,
    now_ms: i64,
    region: &str,
    window_id: &str,
    window_target_id: &str,
    what: Registration,
) -> Vec<Event> {
    one(account, now_ms, region, |o| {
        target_registration(o, window_id, window_target_id, what)
    })
}

/// A task of a window of `region` was registered, updated or deregistered.
pub fn task_registration_events(
    account: &str,
    now_ms: i64,
    region: &str,
    window_id: &str,
    window_task_id: &str,
    what: Registration,
) -> Vec<Event> {
    one(account, now_ms, region, |o| {
        task_registration(o, window_id, window_task_id, what)
    })
}
