//! The runtime's two fenced writes, each carrying the events its change emits
//! (`bosun_store::automation_events`): the store appends them in the write's transaction, only
//! when this replica still owns the execution, so an event exists exactly when its change does.

use bosun_store::automation_events::{execution_events, step_events};
use bosun_store::{AutomationExecutionRecord, AutomationStepRecord};

use crate::state::{now_ms, AppState};

/// Write step `s` of `e` (its status before: `old`, `None` for a new row); `false` when this
/// replica no longer owns the execution.
pub(super) fn put_step(
    state: &AppState,
    e: &AutomationExecutionRecord,
    old: Option<&str>,
    s: &AutomationStepRecord,
) -> anyhow::Result<bool> {
    let events = step_events(&state.store.event_account(), now_ms(), e, old, s);
    Ok(state
        .store
        .put_owned_automation_step(&state.replica.id, s, &events)?)
}

/// Write the driver's columns of `e` (its status before: `old`); `false` when this replica no
/// longer owns the execution or it has ended.
pub(super) fn update_execution(
    state: &AppState,
    old: &str,
    e: &AutomationExecutionRecord,
) -> anyhow::Result<bool> {
    let events = execution_events(&state.store.event_account(), now_ms(), old, e);
    Ok(state
        .store
        .update_owned_automation_execution(&state.replica.id, e, &events)?)
}
