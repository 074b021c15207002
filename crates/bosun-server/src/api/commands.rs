//! `ListCommands`, `ListCommandInvocations`, `GetCommandInvocation`, `CancelCommand`, and the
//! JSON shapes of `Command`, `CommandInvocation` and `CommandPlugin`.

use bosun_core::ids;
use bosun_core::paging;
use bosun_store::{CommandRecord, InvocationRecord, PluginRecord};
use serde::Deserialize;
use serde_json::{json, Value};

use super::wire::epoch_seconds;
use super::{parse, Ctx};
use crate::api::error::ApiError;
use crate::blobs::command_bucket::{action_of, CommandBucket};
use crate::blobs::{step_dir_name, stream_from_name};
use bosun_core::document::StepPlan;

/// `Command` as the API returns it.
pub fn command_json(ctx: &Ctx, c: &CommandRecord) -> Value {
    let echo: serde_json::Map<String, Value> =
        serde_json::from_str(&c.request_json).unwrap_or_default();
    let get = |k: &str, default: Value| echo.get(k).cloned().unwrap_or(default);
    json!({
        "CommandId": c.command_id,
        "DocumentName": c.document_name,
        "DocumentVersion": c.document_version,
        "Comment": c.comment,
        "ExpiresAfter": epoch_seconds(c.expires_ms),
        "Parameters": get("Parameters", json!({})),
        "InstanceIds": get("InstanceIds", json!([])),
        "Targets": get("Targets", json!([])),
        "RequestedDateTime": epoch_seconds(c.requested_ms),
        "Status": c.status,
        "StatusDetails": c.status_details,
        "OutputS3Region": get("OutputS3Region", json!(ctx.region)),
        "OutputS3BucketName": get("OutputS3BucketName", json!("")),
        "OutputS3KeyPrefix": get("OutputS3KeyPrefix", json!("")),
        "MaxConcurrency": c.max_concurrency,
        "MaxErrors": c.max_errors,
        "TargetCount": c.target_count,
        "CompletedCount": c.completed_count,
        "ErrorCount": c.error_count,
        "DeliveryTimedOutCount": c.delivery_timed_out_count,
        "ServiceRole": service_role(c, &echo),
        "NotificationConfig": notification_config(c, &echo),
        "CloudWatchOutputConfig": get("CloudWatchOutputConfig", json!({"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false})),
        "TimeoutSeconds": c.timeout_seconds,
    })
}

/// `ServiceRole`: the request's `ServiceRoleArn` (a window task's comes with its stored
/// notification settings), else empty.
fn service_role(c: &CommandRecord, echo: &serde_json::Map<String, Value>) -> Value {
    echo.get("ServiceRoleArn").cloned().unwrap_or_else(|| {
        json!(c
            .notification
            .as_ref()
            .map_or("", |n| n.service_role_arn.as_str()))
    })
}

/// `NotificationConfig` as stored with the command (SendCommand's or a window task's), else the
/// request's echo (a config that asked for nothing), else AWS's empty shape.
fn notification_config(c: &CommandRecord, echo: &serde_json::Map<String, Value>) -> Value {
    match &c.notification {
        Some(n) => json!({
            "NotificationArn": n.notification_arn,
            "NotificationEvents": n.notification_events,
            "NotificationType": n.notification_type,
        }),
        None => echo.get("NotificationConfig").cloned().unwrap_or(
            json!({"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""}),
        ),
    }
}

/// The command's output bucket and resolved steps, when it named a bucket.
fn bucket_of(c: &CommandRecord) -> Option<(CommandBucket, Vec<StepPlan>)> {
    let bucket = CommandBucket::of_request(&c.request_json)?;
    Some((bucket, serde_json::from_str(&c.steps_json).ok()?))
}

/// A stream's full-output URL: the object in the command's `OutputS3BucketName` (as AWS forms
/// it: the S3 endpoint, bucket, key), else Bosun's own signed `/v1/output/…` endpoint.
fn output_url(
    ctx: &Ctx,
    c: &CommandRecord,
    instance_id: &str,
    plugin: &str,
    stream: &str,
) -> String {
    let in_bucket = bucket_of(c).and_then(|(b, steps)| {
        let key = b.key(
            &c.command_id,
            instance_id,
            &steps,
            plugin,
            stream_from_name(stream)?,
        )?;
        ctx.state.blobs.bucket_url(&b.bucket, &key)
    });
    in_bucket.unwrap_or_else(|| {
        format!(
            "{}/v1/output/{}/{}/{}/{}",
            ctx.base_url,
            c.command_id,
            instance_id,
            step_dir_name(plugin),
            stream
        )
    })
}

/// AWS's plugin `Output`: stdout, then stderr after a marker, cut to 2,500 characters.
fn plugin_output(p: &PluginRecord) -> String {
    let mut out = p.stdout.clone();
    if !p.stderr.is_empty() {
        out.push_str("\n----------ERROR-------\n");
        out.push_str(&p.stderr);
    }
    out.chars().take(2500).collect()
}

fn plugin_json(ctx: &Ctx, c: &CommandRecord, p: &PluginRecord) -> Value {
    let (bucket, prefix) = match bucket_of(c) {
        Some((b, steps)) => {
            let action = action_of(&steps, &p.name).unwrap_or(&p.name);
            let prefix = b.plugin_prefix(&c.command_id, &p.instance_id, action);
            (b.bucket, prefix)
        }
        None => (String::new(), String::new()),
    };
    let mut v = json!({
        "Name": p.name,
        "Status": p.status,
        "StatusDetails": p.status_details,
        "ResponseCode": p.response_code,
        "Output": plugin_output(p),
        "StandardOutputUrl": output_url(ctx, c, &p.instance_id, &p.name, "stdout"),
        "StandardErrorUrl": output_url(ctx, c, &p.instance_id, &p.name, "stderr"),
        "OutputS3Region": ctx.region,
        "OutputS3BucketName": bucket,
        "OutputS3KeyPrefix": prefix,
    });
    if let Some(s) = p.start_ms {
        v["ResponseStartDateTime"] = json!(epoch_seconds(s));
    }
    if let Some(e) = p.end_ms {
        v["ResponseFinishDateTime"] = json!(epoch_seconds(e));
    }
    v
}

fn invocation_json(
    ctx: &Ctx,
    c: &CommandRecord,
    i: &InvocationRecord,
    details: bool,
) -> Result<Value, ApiError> {
    let plugins = ctx.state.store.plugins(&c.command_id, &i.instance_id)?;
    let first = plugins.first().map(|p| p.name.clone()).unwrap_or_default();
    let echo: serde_json::Map<String, Value> =
        serde_json::from_str(&c.request_json).unwrap_or_default();
    Ok(json!({
        "CommandId": c.command_id,
        "InstanceId": i.instance_id,
        "InstanceName": i.instance_name,
        "Comment": c.comment,
        "DocumentName": c.document_name,
        "DocumentVersion": c.document_version,
        "RequestedDateTime": epoch_seconds(c.requested_ms),
        "Status": i.status,
        "StatusDetails": i.status_details,
        "TraceOutput": "",
        "StandardOutputUrl": if plugins.len() == 1 { output_url(ctx, c, &i.instance_id, &first, "stdout") } else { String::new() },
        "StandardErrorUrl": if plugins.len() == 1 { output_url(ctx, c, &i.instance_id, &first, "stderr") } else { String::new() },
        "CommandPlugins": if details { plugins.iter().map(|p| plugin_json(ctx, c, p)).collect::<Vec<_>>() } else { Vec::new() },
        "ServiceRole": service_role(c, &echo),
        "NotificationConfig": notification_config(c, &echo),
        "CloudWatchOutputConfig": echo.get("CloudWatchOutputConfig").cloned().unwrap_or(json!({"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false})),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    command_id: Option<String>,
    instance_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    filters: Option<Vec<Filter>>,
    details: Option<bool>,
}

#[derive(Deserialize)]
struct Filter {
    key: Option<String>,
    value: Option<String>,
}

/// One parsed list filter.
enum ListFilter {
    After(i64),
    Before(i64),
    Status(String),
    Stage(bool),
    Document(String),
}

/// `Status` filter values `ListCommands` takes: the model's `CommandFilter.value` list for
/// `ListCommands`, plus `Cancelling` (a `CommandStatus`, and listed there in earlier editions).
const COMMAND_STATUS_FILTERS: &[&str] = &[
    "Pending",
    "InProgress",
    "Success",
    "Cancelled",
    "Cancelling",
    "Failed",
    "TimedOut",
    "AccessDenied",
    "DeliveryTimedOut",
    "ExecutionTimedOut",
    "Incomplete",
    "NoInstancesInTag",
    "LimitExceeded",
];

/// `Status` filter values `ListCommandInvocations` takes: the model's list for it, plus
/// `Cancelling` (a `CommandInvocationStatus`).
const INVOCATION_STATUS_FILTERS: &[&str] = &[
    "Pending",
    "InProgress",
    "Delayed",
    "Success",
    "Cancelled",
    "Cancelling",
    "Failed",
    "TimedOut",
    "AccessDenied",
    "DeliveryTimedOut",
    "ExecutionTimedOut",
    "Undeliverable",
    "InvalidPlatform",
    "Terminated",
];

/// A filter AWS would refuse. `InvalidFilterKey` is the one filter error the model lists for
/// `ListCommands` and `ListCommandInvocations` (it has no `InvalidFilterValue`), so a bad value
/// is reported with it too; the message says which part is wrong.
fn bad_filter(message: String) -> ApiError {
    ApiError::new("InvalidFilterKey", message)
}

/// Parse `Filters`. `commands` is true for `ListCommands` (which also takes `ExecutionStage`
/// and its own `Status` values), false for `ListCommandInvocations`.
fn parse_filters(filters: &[Filter], commands: bool) -> Result<Vec<ListFilter>, ApiError> {
    // Their number, keys and value lengths were checked against botocore's model.
    let time = |key: &str, s: &str| {
        s.parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|_| {
                bad_filter(format!(
                    "The value {s} of filter {key} is not a timestamp like 2024-07-07T00:00:00Z."
                ))
            })
    };
    let statuses = if commands {
        COMMAND_STATUS_FILTERS
    } else {
        INVOCATION_STATUS_FILTERS
    };
    filters
        .iter()
        .map(|f| {
            let value = f.value.clone().unwrap_or_default();
            let key = f.key.as_deref().unwrap_or_default();
            Ok(match key {
                "InvokedAfter" => ListFilter::After(time(key, &value)?),
                "InvokedBefore" => ListFilter::Before(time(key, &value)?),
                "Status" if statuses.contains(&value.as_str()) => ListFilter::Status(value),
                "Status" => {
                    return Err(bad_filter(format!(
                        "The value {value} of filter Status is not valid. Valid values: {}.",
                        statuses.join(", ")
                    )))
                }
                "DocumentName" => ListFilter::Document(value),
                "ExecutionStage" if commands => match value.as_str() {
                    "Executing" => ListFilter::Stage(false),
                    "Complete" => ListFilter::Stage(true),
                    _ => {
                        return Err(bad_filter(format!(
                            "The value {value} of filter ExecutionStage is not valid. Valid values: Executing, Complete."
                        )))
                    }
                },
                other => return Err(bad_filter(format!("The filter key {other} is not valid."))),
            })
        })
        .collect()
}

fn passes(
    filters: &[ListFilter],
    c: &CommandRecord,
    status: &str,
    details: &str,
    terminal: bool,
) -> bool {
    filters.iter().all(|f| match f {
        ListFilter::After(t) => c.requested_ms >= *t,
        ListFilter::Before(t) => c.requested_ms <= *t,
        ListFilter::Status(s) => s == status || s == details,
        ListFilter::Stage(complete) => *complete == terminal,
        ListFilter::Document(d) => *d == c.document_name,
    })
}

fn check_list_request(req: &ListRequest) -> Result<Option<String>, ApiError> {
    if let Some(id) = req
        .instance_id
        .as_deref()
        .filter(|id| !ids::is_instance_id(id))
    {
        return Err(ApiError::new(
            "InvalidInstanceId",
            format!("Instance Id {id} is not valid."),
        ));
    }
    match &req.next_token {
        Some(t) => paging::decode_token(t)
            .map(Some)
            .ok_or_else(|| ApiError::new("InvalidNextToken", "The specified token is not valid.")),
        None => Ok(None),
    }
}

/// Sort key that orders newest commands first.
fn newest_first_key(c: &CommandRecord) -> String {
    format!("{:020}:{}", i64::MAX - c.requested_ms, c.command_id)
}

fn lookup(ctx: &Ctx, command_id: &str) -> Result<CommandRecord, ApiError> {
    ctx.state
        .store
        .get_command(&ctx.region, command_id)?
        .ok_or_else(|| {
            ApiError::new(
                "InvalidCommandId",
                format!("Command {command_id} does not exist in this region."),
            )
        })
}

pub fn list_commands(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let after = check_list_request(&req)?;
    let filters = parse_filters(req.filters.as_deref().unwrap_or_default(), true)?;
    let commands = match &req.command_id {
        Some(id) => vec![lookup(ctx, id)?],
        None => ctx.state.store.list_commands(&ctx.region)?,
    };
    let mut selected = Vec::new();
    for c in commands {
        if let Some(instance) = &req.instance_id {
            if ctx
                .state
                .store
                .invocation(&c.command_id, instance)?
                .is_none()
            {
                continue;
            }
        }
        let terminal = !matches!(c.status.as_str(), "Pending" | "InProgress" | "Cancelling");
        if passes(&filters, &c, &c.status, &c.status_details, terminal) {
            selected.push((newest_first_key(&c), c));
        }
    }
    let page = paging::page_after(
        selected,
        after.as_deref(),
        req.max_results.unwrap_or(50) as usize,
        |(k, _)| k,
    );
    let mut out = json!({ "Commands": page.items.iter().map(|(_, c)| command_json(ctx, c)).collect::<Vec<_>>() });
    if let Some(t) = page.next_token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

pub fn list_command_invocations(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let after = check_list_request(&req)?;
    let filters = parse_filters(req.filters.as_deref().unwrap_or_default(), false)?;
    let commands = match &req.command_id {
        Some(id) => vec![lookup(ctx, id)?],
        None => ctx.state.store.list_commands(&ctx.region)?,
    };
    let mut selected = Vec::new();
    for c in &commands {
        for i in ctx.state.store.invocations(&c.command_id)? {
            if req
                .instance_id
                .as_ref()
                .is_some_and(|id| *id != i.instance_id)
            {
                continue;
            }
            let terminal = !matches!(
                i.status.as_str(),
                "Pending" | "InProgress" | "Delayed" | "Cancelling"
            );
            if passes(&filters, c, &i.status, &i.status_details, terminal) {
                selected.push((format!("{}:{:08}", newest_first_key(c), i.seq), c, i));
            }
        }
    }
    let page = paging::page_after(
        selected,
        after.as_deref(),
        req.max_results.unwrap_or(50) as usize,
        |(k, _, _)| k,
    );
    let details = req.details.unwrap_or(false);
    let list = page
        .items
        .iter()
        .map(|(_, c, i)| invocation_json(ctx, c, i, details))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = json!({ "CommandInvocations": list });
    if let Some(t) = page.next_token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

fn iso(ms: Option<i64>) -> String {
    ms.and_then(|m| jiff::Timestamp::from_millisecond(m).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn elapsed(start: Option<i64>, end: Option<i64>) -> String {
    match (start, end) {
        (Some(s), Some(e)) if e >= s => format!("PT{}.{:03}S", (e - s) / 1000, (e - s) % 1000),
        _ => String::new(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRequest {
    command_id: Option<String>,
    instance_id: Option<String>,
    plugin_name: Option<String>,
}

pub fn get_command_invocation(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: GetRequest = parse(body)?;
    let (command_id, instance_id) = (
        req.command_id.unwrap_or_default(),
        req.instance_id.unwrap_or_default(),
    );
    if !ids::is_instance_id(&instance_id) {
        return Err(ApiError::new(
            "InvalidInstanceId",
            format!("Instance Id {instance_id} is not valid."),
        ));
    }
    let c = lookup(ctx, &command_id)?;
    let inv = ctx
        .state
        .store
        .invocation(&command_id, &instance_id)?
        .ok_or_else(|| {
            ApiError::new(
                "InvocationDoesNotExist",
                format!("Command {command_id} has no invocation on {instance_id}."),
            )
        })?;
    let plugins = ctx.state.store.plugins(&command_id, &instance_id)?;
    let plugin = match &req.plugin_name {
        Some(name) => plugins.iter().find(|p| p.name == *name).ok_or_else(|| {
            ApiError::new(
                "InvalidPluginName",
                format!("The document has no step named {name}."),
            )
        })?,
        None if plugins.len() == 1 => &plugins[0],
        None => {
            return Err(ApiError::new(
                "InvalidPluginName",
                "The document has more than one step; name one with PluginName.",
            ))
        }
    };
    let (status, details) = if req.plugin_name.is_some()
        && matches!(
            plugin.status.as_str(),
            "Success" | "Failed" | "TimedOut" | "Cancelled"
        ) {
        (plugin.status.clone(), plugin.status_details.clone())
    } else {
        (inv.status.clone(), inv.status_details.clone())
    };
    Ok(json!({
        "CommandId": c.command_id,
        "InstanceId": instance_id,
        "Comment": c.comment,
        "DocumentName": c.document_name,
        "DocumentVersion": c.document_version,
        "PluginName": plugin.name,
        "ResponseCode": plugin.response_code,
        "ExecutionStartDateTime": iso(plugin.start_ms),
        "ExecutionElapsedTime": elapsed(plugin.start_ms, plugin.end_ms),
        "ExecutionEndDateTime": iso(plugin.end_ms),
        "Status": status,
        "StatusDetails": details,
        "StandardOutputContent": plugin.stdout,
        "StandardOutputUrl": output_url(ctx, &c, &instance_id, &plugin.name, "stdout"),
        "StandardErrorContent": plugin.stderr,
        "StandardErrorUrl": output_url(ctx, &c, &instance_id, &plugin.name, "stderr"),
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false},
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CancelRequest {
    command_id: Option<String>,
    instance_ids: Option<Vec<String>>,
}

pub fn cancel_command(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: CancelRequest = parse(body)?;
    let c = lookup(ctx, &req.command_id.unwrap_or_default())?;
    let invocations = ctx.state.store.invocations(&c.command_id)?;
    let chosen = req.instance_ids.unwrap_or_default();
    if let Some(bad) = chosen
        .iter()
        .find(|id| !invocations.iter().any(|i| i.instance_id == **id))
    {
        return Err(ApiError::new(
            "InvalidInstanceId",
            format!("Command {} does not target {bad}.", c.command_id),
        ));
    }
    // Cancelling acts on nodes: the caller must be allowed `ssm:CancelCommand` on each one
    // whose invocation it would cancel.
    let acted_on = invocations
        .iter()
        .map(|i| i.instance_id.as_str())
        .filter(|id| chosen.is_empty() || chosen.iter().any(|c| c == id));
    ctx.authorize_nodes("ssm:CancelCommand", acted_on)?;
    crate::orchestrator::cancel(ctx.state, &c, &invocations, &chosen, ctx.now_ms)?;
    Ok(json!({}))
}
