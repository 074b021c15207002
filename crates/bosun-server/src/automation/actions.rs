//! What each action does when its step starts ([`begin`]), each time the step is looked at
//! while it runs ([`advance`]), and when the execution is cancelled under it ([`cancel`]):
//! `aws:sleep`, `aws:pause`, `aws:approve`, `aws:branch` here; `aws:runCommand`,
//! `aws:changeInstanceState`, `aws:executeAutomation` and the `aws:executeAwsApi` family in
//! their own files. Retries (`maxAttempts`), `timeoutSeconds`
//! and the step's outputs are applied here to every action.

use std::collections::BTreeSet;

use bosun_core::automation::{choose_branch, sleep_until, step_outputs, Action, Context, Step};
use bosun_core::ids;
use bosun_store::{AutomationExecutionRecord, AutomationStepRecord};
use serde_json::{json, Map, Value};

use super::{aws_api, change_state, nested, run_command};
use crate::api::automation::control::is_approver;
use crate::state::{random_bytes, AppState};

/// How often a `aws:waitForAwsResourceProperty` step looks again.
const WAIT_POLL_MS: i64 = 2_000;
/// `aws:waitForAwsResourceProperty`'s timeout when the step gives none (user guide).
const WAIT_DEFAULT_TIMEOUT_S: u64 = 3_600;

/// Where a step stands after a look.
pub(super) enum Progress {
    /// Still running or waiting; look again by this time (`None`: on a signal or the poll).
    Pending(Option<i64>),
    /// The row now holds the step's end.
    Ended,
}

/// How an attempt ended.
pub(super) enum Attempt {
    Running(Option<i64>),
    Success(Value),
    /// An `aws:branch` step chose this step.
    Branch(String),
    Failed(String, Value),
}

fn inputs_of(row: &AutomationStepRecord) -> Value {
    serde_json::from_str(&row.inputs_json).unwrap_or_else(|_| json!({}))
}

/// Set up a starting step's row (the row is stored by the caller before anything else).
pub(super) fn begin(step: &Step, row: &mut AutomationStepRecord, now: i64) {
    let inputs = inputs_of(row);
    match step.action {
        Action::Sleep => {
            let started =
                jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            match sleep_until(&inputs, started) {
                Ok(t) => row.wake_ms = Some(t.as_millisecond()),
                Err(why) => {
                    row.status = "Failed".into();
                    row.failure_message = why.0;
                    row.end_ms = Some(now);
                }
            }
        }
        Action::Pause | Action::Approve => row.status = "Waiting".into(),
        Action::RunCommand | Action::ExecuteAutomation => {
            row.command_id = ids::uuid_v4(random_bytes())
        }
        _ => {}
    }
}

fn timeout_s(step: &Step) -> Option<u64> {
    match (step.timeout_seconds, step.action) {
        (Some(t), _) => Some(t),
        // Bosun's bound on a wake or stop that never completes (a node that never comes up).
        (None, Action::WaitForAwsResourceProperty | Action::ChangeInstanceState) => {
            Some(WAIT_DEFAULT_TIMEOUT_S)
        }
        _ => None,
    }
}

/// Look at a running step once and record what happened in `row`.
pub(super) fn advance(
    state: &AppState,
    e: &AutomationExecutionRecord,
    step: &Step,
    ctx: &Context,
    row: &mut AutomationStepRecord,
    now: i64,
) -> anyhow::Result<Progress> {
    let _ = ctx;
    let deadline = timeout_s(step).and_then(|t| row.start_ms.map(|s| s + t as i64 * 1000));
    if deadline.is_some_and(|d| now >= d) {
        cancel_effect(state, e, row, now)?;
        return end(
            step,
            row,
            "TimedOut",
            json!(null),
            "Step timed out.".into(),
            now,
        );
    }
    let inputs = inputs_of(row);
    let attempt = match step.action {
        Action::Sleep => match row.wake_ms {
            Some(w) if now < w => Attempt::Running(Some(w)),
            _ => Attempt::Success(json!(null)),
        },
        Action::Pause => {
            if signals(e, row).iter().any(|s| s["Type"] == "Resume") {
                Attempt::Success(json!(null))
            } else {
                Attempt::Running(None)
            }
        }
        Action::Approve => approval(e, row, &inputs),
        Action::Branch => match choose_branch(&inputs) {
            Ok(Some(next)) => Attempt::Branch(next),
            Ok(None) => Attempt::Failed(
                "No choice matched and the step has no Default.".into(),
                json!(null),
            ),
            Err(why) => Attempt::Failed(why.0, json!(null)),
        },
        Action::RunCommand => run_command::advance(state, e, row, &inputs, now)?,
        Action::ChangeInstanceState => change_state::advance(state, e, row, &inputs, now)?,
        Action::ExecuteAwsApi => match aws_api::call(state, e, &inputs, now) {
            Ok(response) => Attempt::Success(response),
            Err(why) => Attempt::Failed(why, json!(null)),
        },
        Action::AssertAwsResourceProperty | Action::WaitForAwsResourceProperty => {
            match aws_api::property(state, e, &inputs, now) {
                Ok((true, response)) => Attempt::Success(response),
                Ok((false, _)) if step.action == Action::WaitForAwsResourceProperty => {
                    Attempt::Running(Some(now + WAIT_POLL_MS))
                }
                Ok((false, response)) => Attempt::Failed(
                    "The property does not have any of the desired values.".into(),
                    response,
                ),
                Err(why) => Attempt::Failed(why, json!(null)),
            }
        }
        Action::ExecuteAutomation => nested::advance(state, e, row, &inputs)?,
        // `loop_run.rs` drives loop rows; one is never advanced as an action.
        Action::Loop => Attempt::Failed(
            "aws:loop is run by its iterations, not as an action.".into(),
            json!(null),
        ),
    };
    let pending = |wake: Option<i64>| match (wake, deadline) {
        (Some(w), Some(d)) => Some(w.min(d)),
        (w, d) => w.or(d),
    };
    match attempt {
        Attempt::Running(wake) => Ok(Progress::Pending(pending(wake))),
        Attempt::Success(response) => end(step, row, "Success", response, String::new(), now),
        Attempt::Branch(next) => end(
            step,
            row,
            "Success",
            json!({ "NextStep": next }),
            String::new(),
            now,
        ),
        Attempt::Failed(why, response) => {
            if row.attempt < i64::from(step.max_attempts) {
                // Another attempt: the same row, a fresh command id, as if the step started.
                row.attempt += 1;
                row.start_ms = Some(now);
                row.failure_message = why;
                row.status = "InProgress".into();
                row.command_id = String::new();
                row.response_json = "null".into();
                begin(step, row, now);
                return Ok(Progress::Pending(Some(now)));
            }
            end(step, row, "Failed", response, why, now)
        }
    }
}

/// Record a step's end; a successful step's outputs are its action's own (a response's
/// top-level members) and its declared ones. Outputs that cannot be typed fail it.
fn end(
    step: &Step,
    row: &mut AutomationStepRecord,
    status: &str,
    response: Value,
    why: String,
    now: i64,
) -> anyhow::Result<Progress> {
    row.status = status.into();
    row.failure_message = why;
    row.end_ms = Some(now);
    row.wake_ms = None;
    if !response.is_null() {
        row.response_json = response.to_string();
    }
    if status == "Success" {
        let mut outputs = Map::new();
        if matches!(
            step.action,
            Action::RunCommand
                | Action::Approve
                | Action::ChangeInstanceState
                | Action::ExecuteAutomation
        ) {
            if let Value::Object(m) = &response {
                outputs.extend(m.clone());
            }
        }
        match step_outputs(step, &response) {
            Ok(declared) => outputs.extend(declared),
            Err(e) => {
                row.status = "Failed".into();
                row.failure_message = e.0;
            }
        }
        row.outputs_json = Value::Object(outputs).to_string();
    } else if matches!(step.action, Action::Approve | Action::ExecuteAutomation) {
        // An approval's decisions and a failed child's id and status stay visible.
        if let Value::Object(m) = &response {
            row.outputs_json = Value::Object(m.clone()).to_string();
        }
    }
    Ok(Progress::Ended)
}

/// The execution's signals since the step started.
fn signals(e: &AutomationExecutionRecord, row: &AutomationStepRecord) -> Vec<Value> {
    let all: Vec<Value> = serde_json::from_str(&e.signals_json).unwrap_or_default();
    all.into_iter().skip(row.signal_base as usize).collect()
}

/// An `aws:approve` step's tally: one `Reject` by an approver rejects it; `MinRequiredApprovals`
/// (default 1) distinct approvers approve it.
fn approval(e: &AutomationExecutionRecord, row: &AutomationStepRecord, inputs: &Value) -> Attempt {
    let approvers = inputs.get("Approvers").cloned().unwrap_or(Value::Null);
    let min = match inputs.get("MinRequiredApprovals") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(1),
        Some(Value::String(s)) => s.parse().unwrap_or(1),
        _ => 1,
    }
    .max(1) as usize;
    let mut approved = BTreeSet::new();
    let mut decisions = Vec::new();
    let mut rejected = None;
    for s in signals(e, row) {
        let (user, arn) = (
            s["User"].as_str().unwrap_or_default(),
            s["Arn"].as_str().unwrap_or_default(),
        );
        if !is_approver(&approvers, user, arn) {
            continue;
        }
        let kind = s["Type"].as_str().unwrap_or_default();
        if !matches!(kind, "Approve" | "Reject") {
            // `Resume`, `StartStep`, `StopStep` are no decisions.
            continue;
        }
        decisions.push(json!({"Type": kind, "Approver": arn, "Comment": s["Comment"]}));
        match kind {
            "Approve" => {
                approved.insert(arn.to_string());
            }
            "Reject" => rejected = Some(user.to_string()),
            _ => {}
        }
    }
    if let Some(user) = rejected {
        return Attempt::Failed(
            format!("The step was rejected by {user}."),
            json!({"ApprovalStatus": "Rejected", "ApproverDecisions": decisions}),
        );
    }
    if approved.len() >= min {
        return Attempt::Success(
            json!({"ApprovalStatus": "Approved", "ApproverDecisions": decisions}),
        );
    }
    Attempt::Running(None)
}

/// Stop what a step's action started: its command is cancelled on every node as
/// `CancelCommand` would (the execution sent it, so it may end it).
fn cancel_effect(
    state: &AppState,
    e: &AutomationExecutionRecord,
    row: &AutomationStepRecord,
    now: i64,
) -> anyhow::Result<()> {
    if row.command_id.is_empty() {
        return Ok(());
    }
    if row.action == Action::ExecuteAutomation.as_str() {
        return nested::cancel(state, row);
    }
    if let Some(c) = state.store.get_command(&e.region, &row.command_id)? {
        let invocations = state.store.invocations(&c.command_id)?;
        crate::orchestrator::cancel(state, &c, &invocations, &[], now)?;
        state.orchestrator.kick();
    }
    Ok(())
}

/// The execution is stopped under a running step: the step ends `Cancelled`.
pub(super) fn cancel(
    state: &AppState,
    e: &AutomationExecutionRecord,
    row: &mut AutomationStepRecord,
    now: i64,
) -> anyhow::Result<()> {
    cancel_effect(state, e, row, now)?;
    row.status = "Cancelled".into();
    row.end_ms = Some(now);
    row.wake_ms = None;
    Ok(())
}
