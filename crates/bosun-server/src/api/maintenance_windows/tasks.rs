//! `RegisterTaskWithMaintenanceWindow`, `UpdateMaintenanceWindowTask` (with `Replace`),
//! `GetMaintenanceWindowTask`, `DeregisterTaskFromMaintenanceWindow`,
//! `DescribeMaintenanceWindowTasks`.

use bosun_core::ids;
use bosun_store::{Changed, Registered, StoreError, WindowTaskRecord};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::filters::{check_filters, matches, page, Filter};
use super::task_input::{check_task, check_task_type};
use super::windows::window;
use super::{
    limit_exceeded, no_such_window, put_str, request_hash, targets_json, targets_value,
    token_mismatch, MAX_TASKS_PER_WINDOW,
};
use crate::api::error::ApiError;
use crate::api::send_command::Target;
use crate::api::{parse, Ctx};
use crate::state::random_bytes;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskInput {
    window_id: Option<String>,
    window_task_id: Option<String>,
    targets: Option<Vec<Target>>,
    task_arn: Option<String>,
    service_role_arn: Option<String>,
    task_type: Option<String>,
    task_parameters: Option<Map<String, Value>>,
    task_invocation_parameters: Option<Value>,
    priority: Option<i64>,
    max_concurrency: Option<String>,
    max_errors: Option<String>,
    name: Option<String>,
    description: Option<String>,
    client_token: Option<String>,
    cutoff_behavior: Option<String>,
    replace: Option<bool>,
}

const DEFAULT_PRIORITY: i64 = 1;
const DEFAULT_CUTOFF_BEHAVIOR: &str = "CONTINUE_TASK";

fn no_such_task(window_id: &str, task_id: &str) -> ApiError {
    ApiError::new(
        "DoesNotExistException",
        format!("Maintenance window task {task_id} does not exist in window {window_id}"),
    )
}

fn no_such_target(window_id: &str, target_id: &str) -> ApiError {
    ApiError::new(
        "DoesNotExistException",
        format!("Maintenance window target {target_id} does not exist in window {window_id}"),
    )
}

pub fn register_task_with_maintenance_window(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let hash = request_hash(&body);
    let req: TaskInput = parse(body)?;
    let task_type = req.task_type.clone().unwrap_or_default();
    check_task_type(&task_type)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let task = WindowTaskRecord {
        region: ctx.region.clone(),
        window_id: w.window_id.clone(),
        window_task_id: ids::uuid_v4(random_bytes()),
        task_arn: req.task_arn.unwrap_or_default(),
        task_type,
        targets_json: targets_json(req.targets.as_deref().unwrap_or_default()),
        service_role_arn: req.service_role_arn.unwrap_or_default(),
        task_parameters_json: Value::Object(req.task_parameters.unwrap_or_default()).to_string(),
        invocation_parameters_json: req
            .task_invocation_parameters
            .unwrap_or_else(|| json!({}))
            .to_string(),
        priority: req.priority.unwrap_or(DEFAULT_PRIORITY),
        max_concurrency: req.max_concurrency.unwrap_or_default(),
        max_errors: req.max_errors.unwrap_or_default(),
        name: req.name.unwrap_or_default(),
        description: req.description.unwrap_or_default(),
        cutoff_behavior: req
            .cutoff_behavior
            .unwrap_or_else(|| DEFAULT_CUTOFF_BEHAVIOR.into()),
        client_token: req.client_token.unwrap_or_default(),
        request_hash: hash,
        created_ms: ctx.now_ms,
        registered_by: ctx.principal.clone(),
    };
    check_task(ctx, &w, &task, "ssm:RegisterTaskWithMaintenanceWindow")?;
    match ctx.state.store.register_task(&task, MAX_TASKS_PER_WINDOW) {
        Ok(Registered::Created) => Ok(json!({ "WindowTaskId": task.window_task_id })),
        Ok(Registered::Replayed(id)) => Ok(json!({ "WindowTaskId": id })),
        Ok(Registered::TokenMismatch) => Err(token_mismatch()),
        Ok(Registered::NoSuchWindow) => Err(no_such_window(&task.window_id)),
        Ok(Registered::NoSuchTarget(id)) => Err(no_such_target(&task.window_id, &id)),
        Err(StoreError::LimitExceeded(_)) => {
            Err(limit_exceeded("tasks of a maintenance window (20)"))
        }
        Err(e) => Err(e.into()),
    }
}

/// A task as `GetMaintenanceWindowTask` answers it (`type_member` names its type member:
/// `TaskType` there, `Type` in `DescribeMaintenanceWindowTasks`, none in the update's answer).
fn shape(t: &WindowTaskRecord, type_member: Option<&str>, invocation: bool) -> Value {
    let mut out = Map::new();
    out.insert("WindowId".into(), json!(t.window_id));
    out.insert("WindowTaskId".into(), json!(t.window_task_id));
    out.insert("TaskArn".into(), json!(t.task_arn));
    if let Some(member) = type_member {
        out.insert(member.into(), json!(t.task_type));
    }
    out.insert("Targets".into(), targets_value(&t.targets_json));
    let task_parameters: Value =
        serde_json::from_str(&t.task_parameters_json).unwrap_or_else(|_| json!({}));
    if task_parameters.as_object().is_some_and(|m| !m.is_empty()) {
        out.insert("TaskParameters".into(), task_parameters);
    }
    if invocation {
        let params: Value =
            serde_json::from_str(&t.invocation_parameters_json).unwrap_or_else(|_| json!({}));
        if params.as_object().is_some_and(|m| !m.is_empty()) {
            out.insert("TaskInvocationParameters".into(), params);
        }
    }
    put_str(&mut out, "ServiceRoleArn", &t.service_role_arn);
    out.insert("Priority".into(), json!(t.priority));
    put_str(&mut out, "MaxConcurrency", &t.max_concurrency);
    put_str(&mut out, "MaxErrors", &t.max_errors);
    put_str(&mut out, "Name", &t.name);
    put_str(&mut out, "Description", &t.description);
    out.insert("CutoffBehavior".into(), json!(t.cutoff_behavior));
    Value::Object(out)
}

/// The task a request names, in the window it names.
fn task(ctx: &Ctx, window_id: &str, task_id: &str) -> Result<WindowTaskRecord, ApiError> {
    ctx.state
        .store
        .get_task(&ctx.region, window_id, task_id)?
        .ok_or_else(|| no_such_task(window_id, task_id))
}

pub fn get_maintenance_window_task(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: TaskInput = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let t = task(
        ctx,
        &w.window_id,
        req.window_task_id.as_deref().unwrap_or_default(),
    )?;
    Ok(shape(&t, Some("TaskType"), true))
}

pub fn update_maintenance_window_task(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: TaskInput = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let mut t = task(
        ctx,
        &w.window_id,
        req.window_task_id.as_deref().unwrap_or_default(),
    )?;
    if req.replace == Some(true) {
        if req.task_arn.is_none() {
            return Err(ApiError::validation(
                "With Replace set to true, TaskArn must be given \
                 (RegisterTaskWithMaintenanceWindow requires it).",
            ));
        }
        t.targets_json = "[]".into();
        t.service_role_arn.clear();
        t.task_parameters_json = "{}".into();
        t.invocation_parameters_json = "{}".into();
        t.priority = DEFAULT_PRIORITY;
        t.max_concurrency.clear();
        t.max_errors.clear();
        t.name.clear();
        t.description.clear();
        t.cutoff_behavior = DEFAULT_CUTOFF_BEHAVIOR.into();
    }
    if let Some(targets) = &req.targets {
        t.targets_json = targets_json(targets);
    }
    if let Some(p) = req.task_parameters {
        t.task_parameters_json = Value::Object(p).to_string();
    }
    if let Some(p) = req.task_invocation_parameters {
        t.invocation_parameters_json = p.to_string();
    }
    if let Some(p) = req.priority {
        t.priority = p;
    }
    for (slot, value) in [
        (&mut t.task_arn, req.task_arn),
        (&mut t.service_role_arn, req.service_role_arn),
        (&mut t.max_concurrency, req.max_concurrency),
        (&mut t.max_errors, req.max_errors),
        (&mut t.name, req.name),
        (&mut t.description, req.description),
        (&mut t.cutoff_behavior, req.cutoff_behavior),
    ] {
        if let Some(v) = value {
            *slot = v;
        }
    }
    t.registered_by = ctx.principal.clone();
    check_task(ctx, &w, &t, "ssm:UpdateMaintenanceWindowTask")?;
    match ctx.state.store.update_task(&t)? {
        Changed::Done => Ok(shape(&t, None, true)),
        Changed::NoSuchTarget(id) => Err(no_such_target(&w.window_id, &id)),
        _ => Err(no_such_task(&w.window_id, &t.window_task_id)),
    }
}

pub fn deregister_task_from_maintenance_window(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: TaskInput = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let task_id = req.window_task_id.unwrap_or_default();
    if !ctx
        .state
        .store
        .deregister_task(&ctx.region, &w.window_id, &task_id)?
    {
        return Err(no_such_task(&w.window_id, &task_id));
    }
    Ok(json!({ "WindowId": w.window_id, "WindowTaskId": task_id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeRequest {
    window_id: Option<String>,
    filters: Option<Vec<Filter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub fn describe_maintenance_window_tasks(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DescribeRequest = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let filters = req.filters.unwrap_or_default();
    check_filters(
        &filters,
        &["WindowTaskId", "TaskArn", "Priority", "TaskType"],
    )?;
    let tasks: Vec<WindowTaskRecord> = ctx
        .state
        .store
        .list_tasks(&ctx.region, &w.window_id)?
        .into_iter()
        .filter(|t| {
            matches(&filters, |key| match key {
                "WindowTaskId" => t.window_task_id.clone(),
                "TaskArn" => t.task_arn.clone(),
                "Priority" => t.priority.to_string(),
                _ => t.task_type.clone(),
            })
        })
        .collect();
    let (items, next) = page(tasks, &req.next_token, req.max_results, |t| {
        t.window_task_id.as_str()
    })?;
    let mut out =
        json!({ "Tasks": items.iter().map(|t| shape(t, Some("Type"), false)).collect::<Vec<_>>() });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
