//! A parent execution (started with `Targets` or `TargetMaps`): one child execution per target
//! value or map, started in order with Automation's ramp (`bosun_core::command::rate::ramp_window`: one child, then
//! two, then four…, up to MaxConcurrency in flight) until the children's errors exceed
//! MaxErrors, after which no more start and the ones running finish. The parent ends when its
//! last running child does: `Success` only if every target ran and succeeded, else `Failed`.
//! Child ids derive from the parent's and the value's position, so a child is never created
//! twice, whatever restarts or replicas do.

use bosun_core::command::rate::{errors_exceeded, ramp_window};
use bosun_core::command::{MaxConcurrency, MaxErrors};
use bosun_core::ids;
use bosun_store::{AutomationExecutionRecord, AutomationQuery, AutomationStarted, StoreError};
use sha2::{Digest, Sha256};

use super::drive::finish;
use super::LEASE_MS;
use crate::api::automation::describe::runbook_of;
use crate::api::automation::targets::TargetPlan;
use crate::state::{now_ms, AppState};

/// The id of the child for value number `k`.
fn child_id(parent: &str, k: usize) -> String {
    let digest = Sha256::digest(format!("{parent}:{k}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    ids::uuid_v4(bytes)
}

fn start_child(
    state: &AppState,
    e: &AutomationExecutionRecord,
    plan: &TargetPlan,
    k: usize,
    now: i64,
) -> anyhow::Result<()> {
    let runbook = runbook_of(e).ok_or_else(|| anyhow::anyhow!("unreadable runbook"))?;
    let (params, target) = plan
        .child(&runbook, &e.target_parameter_name, k)
        .map_err(|err| anyhow::anyhow!("{}: {}", err.code, err.message))?;
    let child = AutomationExecutionRecord {
        execution_id: child_id(&e.execution_id, k),
        parameters_json: serde_json::to_string(&params)?,
        outputs_json: "{}".into(),
        status: "Pending".into(),
        parent_id: Some(e.execution_id.clone()),
        targets_json: target.to_string(),
        target_parameter_name: String::new(),
        max_concurrency: String::new(),
        max_errors: String::new(),
        client_token: String::new(),
        request_hash: String::new(),
        current_step_name: String::new(),
        current_action: String::new(),
        failure_message: String::new(),
        start_ms: now,
        end_ms: None,
        wake_ms: None,
        stop_requested: String::new(),
        signals_json: "[]".into(),
        owner: state.replica.id.clone(),
        lease_until_ms: now + LEASE_MS,
        ..e.clone()
    };
    match state.store.create_automation_execution(&child) {
        Ok(AutomationStarted::Created) | Err(StoreError::AlreadyExists(_)) => Ok(()),
        Ok(other) => anyhow::bail!("child start: {other:?}"),
        Err(err) => Err(err.into()),
    }
}

/// Drive parent `e`; `Some(ms)`: look again by then.
pub(super) fn drive_parent(
    state: &AppState,
    e: &mut AutomationExecutionRecord,
    plan: &TargetPlan,
) -> anyhow::Result<Option<i64>> {
    let now = now_ms();
    let n = plan.len();
    let children = state.store.list_automation_executions(&AutomationQuery {
        region: e.region.clone(),
        parent_id: Some(e.execution_id.clone()),
        limit: n + 1,
        ..AutomationQuery::default()
    })?;
    let finished = children.iter().filter(|c| c.end_ms.is_some()).count();
    let errors = children
        .iter()
        .filter(|c| c.end_ms.is_some() && c.status != "Success")
        .count();
    let in_flight = children.len() - finished;
    if !e.stop_requested.is_empty() {
        for c in children.iter().filter(|c| c.end_ms.is_none()) {
            state
                .store
                .request_automation_stop(&c.execution_id, &e.stop_requested)?;
        }
        state.automation.kick();
        let status = if e.stop_requested == "Complete" {
            "Success"
        } else {
            "Cancelled"
        };
        finish(state, e, None, &[], status, "", now)?;
        return Ok(None);
    }
    let max_concurrency = MaxConcurrency::parse(&e.max_concurrency)
        .unwrap_or_default()
        .resolve(n);
    let max_errors = MaxErrors::parse(&e.max_errors)
        .unwrap_or_default()
        .resolve(n);
    let exceeded = errors_exceeded(errors, max_errors);
    let mut started = children.len();
    if !exceeded && started < n {
        let room = ramp_window(finished, max_concurrency)
            .saturating_sub(in_flight)
            .min(n - started);
        for k in started..started + room {
            start_child(state, e, plan, k, now)?;
        }
        started += room;
        if room > 0 {
            state.automation.kick();
        }
    }
    let in_flight = started - finished;
    if in_flight == 0 && (exceeded || started == n) {
        let message = if exceeded {
            format!(
                "{errors} target execution(s) failed, more than MaxErrors {} allows; {} of {n} \
                 target(s) were not started.",
                e.max_errors,
                n - started
            )
        } else if errors > 0 {
            format!("{errors} of {n} target execution(s) failed.")
        } else {
            String::new()
        };
        let status = if message.is_empty() {
            "Success"
        } else {
            "Failed"
        };
        finish(state, e, None, &[], status, &message, now)?;
        return Ok(None);
    }
    if e.status != "InProgress" {
        let old = std::mem::replace(&mut e.status, "InProgress".into());
        super::writes::update_execution(state, &old, e)?;
    }
    Ok(None)
}
