//! Running `aws:loop` steps durably, in the execution's step rows alone (no column of its own).
//!
//! The loop step's row is written `InProgress` when the loop starts, with its inputs resolved
//! (all but `LoopCondition`, which refers to the inner steps' outputs and is resolved after each
//! iteration). Each iteration begins by writing, in that row, the outputs `CurrentIteration` and
//! `CurrentIteratorValue` and an entry of its `Response`, `{"Iterations": [{"Iteration",
//! "IteratorValue", "FirstSeq"}]}`, `FirstSeq` being the run number the iteration's first inner
//! step gets; only then is that inner step written (as any step: `InProgress` before its
//! effect). Inner steps are ordinary step rows after the loop's; which iteration a row belongs to
//! is the last entry whose `FirstSeq` is at most its run number. So after a crash, the rows say
//! where the loop stands: an entry past the last row means the iteration's first step is still
//! to start; a running inner row is driven as any step (a `aws:runCommand` finds its command by
//! the id it recorded); an ended one goes on by the flow rules inside the loop, and an ended
//! iteration goes to the next one or ends the loop row. Nothing is run twice.
//!
//! `DescribeAutomationStepExecutions` lists the inner steps' executions under their own names,
//! each with AWS's `ParentStepDetails` (the loop's step execution id, name and action, the
//! iteration and its iterator value), as AWS's `StepExecution` has them.

use bosun_core::automation::{
    interpolate, iteration_value, loop_condition_holds, loop_spec, next_after, next_iteration,
    stop_step_requested, Context, ExecStatus, LoopKind, Next, Runbook, Step,
};
use bosun_store::{AutomationExecutionRecord, AutomationStepRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::actions;
use super::drive::{context, is_terminal, outcome_of, start_step};
use super::writes::put_step;
use crate::state::AppState;

/// One iteration as the loop row's `Response` records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Mark {
    pub iteration: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterator_value: Option<String>,
    pub first_seq: i64,
}

pub(crate) fn marks(row: &AutomationStepRecord) -> Vec<Mark> {
    serde_json::from_str::<Value>(&row.response_json)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("Iterations")?.clone()).ok())
        .unwrap_or_default()
}

/// The loop row an inner row `s` belongs to, and its iteration.
pub(crate) fn parent_of<'a>(
    runbook: &Runbook,
    steps: &'a [AutomationStepRecord],
    s: &AutomationStepRecord,
) -> Option<(&'a AutomationStepRecord, Option<Mark>)> {
    let parent = runbook.steps.get(s.step_index as usize)?.parent? as i64;
    let l = steps
        .iter()
        .rev()
        .find(|x| x.step_index == parent && x.seq < s.seq && x.action == "aws:loop")?;
    let mark = marks(l).into_iter().rev().find(|m| m.first_seq <= s.seq);
    Some((l, mark))
}

/// The row the flow goes on from: the last row, or, when that is an inner step of a loop that
/// has ended, the loop's row.
pub(super) fn current<'a>(
    runbook: &Runbook,
    steps: &'a [AutomationStepRecord],
) -> Option<&'a AutomationStepRecord> {
    let last = steps.last()?;
    match parent_of(runbook, steps, last) {
        Some((l, _)) if is_terminal(&l.status) && is_terminal(&last.status) => Some(l),
        _ => Some(last),
    }
}

/// A starting loop step's inputs: resolved but for `LoopCondition`, and checked.
pub(super) fn start_inputs(step: &Step, ctx: &Context) -> Result<Value, String> {
    let mut inputs = step.inputs.clone();
    let condition = inputs
        .as_object_mut()
        .and_then(|m| m.remove("LoopCondition"));
    let mut resolved = interpolate(&inputs, ctx).map_err(|e| e.0)?;
    if let (Some(c), Some(m)) = (condition, resolved.as_object_mut()) {
        m.insert("LoopCondition".into(), c);
    }
    loop_spec(&resolved).map_err(|e| e.0)?;
    Ok(resolved)
}

/// Whether a loop row ended by an inner step's failure, which the loop inherits: AWS's
/// "onFailure … for an aws:loop action … will only be used if an unexpected error occurs
/// causing the step to fail. If you define onFailure properties for the steps within a loop,
/// the aws:loop action inherits those properties". So the execution then ends as the inner
/// step's `Abort` would end it, whatever the loop's own `onFailure`; the loop's `onFailure`
/// applies to its own errors (`Iterators` that are not a list of its type, a `LoopCondition`
/// that cannot be resolved).
pub(super) fn inherited_failure(l: &AutomationStepRecord) -> bool {
    l.action == "aws:loop"
        && serde_json::from_str::<Value>(&l.response_json)
            .is_ok_and(|r| r.get("InheritedFailure") == Some(&json!(true)))
}

/// The open loop row, if any.
fn open_loop(steps: &[AutomationStepRecord]) -> Option<&AutomationStepRecord> {
    steps
        .iter()
        .rev()
        .find(|s| s.action == "aws:loop" && !is_terminal(&s.status))
}

/// End an open loop row `Cancelled` (the execution is stopped); `false`: taken over.
pub(super) fn cancel_open(
    state: &AppState,
    e: &AutomationExecutionRecord,
    steps: &mut [AutomationStepRecord],
    now: i64,
) -> anyhow::Result<bool> {
    let Some(l) = open_loop(steps).cloned() else {
        return Ok(true);
    };
    let ended = end_row(l, "Cancelled", String::new(), now);
    if !put_step(state, e, Some("InProgress"), &ended)? {
        return Ok(false);
    }
    replace(steps, ended);
    Ok(true)
}

fn end_row(
    mut l: AutomationStepRecord,
    status: &str,
    why: String,
    now: i64,
) -> AutomationStepRecord {
    l.status = status.into();
    l.failure_message = why;
    l.end_ms = Some(now);
    l.wake_ms = None;
    l
}

fn replace(steps: &mut [AutomationStepRecord], row: AutomationStepRecord) {
    if let Some(x) = steps.iter_mut().find(|x| x.seq == row.seq) {
        *x = row;
    }
}

/// What [`step`] did.
pub(super) enum Done {
    /// Nothing for the loop runtime: drive the last row as usual.
    NotMine,
    /// A row was written; look again.
    Moved,
    /// This replica no longer owns the execution.
    Lost,
}

/// What an open loop does next (its next write), decided from the rows alone.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Decision {
    /// No open loop, or its running inner step is the caller's to drive.
    NotMine,
    /// Begin iteration `n` (item `value`), its first inner step run number `seq`.
    Begin {
        n: u32,
        value: Option<Value>,
        seq: i64,
    },
    /// Start inner step `index` as run number `seq`.
    Start { index: usize, seq: i64 },
    /// End the loop row with this status and message.
    End { status: String, why: String },
    /// End the loop row with the status its inner step's failure (under `onFailure: Abort`)
    /// gives it; the loop inherits that `Abort` (see [`inherited_failure`]).
    Inherit { status: String, why: String },
}

/// The rule for an open loop, given its rows: `ctx` resolves a `LoopCondition`.
pub(super) fn decide(runbook: &Runbook, steps: &[AutomationStepRecord], ctx: &Context) -> Decision {
    let (Some(l), Some(last)) = (open_loop(steps), steps.last()) else {
        return Decision::NotMine;
    };
    let Some(lstep) = runbook.steps.get(l.step_index as usize) else {
        return Decision::NotMine;
    };
    let end = |status: &str, why: String| Decision::End {
        status: status.into(),
        why,
    };
    let spec = match serde_json::from_str(&l.inputs_json)
        .map_err(|e| e.to_string())
        .and_then(|v: Value| loop_spec(&v).map_err(|e| e.0))
    {
        Ok(spec) => spec,
        Err(why) => return end("Failed", why),
    };
    let seq = last.seq + 1;
    let next = |done: u32, holds: bool| match next_iteration(&spec, done, holds) {
        Some((n, value)) => Decision::Begin { n, value, seq },
        None => end("Success", String::new()),
    };
    let Some(mark) = marks(l).pop() else {
        return next(0, false);
    };
    if mark.first_seq > last.seq {
        // The iteration began; its first step was not written yet.
        return Decision::Start {
            index: lstep.body.start,
            seq: mark.first_seq,
        };
    }
    if !is_terminal(&last.status) {
        return Decision::NotMine;
    }
    let at = steps
        .iter()
        .position(|x| x.seq >= mark.first_seq)
        .unwrap_or(0);
    let iteration = &steps[at..];
    let failed_critical = iteration[..iteration.len() - 1].iter().any(|x| {
        matches!(x.status.as_str(), "Failed" | "TimedOut")
            && runbook
                .steps
                .get(x.step_index as usize)
                .is_some_and(|st| st.is_critical)
    });
    match next_after(
        runbook,
        last.step_index as usize,
        &outcome_of(last),
        failed_critical,
    ) {
        Next::Step(index) => Decision::Start { index, seq },
        Next::End(status) if status != ExecStatus::Success => {
            let why = iteration
                .iter()
                .rev()
                .find(|x| !x.failure_message.is_empty())
                .map(|x| format!("Step {} failed: {}", x.step_name, x.failure_message))
                .unwrap_or_default();
            Decision::Inherit {
                status: status.as_str().into(),
                why,
            }
        }
        Next::End(_) => {
            let holds = match &spec.kind {
                LoopKind::Condition(c) => {
                    match interpolate(c, ctx).and_then(|c| loop_condition_holds(&c)) {
                        Ok(h) => h,
                        Err(why) => return end("Failed", why.0),
                    }
                }
                LoopKind::Iterators(_) => true,
            };
            next(mark.iteration, holds)
        }
    }
}

/// Move an open loop on by one write: begin an iteration, start its next inner step, or end
/// the loop row. A running inner step is left to the caller.
pub(super) fn step(
    state: &AppState,
    e: &mut AutomationExecutionRecord,
    runbook: &Runbook,
    steps: &[AutomationStepRecord],
    now: i64,
) -> anyhow::Result<Done> {
    let Some(l) = open_loop(steps).cloned() else {
        return Ok(Done::NotMine);
    };
    let signals: Vec<Value> = serde_json::from_str(&e.signals_json).unwrap_or_default();
    if stop_step_requested(&signals, l.signal_base as usize, &l.step_execution_id) {
        // `StopStep` on the loop: its running inner step and the loop end `Cancelled`.
        if let Some(last) = steps
            .last()
            .filter(|x| x.seq != l.seq && !is_terminal(&x.status))
        {
            let mut s = last.clone();
            actions::cancel(state, e, &mut s, now)?;
            if !put_step(state, e, Some(&last.status), &s)? {
                return Ok(Done::Lost);
            }
        }
        return end_loop(state, e, l, "Cancelled", String::new(), now);
    }
    match decide(runbook, steps, &context(state, e, steps, now)) {
        Decision::NotMine => Ok(Done::NotMine),
        Decision::Begin { n, value, seq } => begin(state, e, runbook, steps, l, n, value, seq, now),
        Decision::Start { index, seq } => {
            start_step(state, e, runbook, steps, index, seq, None, now)?;
            Ok(Done::Moved)
        }
        Decision::End { status, why } => end_loop(state, e, l, &status, why, now),
        Decision::Inherit { status, why } => {
            let mut l = l;
            let mut response: Value = serde_json::from_str(&l.response_json).unwrap_or_default();
            if let Some(m) = response.as_object_mut() {
                m.insert("InheritedFailure".into(), json!(true));
            }
            l.response_json = response.to_string();
            end_loop(state, e, l, &status, why, now)
        }
    }
}

fn end_loop(
    state: &AppState,
    e: &AutomationExecutionRecord,
    l: AutomationStepRecord,
    status: &str,
    why: String,
    now: i64,
) -> anyhow::Result<Done> {
    let old = l.status.clone();
    let ended = end_row(l, status, why, now);
    Ok(if put_step(state, e, Some(&old), &ended)? {
        Done::Moved
    } else {
        Done::Lost
    })
}

/// Begin iteration `n` (item `v`): the loop row first, then its first inner step as `seq`.
#[allow(clippy::too_many_arguments)]
fn begin(
    state: &AppState,
    e: &mut AutomationExecutionRecord,
    runbook: &Runbook,
    steps: &[AutomationStepRecord],
    mut l: AutomationStepRecord,
    n: u32,
    v: Option<Value>,
    seq: i64,
    now: i64,
) -> anyhow::Result<Done> {
    let old = l.status.clone();
    let mut all = marks(&l);
    all.push(Mark {
        iteration: n,
        iterator_value: v.as_ref().map(iteration_value),
        first_seq: seq,
    });
    l.response_json = json!({ "Iterations": all }).to_string();
    let mut outputs = Map::new();
    outputs.insert("CurrentIteration".into(), json!(n));
    if let Some(v) = v {
        outputs.insert("CurrentIteratorValue".into(), v);
    }
    l.outputs_json = Value::Object(outputs).to_string();
    if !put_step(state, e, Some(&old), &l)? {
        return Ok(Done::Lost);
    }
    let mut steps = steps.to_vec();
    let first = runbook.steps[l.step_index as usize].body.start;
    replace(&mut steps, l);
    start_step(state, e, runbook, &steps, first, seq, None, now)?;
    Ok(Done::Moved)
}

/// AWS's `ParentStepDetails` of an inner step's execution.
pub(crate) fn parent_details(
    runbook: &Runbook,
    steps: &[AutomationStepRecord],
    s: &AutomationStepRecord,
) -> Option<Value> {
    let (l, mark) = parent_of(runbook, steps, s)?;
    let mut out = Map::new();
    out.insert("StepExecutionId".into(), json!(l.step_execution_id));
    out.insert("StepName".into(), json!(l.step_name));
    out.insert("Action".into(), json!(l.action));
    if let Some(m) = mark {
        out.insert("Iteration".into(), json!(m.iteration));
        if let Some(v) = m.iterator_value {
            out.insert("IteratorValue".into(), json!(v));
        }
    }
    Some(Value::Object(out))
}

#[cfg(test)]
#[path = "loop_run_tests.rs"]
mod tests;
