//! `GetAutomationExecution`, `DescribeAutomationExecutions` (filters, newest first) and
//! `DescribeAutomationStepExecutions`: stored executions and steps in AWS's shapes.

use bosun_core::automation::{plan, OnFailure, Runbook, Step};
use bosun_core::paging::{decode_token, encode_token};
use bosun_store::{AutomationExecutionRecord, AutomationQuery, AutomationStepRecord};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::targets::TargetPlan;
use super::{execution, param_map};
use crate::api::error::ApiError;
use crate::api::wire::epoch_seconds;
use crate::api::{parse, Ctx};

const DEFAULT_MAX_RESULTS: usize = 50;

/// Every `AutomationExecutionStatus` of the model (a filter may name any of them).
const STATUSES: &[&str] = &[
    "Pending",
    "InProgress",
    "Waiting",
    "Success",
    "TimedOut",
    "Cancelling",
    "Cancelled",
    "Failed",
    "PendingApproval",
    "Approved",
    "Rejected",
    "Scheduled",
    "RunbookInProgress",
    "PendingChangeCalendarOverride",
    "ChangeCalendarOverrideApproved",
    "ChangeCalendarOverrideRejected",
    "CompletedWithSuccess",
    "CompletedWithFailure",
    "Exited",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ById {
    automation_execution_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Filter {
    key: String,
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    filters: Option<Vec<Filter>>,
    max_results: Option<usize>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StepsRequest {
    automation_execution_id: String,
    filters: Option<Vec<Filter>>,
    max_results: Option<usize>,
    next_token: Option<String>,
    reverse_order: Option<bool>,
}

/// The runbook of a stored execution (its content as it was at the start).
pub(crate) fn runbook_of(e: &AutomationExecutionRecord) -> Option<Runbook> {
    let content: Value = serde_json::from_str(&e.document_content).ok()?;
    plan(&content).ok()
}

fn on_failure(f: &OnFailure) -> String {
    match f {
        OnFailure::Abort => "Abort".into(),
        OnFailure::Continue => "Continue".into(),
        OnFailure::Step(s) => format!("step:{s}"),
    }
}

/// One step execution as AWS's `StepExecution`: `Inputs` is a map of JSON texts.
pub fn step_json(s: &AutomationStepRecord, step: Option<&Step>) -> Value {
    let mut out = Map::new();
    out.insert("StepName".into(), json!(s.step_name));
    out.insert("Action".into(), json!(s.action));
    out.insert("StepStatus".into(), json!(s.status));
    out.insert("StepExecutionId".into(), json!(s.step_execution_id));
    if let Some(ms) = s.start_ms {
        out.insert("ExecutionStartTime".into(), json!(epoch_seconds(ms)));
    }
    if let Some(ms) = s.end_ms {
        out.insert("ExecutionEndTime".into(), json!(epoch_seconds(ms)));
    }
    let inputs: Map<String, Value> = serde_json::from_str(&s.inputs_json).unwrap_or_default();
    let inputs: Map<String, Value> = inputs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v.to_string())))
        .collect();
    out.insert("Inputs".into(), Value::Object(inputs));
    let outputs = param_map(&s.outputs_json);
    if outputs.as_object().is_some_and(|o| !o.is_empty()) {
        out.insert("Outputs".into(), outputs);
    }
    if s.response_json != "null" && !s.response_json.is_empty() {
        out.insert("Response".into(), json!(s.response_json));
    }
    if !s.failure_message.is_empty() {
        out.insert("FailureMessage".into(), json!(s.failure_message));
    }
    if let Some(step) = step {
        out.insert("OnFailure".into(), json!(on_failure(&step.on_failure)));
        out.insert("MaxAttempts".into(), json!(step.max_attempts));
        if let Some(t) = step.timeout_seconds {
            out.insert("TimeoutSeconds".into(), json!(t));
        }
        out.insert("IsEnd".into(), json!(step.is_end));
        if let Some(n) = &step.next_step {
            out.insert("NextStep".into(), json!(n));
        }
        out.insert("IsCritical".into(), json!(step.is_critical));
    }
    Value::Object(out)
}

/// `page` of the execution's step rows `all`, as AWS's `StepExecution`s.
fn steps_json(
    e: &AutomationExecutionRecord,
    page: &[AutomationStepRecord],
    all: &[AutomationStepRecord],
) -> Vec<Value> {
    let runbook = runbook_of(e);
    page.iter()
        .map(|s| {
            let step = runbook
                .as_ref()
                .and_then(|r| r.steps.get(s.step_index as usize));
            let mut out = step_json(s, step);
            // An `aws:loop`'s inner step: AWS's `ParentStepDetails`.
            if let Some(parent) = runbook
                .as_ref()
                .and_then(|r| crate::automation::loop_run::parent_details(r, all, s))
            {
                out["ParentStepDetails"] = parent;
            }
            out
        })
        .collect()
}

/// The members `GetAutomationExecution` and the metadata list share.
fn common(e: &AutomationExecutionRecord) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("AutomationExecutionId".into(), json!(e.execution_id));
    out.insert("DocumentName".into(), json!(e.document_name));
    out.insert("DocumentVersion".into(), json!(e.document_version));
    out.insert("AutomationExecutionStatus".into(), json!(e.status));
    out.insert(
        "ExecutionStartTime".into(),
        json!(epoch_seconds(e.start_ms)),
    );
    if let Some(ms) = e.end_ms {
        out.insert("ExecutionEndTime".into(), json!(epoch_seconds(ms)));
    }
    out.insert("ExecutedBy".into(), json!(e.executed_by));
    out.insert("Mode".into(), json!(e.mode));
    out.insert("Outputs".into(), param_map(&e.outputs_json));
    if !e.failure_message.is_empty() {
        out.insert("FailureMessage".into(), json!(e.failure_message));
    }
    if !e.current_step_name.is_empty() {
        out.insert("CurrentStepName".into(), json!(e.current_step_name));
        out.insert("CurrentAction".into(), json!(e.current_action));
    }
    if let Some(p) = &e.parent_id {
        out.insert("ParentAutomationExecutionId".into(), json!(p));
    }
    if let Ok(plan) = serde_json::from_str::<TargetPlan>(&e.targets_json) {
        out.insert("MaxConcurrency".into(), json!(e.max_concurrency));
        out.insert("MaxErrors".into(), json!(e.max_errors));
        if plan.maps.is_empty() {
            out.insert("Targets".into(), plan.targets);
            out.insert("TargetParameterName".into(), json!(e.target_parameter_name));
            out.insert(
                "ResolvedTargets".into(),
                json!({"ParameterValues": plan.values, "Truncated": false}),
            );
        } else {
            out.insert("TargetMaps".into(), json!(plan.maps));
        }
    } else if let Some(target) = serde_json::from_str::<Value>(&e.targets_json)
        .ok()
        .and_then(|v| v.get("Target").cloned())
    {
        out.insert("Target".into(), target);
    }
    out
}

pub fn get_automation_execution(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ById = parse(body)?;
    let e = execution(ctx, &req.automation_execution_id)?;
    let steps = ctx.state.store.automation_steps(&e.execution_id)?;
    let count = |status: &str| steps.iter().filter(|s| s.status == status).count();
    let mut out = common(&e);
    out.insert("Parameters".into(), param_map(&e.parameters_json));
    out.insert(
        "StepExecutions".into(),
        json!(steps_json(&e, &steps, &steps)),
    );
    out.insert("StepExecutionsTruncated".into(), json!(false));
    out.insert(
        "ProgressCounters".into(),
        json!({
            "TotalSteps": steps.len(),
            "SuccessSteps": count("Success"),
            "FailedSteps": count("Failed"),
            "CancelledSteps": count("Cancelled"),
            "TimedOutSteps": count("TimedOut"),
        }),
    );
    Ok(json!({ "AutomationExecution": Value::Object(out) }))
}

fn invalid_filter_value(key: &str, value: &str) -> ApiError {
    ApiError::new(
        "InvalidFilterValue",
        format!("The filter value {value} is not valid for {key}."),
    )
}

fn date_ms(key: &str, value: &str) -> Result<i64, ApiError> {
    value
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| invalid_filter_value(key, value))
}

fn one(f: &Filter) -> Result<&str, ApiError> {
    match f.values.as_slice() {
        [v] => Ok(v),
        _ => Err(ApiError::new(
            "InvalidFilterValue",
            format!("The filter {} takes exactly one value.", f.key),
        )),
    }
}

fn bad_token() -> ApiError {
    ApiError::new("InvalidNextToken", "The specified token is not valid.")
}

pub fn describe_automation_executions(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let limit = req.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
    let mut q = AutomationQuery {
        region: ctx.region.clone(),
        limit: limit + 1,
        ..AutomationQuery::default()
    };
    for f in req.filters.unwrap_or_default() {
        match f.key.as_str() {
            "DocumentNamePrefix" => q.document_name_prefix = Some(one(&f)?.to_string()),
            "ExecutionStatus" => {
                for v in &f.values {
                    if !STATUSES.contains(&v.as_str()) {
                        return Err(invalid_filter_value(&f.key, v));
                    }
                }
                q.statuses = f.values.clone();
            }
            "ExecutionId" => q.execution_id = Some(one(&f)?.to_string()),
            "ParentExecutionId" => q.parent_id = Some(one(&f)?.to_string()),
            "StartTimeBefore" => q.start_before_ms = Some(date_ms(&f.key, one(&f)?)?),
            "StartTimeAfter" => q.start_after_ms = Some(date_ms(&f.key, one(&f)?)?),
            other => {
                return Err(ApiError::new(
                    "InvalidFilterKey",
                    format!("The filter key {other} is not supported by this Bosun server."),
                ))
            }
        }
    }
    if let Some(token) = &req.next_token {
        let cursor = decode_token(token).ok_or_else(bad_token)?;
        let (ms, id) = cursor.split_once(':').ok_or_else(bad_token)?;
        q.after = Some((ms.parse().map_err(|_| bad_token())?, id.to_string()));
    }
    let mut list = ctx.state.store.list_automation_executions(&q)?;
    let next = if list.len() > limit {
        list.truncate(limit);
        list.last()
            .map(|e| encode_token(&format!("{}:{}", e.start_ms, e.execution_id)))
    } else {
        None
    };
    let items: Vec<Value> = list
        .iter()
        .map(|e| {
            let mut m = common(e);
            m.insert("AutomationType".into(), json!("Local"));
            Value::Object(m)
        })
        .collect();
    let mut out = json!({ "AutomationExecutionMetadataList": items });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

pub fn describe_automation_step_executions(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: StepsRequest = parse(body)?;
    let e = execution(ctx, &req.automation_execution_id)?;
    let all = ctx.state.store.automation_steps(&e.execution_id)?;
    let mut steps = all.clone();
    for f in req.filters.unwrap_or_default() {
        let values = f.values.clone();
        match f.key.as_str() {
            "StepExecutionStatus" => steps.retain(|s| values.contains(&s.status)),
            "StepExecutionId" => steps.retain(|s| values.contains(&s.step_execution_id)),
            "StepName" => steps.retain(|s| values.contains(&s.step_name)),
            "Action" => steps.retain(|s| values.contains(&s.action)),
            "StartTimeBefore" => {
                let ms = date_ms(&f.key, one(&f)?)?;
                steps.retain(|s| s.start_ms.is_some_and(|t| t < ms));
            }
            "StartTimeAfter" => {
                let ms = date_ms(&f.key, one(&f)?)?;
                steps.retain(|s| s.start_ms.is_some_and(|t| t > ms));
            }
            other => {
                return Err(ApiError::new(
                    "InvalidFilterKey",
                    format!("The filter key {other} is not supported by this Bosun server."),
                ))
            }
        }
    }
    if req.reverse_order == Some(true) {
        steps.reverse();
    }
    let skip = match &req.next_token {
        Some(t) => decode_token(t)
            .and_then(|c| c.parse::<usize>().ok())
            .ok_or_else(bad_token)?,
        None => 0,
    };
    let limit = req.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
    let page: Vec<AutomationStepRecord> = steps.iter().skip(skip).take(limit).cloned().collect();
    let mut out = json!({ "StepExecutions": steps_json(&e, &page, &all) });
    if skip + limit < steps.len() {
        out["NextToken"] = json!(encode_token(&(skip + limit).to_string()));
    }
    Ok(out)
}
