//! Window executions as the API shows them: `DescribeMaintenanceWindowExecutions`, the
//! `Get…`/`Describe…` calls of an execution, its tasks and their invocations, and
//! `CancelMaintenanceWindowExecution`. Each is authorized on the window's ARN (the execution's
//! window, looked up first), as the window's own operations are.

use bosun_store::{TaskExecutionRecord, TaskInvocationRecord, WindowExecutionRecord};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::filters::{check_filters, page, Filter};
use super::windows::window;
use crate::api::error::ApiError;
use crate::api::wire::epoch_seconds;
use crate::api::{parse, Ctx};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    window_id: Option<String>,
    window_execution_id: Option<String>,
    task_id: Option<String>,
    invocation_id: Option<String>,
    filters: Option<Vec<Filter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn missing(what: &str, id: &str) -> ApiError {
    ApiError::new(
        "DoesNotExistException",
        format!("{what} {id} does not exist"),
    )
}

/// The execution a request names, once the caller may `action` on its window.
fn execution(ctx: &Ctx, id: Option<&str>, action: &str) -> Result<WindowExecutionRecord, ApiError> {
    let id = id.unwrap_or_default();
    let e = ctx
        .state
        .store
        .get_window_execution(&ctx.region, id)?
        .ok_or_else(|| missing("Maintenance window execution", id))?;
    let arn = ctx
        .scope()
        .ssm_arn(&format!("maintenancewindow/{}", e.window_id));
    ctx.authorize_arns(action, [arn.as_str()])?;
    Ok(e)
}

fn task(
    ctx: &Ctx,
    e: &WindowExecutionRecord,
    id: Option<&str>,
) -> Result<TaskExecutionRecord, ApiError> {
    let id = id.unwrap_or_default();
    ctx.state
        .store
        .task_executions(&ctx.region, &e.window_execution_id)?
        .into_iter()
        .find(|t| t.task_execution_id == id)
        .ok_or_else(|| missing("Maintenance window execution task", id))
}

/// Set `StartTime`/`EndTime` (when known) and `StatusDetails` (when any).
fn times(out: &mut Map<String, Value>, details: &str, start_ms: i64, end_ms: i64) {
    if !details.is_empty() {
        out.insert("StatusDetails".into(), json!(details));
    }
    if start_ms > 0 {
        out.insert("StartTime".into(), json!(epoch_seconds(start_ms)));
    }
    if end_ms > 0 {
        out.insert("EndTime".into(), json!(epoch_seconds(end_ms)));
    }
}

fn execution_shape(e: &WindowExecutionRecord) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("WindowId".into(), json!(e.window_id));
    out.insert("WindowExecutionId".into(), json!(e.window_execution_id));
    out.insert("Status".into(), json!(e.status));
    times(&mut out, &e.status_details, e.start_ms, e.end_ms);
    out
}

fn task_identity(t: &TaskExecutionRecord) -> Value {
    let mut out = Map::new();
    out.insert("WindowExecutionId".into(), json!(t.window_execution_id));
    out.insert("TaskExecutionId".into(), json!(t.task_execution_id));
    out.insert("Status".into(), json!(t.status));
    times(&mut out, &t.status_details, t.start_ms, t.end_ms);
    out.insert("TaskArn".into(), json!(t.task_arn));
    out.insert("TaskType".into(), json!(t.task_type));
    Value::Object(out)
}

fn invocation_shape(i: &TaskInvocationRecord, task_type: &str) -> Value {
    let mut out = Map::new();
    out.insert("WindowExecutionId".into(), json!(i.window_execution_id));
    out.insert("TaskExecutionId".into(), json!(i.task_execution_id));
    out.insert("InvocationId".into(), json!(i.invocation_id));
    if !i.execution_id.is_empty() {
        out.insert("ExecutionId".into(), json!(i.execution_id));
    }
    out.insert("TaskType".into(), json!(task_type));
    if !i.parameters.is_empty() {
        out.insert("Parameters".into(), json!(i.parameters));
    }
    out.insert("Status".into(), json!(i.status));
    times(&mut out, &i.status_details, i.start_ms, i.end_ms);
    if !i.owner_information.is_empty() {
        out.insert("OwnerInformation".into(), json!(i.owner_information));
    }
    if !i.window_target_id.is_empty() {
        out.insert("WindowTargetId".into(), json!(i.window_target_id));
    }
    Value::Object(out)
}

fn with_next(mut out: Value, next: Option<String>) -> Value {
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    out
}

/// `ExecutedBefore`/`ExecutedAfter` bounds of a filter list, as epoch ms.
fn time_bound(filters: &[Filter], key: &str) -> Result<Option<i64>, ApiError> {
    filters
        .iter()
        .find(|f| f.key() == key)
        .and_then(Filter::first_value)
        .map(|v| {
            v.parse::<Timestamp>()
                .map(|t| t.as_millisecond())
                .map_err(|_| {
                    ApiError::validation(format!(
                        "The {key} filter value {v} is not an ISO-8601 date and time."
                    ))
                })
        })
        .transpose()
}

pub fn describe_maintenance_window_executions(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let filters = req.filters.unwrap_or_default();
    check_filters(&filters, &["ExecutedBefore", "ExecutedAfter"])?;
    let before = time_bound(&filters, "ExecutedBefore")?;
    let after = time_bound(&filters, "ExecutedAfter")?;
    let items: Vec<(String, Value)> = ctx
        .state
        .store
        .window_executions(&ctx.region, &w.window_id)?
        .into_iter()
        .filter(|e| before.is_none_or(|b| e.start_ms < b) && after.is_none_or(|a| e.start_ms > a))
        .map(|e| {
            // Newest first, as a paging key that sorts that way.
            let key = format!("{:020}|{}", i64::MAX - e.start_ms, e.window_execution_id);
            (key, Value::Object(execution_shape(&e)))
        })
        .collect();
    let (items, next) = page(items, &req.next_token, req.max_results, |(k, _)| k.as_str())?;
    let list: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
    Ok(with_next(json!({ "WindowExecutions": list }), next))
}

pub fn get_maintenance_window_execution(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let e = execution(
        ctx,
        req.window_execution_id.as_deref(),
        "ssm:GetMaintenanceWindowExecution",
    )?;
    let tasks = ctx
        .state
        .store
        .task_executions(&ctx.region, &e.window_execution_id)?;
    let mut out = execution_shape(&e);
    out.remove("WindowId");
    out.insert(
        "TaskIds".into(),
        json!(tasks
            .iter()
            .map(|t| &t.task_execution_id)
            .collect::<Vec<_>>()),
    );
    Ok(Value::Object(out))
}

pub fn describe_maintenance_window_execution_tasks(
    ctx: &Ctx,
    body: Value,
) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let e = execution(
        ctx,
        req.window_execution_id.as_deref(),
        "ssm:DescribeMaintenanceWindowExecutionTasks",
    )?;
    let filters = req.filters.unwrap_or_default();
    check_filters(&filters, &["Status"])?;
    let mut tasks: Vec<TaskExecutionRecord> = ctx
        .state
        .store
        .task_executions(&ctx.region, &e.window_execution_id)?
        .into_iter()
        .filter(|t| super::filters::matches(&filters, |_| t.status.clone()))
        .collect();
    tasks.sort_by(|a, b| a.task_execution_id.cmp(&b.task_execution_id));
    let (items, next) = page(tasks, &req.next_token, req.max_results, |t| {
        t.task_execution_id.as_str()
    })?;
    let list: Vec<Value> = items.iter().map(task_identity).collect();
    Ok(with_next(
        json!({ "WindowExecutionTaskIdentities": list }),
        next,
    ))
}

pub fn get_maintenance_window_execution_task(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let e = execution(
        ctx,
        req.window_execution_id.as_deref(),
        "ssm:GetMaintenanceWindowExecutionTask",
    )?;
    let t = task(ctx, &e, req.task_id.as_deref())?;
    let mut out = Map::new();
    out.insert("WindowExecutionId".into(), json!(t.window_execution_id));
    out.insert("TaskExecutionId".into(), json!(t.task_execution_id));
    out.insert("TaskArn".into(), json!(t.task_arn));
    out.insert("Type".into(), json!(t.task_type));
    let snapshot: Value = serde_json::from_str(&t.task_json).unwrap_or_default();
    if let Some(p) = snapshot
        .get("TaskParameters")
        .filter(|p| p.as_object().is_some_and(|o| !o.is_empty()))
    {
        out.insert("TaskParameters".into(), json!([p]));
    }
    out.insert("Priority".into(), json!(t.priority));
    out.insert("MaxConcurrency".into(), json!(t.max_concurrency));
    out.insert("MaxErrors".into(), json!(t.max_errors));
    out.insert("Status".into(), json!(t.status));
    times(&mut out, &t.status_details, t.start_ms, t.end_ms);
    Ok(Value::Object(out))
}

pub fn describe_maintenance_window_execution_task_invocations(
    ctx: &Ctx,
    body: Value,
) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let e = execution(
        ctx,
        req.window_execution_id.as_deref(),
        "ssm:DescribeMaintenanceWindowExecutionTaskInvocations",
    )?;
    let t = task(ctx, &e, req.task_id.as_deref())?;
    let filters = req.filters.unwrap_or_default();
    check_filters(&filters, &["Status"])?;
    let mut invs: Vec<TaskInvocationRecord> = ctx
        .state
        .store
        .task_invocations(&ctx.region, &e.window_execution_id, &t.task_execution_id)?
        .into_iter()
        .filter(|i| super::filters::matches(&filters, |_| i.status.clone()))
        .collect();
    invs.sort_by(|a, b| a.invocation_id.cmp(&b.invocation_id));
    let (items, next) = page(invs, &req.next_token, req.max_results, |i| {
        i.invocation_id.as_str()
    })?;
    let list: Vec<Value> = items
        .iter()
        .map(|i| invocation_shape(i, &t.task_type))
        .collect();
    Ok(with_next(
        json!({ "WindowExecutionTaskInvocationIdentities": list }),
        next,
    ))
}

pub fn get_maintenance_window_execution_task_invocation(
    ctx: &Ctx,
    body: Value,
) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let e = execution(
        ctx,
        req.window_execution_id.as_deref(),
        "ssm:GetMaintenanceWindowExecutionTaskInvocation",
    )?;
    let t = task(ctx, &e, req.task_id.as_deref())?;
    let id = req.invocation_id.unwrap_or_default();
    let inv = ctx
        .state
        .store
        .task_invocations(&ctx.region, &e.window_execution_id, &t.task_execution_id)?
        .into_iter()
        .find(|i| i.invocation_id == id)
        .ok_or_else(|| missing("Maintenance window execution task invocation", &id))?;
    Ok(invocation_shape(&inv, &t.task_type))
}

/// Ask a live execution to stop: tasks not started are not started, running Run Command
/// invocations are cancelled; the execution ends `CANCELLED`. An execution that already
/// ended cannot be cancelled (`DoesNotExistException`, the only error the model names).
pub fn cancel_maintenance_window_execution(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let e = execution(
        ctx,
        req.window_execution_id.as_deref(),
        "ssm:CancelMaintenanceWindowExecution",
    )?;
    if !ctx
        .state
        .store
        .cancel_window_execution(&ctx.region, &e.window_execution_id)?
    {
        return Err(ApiError::new(
            "DoesNotExistException",
            format!(
                "Maintenance window execution {} has already ended ({}); only a running execution can be cancelled.",
                e.window_execution_id, e.status
            ),
        ));
    }
    ctx.state.windows.kick();
    Ok(json!({ "WindowExecutionId": e.window_execution_id }))
}
