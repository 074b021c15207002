//! `StopAutomationExecution` (`Cancel`, `Complete`) and `SendAutomationSignal` (`Approve`/
//! `Reject` for a waiting `aws:approve` step, by one of its approvers; `Resume` for a waiting
//! `aws:pause` step; `StartStep` (payload `StepName`) for an `Interactive` execution between
//! steps; `StopStep` (payload `StepExecutionId`) for a running step). Both are recorded on the
//! execution for its driver, which acts on them (`bosun_core::automation::interactive`).
//! `Revoke` (Change Manager's, for a change request) is refused: Bosun has no change requests.

use serde::Deserialize;
use serde_json::{json, Value};

use super::execution;
use crate::api::error::ApiError;
use crate::api::{parse, Ctx};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StopRequest {
    automation_execution_id: String,
    #[serde(rename = "Type")]
    stop_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SignalRequest {
    automation_execution_id: String,
    signal_type: String,
    payload: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

pub fn stop_automation_execution(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: StopRequest = parse(body)?;
    let kind = req.stop_type.unwrap_or_else(|| "Cancel".into());
    let e = execution(ctx, &req.automation_execution_id)?;
    let ended = || {
        ApiError::new(
            "InvalidAutomationStatusUpdateException",
            format!(
                "Automation execution {} has already ended ({}).",
                e.execution_id, e.status
            ),
        )
    };
    if e.end_ms.is_some() {
        return Err(ended());
    }
    if !ctx
        .state
        .store
        .request_automation_stop(&e.execution_id, &kind)?
    {
        return Err(ended());
    }
    ctx.state.automation.kick();
    Ok(json!({}))
}

fn invalid_signal(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidAutomationSignalException", message)
}

/// Whether `approvers` (names or ARNs) names the caller.
pub fn is_approver(approvers: &Value, name: &str, arn: &str) -> bool {
    super::as_strings(approvers)
        .iter()
        .any(|a| a == name || a == arn)
}

fn step_not_found(message: String) -> ApiError {
    ApiError::new("AutomationStepNotFoundException", message)
}

fn is_terminal(status: &str) -> bool {
    bosun_core::automation::ExecStatus::parse(status).is_some_and(|s| s.is_terminal())
}

/// The one value of payload key `key` (`StepName`, `StepExecutionId`).
fn one(
    payload: &std::collections::BTreeMap<String, Vec<String>>,
    key: &str,
) -> Result<String, ApiError> {
    match payload.get(key).map(Vec::as_slice) {
        Some([v]) if !v.is_empty() => Ok(v.clone()),
        _ => Err(invalid_signal(format!(
            "The payload must give {key} (one value)."
        ))),
    }
}

/// `Revoke`'s refusal: it revokes a Change Manager change request, which Bosun does not have.
fn revoke_refused(execution_id: &str) -> ApiError {
    invalid_signal(format!(
        "Revoke revokes a Change Manager change request; this Bosun server has no Change \
         Manager change requests to revoke (automation execution {execution_id} is a runbook \
         execution: stop it with StopAutomationExecution)."
    ))
}

pub fn send_automation_signal(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: SignalRequest = parse(body)?;
    let e = execution(ctx, &req.automation_execution_id)?;
    if req.signal_type == "Revoke" {
        return Err(revoke_refused(&e.execution_id));
    }
    if e.end_ms.is_some() {
        return Err(invalid_signal(format!(
            "Automation execution {} has ended ({}); it takes no signals.",
            e.execution_id, e.status
        )));
    }
    let steps = ctx.state.store.automation_steps(&e.execution_id)?;
    let waiting = steps.last().filter(|s| s.status == "Waiting");
    let payload = req.payload.unwrap_or_default();
    let caller_arn = format!(
        "arn:aws:iam::{}:user/{}",
        ctx.state.config.account_id, ctx.principal
    );
    let mut extra = Value::Null;
    match req.signal_type.as_str() {
        "Approve" | "Reject" => {
            let Some(step) = waiting.filter(|s| s.action == "aws:approve") else {
                return Err(invalid_signal(format!(
                    "Automation execution {} is not waiting for an approval.",
                    e.execution_id
                )));
            };
            let inputs: Value = serde_json::from_str(&step.inputs_json).unwrap_or_default();
            let approvers = inputs.get("Approvers").cloned().unwrap_or(Value::Null);
            if !is_approver(&approvers, &ctx.principal, &caller_arn) {
                return Err(invalid_signal(format!(
                    "{} is not an approver of step {}.",
                    ctx.principal, step.step_name
                )));
            }
        }
        "Resume" => {
            let Some(step) = waiting.filter(|s| s.action == "aws:pause") else {
                return Err(invalid_signal(format!(
                    "Automation execution {} is not paused.",
                    e.execution_id
                )));
            };
            if let Some(names) = payload.get("StepName") {
                if names.iter().any(|n| *n != step.step_name) {
                    return Err(ApiError::new(
                        "AutomationStepNotFoundException",
                        format!(
                            "Step {} is not the paused step of automation execution {}.",
                            names.join(","),
                            e.execution_id
                        ),
                    ));
                }
            }
        }
        "StartStep" => {
            let name = one(&payload, "StepName")?;
            if e.mode != "Interactive" {
                return Err(invalid_signal(format!(
                    "Automation execution {} runs in {} mode; StartStep is for Interactive \
                     mode.",
                    e.execution_id, e.mode
                )));
            }
            let runbook = super::describe::runbook_of(&e)
                .ok_or_else(|| ApiError::internal("the execution's runbook cannot be read"))?;
            // Inner steps of an `aws:loop` run with their loop, not on their own.
            if !runbook.steps[..runbook.main_len()]
                .iter()
                .any(|s| s.name == name)
            {
                return Err(step_not_found(format!(
                    "Step {name} is not a step of automation execution {}.",
                    e.execution_id
                )));
            }
            if let Some(running) = steps.iter().rev().find(|s| !is_terminal(&s.status)) {
                return Err(invalid_signal(format!(
                    "Step {} of automation execution {} is still running; start the next step \
                     when it has ended.",
                    running.step_name, e.execution_id
                )));
            }
            extra = json!({ "StepName": name });
        }
        "StopStep" => {
            let id = one(&payload, "StepExecutionId")?;
            let Some(step) = steps.iter().find(|s| s.step_execution_id == id) else {
                return Err(step_not_found(format!(
                    "Step execution {id} is not a step of automation execution {}.",
                    e.execution_id
                )));
            };
            if is_terminal(&step.status) {
                return Err(invalid_signal(format!(
                    "Step execution {id} ({}) has already ended ({}).",
                    step.step_name, step.status
                )));
            }
            extra = json!({ "StepExecutionId": id });
        }
        other => {
            return Err(invalid_signal(format!(
                "Signal {other} is not supported by this Bosun server."
            )))
        }
    }
    let comment = payload
        .get("Comment")
        .and_then(|c| c.first())
        .cloned()
        .unwrap_or_default();
    let mut signal = json!({
        "Type": req.signal_type,
        "User": ctx.principal,
        "Arn": caller_arn,
        "Comment": comment,
        "AtMs": ctx.now_ms,
    });
    if let (Value::Object(m), Value::Object(more)) = (&mut signal, extra) {
        m.extend(more);
    }
    for _ in 0..10 {
        let current = execution(ctx, &e.execution_id)?;
        let mut list: Vec<Value> = serde_json::from_str(&current.signals_json).unwrap_or_default();
        list.push(signal.clone());
        let new = Value::from(list).to_string();
        if ctx
            .state
            .store
            .set_automation_signals(&e.execution_id, &current.signals_json, &new)?
        {
            ctx.state.automation.kick();
            return Ok(json!({}));
        }
        if current.end_ms.is_some() {
            return Err(invalid_signal("The automation execution has ended."));
        }
    }
    Err(ApiError::new(
        "ThrottlingException",
        "Too many concurrent signals; retry.",
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn revoke_is_refused_as_aws_refuses_a_signal() {
        let e = super::revoke_refused("abc");
        assert_eq!(e.code, "InvalidAutomationSignalException");
        assert!(
            e.message
                .contains("no Change Manager change requests to revoke"),
            "{}",
            e.message
        );
    }
}
