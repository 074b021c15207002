//! `Duration`: an execution still running that many hours after it started is cut off. Its
//! command's pending and running invocations are cancelled through Run Command's cancel path
//! (`orchestrator::cancel`, as `CancelCommand` does), the execution ends as `TimedOut`, and,
//! when it is the association's latest, the association's `Overview` shows `Failed` with
//! `TimedOut` as its detail. The rule itself is `bosun_core::schedule::is_past_deadline`.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use bosun_core::schedule::{is_past_deadline, TIMED_OUT_EXECUTION_STATUS};
use bosun_store::{AssociationExecutionRecord, AssociationRecord};

use crate::state::AppState;

/// Command statuses that can still be cancelled.
const LIVE: [&str; 3] = ["Pending", "InProgress", "Delayed"];

/// End every open execution past its association's `Duration` at `now`; the number of open
/// executions left.
pub fn time_out_overdue(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let open = state.store.open_association_executions()?;
    let mut associations: HashMap<(String, String), Option<AssociationRecord>> = HashMap::new();
    let mut left = 0;
    for e in &open {
        let a = match associations.entry((e.region.clone(), e.association_id.clone())) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => {
                slot.insert(state.store.get_association(&e.region, &e.association_id)?)
            }
        };
        let Some(a) = a.as_ref() else {
            continue;
        };
        if !is_past_deadline(e.created_ms, a.definition.duration_hours, now) {
            left += 1;
            continue;
        }
        match time_out(state, e, a, now) {
            Ok(true) => {
                tracing::info!(association = %e.association_id, execution = %e.execution_id, hours = a.definition.duration_hours, "association execution timed out: its Duration passed")
            }
            Ok(false) => left += 1,
            Err(err) => {
                left += 1;
                tracing::warn!(association = %e.association_id, execution = %e.execution_id, error = %err, "could not time out an association execution");
            }
        }
    }
    Ok(left)
}

/// Cancel `e`'s command and end `e` as timed out; `false` when its command already ended
/// (roll-up records how).
fn time_out(
    state: &AppState,
    e: &AssociationExecutionRecord,
    a: &AssociationRecord,
    now: i64,
) -> anyhow::Result<bool> {
    if let Some(c) = state.store.get_command(&e.region, &e.command_id)? {
        if !LIVE.contains(&c.status.as_str()) {
            return Ok(false);
        }
        let invocations = state.store.invocations(&c.command_id)?;
        crate::orchestrator::cancel(state, &c, &invocations, &[], now)?;
    }
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for i in state.store.invocations(&e.command_id)? {
        *counts.entry(i.status).or_default() += 1;
    }
    let counts_json = serde_json::to_string(&counts)?;
    let mut ended = e.clone();
    ended.status = TIMED_OUT_EXECUTION_STATUS.into();
    ended.detailed_status = TIMED_OUT_EXECUTION_STATUS.into();
    ended.last_update_ms = now;
    ended.resource_counts_json = counts_json.clone();
    let latest = state
        .store
        .association_executions(&e.region, &e.association_id, 1)?;
    let run_state = latest
        .first()
        .filter(|l| l.execution_id == e.execution_id)
        .map(|_| {
            let mut s = a.state.clone();
            s.overview_status = "Failed".into();
            s.overview_detailed_status = TIMED_OUT_EXECUTION_STATUS.into();
            s.overview_counts_json = counts_json;
            s
        });
    state
        .store
        .update_association_execution(&ended, run_state.as_ref())?;
    Ok(true)
}
