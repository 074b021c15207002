//! `SendCommand`: validate, resolve the document and the targets, and persist the command with
//! one invocation per node before answering. The orchestrator does the rest.

use std::collections::BTreeMap;

use bosun_core::command::notification::CommandNotification;
use bosun_core::command::rate::{MaxConcurrency, MaxErrors};
use bosun_core::document::{plan_steps, resolve_parameters, PlanError};
use bosun_core::ids;
use bosun_core::validate::Validation;
use bosun_store::{CommandRecord, InvocationRecord, PluginRecord};
use serde::Deserialize;
use serde_json::{json, Value};

use super::commands::command_json;
use super::documents::{content_error, find};
pub(crate) use super::notification_config::check_notification;
use super::{parse, Ctx};
use crate::api::error::ApiError;
use crate::documents::{content, Selector};
use crate::state::random_bytes;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendCommandRequest {
    document_name: Option<String>,
    document_version: Option<String>,
    document_hash: Option<String>,
    document_hash_type: Option<String>,
    instance_ids: Option<Vec<String>>,
    targets: Option<Vec<Target>>,
    parameters: Option<BTreeMap<String, Vec<String>>>,
    timeout_seconds: Option<i64>,
    comment: Option<String>,
    max_concurrency: Option<String>,
    max_errors: Option<String>,
    output_s3_region: Option<String>,
    output_s3_bucket_name: Option<String>,
    output_s3_key_prefix: Option<String>,
    service_role_arn: Option<String>,
    notification_config: Option<NotificationConfig>,
    cloud_watch_output_config: Option<CloudWatchOutputConfig>,
    alarm_configuration: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NotificationConfig {
    notification_arn: Option<String>,
    notification_events: Option<Vec<String>>,
    notification_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CloudWatchOutputConfig {
    cloud_watch_log_group_name: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
}

const DOCREF_PATTERN: &str = r"^[a-zA-Z0-9_\-.:/]{3,128}$";

fn validate(req: &SendCommandRequest) -> Result<(), ApiError> {
    let mut v = Validation::new();
    v.required("documentName", req.document_name.as_ref());
    if let Some(n) = req.document_name.as_deref() {
        let ok = (3..=128).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(&b));
        if !ok {
            v.pattern_failed("documentName", n, DOCREF_PATTERN);
        }
    }
    if let Some(ver) = req.document_version.as_deref() {
        let ok = ver == "$LATEST"
            || ver == "$DEFAULT"
            || (!ver.starts_with('0') && ver.parse::<u32>().is_ok());
        if !ok {
            v.pattern_failed(
                "documentVersion",
                ver,
                "([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)",
            );
        }
    }
    v.length("documentHash", req.document_hash.as_deref(), 0, 256);
    v.one_of(
        "documentHashType",
        req.document_hash_type.as_deref(),
        &["Sha256", "Sha1"],
    );
    v.list_length(
        "instanceIds",
        req.instance_ids.as_ref().map(Vec::len),
        0,
        50,
    );
    v.list_length("targets", req.targets.as_ref().map(Vec::len), 0, 5);
    v.range("timeoutSeconds", req.timeout_seconds, 30, 2_592_000);
    v.length("comment", req.comment.as_deref(), 0, 100);
    v.length("maxConcurrency", req.max_concurrency.as_deref(), 1, 7);
    v.length("maxErrors", req.max_errors.as_deref(), 1, 7);
    if let Some(mc) = req
        .max_concurrency
        .as_deref()
        .filter(|s| MaxConcurrency::parse(s).is_err())
    {
        v.pattern_failed(
            "maxConcurrency",
            mc,
            "^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$",
        );
    }
    if let Some(me) = req
        .max_errors
        .as_deref()
        .filter(|s| MaxErrors::parse(s).is_err())
    {
        v.pattern_failed(
            "maxErrors",
            me,
            "^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$",
        );
    }
    v.length("outputS3Region", req.output_s3_region.as_deref(), 3, 20);
    v.length(
        "outputS3BucketName",
        req.output_s3_bucket_name.as_deref(),
        3,
        63,
    );
    v.length(
        "outputS3KeyPrefix",
        req.output_s3_key_prefix.as_deref(),
        0,
        500,
    );
    v.length("serviceRoleArn", req.service_role_arn.as_deref(), 0, 2048);
    if let Some(n) = &req.notification_config {
        v.one_of(
            "notificationConfig.notificationType",
            n.notification_type.as_deref(),
            &["Command", "Invocation"],
        );
        for (i, e) in n.notification_events.iter().flatten().enumerate() {
            v.one_of(
                &format!("notificationConfig.notificationEvents.{}.member", i + 1),
                Some(e),
                &[
                    "All",
                    "InProgress",
                    "Success",
                    "TimedOut",
                    "Cancelled",
                    "Failed",
                ],
            );
        }
    }
    if let Some(cw) = &req.cloud_watch_output_config {
        v.length(
            "cloudWatchOutputConfig.cloudWatchLogGroupName",
            cw.cloud_watch_log_group_name.as_deref(),
            1,
            512,
        );
    }
    if req
        .alarm_configuration
        .as_ref()
        .is_some_and(|a| !a.is_object())
    {
        v.pattern_failed("alarmConfiguration", "(not an object)", "structure");
    }
    for (i, id) in req.instance_ids.iter().flatten().enumerate() {
        if !ids::is_instance_id(id) {
            v.pattern_failed(
                &format!("instanceIds.{}.member", i + 1),
                id,
                r"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)",
            );
        }
    }
    for (i, t) in req.targets.iter().flatten().enumerate() {
        v.required(&format!("targets.{}.member.key", i + 1), t.key.as_ref());
        v.length(
            &format!("targets.{}.member.key", i + 1),
            t.key.as_deref(),
            1,
            163,
        );
        v.list_length(
            &format!("targets.{}.member.values", i + 1),
            t.values.as_ref().map(Vec::len),
            0,
            50,
        );
    }
    v.finish().map_err(ApiError::validation)?;
    let has_ids = req.instance_ids.as_ref().is_some_and(|l| !l.is_empty());
    let has_targets = req.targets.as_ref().is_some_and(|l| !l.is_empty());
    match (has_ids, has_targets) {
        (true, true) => Err(ApiError::validation(
            "InstanceIds and Targets cannot both be specified.",
        )),
        (false, false) => Err(ApiError::validation(
            "Either InstanceIds or Targets must be specified.",
        )),
        _ => Ok(()),
    }
}

/// The nodes a request targets, in the order they will be started: (id, name).
fn resolve_targets(
    ctx: &Ctx,
    req: &SendCommandRequest,
) -> Result<(Vec<(String, String)>, bool), ApiError> {
    let nodes = ctx.state.store.list_instances(&ctx.region)?;
    let live = |id: &str| {
        nodes
            .iter()
            .find(|n| n.instance_id == id && !n.deregistered)
    };
    if let Some(list) = req.instance_ids.as_ref().filter(|l| !l.is_empty()) {
        let missing: Vec<&String> = list.iter().filter(|id| live(id).is_none()).collect();
        if !missing.is_empty() {
            return Err(ApiError::new(
                "InvalidInstanceId",
                format!(
                    "Instances [{}] are not registered managed nodes of this region, or were deregistered.",
                    missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let mut out: Vec<(String, String)> = Vec::new();
        for id in list {
            if !out.iter().any(|(i, _)| i == id) {
                out.push((
                    id.clone(),
                    live(id).map(|n| n.name.clone()).unwrap_or_default(),
                ));
            }
        }
        return Ok((out, false));
    }
    let targets = req.targets.clone().unwrap_or_default();
    let by_tag = targets
        .iter()
        .any(|t| t.key.as_deref() != Some("InstanceIds"));
    Ok((nodes_matching(ctx, &nodes, &targets)?, by_tag))
}

/// The live nodes of `nodes` that every `Targets` entry matches (`InstanceIds` with `*` for
/// all nodes, `tag:<key>`, `tag-key`, `resource-groups:Name`: the group's members now), as
/// (id, name); `InvalidTarget` for any other key and for a group that does not exist.
pub(crate) fn nodes_matching(
    ctx: &Ctx,
    nodes: &[bosun_store::InstanceRecord],
    targets: &[Target],
) -> Result<Vec<(String, String)>, ApiError> {
    let tags = crate::api::instances::node_tags(ctx)?;
    nodes_matching_tagged(ctx, nodes, &tags, targets)
}

/// [`nodes_matching`] with the region's node tags already read (`node_tags`).
pub(crate) fn nodes_matching_tagged(
    ctx: &Ctx,
    nodes: &[bosun_store::InstanceRecord],
    tags: &std::collections::HashMap<String, Vec<(String, String)>>,
    targets: &[Target],
) -> Result<Vec<(String, String)>, ApiError> {
    let mut rules = Vec::new();
    for t in targets.iter().cloned() {
        let key = t.key.unwrap_or_default();
        let values = t.values.unwrap_or_default();
        rules.push(match key.as_str() {
            "InstanceIds" => TargetRule::Ids(values),
            "tag-key" => TargetRule::TagKey(values),
            "resource-groups:Name" => {
                let [name] = values.as_slice() else {
                    return Err(ApiError::new(
                        "InvalidTarget",
                        "A resource-groups:Name target names exactly one resource group.",
                    ));
                };
                let members = crate::api::resource_groups::group_nodes(ctx, name)?
                    .ok_or_else(|| {
                        ApiError::new(
                            "InvalidTarget",
                            format!("The resource group {name} does not exist in this region."),
                        )
                    })?;
                TargetRule::Ids(members)
            }
            k => match k.strip_prefix("tag:").filter(|t| !t.is_empty()) {
                Some(tag) => TargetRule::Tag(tag.to_string(), values),
                None => {
                    return Err(ApiError::new(
                        "InvalidTarget",
                        format!("The target key {key} is not supported; use InstanceIds, tag:<key>, tag-key or resource-groups:Name."),
                    ))
                }
            },
        });
    }
    let no_tags = Vec::new();
    Ok(nodes
        .iter()
        .filter(|n| {
            let node_tags = tags.get(&n.instance_id).unwrap_or(&no_tags);
            !n.deregistered && rules.iter().all(|r| r.matches(&n.instance_id, node_tags))
        })
        .map(|n| (n.instance_id.clone(), n.name.clone()))
        .collect())
}

/// The node ids a request names outright (`InstanceIds`, or a `Targets` entry keyed
/// `InstanceIds`), not the `*` wildcard.
fn named_nodes(req: &SendCommandRequest) -> impl Iterator<Item = &str> {
    let by_target = req
        .targets
        .iter()
        .flatten()
        .filter(|t| t.key.as_deref() == Some("InstanceIds"))
        .flat_map(|t| t.values.iter().flatten());
    req.instance_ids
        .iter()
        .flatten()
        .chain(by_target)
        .map(String::as_str)
        .filter(|id| *id != "*")
}

/// One `Targets` entry.
enum TargetRule {
    Ids(Vec<String>),
    TagKey(Vec<String>),
    Tag(String, Vec<String>),
}

impl TargetRule {
    fn matches(&self, id: &str, tags: &[(String, String)]) -> bool {
        match self {
            // `Key=InstanceIds,Values=*` targets every managed node, as in AWS.
            TargetRule::Ids(ids) => ids.iter().any(|v| v == id || v == "*"),
            TargetRule::TagKey(keys) => tags.iter().any(|(k, _)| keys.contains(k)),
            TargetRule::Tag(key, values) => {
                tags.iter().any(|(k, v)| k == key && values.contains(v))
            }
        }
    }
}

/// A command to create, as SendCommand or an association's execution asks for it: the
/// document, its parameters and the rate controls, already validated as a request.
pub(crate) struct CommandSpec {
    pub document_name: String,
    /// `None`: the default version.
    pub document_version: Option<String>,
    /// `DocumentHash` and `DocumentHashType`, when the caller pinned the content.
    pub document_hash: Option<(String, Option<String>)>,
    pub parameters: BTreeMap<String, Vec<String>>,
    pub timeout_seconds: i64,
    pub comment: String,
    pub max_concurrency: String,
    pub max_errors: String,
    /// The members `Command` echoes (`Parameters`, `InstanceIds`, `Targets`, ...).
    pub echo: serde_json::Map<String, Value>,
    /// SNS notifications of its status changes, already checked ([`check_notification`]).
    pub notification: Option<CommandNotification>,
}

/// A command with its invocations and their pending plugins, ready to store.
pub(crate) struct PreparedCommand {
    pub record: CommandRecord,
    pub invocations: Vec<InvocationRecord>,
    pub plugins: Vec<PluginRecord>,
}

/// Resolve `spec`'s document, parameters and steps, then its targets (`targets` is asked
/// after the document's checks, and gives the nodes as (id, name) and whether they were
/// chosen by tag), into the records of a new command at `ctx.now_ms`. Stores nothing.
pub(crate) fn prepare_command(
    ctx: &Ctx,
    spec: &CommandSpec,
    targets: impl FnOnce() -> Result<(Vec<(String, String)>, bool), ApiError>,
) -> Result<PreparedCommand, ApiError> {
    let doc = resolve_document(ctx, spec)?;
    let (targets, by_tag) = targets()?;
    build_command(ctx, spec, &doc, &targets, by_tag)
}

/// A command's document resolved for its parameters: everything of a command that does not
/// depend on its targets, so commands of one document and parameters can share it.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedDocument {
    name: String,
    hash: String,
    steps: Vec<bosun_core::document::StepPlan>,
}

/// `spec`'s document, its checks, parameters and steps (with attachments and checked
/// references), as [`prepare_command`] resolves them before asking for the targets.
pub(crate) fn resolve_document(
    ctx: &Ctx,
    spec: &CommandSpec,
) -> Result<ResolvedDocument, ApiError> {
    let name = spec.document_name.clone();
    let doc = find(
        ctx,
        &name,
        Selector::from_request(spec.document_version.as_deref(), None),
    )?;
    if doc.document_type != "Command" {
        return Err(ApiError::new(
            "InvalidDocument",
            format!(
                "{name} is a {} document; Run Command runs Command documents.",
                doc.document_type
            ),
        ));
    }
    let hash = doc.hash.clone();
    if let Some((h, hash_type)) = &spec.document_hash {
        if hash_type.as_deref() == Some("Sha1") || !h.eq_ignore_ascii_case(&hash) {
            return Err(ApiError::new(
                "InvalidDocument",
                "The document hash does not match the document's Sha256 hash.",
            ));
        }
    }
    let value = content::parse(&doc.content, &doc.format).map_err(content_error)?;
    let parsed = content::command_document(&value, &doc.document_type)
        .map_err(|e| ApiError::new("InvalidDocument", e.to_string()))?;
    let params = resolve_parameters(&parsed.parameters, &spec.parameters)
        .map_err(|e| ApiError::new("InvalidParameters", e.0))?;
    let mut steps = plan_steps(&parsed, &params).map_err(|e| match e {
        PlanError::InvalidDocument(m) => ApiError::new("InvalidDocument", m),
        PlanError::InvalidParameters(m) => ApiError::new("InvalidParameters", m),
    })?;
    super::attachments::attach(ctx, &mut steps)?;
    super::references::check(ctx, &steps)?;
    Ok(ResolvedDocument {
        name: doc.name.to_string(),
        hash,
        steps,
    })
}

/// The records of a new command at `ctx.now_ms` running `doc` on `targets` (id, name), chosen
/// by tag when `by_tag`. Stores nothing.
pub(crate) fn build_command(
    ctx: &Ctx,
    spec: &CommandSpec,
    doc: &ResolvedDocument,
    targets: &[(String, String)],
    by_tag: bool,
) -> Result<PreparedCommand, ApiError> {
    let steps = &doc.steps;
    let hash = doc.hash.clone();
    let command_id = ctx
        .command_id
        .clone()
        .unwrap_or_else(|| ids::uuid_v4(random_bytes()));
    let timeout_seconds = spec.timeout_seconds;
    let execution_seconds: u64 = steps.iter().map(|s| s.timeout_seconds).sum();
    let expires_ms = ctx.now_ms + timeout_seconds * 1000 + execution_seconds as i64 * 1000;
    let (status, details) = if targets.is_empty() {
        // Nothing matched: say so instead of reporting success for work that did not happen.
        ("Failed", if by_tag { "NoInstancesInTag" } else { "Failed" })
    } else {
        ("Pending", "Pending")
    };
    let record = CommandRecord {
        region: ctx.region.clone(),
        command_id: command_id.clone(),
        document_name: doc.name.clone(),
        document_version: spec.document_version.clone().unwrap_or_default(),
        document_hash: hash,
        comment: spec.comment.clone(),
        request_json: Value::Object(spec.echo.clone()).to_string(),
        steps_json: serde_json::to_string(steps).map_err(ApiError::internal)?,
        requested_ms: ctx.now_ms,
        expires_ms,
        timeout_seconds,
        max_concurrency: spec.max_concurrency.clone(),
        max_errors: spec.max_errors.clone(),
        status: status.into(),
        status_details: details.into(),
        target_count: targets.len() as i64,
        completed_count: 0,
        error_count: 0,
        delivery_timed_out_count: 0,
        cancel_requested: false,
        notification: spec.notification.clone(),
    };
    let mut invocations = Vec::with_capacity(targets.len());
    let mut plugins = Vec::with_capacity(targets.len() * steps.len());
    for (seq, (instance_id, name)) in targets.iter().enumerate() {
        invocations.push(InvocationRecord {
            command_id: command_id.clone(),
            instance_id: instance_id.clone(),
            seq: seq as i64,
            instance_name: name.clone(),
            status: "Pending".into(),
            status_details: "Pending".into(),
            dispatched_ms: None,
            acked: false,
            response_code: -1,
            start_ms: None,
            end_ms: None,
        });
        for (i, step) in steps.iter().enumerate() {
            plugins.push(PluginRecord {
                command_id: command_id.clone(),
                instance_id: instance_id.clone(),
                seq: i as i64,
                name: step.name.clone(),
                status: "Pending".into(),
                status_details: "Pending".into(),
                response_code: -1,
                start_ms: None,
                end_ms: None,
                stdout: String::new(),
                stderr: String::new(),
                stdout_bytes: 0,
                stderr_bytes: 0,
                detail: String::new(),
            });
        }
    }
    Ok(PreparedCommand {
        record,
        invocations,
        plugins,
    })
}

pub fn send_command(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: SendCommandRequest = parse(body.clone())?;
    validate(&req)?;
    // Nodes named in the request are authorized before anything about them is looked up, so
    // a caller learns nothing of nodes it may not command.
    ctx.authorize_nodes("ssm:SendCommand", named_nodes(&req))?;
    let notification = notification_of(ctx, &req)?;
    let mut echo = serde_json::Map::new();
    for key in [
        "Parameters",
        "InstanceIds",
        "Targets",
        "OutputS3Region",
        "OutputS3BucketName",
        "OutputS3KeyPrefix",
        "ServiceRoleArn",
        "NotificationConfig",
        "CloudWatchOutputConfig",
        "AlarmConfiguration",
    ] {
        if let Some(v) = body.get(key) {
            echo.insert(key.to_string(), v.clone());
        }
    }
    let spec = CommandSpec {
        document_name: req.document_name.clone().unwrap_or_default(),
        document_version: req.document_version.clone(),
        document_hash: req
            .document_hash
            .clone()
            .map(|h| (h, req.document_hash_type.clone())),
        parameters: req.parameters.clone().unwrap_or_default(),
        timeout_seconds: req.timeout_seconds.unwrap_or(3600),
        comment: req.comment.clone().unwrap_or_default(),
        max_concurrency: req.max_concurrency.clone().unwrap_or_else(|| "50".into()),
        max_errors: req.max_errors.clone().unwrap_or_else(|| "0".into()),
        echo,
        notification,
    };
    let prepared = prepare_command(ctx, &spec, || {
        let (targets, by_tag) = resolve_targets(ctx, &req)?;
        ctx.authorize_nodes("ssm:SendCommand", targets.iter().map(|(id, _)| id.as_str()))?;
        Ok((targets, by_tag))
    })?;
    let answer = json!({ "Command": command_json(ctx, &prepared.record) });
    ctx.record_in_change(&answer, |records| {
        ctx.state.store.create_command_audited(
            &prepared.record,
            &prepared.invocations,
            &prepared.plugins,
            records,
        )
    })?;
    ctx.state.orchestrator.kick();
    Ok(answer)
}

/// The request's `NotificationConfig` with its `ServiceRoleArn`, checked: `None` when it asks
/// for no notifications.
fn notification_of(
    ctx: &Ctx,
    req: &SendCommandRequest,
) -> Result<Option<CommandNotification>, ApiError> {
    let Some(n) = &req.notification_config else {
        return Ok(None);
    };
    let config = CommandNotification::from_request(
        n.notification_arn.as_deref(),
        n.notification_events.as_deref(),
        n.notification_type.as_deref(),
        req.service_role_arn.as_deref(),
    )
    .map_err(|e| ApiError::new("InvalidNotificationConfig", e.to_string()))?;
    if let Some(config) = &config {
        check_notification(ctx, config)?;
    }
    Ok(config)
}
