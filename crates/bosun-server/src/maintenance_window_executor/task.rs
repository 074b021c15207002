//! One task of a window execution: starting it (its targets resolved into one invocation per
//! node) and stepping it (settle invocations whose command ended, then send, report not run or
//! cancel as `plan::next_invocation_actions` says, then roll the task up).
//!
//! A `RUN_COMMAND` invocation is one Run Command command to its node, built as `SendCommand`
//! builds one, with the task's parameters after pseudo-parameter substitution; the command is
//! stored in the same transaction that marks the invocation sent, so a node is sent its task
//! once. An `AUTOMATION` invocation is one runbook execution for its node (`automation.rs`).
//! Task types Bosun cannot run (refused at registration) end `FAILED` saying so.

use std::collections::HashMap;

use bosun_core::command::rate::{MaxConcurrency, MaxErrors};
use bosun_core::command::InvocationState;
use bosun_core::maintenance_window::ids::new_uuid;
use bosun_core::maintenance_window::pseudo::{substitute, substitute_parameters, PseudoValues};
use bosun_core::maintenance_window::{
    bounded_details, next_invocation_actions, task_status, InvocationAction, InvocationOutcome,
    InvocationPhase, InvocationRun, NodeState, ResourceType, StopCause, TargetTally, TargetVia,
    TaskLimits,
};
use bosun_store::{
    NewCommand, TaskExecutionRecord, TaskInvocationRecord, WindowExecutionRecord, WindowTaskRecord,
};
use serde_json::{json, Value};

use super::automation;
use super::targets::{node_state, resolve};
use crate::api::maintenance_windows::task_input::{check_task_type, run_command_spec};
use crate::api::send_command::prepare_command;
use crate::api::Ctx;
use crate::replicas::Presence;
use crate::state::random_bytes;

pub const WAITING: &str = "Waiting";
pub const RUNNING: &str = "Running";
pub const CANCELLING: &str = "Cancelling";
pub const ENDED: &str = "Ended";

/// The stop cause stored in a task's `stopping`.
pub fn stop_cause(text: &str) -> Option<StopCause> {
    match text {
        "Cutoff" => Some(StopCause::Cutoff),
        "WindowEnded" => Some(StopCause::WindowEnded),
        "Cancelled" => Some(StopCause::Cancelled),
        _ => None,
    }
}

pub fn stop_text(cause: StopCause) -> &'static str {
    match cause {
        StopCause::Cutoff => "Cutoff",
        StopCause::WindowEnded => "WindowEnded",
        StopCause::Cancelled => "Cancelled",
    }
}

/// An invocation's outcome, once ended.
pub fn outcome_of(inv: &TaskInvocationRecord) -> Option<InvocationOutcome> {
    (inv.phase == ENDED)
        .then(|| serde_json::from_str(&inv.outcome).ok())
        .flatten()
}

/// The tally of a task's invocations.
pub fn tally(invs: &[TaskInvocationRecord]) -> TargetTally {
    TargetTally::of_invocations(invs.iter().map(|i| (i.node_id.as_str(), outcome_of(i))))
}

fn end(
    ctx: &Ctx,
    inv: &TaskInvocationRecord,
    outcome: InvocationOutcome,
    details: Option<String>,
    now: i64,
) -> anyhow::Result<()> {
    let (status, own) = outcome.status();
    let ended = TaskInvocationRecord {
        phase: ENDED.into(),
        outcome: serde_json::to_string(&outcome)?,
        status: status.as_str().into(),
        status_details: bounded_details(&details.unwrap_or(own)),
        start_ms: if inv.start_ms == 0 { now } else { inv.start_ms },
        end_ms: now,
        ..inv.clone()
    };
    ctx.state.store.update_task_invocation(&ended, &inv.phase)?;
    Ok(())
}

/// Start a planned task at `now`: resolve its targets and record its invocations, or end it
/// at once when it cannot run anywhere.
pub fn start(
    ctx: &Ctx,
    e: &WindowExecutionRecord,
    t: &TaskExecutionRecord,
    now: i64,
) -> anyhow::Result<()> {
    let mut started = TaskExecutionRecord {
        status: "IN_PROGRESS".into(),
        start_ms: now,
        ..t.clone()
    };
    let fail = |mut s: TaskExecutionRecord, details: String| {
        s.status = "FAILED".into();
        s.status_details = bounded_details(&details);
        s.end_ms = now;
        ctx.state.store.start_window_task(&s, &[])
    };
    if let Err(err) = check_task_type(&t.task_type) {
        fail(started, err.message)?;
        return Ok(());
    }
    let snapshot: Value = serde_json::from_str(&t.task_json).unwrap_or_default();
    let nodes = match resolve(ctx, &e.window_id, &snapshot["Targets"]) {
        Ok(nodes) => nodes,
        Err(err) => {
            fail(
                started,
                format!(
                    "The task's targets could not be resolved, so it ran nowhere: {}: {}",
                    err.code, err.message
                ),
            )?;
            return Ok(());
        }
    };
    if nodes.is_empty() {
        let rolled = task_status(&TargetTally::default(), None);
        fail(started, rolled.details)?;
        return Ok(());
    }
    let invocations: Vec<TaskInvocationRecord> = nodes
        .into_iter()
        .enumerate()
        .map(|(seq, n)| TaskInvocationRecord {
            region: t.region.clone(),
            window_execution_id: t.window_execution_id.clone(),
            task_execution_id: t.task_execution_id.clone(),
            invocation_id: new_uuid(random_bytes()),
            seq: seq as i64,
            node_id: n.node_id,
            window_target_id: n.window_target_id,
            target_order: n.target_order as i64,
            via: format!("{:?}", n.via),
            execution_id: String::new(),
            parameters: String::new(),
            owner_information: n.owner_information,
            phase: WAITING.into(),
            outcome: String::new(),
            status: "PENDING".into(),
            status_details: String::new(),
            start_ms: 0,
            end_ms: 0,
        })
        .collect();
    started.status_details = String::new();
    ctx.state.store.start_window_task(&started, &invocations)?;
    Ok(())
}

/// The registered task as the snapshot kept with its execution.
fn task_record(e: &WindowExecutionRecord, t: &TaskExecutionRecord) -> WindowTaskRecord {
    let snapshot: Value = serde_json::from_str(&t.task_json).unwrap_or_default();
    let text = |k: &str| snapshot.get(k).map(Value::to_string).unwrap_or_default();
    WindowTaskRecord {
        region: t.region.clone(),
        window_id: e.window_id.clone(),
        window_task_id: t.window_task_id.clone(),
        task_arn: t.task_arn.clone(),
        task_type: t.task_type.clone(),
        targets_json: text("Targets"),
        service_role_arn: String::new(),
        task_parameters_json: text("TaskParameters"),
        invocation_parameters_json: text("TaskInvocationParameters"),
        priority: t.priority,
        max_concurrency: t.max_concurrency.clone(),
        max_errors: t.max_errors.clone(),
        name: String::new(),
        description: String::new(),
        cutoff_behavior: t.cutoff_behavior.clone(),
        client_token: String::new(),
        request_hash: String::new(),
        created_ms: 0,
        registered_by: snapshot
            .get("RegisteredBy")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

/// The pseudo-parameter values of one invocation (`{{RESOURCE_ID}}` and `{{TARGET_ID}}` left
/// for the task type to fill in).
fn pseudo_values(
    e: &WindowExecutionRecord,
    t: &TaskExecutionRecord,
    inv: &TaskInvocationRecord,
) -> PseudoValues {
    let via: Option<TargetVia> = serde_json::from_value(json!(inv.via)).ok();
    PseudoValues {
        window_id: e.window_id.clone(),
        window_task_id: t.window_task_id.clone(),
        window_target_id: Some(inv.window_target_id.clone()).filter(|s| !s.is_empty()),
        window_execution_id: e.window_execution_id.clone(),
        task_execution_id: t.task_execution_id.clone(),
        invocation_id: inv.invocation_id.clone(),
        target_type: if via == Some(TargetVia::ResourceGroup) {
            ResourceType::ResourceGroup
        } else {
            ResourceType::Instance
        },
        target_id: None,
        resource_id: None,
    }
}

/// Send one invocation: its command (or, for an `AUTOMATION` task, its runbook), with the
/// pseudo-parameters of this node substituted.
fn send(
    ctx: &Ctx,
    e: &WindowExecutionRecord,
    t: &TaskExecutionRecord,
    inv: &TaskInvocationRecord,
    name: &str,
    now: i64,
) -> anyhow::Result<()> {
    let values = pseudo_values(e, t, inv);
    if automation::is_automation(t) {
        return match automation::start(ctx, &task_record(e, t), values, inv, now) {
            Ok(sent) => {
                ctx.state.store.update_task_invocation(&sent, &inv.phase)?;
                Ok(())
            }
            Err(why) => end(ctx, inv, InvocationOutcome::Failed, Some(why), now),
        };
    }
    let mut spec = match run_command_spec(&task_record(e, t)) {
        Ok(spec) => spec,
        Err(err) => {
            let why = format!("The command could not be built: {}", err.message);
            return end(ctx, inv, InvocationOutcome::Failed, Some(why), now);
        }
    };
    spec.parameters = substitute_parameters(&spec.parameters, &values);
    spec.comment = substitute(&spec.comment, &values);
    spec.max_concurrency = "1".into();
    spec.max_errors = "0".into();
    spec.echo
        .insert("Parameters".into(), json!(spec.parameters));
    spec.echo.insert("InstanceIds".into(), json!([inv.node_id]));
    let node = (inv.node_id.clone(), name.to_string());
    let prepared = match prepare_command(ctx, &spec, || Ok((vec![node], false))) {
        Ok(p) => p,
        Err(err) => {
            let why = format!(
                "The command could not be built: {}: {}",
                err.code, err.message
            );
            return end(ctx, inv, InvocationOutcome::Failed, Some(why), now);
        }
    };
    let sent = TaskInvocationRecord {
        phase: RUNNING.into(),
        execution_id: prepared.record.command_id.clone(),
        // AWS's `Parameters` of a Run Command invocation: the command it sent, as text.
        parameters: json!({
            "documentName": spec.document_name,
            "instanceIds": [inv.node_id],
            "parameters": spec.parameters,
            "maxConcurrency": spec.max_concurrency,
            "maxErrors": spec.max_errors,
        })
        .to_string(),
        status: "IN_PROGRESS".into(),
        status_details: "InProgress".into(),
        start_ms: now,
        ..inv.clone()
    };
    let new = NewCommand {
        command: &prepared.record,
        invocations: &prepared.invocations,
        plugins: &prepared.plugins,
    };
    if ctx.state.store.send_task_invocation(&sent, new)? {
        ctx.state.orchestrator.kick();
    }
    Ok(())
}

/// Step a started task at `now`; `true` once it has ended.
pub fn step(
    ctx: &Ctx,
    presence: &Presence,
    e: &WindowExecutionRecord,
    t: &TaskExecutionRecord,
    now: i64,
) -> anyhow::Result<bool> {
    let store = &ctx.state.store;
    let stopping = stop_cause(&t.stopping);
    let load = || store.task_invocations(&t.region, &t.window_execution_id, &t.task_execution_id);
    // Settle invocations whose command ended.
    for inv in load()? {
        if inv.phase != RUNNING && inv.phase != CANCELLING {
            continue;
        }
        if automation::is_automation(t) {
            let cause = stopping.unwrap_or(StopCause::Cancelled);
            if let Some((outcome, details)) = automation::outcome(ctx, &inv, cause)? {
                end(ctx, &inv, outcome, Some(details), now)?;
            }
            continue;
        }
        let Some(ci) = store.invocation(&inv.execution_id, &inv.node_id)? else {
            continue;
        };
        let Some(state) = InvocationState::from_wire(&ci.status, &ci.status_details) else {
            continue;
        };
        let cause = stopping.unwrap_or(StopCause::Cancelled);
        if let Some(outcome) = InvocationOutcome::from_command(state, cause) {
            end(ctx, &inv, outcome, None, now)?;
        }
    }
    let invs = load()?;
    let nodes: HashMap<String, bosun_store::InstanceRecord> = store
        .list_instances(&t.region)?
        .into_iter()
        .map(|n| (n.instance_id.clone(), n))
        .collect();
    let runs: Vec<InvocationRun> = invs
        .iter()
        .map(|i| InvocationRun {
            node_state: match node_state(ctx, presence, nodes.get(&i.node_id)) {
                // A runbook runs in the server: a stopped node is what an AUTOMATION task
                // (AWS-StartEC2Instance) is for, not a reason to skip it.
                NodeState::ConnectionLost if automation::is_automation(t) => NodeState::Online,
                other => other,
            },
            target_order: i.target_order as usize,
            phase: match i.phase.as_str() {
                RUNNING => InvocationPhase::Running { cancel_sent: false },
                CANCELLING => InvocationPhase::Running { cancel_sent: true },
                ENDED => outcome_of(i).map_or(InvocationPhase::Waiting, InvocationPhase::Ended),
                _ => InvocationPhase::Waiting,
            },
        })
        .collect();
    let limits = TaskLimits::resolve(
        MaxConcurrency::parse(&t.max_concurrency).unwrap_or(MaxConcurrency::parse("1")?),
        MaxErrors::parse(&t.max_errors).unwrap_or(MaxErrors::parse("0")?),
        invs.len(),
    );
    for action in next_invocation_actions(&runs, limits, stopping) {
        match action {
            InvocationAction::Send(i) => {
                let name = nodes.get(&invs[i].node_id).map_or("", |n| n.name.as_str());
                send(ctx, e, t, &invs[i], name, now)?;
            }
            InvocationAction::NotRun(i, reason) => {
                end(ctx, &invs[i], InvocationOutcome::NotRun(reason), None, now)?;
            }
            InvocationAction::Cancel(i) => {
                let inv = &invs[i];
                if automation::is_automation(t) {
                    automation::cancel(ctx, inv)?;
                } else if let Some(c) = store.get_command(&t.region, &inv.execution_id)? {
                    let cis = store.invocations(&c.command_id)?;
                    crate::orchestrator::cancel(ctx.state, &c, &cis, &[], now)?;
                }
                let cancelling = TaskInvocationRecord {
                    phase: CANCELLING.into(),
                    ..inv.clone()
                };
                store.update_task_invocation(&cancelling, RUNNING)?;
            }
        }
    }
    let invs = load()?;
    let rolled = task_status(&tally(&invs), stopping);
    let ended = rolled.status.is_terminal();
    if ended || rolled.status.as_str() != t.status {
        let next = TaskExecutionRecord {
            status: rolled.status.as_str().into(),
            status_details: rolled.details,
            end_ms: if ended { now } else { 0 },
            ..t.clone()
        };
        store.update_window_task(&next)?;
    }
    Ok(ended)
}
