//! What a task may be: a `RUN_COMMAND` task whose document exists, may be used by the caller,
//! and accepts its parameters (checked by building the command Run Command would send, as
//! `SendCommand` does, without storing it), aimed at the window's targets (`WindowTargetIds`) or,
//! when the window allows unregistered targets, at nodes (`InstanceIds`), with rate controls.
//! `AUTOMATION` tasks are checked in `automation_task.rs`; Lambda and Step Functions tasks are
//! refused: Bosun runs neither.

use std::collections::BTreeMap;

use bosun_core::command::notification::CommandNotification;
use bosun_core::command::rate::{MaxConcurrency, MaxErrors};
use bosun_core::ids;
use bosun_store::{WindowRecord, WindowTaskRecord};
use serde_json::{Map, Value};

use crate::api::error::ApiError;
use crate::api::send_command::{check_notification, prepare_command, CommandSpec};
use crate::api::Ctx;
use crate::documents::bare_name;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::validation(message)
}

fn unavailable(message: &str) -> ApiError {
    ApiError::new("FeatureNotAvailableException", message)
}

/// Refuse task types Bosun cannot run.
pub(crate) fn check_task_type(task_type: &str) -> Result<(), ApiError> {
    match task_type {
        "RUN_COMMAND" | "AUTOMATION" => Ok(()),
        "LAMBDA" => Err(unavailable(
            "TaskType LAMBDA: this Bosun server has no AWS Lambda to invoke; register \
             RUN_COMMAND or AUTOMATION tasks.",
        )),
        _ => Err(unavailable(
            "TaskType STEP_FUNCTIONS: this Bosun server has no AWS Step Functions to start; \
             register RUN_COMMAND or AUTOMATION tasks.",
        )),
    }
}

/// The `RunCommand` member of `TaskInvocationParameters` (empty when none); any other member
/// is refused for a `RUN_COMMAND` task.
fn run_command(invocation: &Value) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(members) = invocation else {
        return Ok(Map::new());
    };
    if let Some(other) = members.keys().find(|k| *k != "RunCommand") {
        return Err(invalid(format!(
            "TaskInvocationParameters.{other} does not apply to a RUN_COMMAND task; give \
             TaskInvocationParameters.RunCommand."
        )));
    }
    Ok(members
        .get("RunCommand")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default())
}

/// A document parameter map (`{"name": ["v", …]}`) as Run Command takes it.
fn parameter_map(value: Option<&Value>) -> BTreeMap<String, Vec<String>> {
    value
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Every rule of a task as it would be stored in `window`; `action` is authorized on the nodes
/// it names and on its document.
pub(super) fn check_task(
    ctx: &Ctx,
    window: &WindowRecord,
    task: &WindowTaskRecord,
    action: &str,
) -> Result<(), ApiError> {
    check_task_type(&task.task_type)?;
    let targets: Vec<Value> = serde_json::from_str(&task.targets_json).unwrap_or_default();
    if targets.is_empty() {
        return Err(invalid(
            "A task needs Targets: Key=WindowTargetIds (targets registered with the \
             window) or Key=InstanceIds.",
        ));
    }
    let mut nodes = Vec::new();
    for t in &targets {
        let key = t["Key"].as_str().unwrap_or_default();
        let values: Vec<&str> = t["Values"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if values.is_empty() {
            return Err(invalid(format!("The target {key} has no values.")));
        }
        match key {
            "WindowTargetIds" => {
                if let Some(bad) = values.iter().find(|v| !is_uuid(v)) {
                    return Err(invalid(format!("{bad} is not a window target id.")));
                }
            }
            "InstanceIds" if window.allow_unassociated_targets => {
                if let Some(bad) = values.iter().find(|v| !ids::is_instance_id(v)) {
                    return Err(invalid(format!(
                        "{bad} is not a managed node id (mi-… or i-…)."
                    )));
                }
                nodes.extend(values);
            }
            "InstanceIds" => {
                return Err(invalid(format!(
                    "Window {} does not allow unregistered targets (AllowUnassociatedTargets is \
                     false): target the window's targets with Key=WindowTargetIds.",
                    window.window_id
                )))
            }
            other => {
                return Err(invalid(format!(
                    "The task target key {other} is not valid: use WindowTargetIds or InstanceIds."
                )))
            }
        }
    }
    ctx.authorize_nodes(action, nodes)?;
    if task.max_concurrency.is_empty() || task.max_errors.is_empty() {
        return Err(invalid(
            "MaxConcurrency and MaxErrors are required for a task with targets.",
        ));
    }
    MaxConcurrency::parse(&task.max_concurrency)
        .map_err(|e| invalid(format!("MaxConcurrency {}: {e}", task.max_concurrency)))?;
    MaxErrors::parse(&task.max_errors)
        .map_err(|e| invalid(format!("MaxErrors {}: {e}", task.max_errors)))?;
    if task.task_type == "AUTOMATION" {
        return super::automation_task::check(ctx, task);
    }

    let spec = run_command_spec(task)?;
    if let Some(n) = &spec.notification {
        // Checked as SendCommand checks it (topic exists, the registering caller may publish
        // to it), reported with the window operations' ValidationException.
        check_notification(ctx, n).map_err(|e| match e.code {
            "InvalidNotificationConfig" => {
                invalid(format!("TaskInvocationParameters.RunCommand.{}", e.message))
            }
            _ => e,
        })?;
    }
    ctx.authorize_arns(
        action,
        [ctx.scope()
            .ssm_arn(&format!("document/{}", spec.document_name))
            .as_str()],
    )?;
    // The command this task would send, built and dropped: the document's checks only.
    prepare_command(ctx, &spec, || Ok((Vec::new(), false)))?;
    Ok(())
}

/// The Run Command command a `RUN_COMMAND` task sends, as its definition gives it (parameters
/// not yet substituted, no targets): from `TaskInvocationParameters.RunCommand`, or the
/// deprecated `TaskParameters`.
pub(crate) fn run_command_spec(task: &WindowTaskRecord) -> Result<CommandSpec, ApiError> {
    let invocation: Value =
        serde_json::from_str(&task.invocation_parameters_json).unwrap_or(Value::Null);
    let run = run_command(&invocation)?;
    let task_parameters: Map<String, Value> =
        serde_json::from_str(&task.task_parameters_json).unwrap_or_default();
    if !task_parameters.is_empty() && run.get("Parameters").is_some() {
        return Err(invalid(
            "Give a RUN_COMMAND task's parameters once: TaskInvocationParameters.RunCommand.\
             Parameters (TaskParameters is deprecated), not both.",
        ));
    }
    let parameters = if task_parameters.is_empty() {
        parameter_map(run.get("Parameters"))
    } else {
        task_parameters
            .iter()
            .map(|(k, v)| (k.clone(), parameter_map_values(v)))
            .collect()
    };
    let document = bare_name(&task.task_arn).to_string();
    let text = |k: &str| run.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(CommandSpec {
        document_name: document,
        document_version: text("DocumentVersion"),
        document_hash: text("DocumentHash").map(|h| (h, text("DocumentHashType"))),
        parameters,
        timeout_seconds: run
            .get("TimeoutSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(3600),
        comment: text("Comment").unwrap_or_default(),
        max_concurrency: task.max_concurrency.clone(),
        max_errors: task.max_errors.clone(),
        echo: Map::new(),
        notification: notification_of(&run)?,
    })
}

/// A `RunCommand`'s `NotificationConfig` with its `ServiceRoleArn`, passed on to the command
/// the task sends; `None` when it asks for no notifications.
fn notification_of(run: &Map<String, Value>) -> Result<Option<CommandNotification>, ApiError> {
    let n = run.get("NotificationConfig").unwrap_or(&Value::Null);
    let events: Option<Vec<String>> = n.get("NotificationEvents").map(|v| {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    });
    CommandNotification::from_request(
        n["NotificationArn"].as_str(),
        events.as_deref(),
        n["NotificationType"].as_str(),
        run.get("ServiceRoleArn").and_then(Value::as_str),
    )
    .map_err(|e| invalid(format!("TaskInvocationParameters.RunCommand.{e}")))
}

/// The values of a deprecated `TaskParameters` entry (`{"Values": […]}`).
fn parameter_map_values(v: &Value) -> Vec<String> {
    v.get("Values")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `8-4-4-4-12` hex digits, either case (the model's window target id pattern).
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}
