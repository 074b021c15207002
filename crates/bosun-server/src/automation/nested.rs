//! `aws:executeAutomation`: the step starts a secondary runbook as a child execution of its
//! own (`ParentAutomationExecutionId`), as the user who started the parent — a real
//! `StartAutomationExecution` through `api::call_as_with`, so their permission on the child's
//! `automation-definition` is checked — with the id the step recorded before starting it (in
//! its `command_id` column): a resumed step finds the child by that id and starts one only if
//! none exists. The step then waits for the child to end; its outputs are `ExecutionId`,
//! `Status` and `Output` (`bosun_core::automation::nested_response`). Cancelling or timing out
//! the step stops the child (`cancel`).

use std::collections::BTreeMap;

use bosun_core::automation::{nested_response, nested_start_request};
use bosun_store::{AutomationExecutionRecord, AutomationStepRecord};
use serde_json::{json, Value};

use super::actions::Attempt;
use super::drive::is_terminal;
use super::run_command::starter;
use crate::api::call_as_with;
use crate::state::AppState;

pub(super) fn advance(
    state: &AppState,
    e: &AutomationExecutionRecord,
    row: &AutomationStepRecord,
    inputs: &Value,
) -> anyhow::Result<Attempt> {
    let Some(child) = state.store.get_automation_execution(&row.command_id)? else {
        let body = match nested_start_request(inputs) {
            Ok(b) => b,
            Err(why) => return Ok(Attempt::Failed(why.0, json!(null))),
        };
        let started = call_as_with(
            state,
            &e.region,
            starter(e),
            "StartAutomationExecution",
            body,
            |ctx| {
                ctx.command_id = Some(row.command_id.clone());
                ctx.parent_execution = Some(e.execution_id.clone());
            },
        );
        return Ok(match started {
            Ok(_) => {
                tracing::info!(execution = %e.execution_id, step = %row.step_name, child = %row.command_id, "automation step started a secondary automation");
                Attempt::Running(None)
            }
            Err(err) => Attempt::Failed(
                format!(
                    "StartAutomationExecution failed: {}: {}",
                    err.code, err.message
                ),
                json!(null),
            ),
        });
    };
    if child.end_ms.is_none() || !is_terminal(&child.status) {
        return Ok(Attempt::Running(None));
    }
    let outputs: BTreeMap<String, Vec<String>> =
        serde_json::from_value(crate::api::automation::param_map(&child.outputs_json))
            .unwrap_or_default();
    let response = nested_response(&child.execution_id, &child.status, &outputs);
    Ok(if child.status == "Success" {
        Attempt::Success(response)
    } else {
        let why = if child.failure_message.is_empty() {
            format!(
                "Automation execution {} ended {}.",
                child.execution_id, child.status
            )
        } else {
            format!(
                "Automation execution {} ended {}: {}",
                child.execution_id, child.status, child.failure_message
            )
        };
        Attempt::Failed(why, response)
    })
}

/// Ask the step's child to stop (`Cancel`), if it was started and still runs.
pub(super) fn cancel(state: &AppState, row: &AutomationStepRecord) -> anyhow::Result<()> {
    if state
        .store
        .request_automation_stop(&row.command_id, "Cancel")?
    {
        state.automation.kick();
    }
    Ok(())
}
