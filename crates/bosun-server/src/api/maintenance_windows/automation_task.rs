//! `AUTOMATION` tasks: a runbook started once per target node, with the task's parameters after
//! pseudo-parameter substitution (`{{RESOURCE_ID}}` is the node: seed 002's
//! `AWS-StartEC2Instance` with `InstanceId={{RESOURCE_ID}}`). Checked at registration: the
//! runbook exists, is an Automation document Bosun can run, declares every parameter given,
//! and the registering user may start it (`ssm:StartAutomationExecution` on its
//! automation-definition ARN). At run time the runbook runs as the user who registered (or
//! last updated) the task, with their permissions then — its steps' commands are authorized as
//! theirs would be — since Bosun has no service role to assume (`ServiceRoleArn` is kept, not
//! used).

use std::collections::BTreeMap;

use bosun_core::automation::plan;
use bosun_store::WindowTaskRecord;
use serde_json::{Map, Value};

use crate::api::error::ApiError;
use crate::api::Ctx;
use crate::documents::{bare_name, content, resolve, Selector};

/// What an `AUTOMATION` task starts (parameters not yet substituted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationTask {
    pub document_name: String,
    pub document_version: Option<String>,
    pub parameters: BTreeMap<String, Vec<String>>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::validation(message)
}

/// The runbook and parameters of a task, from `TaskInvocationParameters.Automation`.
pub fn automation_task(task: &WindowTaskRecord) -> Result<AutomationTask, ApiError> {
    let invocation: Value =
        serde_json::from_str(&task.invocation_parameters_json).unwrap_or(Value::Null);
    let members = invocation.as_object().cloned().unwrap_or_default();
    if let Some(other) = members.keys().find(|k| *k != "Automation") {
        return Err(invalid(format!(
            "TaskInvocationParameters.{other} does not apply to an AUTOMATION task; give \
             TaskInvocationParameters.Automation."
        )));
    }
    let task_parameters: Map<String, Value> =
        serde_json::from_str(&task.task_parameters_json).unwrap_or_default();
    if !task_parameters.is_empty() {
        return Err(invalid(
            "An AUTOMATION task takes its parameters in TaskInvocationParameters.Automation.\
             Parameters, not in the deprecated TaskParameters.",
        ));
    }
    let automation = members
        .get("Automation")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let parameters = automation
        .get("Parameters")
        .map(|v| {
            serde_json::from_value(v.clone()).map_err(|_| {
                invalid("TaskInvocationParameters.Automation.Parameters must map names to lists of strings.")
            })
        })
        .transpose()?
        .unwrap_or_default();
    Ok(AutomationTask {
        document_name: bare_name(&task.task_arn).to_string(),
        document_version: automation
            .get("DocumentVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
        parameters,
    })
}

/// The registration checks of an `AUTOMATION` task (its targets are checked by the caller).
pub fn check(ctx: &Ctx, task: &WindowTaskRecord) -> Result<(), ApiError> {
    let a = automation_task(task)?;
    let version = a
        .document_version
        .clone()
        .unwrap_or_else(|| "$DEFAULT".into());
    let arn = ctx.scope().ssm_arn(&format!(
        "automation-definition/{}:{version}",
        a.document_name
    ));
    ctx.authorize_arns("ssm:StartAutomationExecution", [arn.as_str()])?;
    let doc = resolve(
        &*ctx.state.store,
        &ctx.region,
        &a.document_name,
        Selector::from_request(a.document_version.as_deref(), None),
    )
    .map_err(|_| {
        invalid(format!(
            "TaskArn {}: no such runbook (version {version}).",
            a.document_name
        ))
    })?;
    if doc.document_type != "Automation" {
        return Err(invalid(format!(
            "TaskArn {} is a {} document; an AUTOMATION task runs an Automation runbook.",
            a.document_name, doc.document_type
        )));
    }
    let value = content::parse(&doc.content, &doc.format)
        .map_err(|e| invalid(format!("Runbook {}: {e}", a.document_name)))?;
    let runbook = plan(&value).map_err(|e| invalid(format!("Runbook {}: {e}", a.document_name)))?;
    if let Some(unknown) = a
        .parameters
        .keys()
        .find(|k| !runbook.parameters.iter().any(|(n, _)| n == *k))
    {
        return Err(invalid(format!(
            "TaskInvocationParameters.Automation.Parameters: {unknown} is not a parameter of \
             runbook {}.",
            a.document_name
        )));
    }
    Ok(())
}
