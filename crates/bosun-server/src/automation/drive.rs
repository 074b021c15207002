//! Driving one execution: look at its last step and move on — start the first step, advance
//! a running one, or follow the flow rules after an ended one — until it waits or ends. Every
//! write is fenced by this replica's lease.

use std::collections::BTreeMap;

use bosun_core::automation::{
    execution_outputs, inherited_end, interpolate, next_after, pending_start, stop_step_requested,
    Action, Context, ExecStatus, InterpolateError, Next, Runbook, StepOutcome,
};
use bosun_core::ids;
use bosun_store::{AutomationExecutionRecord, AutomationStepRecord};
use serde_json::{Map, Value};

use super::actions::{self, Progress};
use super::loop_run;
use super::writes::{put_step, update_execution};
use crate::api::automation::describe::runbook_of;
use crate::api::automation::targets::TargetPlan;
use crate::state::{now_ms, random_bytes, AppState};

/// Transitions made in one call at most (a runbook looping on instant steps yields here).
const MAX_TRANSITIONS: usize = 100;

pub(super) fn is_terminal(status: &str) -> bool {
    ExecStatus::parse(status).is_some_and(ExecStatus::is_terminal)
}

/// Typed outputs of every ended step: `"<step>.<output>"` → value.
fn all_outputs(steps: &[AutomationStepRecord]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    // An open loop's outputs (its iteration) are seen by its inner steps.
    for s in steps
        .iter()
        .filter(|s| is_terminal(&s.status) || s.action == "aws:loop")
    {
        let map: Map<String, Value> = serde_json::from_str(&s.outputs_json).unwrap_or_default();
        for (k, v) in map {
            out.insert(format!("{}.{k}", s.step_name), v);
        }
    }
    out
}

pub(super) fn context(
    state: &AppState,
    e: &AutomationExecutionRecord,
    steps: &[AutomationStepRecord],
    now: i64,
) -> Context {
    Context {
        execution_id: e.execution_id.clone(),
        account_id: state.config.account_id.clone(),
        region: e.region.clone(),
        partition: "aws".into(),
        now: jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        parameters: serde_json::from_str(&e.parameters_json).unwrap_or_default(),
        step_outputs: all_outputs(steps),
    }
}

pub(super) fn outcome_of(s: &AutomationStepRecord) -> StepOutcome {
    match s.status.as_str() {
        "Success" if s.action == "aws:branch" => {
            let response: Value = serde_json::from_str(&s.response_json).unwrap_or_default();
            match response.get("NextStep").and_then(Value::as_str) {
                Some(n) => StepOutcome::Branched(n.to_string()),
                None => StepOutcome::Failed,
            }
        }
        "Success" => StepOutcome::Success,
        "TimedOut" => StepOutcome::TimedOut,
        "Cancelled" => StepOutcome::Cancelled,
        _ => StepOutcome::Failed,
    }
}

/// Drive execution `id`; `Some(ms)`: wake it by then.
pub(super) fn drive(state: &AppState, id: &str) -> anyhow::Result<Option<i64>> {
    let replica = state.replica.id.clone();
    for _ in 0..MAX_TRANSITIONS {
        let now = now_ms();
        let Some(mut e) = state.store.get_automation_execution(id)? else {
            return Ok(None);
        };
        if e.end_ms.is_some() || e.owner != replica {
            return Ok(None);
        }
        // A rate-control parent (its targets stored as a plan; children store `{"Target"}`),
        // whether started by a user or by an `aws:executeAutomation` step.
        if let Ok(plan) = serde_json::from_str::<TargetPlan>(&e.targets_json) {
            return super::children::drive_parent(state, &mut e, &plan);
        }
        let steps = state.store.automation_steps(id)?;
        let Some(runbook) = runbook_of(&e) else {
            finish(
                state,
                &mut e,
                None,
                &steps,
                "Failed",
                "The runbook could not be read.",
                now,
            )?;
            return Ok(None);
        };
        let last = steps.last().cloned();
        let next_seq = last.as_ref().map_or(0, |x| x.seq + 1);
        // A cancel flow (`onCancel: step:<name>`) runs to its end; then the execution ends
        // `Cancelled`.
        let cancelling = e.status == "Cancelling";
        if !e.stop_requested.is_empty() && !cancelling {
            let mut steps = steps;
            if let Some(mut s) = last.filter(|s| !is_terminal(&s.status)) {
                let old = s.status.clone();
                actions::cancel(state, &e, &mut s, now)?;
                if !put_step(state, &e, Some(&old), &s)? {
                    return Ok(None);
                }
                if e.stop_requested == "Cancel" {
                    let next = next_after(
                        &runbook,
                        s.step_index as usize,
                        &StepOutcome::Cancelled,
                        false,
                    );
                    if let Next::Step(i) = next {
                        e.status = "Cancelling".into();
                        let seq = s.seq + 1;
                        *steps.last_mut().expect("a last step") = s;
                        start_step(state, &mut e, &runbook, &steps, i, seq, None, now)?;
                        continue;
                    }
                }
                *steps.last_mut().expect("a last step") = s;
            }
            if !loop_run::cancel_open(state, &e, &mut steps, now)? {
                return Ok(None);
            }
            // `Complete` ends the execution as it stands, successfully; `Cancel` cancels it.
            let status = if e.stop_requested == "Complete" {
                "Success"
            } else {
                "Cancelled"
            };
            finish(state, &mut e, Some(&runbook), &steps, status, "", now)?;
            return Ok(None);
        }
        match loop_run::step(state, &mut e, &runbook, &steps, now)? {
            loop_run::Done::NotMine => {}
            loop_run::Done::Moved => continue,
            loop_run::Done::Lost => return Ok(None),
        }
        let last = loop_run::current(&runbook, &steps).cloned();
        let interactive = e.mode == "Interactive";
        match last {
            None if interactive => {
                if !start_signalled(state, &mut e, &runbook, &steps, 0, 0, now)? {
                    return Ok(None);
                }
            }
            None => start_step(state, &mut e, &runbook, &steps, 0, 0, None, now)?,
            Some(mut s) if !is_terminal(&s.status) => {
                let step = &runbook.steps[s.step_index as usize];
                let ctx = context(state, &e, &steps, now);
                let before = s.clone();
                let signals: Vec<Value> = serde_json::from_str(&e.signals_json).unwrap_or_default();
                let progress = if stop_step_requested(
                    &signals,
                    s.signal_base as usize,
                    &s.step_execution_id,
                ) {
                    // `StopStep`: the step ends `Cancelled`; its `onCancel` decides what next.
                    actions::cancel(state, &e, &mut s, now)?;
                    Progress::Ended
                } else {
                    actions::advance(state, &e, step, &ctx, &mut s, now)?
                };
                match progress {
                    Progress::Pending(wake) => {
                        if s != before && !put_step(state, &e, Some(&before.status), &s)? {
                            return Ok(None);
                        }
                        let status = if cancelling {
                            "Cancelling"
                        } else if s.status == "Waiting" {
                            "Waiting"
                        } else {
                            "InProgress"
                        };
                        if e.status != status || e.wake_ms != wake {
                            let old = std::mem::replace(&mut e.status, status.into());
                            e.wake_ms = wake;
                            update_execution(state, &old, &e)?;
                        }
                        return Ok(wake);
                    }
                    Progress::Ended => {
                        if !put_step(state, &e, Some(&before.status), &s)? {
                            return Ok(None);
                        }
                    }
                }
            }
            Some(s) => {
                // Main steps only: an inner step's failure is its loop's, which the loop step's
                // own outcome (and `onFailure`) accounts for.
                let mut earlier = steps.iter().filter(|x| x.seq != s.seq);
                let failed_critical = earlier.any(|x| {
                    matches!(x.status.as_str(), "Failed" | "TimedOut")
                        && runbook
                            .steps
                            .get(x.step_index as usize)
                            .is_some_and(|st| st.is_critical && st.parent.is_none())
                });
                let next = if loop_run::inherited_failure(&s) {
                    inherited_end(&outcome_of(&s))
                } else {
                    next_after(
                        &runbook,
                        s.step_index as usize,
                        &outcome_of(&s),
                        failed_critical,
                    )
                };
                match next {
                    Next::Step(_) if interactive && !cancelling => {
                        let from = s.signal_base as usize;
                        if !start_signalled(state, &mut e, &runbook, &steps, next_seq, from, now)? {
                            return Ok(None);
                        }
                    }
                    Next::Step(i) => {
                        start_step(state, &mut e, &runbook, &steps, i, next_seq, None, now)?
                    }
                    Next::End(_) if cancelling => {
                        finish(state, &mut e, Some(&runbook), &steps, "Cancelled", "", now)?;
                        return Ok(None);
                    }
                    Next::End(status) => {
                        let message = if status == ExecStatus::Success {
                            String::new()
                        } else {
                            steps
                                .iter()
                                .rev()
                                .find(|x| !x.failure_message.is_empty())
                                .map(|x| {
                                    format!("Step {} failed: {}", x.step_name, x.failure_message)
                                })
                                .unwrap_or_default()
                        };
                        finish(
                            state,
                            &mut e,
                            Some(&runbook),
                            &steps,
                            status.as_str(),
                            &message,
                            now,
                        )?;
                        return Ok(None);
                    }
                }
            }
        }
    }
    Ok(Some(now_ms()))
}

/// An interactive execution between steps: start the step a `StartStep` signal at or after
/// position `from` names (as run number `seq`), or wait `Waiting` for one; whether a step
/// started.
fn start_signalled(
    state: &AppState,
    e: &mut AutomationExecutionRecord,
    runbook: &Runbook,
    steps: &[AutomationStepRecord],
    seq: i64,
    from: usize,
    now: i64,
) -> anyhow::Result<bool> {
    let signals: Vec<Value> = serde_json::from_str(&e.signals_json).unwrap_or_default();
    if let Some((at, name)) = pending_start(&signals, from) {
        let main = &runbook.steps[..runbook.main_len()];
        if let Some(index) = main.iter().position(|st| st.name == name) {
            let base = Some(at as i64 + 1);
            start_step(state, e, runbook, steps, index, seq, base, now)?;
            return Ok(true);
        }
        // `SendAutomationSignal` checked the name; a runbook cannot change under an execution.
        tracing::warn!(execution = %e.execution_id, step = %name, "StartStep names no step");
    }
    if e.status != "Waiting" || !e.current_step_name.is_empty() {
        let old = std::mem::replace(&mut e.status, "Waiting".into());
        e.current_step_name.clear();
        e.current_action.clear();
        e.wake_ms = None;
        update_execution(state, &old, e)?;
    }
    Ok(false)
}

/// Write step `index` as run number `seq`: `InProgress` (or `Waiting`) with its interpolated
/// inputs, before its action does anything; a step whose inputs cannot be resolved is written
/// `Failed` at once. Its own signals start at `signal_base` (default: those still to come).
#[allow(clippy::too_many_arguments)]
pub(super) fn start_step(
    state: &AppState,
    e: &mut AutomationExecutionRecord,
    runbook: &Runbook,
    steps: &[AutomationStepRecord],
    index: usize,
    seq: i64,
    signal_base: Option<i64>,
    now: i64,
) -> anyhow::Result<()> {
    let step = &runbook.steps[index];
    let signals: Vec<Value> = serde_json::from_str(&e.signals_json).unwrap_or_default();
    let mut row = AutomationStepRecord {
        execution_id: e.execution_id.clone(),
        seq,
        step_execution_id: ids::uuid_v4(random_bytes()),
        step_index: index as i64,
        step_name: step.name.clone(),
        action: step.action.as_str().to_string(),
        status: "InProgress".into(),
        attempt: 1,
        inputs_json: "{}".into(),
        outputs_json: "{}".into(),
        response_json: "null".into(),
        failure_message: String::new(),
        start_ms: Some(now),
        end_ms: None,
        wake_ms: None,
        command_id: String::new(),
        signal_base: signal_base.unwrap_or(signals.len() as i64),
    };
    let ctx = context(state, e, steps, now);
    let inputs = if step.action == Action::Loop {
        loop_run::start_inputs(step, &ctx).map_err(InterpolateError)
    } else {
        interpolate(&step.inputs, &ctx)
    };
    match inputs {
        Ok(inputs) => {
            row.inputs_json = inputs.to_string();
            actions::begin(step, &mut row, now);
        }
        Err(why) => {
            row.status = "Failed".into();
            row.failure_message = why.0;
            row.end_ms = Some(now);
        }
    }
    if !put_step(state, e, None, &row)? {
        return Ok(());
    }
    let old = e.status.clone();
    if e.status != "Cancelling" {
        e.status = if row.status == "Waiting" {
            "Waiting"
        } else {
            "InProgress"
        }
        .into();
    }
    e.current_step_name = step.name.clone();
    e.current_action = row.action.clone();
    e.wake_ms = row.wake_ms;
    update_execution(state, &old, e)?;
    Ok(())
}

/// End the execution with `status`, its outputs from its steps'.
pub(super) fn finish(
    state: &AppState,
    e: &mut AutomationExecutionRecord,
    runbook: Option<&Runbook>,
    steps: &[AutomationStepRecord],
    status: &str,
    message: &str,
    now: i64,
) -> anyhow::Result<()> {
    if let Some(runbook) = runbook {
        let outputs = execution_outputs(runbook, &all_outputs(steps));
        e.outputs_json = serde_json::to_string(&outputs)?;
    }
    let old = std::mem::replace(&mut e.status, status.into());
    e.failure_message = message.into();
    e.end_ms = Some(now);
    e.wake_ms = None;
    if !update_execution(state, &old, e)? {
        tracing::warn!(execution = %e.execution_id, "automation execution taken over before it ended here");
    } else {
        tracing::info!(execution = %e.execution_id, status, "automation execution ended");
        if e.parent_id.is_some() {
            // Its parent may start the next child now.
            state.automation.kick();
        } else {
            // An Automation association's execution may end with it.
            state.associations.command_ended();
        }
    }
    Ok(())
}
