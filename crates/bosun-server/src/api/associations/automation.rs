//! Automation associations: an association of an `Automation` runbook, with
//! `AutomationTargetParameterName` (or `TargetMaps`), runs each of its slots as one
//! rate-controlled automation execution — `StartAutomationExecution` with the association's
//! `Targets` (one entry) or `TargetMaps`, `Parameters`, `MaxConcurrency` and `MaxErrors`, one
//! child per target value or map — started as the
//! user who created or last updated the association (Bosun has no service role: the runbook's
//! steps act with that user's rights, as a maintenance window's `AUTOMATION` task does).
//!
//! The association execution is stored first (its slot taken once, as for Run Command), with
//! the automation execution's id fixed to its own, and the start carries that id as its
//! `ClientToken`: a start repeated after a crash (the roll-up restarts an execution whose
//! automation never began) gets the same execution, never a second one. The roll-up then takes
//! the automation's end: `Success`, or `Failed` with the automation's status; the children's
//! statuses are the execution's resource counts. The agent does not run these associations,
//! so nodes get no association status or `Association` compliance item from them, and nodes
//! that newly match the targets wait for the next slot.

use std::collections::{BTreeMap, HashSet};

use bosun_store::{AssociationExecutionRecord, AssociationRecord, AutomationQuery};
use serde_json::{json, Map, Value};

use super::execute::{new_execution, Fired};
use crate::api::{call_as_with, ApiError};
use crate::association_scheduler::rollup::{is_latest, outcome, overview_after};
use crate::state::AppState;

/// The spec key holding who the runbook runs as (never shown: `shape.rs` drops `@` keys).
pub const RUN_AS: &str = "@runAs";
/// How long an execution may stay without its automation before the roll-up starts it again.
const RESTART_AFTER_MS: i64 = 30_000;

fn spec_of(a: &AssociationRecord) -> Map<String, Value> {
    serde_json::from_str(&a.definition.spec_json).unwrap_or_default()
}

/// Whether `a` runs a runbook (it names `AutomationTargetParameterName` or `TargetMaps`).
pub fn is_automation(a: &AssociationRecord) -> bool {
    let spec = spec_of(a);
    spec.contains_key("AutomationTargetParameterName") || spec.contains_key("TargetMaps")
}

/// The `StartAutomationExecution` request of one execution of `a`.
fn start_request(a: &AssociationRecord, execution_id: &str) -> Value {
    let spec = spec_of(a);
    let mut body = json!({
        "DocumentName": a.definition.name,
        "ClientToken": execution_id,
    });
    if let Some(p) = spec
        .get("Parameters")
        .filter(|p| p.as_object().is_some_and(|m| !m.is_empty()))
    {
        body["Parameters"] = p.clone();
    }
    match spec.get("TargetMaps") {
        Some(maps) => body["TargetMaps"] = maps.clone(),
        None => {
            body["Targets"] = spec.get("Targets").cloned().unwrap_or_else(|| json!([]));
            body["TargetParameterName"] = json!(spec.get("AutomationTargetParameterName"));
        }
    }
    if !a.definition.document_version.is_empty() {
        body["DocumentVersion"] = json!(a.definition.document_version);
    }
    for key in ["MaxConcurrency", "MaxErrors"] {
        if let Some(v) = spec.get(key) {
            body[key] = v.clone();
        }
    }
    body
}

/// Start (or find again) the automation of execution `e`; `Err` says why it cannot start.
fn start(
    state: &AppState,
    a: &AssociationRecord,
    e: &AssociationExecutionRecord,
) -> Result<(), ApiError> {
    let run_as = spec_of(a)
        .get(RUN_AS)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::validation(
                "The association does not record who it runs as; update it \
                 (UpdateAssociation) so its runbook has a user to run as.",
            )
        })?;
    let id = e.execution_id.clone();
    call_as_with(
        state,
        &a.region,
        &run_as,
        "StartAutomationExecution",
        start_request(a, &id),
        |ctx| ctx.command_id = Some(id.clone()),
    )?;
    Ok(())
}

/// Record `e` as failed for `error`, with its association's overview when it is the latest.
fn fail(
    state: &AppState,
    a: Option<&AssociationRecord>,
    e: &AssociationExecutionRecord,
    code: &str,
    now_ms: i64,
) -> bosun_store::Result<()> {
    let mut failed = e.clone();
    failed.status = "Failed".into();
    failed.detailed_status = code.to_string();
    failed.last_update_ms = now_ms;
    let run_state = a.map(|a| {
        let mut s = a.state.clone();
        s.overview_status = "Failed".into();
        s.overview_detailed_status = code.to_string();
        s.overview_counts_json = "{}".into();
        s
    });
    state
        .store
        .end_association_execution(&failed, run_state.as_ref(), &[], &[])
}

/// Fire slot `slot_ms` of `a` (an Automation association) at `now_ms`.
pub fn fire(
    state: &AppState,
    a: &AssociationRecord,
    slot_ms: i64,
    now_ms: i64,
) -> bosun_store::Result<Fired> {
    let mut execution = new_execution(a, slot_ms, now_ms);
    // The automation takes the execution's id (`OutputSource.OutputSourceId`).
    execution.command_id = execution.execution_id.clone();
    if !state.store.fire_association(&execution, None)? {
        return Ok(Fired::SlotTaken);
    }
    let execution_id = execution.execution_id.clone();
    match start(state, a, &execution) {
        Ok(()) => {
            let mut started = execution.clone();
            started.status = "InProgress".into();
            started.detailed_status = "InProgress".into();
            state.store.update_association_execution(&started, None)?;
            Ok(Fired::Started { execution_id })
        }
        Err(e) => {
            let reason = format!("{}: {}", e.code, e.message);
            tracing::warn!(association = %a.association_id, execution = %execution_id, %reason,
                "an Automation association's runbook could not start");
            fail(state, Some(a), &execution, e.code, now_ms)?;
            Ok(Fired::Refused {
                execution_id,
                reason,
            })
        }
    }
}

/// The children of automation `id` (or the execution itself when it has none), by status.
fn child_counts(state: &AppState, region: &str, id: &str) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut counts = BTreeMap::new();
    for c in children(state, region, id)? {
        *counts.entry(c.status).or_default() += 1;
    }
    Ok(counts)
}

/// Every child of automation `id`.
pub fn children(
    state: &AppState,
    region: &str,
    id: &str,
) -> anyhow::Result<Vec<bosun_store::AutomationExecutionRecord>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = state.store.list_automation_executions(&AutomationQuery {
            region: region.to_string(),
            parent_id: Some(id.to_string()),
            after: after.clone(),
            limit: 500,
            ..Default::default()
        })?;
        let Some(last) = page.last() else { break };
        after = Some((last.start_ms, last.execution_id.clone()));
        let full = page.len() == 500;
        out.extend(page);
        if !full {
            break;
        }
    }
    let mut seen = HashSet::new();
    out.retain(|c| seen.insert(c.execution_id.clone()));
    Ok(out)
}

/// Move an open execution of an Automation association on from its automation.
pub fn roll_up(state: &AppState, e: &AssociationExecutionRecord, now: i64) -> anyhow::Result<()> {
    let association = state.store.get_association(&e.region, &e.association_id)?;
    if association.as_ref().is_some_and(|a| !is_automation(a)) {
        // A Run Command association's execution whose command is not stored yet.
        return Ok(());
    }
    let Some(run) = state.store.get_automation_execution(&e.command_id)? else {
        // Stored but not started (a crash in between): start it again, once it is not new.
        if now - e.created_ms < RESTART_AFTER_MS {
            return Ok(());
        }
        return match &association {
            Some(a) => match start(state, a, e) {
                Ok(()) => Ok(()),
                Err(err) => Ok(fail(state, Some(a), e, err.code, now)?),
            },
            None => Ok(fail(state, None, e, "AssociationDoesNotExist", now)?),
        };
    };
    let counts = child_counts(state, &e.region, &run.execution_id)?;
    let counts = if counts.is_empty() && run.end_ms.is_some() {
        BTreeMap::from([(run.status.clone(), 1)])
    } else {
        counts
    };
    let counts_json = serde_json::to_string(&counts)?;
    let mut next = e.clone();
    next.last_update_ms = now;
    next.resource_counts_json = counts_json.clone();
    if run.end_ms.is_none() {
        if e.status == "Pending" || e.resource_counts_json != counts_json {
            next.status = "InProgress".into();
            next.detailed_status = "InProgress".into();
            state.store.update_association_execution(&next, None)?;
        }
        return Ok(());
    }
    let (status, detailed) = outcome(&run.status, &run.status);
    next.status = status.into();
    next.detailed_status = detailed.clone();
    let is_latest = is_latest(state, e)?;
    let run_state = association
        .as_ref()
        .filter(|_| is_latest)
        .map(|a| overview_after(a, e, status, &detailed, counts_json));
    state
        .store
        .end_association_execution(&next, run_state.as_ref(), &[], &[])?;
    tracing::info!(association = %e.association_id, execution = %e.execution_id, status,
        "Automation association execution ended");
    Ok(())
}
