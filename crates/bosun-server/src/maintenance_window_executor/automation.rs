//! `AUTOMATION` task invocations: one runbook execution per node, started as the user who
//! registered the task, with the invocation id as its `ClientToken` — so a step repeated after
//! a crash gets the same execution back instead of starting another — and settled from the
//! execution's end.

use bosun_core::maintenance_window::pseudo::{substitute_parameters, PseudoValues};
use bosun_core::maintenance_window::{InvocationOutcome, StopCause};
use bosun_store::{TaskExecutionRecord, TaskInvocationRecord};
use serde_json::json;

use super::task::RUNNING;
use crate::api::maintenance_windows::automation_task::automation_task;
use crate::api::{call_as, Ctx};

/// Start the runbook for `inv`'s node; the invocation's record once sent, or why it could not
/// start.
pub fn start(
    ctx: &Ctx,
    task: &bosun_store::WindowTaskRecord,
    mut values: PseudoValues,
    inv: &TaskInvocationRecord,
    now: i64,
) -> Result<TaskInvocationRecord, String> {
    let a = automation_task(task).map_err(|e| e.message)?;
    if task.registered_by.is_empty() {
        return Err(
            "The task was registered before Bosun recorded who registers tasks; update it \
             (UpdateMaintenanceWindowTask) so its runbook has a user to run as."
                .into(),
        );
    }
    values.resource_id = Some(inv.node_id.clone());
    values.target_id = Some(inv.node_id.clone());
    let parameters = substitute_parameters(&a.parameters, &values);
    let mut body = json!({
        "DocumentName": a.document_name,
        "Parameters": parameters,
        "ClientToken": inv.invocation_id,
    });
    if let Some(v) = &a.document_version {
        body["DocumentVersion"] = json!(v);
    }
    let started = call_as(
        ctx.state,
        &inv.region,
        &task.registered_by,
        "StartAutomationExecution",
        body,
        None,
    )
    .map_err(|e| format!("The runbook could not start: {}: {}", e.code, e.message))?;
    let id = started["AutomationExecutionId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(TaskInvocationRecord {
        phase: RUNNING.into(),
        execution_id: id,
        parameters: json!(parameters).to_string(),
        status: "IN_PROGRESS".into(),
        status_details: "InProgress".into(),
        start_ms: now,
        ..inv.clone()
    })
}

/// The outcome of a running invocation's execution, once it has ended.
pub fn outcome(
    ctx: &Ctx,
    inv: &TaskInvocationRecord,
    stopped_by: StopCause,
) -> anyhow::Result<Option<(InvocationOutcome, String)>> {
    let Some(e) = ctx
        .state
        .store
        .get_automation_execution(&inv.execution_id)?
    else {
        return Ok(Some((
            InvocationOutcome::Failed,
            format!("Automation execution {} is gone.", inv.execution_id),
        )));
    };
    if e.end_ms.is_none() {
        return Ok(None);
    }
    let outcome = match e.status.as_str() {
        "Success" => InvocationOutcome::Succeeded,
        "TimedOut" => InvocationOutcome::ExecutionTimedOut,
        "Cancelled" => InvocationOutcome::Stopped(stopped_by),
        _ => InvocationOutcome::Failed,
    };
    let details = if e.failure_message.is_empty() {
        format!(
            "Automation execution {} ended {}.",
            e.execution_id, e.status
        )
    } else {
        format!(
            "Automation execution {} ended {}: {}",
            e.execution_id, e.status, e.failure_message
        )
    };
    Ok(Some((outcome, details)))
}

/// Ask a running invocation's execution to stop (Cancel).
pub fn cancel(ctx: &Ctx, inv: &TaskInvocationRecord) -> anyhow::Result<()> {
    ctx.state
        .store
        .request_automation_stop(&inv.execution_id, "Cancel")?;
    ctx.state.automation.kick();
    Ok(())
}

/// Whether a task execution is an `AUTOMATION` task's.
pub fn is_automation(t: &TaskExecutionRecord) -> bool {
    t.task_type == "AUTOMATION"
}
