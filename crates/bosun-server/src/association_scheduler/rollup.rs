//! Roll-up: an execution whose command ended takes the command's outcome (`Success`, or
//! `Failed` with the command's detail), with its targets counted by status; the latest
//! execution's outcome becomes its association's `Overview` and last execution dates (and a
//! legacy association's `AssociationStatus`). Each target node's outcome is stored as its
//! association status and, unless the association's `SyncCompliance` is `MANUAL`, as its
//! `Association` compliance item, in the same transaction (`AssociationStatusStore`), for the
//! nodes the association still targets; the store counts the `Overview` over every node's
//! latest outcome, not only this execution's nodes.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use bosun_store::{AssociationExecutionRecord, AssociationRecord};

use crate::api::associations::execute::{matching_nodes_among, RegionNodes};

use crate::state::AppState;

mod node_outcomes;

/// Command statuses that are not final.
const LIVE: [&str; 4] = ["Pending", "InProgress", "Delayed", "Cancelling"];

/// The execution's status and detailed status for a command that ended as
/// (`status`, `details`).
pub fn outcome(status: &str, details: &str) -> (&'static str, String) {
    if status == "Success" {
        ("Success", "Success".into())
    } else {
        ("Failed", details.to_string())
    }
}

/// Whether `e` is its association's latest execution (whose end is the `Overview`).
pub(crate) fn is_latest(state: &AppState, e: &AssociationExecutionRecord) -> anyhow::Result<bool> {
    let latest = state
        .store
        .association_executions(&e.region, &e.association_id, 1)?;
    Ok(latest
        .first()
        .is_some_and(|l| l.execution_id == e.execution_id))
}

/// `a`'s run state once its latest execution `e` ended with (`status`, `detailed`).
pub(crate) fn overview_after(
    a: &AssociationRecord,
    e: &AssociationExecutionRecord,
    status: &str,
    detailed: &str,
    counts_json: String,
) -> bosun_store::AssociationState {
    let mut s = a.state.clone();
    s.overview_status = status.into();
    s.overview_detailed_status = detailed.into();
    s.overview_counts_json = counts_json;
    if status == "Success" {
        s.last_successful_execution_ms = Some(e.created_ms);
    }
    s
}

/// Update every open execution whose command moved on.
pub fn roll_up(state: &AppState, now: i64) -> anyhow::Result<()> {
    // Each region's nodes and tags, read once per pass (a slot may end many executions).
    let mut regions: HashMap<String, RegionNodes> = HashMap::new();
    for e in state.store.open_association_executions()? {
        if let Err(err) = roll_up_one(state, &e, now, &mut regions) {
            tracing::warn!(association = %e.association_id, execution = %e.execution_id, error = %err, "association roll-up failed");
        }
    }
    Ok(())
}

/// The nodes `a` targets at `now`; `None` when its targets cannot be resolved (a resource
/// group deleted meanwhile): every node of the execution then counts.
fn targeted_now(
    state: &AppState,
    a: &AssociationRecord,
    now: i64,
    regions: &mut HashMap<String, RegionNodes>,
) -> anyhow::Result<Option<HashSet<String>>> {
    let region = match regions.entry(a.region.clone()) {
        Entry::Occupied(o) => o.into_mut(),
        Entry::Vacant(v) => v.insert(
            RegionNodes::read(state, &a.region, now).map_err(|e| anyhow::anyhow!(e.message))?,
        ),
    };
    Ok(matching_nodes_among(state, a, region, now)
        .ok()
        .map(|m| m.into_iter().map(|(id, _)| id).collect()))
}

fn roll_up_one(
    state: &AppState,
    e: &AssociationExecutionRecord,
    now: i64,
    regions: &mut HashMap<String, RegionNodes>,
) -> anyhow::Result<()> {
    let Some(command) = state.store.get_command(&e.region, &e.command_id)? else {
        // Not a command: an Automation association's run.
        return crate::api::associations::automation::roll_up(state, e, now);
    };
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for i in state.store.invocations(&command.command_id)? {
        *counts.entry(i.status).or_default() += 1;
    }
    let counts_json = serde_json::to_string(&counts)?;
    let mut next = e.clone();
    next.last_update_ms = now;
    next.resource_counts_json = counts_json.clone();
    if LIVE.contains(&command.status.as_str()) {
        if command.status == "InProgress" && e.status == "Pending" {
            next.status = "InProgress".into();
            next.detailed_status = "InProgress".into();
            state.store.update_association_execution(&next, None)?;
        }
        return Ok(());
    }
    let (status, detailed) = outcome(&command.status, &command.status_details);
    next.status = status.into();
    next.detailed_status = detailed.clone();
    let is_latest = is_latest(state, e)?;
    let association = state.store.get_association(&e.region, &e.association_id)?;
    let run_state = association.as_ref().filter(|_| is_latest).map(|a| {
        let mut s = overview_after(a, e, status, &detailed, counts_json);
        if !a.definition.instance_id.is_empty() {
            // What the agent reports for a legacy association (`UpdateAssociationStatus`).
            s.status_name = status.into();
            s.status_message = detailed.clone();
            s.status_date_ms = now;
        }
        s
    });
    let (nodes, compliance) = match &association {
        Some(a) => {
            let targeted = targeted_now(state, a, now, regions)?;
            node_outcomes::of_execution(state, a, e, &command, targeted.as_ref())?
        }
        None => (Vec::new(), Vec::new()),
    };
    state
        .store
        .end_association_execution(&next, run_state.as_ref(), &nodes, &compliance)?;
    tracing::info!(association = %e.association_id, execution = %e.execution_id, status, "association execution ended");
    Ok(())
}
