//! `DescribeAssociationExecutions` (an association's executions, latest first, with AWS's
//! `ExecutionId` / `Status` / `CreatedTime` filters) and `StartAssociationsOnce` (run now, as
//! an execution of its own whose slot is the call's time).

use bosun_store::AssociationExecutionRecord;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::execute::{fire, Fired};
use super::no_such_association;
use crate::api::error::ApiError;
use crate::api::wire::epoch_seconds;
use crate::api::{parse, Ctx};

/// The most executions one description reads (the latest ones).
const READ_LIMIT: usize = 10_000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeRequest {
    association_id: String,
    filters: Option<Vec<Filter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Filter {
    key: String,
    value: String,
    r#type: String,
}

/// A test an execution passes or not.
type Test = Box<dyn Fn(&AssociationExecutionRecord) -> bool>;

/// One filter as a test on an execution.
fn matcher(f: &Filter) -> Result<Test, ApiError> {
    let value = f.value.clone();
    match (f.key.as_str(), f.r#type.as_str()) {
        ("ExecutionId", "EQUAL") => Ok(Box::new(move |e| e.execution_id == value)),
        ("Status", "EQUAL") => Ok(Box::new(move |e| e.status == value)),
        ("CreatedTime", kind) => {
            let ms = value
                .parse::<jiff::Timestamp>()
                .map_err(|_| {
                    ApiError::validation(format!(
                        "The CreatedTime filter value {value} is not a timestamp such as \
                         2024-01-31T00:00:00Z."
                    ))
                })?
                .as_millisecond();
            let seconds = |e: &AssociationExecutionRecord| e.created_ms / 1000;
            Ok(match kind {
                "LESS_THAN" => Box::new(move |e| e.created_ms < ms),
                "GREATER_THAN" => Box::new(move |e| e.created_ms > ms),
                _ => Box::new(move |e| seconds(e) == ms / 1000),
            })
        }
        (key, kind) => Err(ApiError::validation(format!(
            "The filter {key} supports only the EQUAL type, not {kind}."
        ))),
    }
}

/// AWS's `ResourceCountByStatus` text, e.g. `{Success=1, Failed=2}`.
fn count_text(counts_json: &str) -> String {
    let counts: Map<String, Value> = serde_json::from_str(counts_json).unwrap_or_default();
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

fn execution_json(e: &AssociationExecutionRecord) -> Value {
    json!({
        "AssociationId": e.association_id,
        "AssociationVersion": e.association_version.to_string(),
        "ExecutionId": e.execution_id,
        "Status": e.status,
        "DetailedStatus": e.detailed_status,
        "CreatedTime": epoch_seconds(e.created_ms),
        "LastExecutionDate": epoch_seconds(e.last_update_ms),
        "ResourceCountByStatus": count_text(&e.resource_counts_json),
    })
}

pub fn describe_association_executions(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DescribeRequest = parse(body)?;
    let tests = req
        .filters
        .iter()
        .flatten()
        .map(matcher)
        .collect::<Result<Vec<_>, _>>()?;
    ctx.state
        .store
        .get_association(&ctx.region, &req.association_id)?
        .ok_or_else(no_such_association)?;
    let start = match &req.next_token {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| ApiError::new("InvalidNextToken", "The specified token is not valid."))?,
        None => 0,
    };
    let max = req.max_results.unwrap_or(50).clamp(1, 50) as usize;
    let matching: Vec<AssociationExecutionRecord> = ctx
        .state
        .store
        .association_executions(&ctx.region, &req.association_id, READ_LIMIT)?
        .into_iter()
        .filter(|e| tests.iter().all(|t| t(e)))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max)
        .map(execution_json)
        .collect();
    let mut out = json!({ "AssociationExecutions": page });
    if start + max < matching.len() {
        out["NextToken"] = json!((start + max).to_string());
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartRequest {
    association_ids: Vec<String>,
}

pub fn start_associations_once(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: StartRequest = parse(body)?;
    // Authorized on every association it names (a policy may allow some and deny others).
    let scope = ctx.scope();
    let arns: Vec<String> = req
        .association_ids
        .iter()
        .map(|id| scope.ssm_arn(&format!("association/{id}")))
        .collect();
    ctx.authorize_arns("ssm:StartAssociationsOnce", arns.iter().map(String::as_str))?;
    // Every id is checked before any runs: a refused call starts nothing.
    let mut found = Vec::with_capacity(req.association_ids.len());
    for id in &req.association_ids {
        found.push(
            ctx.state
                .store
                .get_association(&ctx.region, id)?
                .ok_or_else(no_such_association)?,
        );
    }
    for a in &found {
        match fire(ctx.state, a, ctx.now_ms, ctx.now_ms)? {
            Fired::Started { execution_id } | Fired::Refused { execution_id, .. } => {
                tracing::info!(association = %a.association_id, %execution_id, "association started once");
            }
            // Another run took this very millisecond's slot: the association runs now anyway.
            Fired::SlotTaken => {}
        }
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TargetsRequest {
    association_id: String,
    execution_id: String,
    filters: Option<Vec<TargetsFilter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TargetsFilter {
    key: String,
    value: String,
}

/// An invocation's status as an association target's: its terminal failures are `Failed`
/// with the invocation's status as the detail (`DeliveryTimedOut`, `Cancelled`, …).
fn target_status(invocation_status: &str) -> (&'static str, &str) {
    match invocation_status {
        "Success" => ("Success", "Success"),
        "Pending" | "Delayed" => ("Pending", invocation_status),
        "InProgress" | "Cancelling" => ("InProgress", invocation_status),
        other => ("Failed", other),
    }
}

/// One target of an execution, as `AssociationExecutionTarget` shows it.
struct TargetRow {
    resource_id: String,
    resource_type: &'static str,
    status: &'static str,
    detail: String,
    when: i64,
    output_id: String,
    output_type: &'static str,
}

/// The targets of an Automation association's execution: its automation's children, one per
/// value the target matched — the node (`ManagedInstance`) or a `ParameterValues` value
/// (`ParameterValue`, Bosun's name) — or per `TargetMaps` entry (the child itself,
/// `Automation`), each with its child execution as the output source.
fn runbook_rows(ctx: &Ctx, e: &AssociationExecutionRecord) -> Result<Vec<TargetRow>, ApiError> {
    let Some(parent) = ctx.state.store.get_automation_execution(&e.command_id)? else {
        return Ok(Vec::new());
    };
    let children = super::automation::children(ctx.state, &ctx.region, &parent.execution_id)
        .map_err(ApiError::internal)?;
    Ok(children
        .into_iter()
        .map(|c| {
            let params: Map<String, Value> =
                serde_json::from_str(&c.parameters_json).unwrap_or_default();
            let value = match params.get(&parent.target_parameter_name) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => a
                    .first()
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let (value, resource_type) = if parent.target_parameter_name.is_empty() {
                // A `TargetMaps` child: the run itself is the resource.
                (c.execution_id.clone(), "Automation")
            } else if bosun_core::ids::is_instance_id(&value) {
                (value, "ManagedInstance")
            } else {
                (value, "ParameterValue")
            };
            let status = match c.status.as_str() {
                "Success" => "Success",
                "Pending" => "Pending",
                "InProgress" | "Waiting" | "Cancelling" | "PendingApproval" | "Approved" => {
                    "InProgress"
                }
                _ => "Failed",
            };
            TargetRow {
                resource_id: value,
                resource_type,
                status,
                detail: c.status.clone(),
                when: c.end_ms.unwrap_or(c.start_ms),
                output_id: c.execution_id.clone(),
                output_type: "Automation",
            }
        })
        .collect())
}

/// `DescribeAssociationExecutionTargets`: the nodes one execution ran on — the invocations of
/// its Run Command command, or its automation's children — with filters `Status`,
/// `ResourceId`, `ResourceType`.
pub fn describe_association_execution_targets(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: TargetsRequest = parse(body)?;
    ctx.state
        .store
        .get_association(&ctx.region, &req.association_id)?
        .ok_or_else(no_such_association)?;
    let execution = ctx
        .state
        .store
        .association_executions(&ctx.region, &req.association_id, READ_LIMIT)?
        .into_iter()
        .find(|e| e.execution_id == req.execution_id)
        .ok_or_else(|| {
            ApiError::new(
                "AssociationExecutionDoesNotExist",
                format!(
                    "The association {} has no execution {}.",
                    req.association_id, req.execution_id
                ),
            )
        })?;
    let rows = if ctx
        .state
        .store
        .get_command(&ctx.region, &execution.command_id)?
        .is_some()
    {
        ctx.state
            .store
            .invocations(&execution.command_id)?
            .iter()
            .map(|i| {
                let (status, detail) = target_status(&i.status);
                TargetRow {
                    resource_id: i.instance_id.clone(),
                    resource_type: "ManagedInstance",
                    status,
                    detail: detail.to_string(),
                    when: i.end_ms.or(i.start_ms).unwrap_or(execution.created_ms),
                    output_id: execution.command_id.clone(),
                    output_type: "RunCommand",
                }
            })
            .collect()
    } else if execution.command_id.is_empty() {
        Vec::new()
    } else {
        runbook_rows(ctx, &execution)?
    };
    let filters = req.filters.unwrap_or_default();
    let targets: Vec<Value> = rows
        .into_iter()
        .filter(|r| {
            filters.iter().all(|f| match f.key.as_str() {
                "Status" => r.status == f.value,
                "ResourceId" => r.resource_id == f.value,
                _ => r.resource_type == f.value,
            })
        })
        .map(|r| {
            json!({
                "AssociationId": execution.association_id,
                "AssociationVersion": execution.association_version.to_string(),
                "ExecutionId": execution.execution_id,
                "ResourceId": r.resource_id,
                "ResourceType": r.resource_type,
                "Status": r.status,
                "DetailedStatus": r.detail,
                "LastExecutionDate": epoch_seconds(r.when),
                "OutputSource": {
                    "OutputSourceId": r.output_id,
                    "OutputSourceType": r.output_type,
                },
            })
        })
        .collect();
    let start = match &req.next_token {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| ApiError::new("InvalidNextToken", "The specified token is not valid."))?,
        None => 0,
    };
    let max = req.max_results.unwrap_or(50).clamp(1, 50) as usize;
    let total = targets.len();
    let page: Vec<Value> = targets.into_iter().skip(start).take(max).collect();
    let mut out = json!({ "AssociationExecutionTargets": page });
    if start + max < total {
        out["NextToken"] = json!((start + max).to_string());
    }
    Ok(out)
}
