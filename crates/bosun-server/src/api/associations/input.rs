//! What a `CreateAssociation`/`UpdateAssociation` request (or a batch entry) asks for: its
//! members, their model constraints, the rules between them (schedule, offset, duration), the
//! document and its parameters, the targets, and the nodes to authorize.

use std::collections::BTreeMap;

use bosun_core::command::rate::{MaxConcurrency, MaxErrors};
use bosun_core::document::{plan_steps, resolve_parameters, PlanError};
use bosun_core::ids;
use bosun_core::schedule::{Schedule, ScheduleKind};
use bosun_core::tags::{check_tags, TagError};
use bosun_core::validate::Validation;
use bosun_store::AssociationDefinition;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::documents::{check_selectors, content_error, find};
use crate::api::error::ApiError;
use crate::api::send_command::{nodes_matching, Target};
use crate::api::wire::{tags_to_pairs, Tag};
use crate::api::Ctx;
use crate::documents::{content, Selector};

use super::input_runbook::{check_runbook, has_maps, runbook_values};

const DOCREF_PATTERN: &str = r"^[a-zA-Z0-9_\-.:/]{3,128}$";
const NAME_PATTERN: &str = r"^[a-zA-Z0-9_\-.]{3,128}$";
const SEVERITIES: &[&str] = &["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNSPECIFIED"];

/// The members an association request may carry (`AssociationId`/`AssociationVersion` only on
/// updates, `InstanceId` and `Tags` only on creations; the model decides which is sent).
#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct AssociationInput {
    pub association_id: Option<String>,
    pub association_version: Option<String>,
    pub name: Option<String>,
    pub document_version: Option<String>,
    pub instance_id: Option<String>,
    pub parameters: Option<BTreeMap<String, Vec<String>>>,
    pub targets: Option<Vec<Target>>,
    pub schedule_expression: Option<String>,
    pub association_name: Option<String>,
    pub max_errors: Option<String>,
    pub max_concurrency: Option<String>,
    pub compliance_severity: Option<String>,
    pub sync_compliance: Option<String>,
    pub apply_only_at_cron_interval: Option<bool>,
    pub schedule_offset: Option<i64>,
    pub duration: Option<i64>,
    pub tags: Option<Vec<Tag>>,
    pub automation_target_parameter_name: Option<String>,
    pub target_maps: Option<Vec<BTreeMap<String, Vec<String>>>>,
}

/// The model's constraints on each member (`ValidationException` with AWS's text).
pub fn check_members(req: &AssociationInput, v: &mut Validation) {
    if let Some(n) = req.name.as_deref() {
        let ok = (3..=128).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(&b));
        if !ok {
            v.pattern_failed("name", n, DOCREF_PATTERN);
        }
    }
    check_selectors(v, req.document_version.as_deref(), None);
    if let Some(id) = req
        .instance_id
        .as_deref()
        .filter(|id| !ids::is_instance_id(id))
    {
        v.pattern_failed("instanceId", id, r"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)");
    }
    if let Some(id) = req.association_id.as_deref().filter(|id| !is_uuid(id)) {
        v.pattern_failed(
            "associationId",
            id,
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        );
    }
    if let Some(ver) = req.association_version.as_deref() {
        if ver != "$LATEST" && (ver.starts_with('0') || ver.parse::<u32>().is_err()) {
            v.pattern_failed("associationVersion", ver, "([$]LATEST)|([1-9][0-9]*)");
        }
    }
    v.list_length("targets", req.targets.as_ref().map(Vec::len), 0, 5);
    for (i, t) in req.targets.iter().flatten().enumerate() {
        let field = format!("targets.{}.member", i + 1);
        v.length(&format!("{field}.key"), t.key.as_deref(), 1, 163);
        v.list_length(
            &format!("{field}.values"),
            t.values.as_ref().map(Vec::len),
            0,
            50,
        );
    }
    v.length(
        "scheduleExpression",
        req.schedule_expression.as_deref(),
        1,
        256,
    );
    if let Some(n) = req.association_name.as_deref() {
        let ok = (3..=128).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !ok {
            v.pattern_failed("associationName", n, NAME_PATTERN);
        }
    }
    if let Some(mc) = req
        .max_concurrency
        .as_deref()
        .filter(|s| s.len() > 7 || MaxConcurrency::parse(s).is_err())
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
        .filter(|s| s.len() > 7 || MaxErrors::parse(s).is_err())
    {
        v.pattern_failed(
            "maxErrors",
            me,
            "^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$",
        );
    }
    v.one_of(
        "complianceSeverity",
        req.compliance_severity.as_deref(),
        SEVERITIES,
    );
    v.one_of(
        "syncCompliance",
        req.sync_compliance.as_deref(),
        &["AUTO", "MANUAL"],
    );
    v.range("scheduleOffset", req.schedule_offset, 1, 6);
    v.range("duration", req.duration, 1, 24);
    v.list_length("targetMaps", req.target_maps.as_ref().map(Vec::len), 0, 300);
    v.length(
        "automationTargetParameterName",
        req.automation_target_parameter_name.as_deref(),
        1,
        50,
    );
    v.list_length("tags", req.tags.as_ref().map(Vec::len), 0, 1000);
}

pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The schedule rules: the expression parses for associations, `ApplyOnlyAtCronInterval` only
/// with cron, `ScheduleOffset` only with cron and `ApplyOnlyAtCronInterval`, `Duration` only
/// with `ApplyOnlyAtCronInterval`.
fn check_schedule(req: &AssociationInput) -> Result<(), ApiError> {
    let schedule = req
        .schedule_expression
        .as_deref()
        .map(|text| Schedule::parse(text, ScheduleKind::Association))
        .transpose()
        .map_err(|e| ApiError::new("InvalidSchedule", e.to_string()))?;
    let at_cron = req.apply_only_at_cron_interval == Some(true);
    let is_cron = schedule.as_ref().is_some_and(Schedule::is_cron);
    if at_cron && !is_cron {
        return Err(ApiError::new(
            "InvalidSchedule",
            "ApplyOnlyAtCronInterval is only supported with a cron ScheduleExpression, not with \
             a rate expression or without a schedule.",
        ));
    }
    if req.schedule_offset.is_some() && !(is_cron && at_cron) {
        return Err(ApiError::new(
            "InvalidSchedule",
            "ScheduleOffset is only supported with a cron ScheduleExpression and \
             ApplyOnlyAtCronInterval set to true.",
        ));
    }
    if req.duration.is_some() && !at_cron {
        return Err(ApiError::validation(
            "Duration is only supported when ApplyOnlyAtCronInterval is set to true.",
        ));
    }
    Ok(())
}

/// How the association reaches nodes.
fn check_targets(req: &AssociationInput) -> Result<(), ApiError> {
    let has_targets = req.targets.as_ref().is_some_and(|t| !t.is_empty());
    if has_maps(req) {
        if has_targets || req.instance_id.is_some() {
            return Err(ApiError::new(
                "InvalidTargetMaps",
                "Both Targets and TargetMaps can't be specified together.",
            ));
        }
        return Ok(());
    }
    match (req.instance_id.is_some(), has_targets) {
        (true, true) => {
            return Err(ApiError::validation(
                "InstanceId and Targets cannot both be specified.",
            ))
        }
        (false, false) => {
            return Err(ApiError::new(
                "InvalidTarget",
                "Instance ID or targets must be specified",
            ))
        }
        _ => {}
    }
    for t in req.targets.iter().flatten() {
        let key = t.key.as_deref().unwrap_or_default();
        if key == "resource-groups:ResourceTypeFilters" {
            return Err(ApiError::new(
                "InvalidTarget",
                "The target key resource-groups:ResourceTypeFilters is for maintenance windows; \
                 target an association's group with resource-groups:Name.",
            ));
        }
        // `resource-groups:Name`: the group must exist now (`nodes_matching` below refuses
        // one that does not); its members are resolved again at every execution.
        let runbook_values =
            key == "ParameterValues" && req.automation_target_parameter_name.is_some();
        let known = runbook_values
            || key == "InstanceIds"
            || key == "tag-key"
            || key == "resource-groups:Name"
            || key.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
        if !known {
            return Err(ApiError::new(
                "InvalidTarget",
                format!(
                    "Unsupported Target Type: the target key {key} is not one Bosun supports; use \
                     InstanceIds, tag:<key>, tag-key or resource-groups:Name."
                ),
            ));
        }
        if t.values.as_ref().is_none_or(Vec::is_empty) {
            return Err(ApiError::new(
                "InvalidTarget",
                format!("The target {key} has no values."),
            ));
        }
    }
    Ok(())
}

/// The document: it exists (in the version asked for), is a Command document (or an
/// Automation runbook with `AutomationTargetParameterName`), and accepts the parameters.
/// Returns the document's name as stored.
fn check_document(ctx: &Ctx, req: &AssociationInput, name: &str) -> Result<String, ApiError> {
    let doc = find(
        ctx,
        name,
        Selector::from_request(req.document_version.as_deref(), None),
    )?;
    match doc.document_type.as_str() {
        "Command" if has_maps(req) => {
            return Err(ApiError::new(
                "InvalidTargetMaps",
                format!(
                    "TargetMaps applies to Automation runbooks; {name} is a Command document: \
                     target its nodes with Targets."
                ),
            ))
        }
        "Command" if req.automation_target_parameter_name.is_some() => {
            return Err(ApiError::new(
                "InvalidParameters",
                format!(
                    "AutomationTargetParameterName applies to Automation runbooks; {name} is a \
                     Command document."
                ),
            ))
        }
        "Command" => {}
        "Automation" => {
            check_runbook(ctx, req, name)?;
            return Ok(doc.name.clone());
        }
        other => {
            return Err(ApiError::new(
                "InvalidDocument",
                format!("{name} is a {other} document; associations run Command documents."),
            ))
        }
    }
    let value = content::parse(&doc.content, &doc.format).map_err(content_error)?;
    let parsed = content::command_document(&value, &doc.document_type)
        .map_err(|e| ApiError::new("InvalidDocument", e.to_string()))?;
    let params = resolve_parameters(
        &parsed.parameters,
        &req.parameters.clone().unwrap_or_default(),
    )
    .map_err(|e| ApiError::new("InvalidParameters", e.0))?;
    plan_steps(&parsed, &params).map_err(|e| match e {
        PlanError::InvalidDocument(m) => ApiError::new("InvalidDocument", m),
        PlanError::InvalidParameters(m) => ApiError::new("InvalidParameters", m),
    })?;
    Ok(doc.name)
}

/// Every check of a request whose members passed [`check_members`], in AWS's order of
/// concern; returns the definition to store and the tags. `action` is authorized on every node
/// the request names (before they are looked up) and on every node its targets match now.
pub fn definition(
    ctx: &Ctx,
    req: &AssociationInput,
    action: &str,
) -> Result<(AssociationDefinition, Vec<(String, String)>), ApiError> {
    check_targets(req)?;
    let named = req
        .instance_id
        .iter()
        .chain(
            req.targets
                .iter()
                .flatten()
                .filter(|t| t.key.as_deref() == Some("InstanceIds"))
                .flat_map(|t| t.values.iter().flatten()),
        )
        .map(String::as_str)
        .filter(|id| *id != "*");
    ctx.authorize_nodes(action, named)?;
    check_schedule(req)?;
    let tags = tags_to_pairs(req.tags.as_deref().unwrap_or_default());
    check_tags(&tags, "tags").map_err(|e| match e {
        TagError::Validation(m) => ApiError::validation(m),
        TagError::Reserved(m) => ApiError::new("InvalidTag", m),
    })?;
    let name = req.name.clone().unwrap_or_default();
    let doc_name = check_document(ctx, req, &name)?;
    let nodes = ctx.state.store.list_instances(&ctx.region)?;
    let matched = match &req.instance_id {
        Some(id) => {
            if !nodes
                .iter()
                .any(|n| &n.instance_id == id && !n.deregistered)
            {
                return Err(ApiError::new(
                    "InvalidInstanceId",
                    format!("Instance {id} is not a registered managed node of this region, or was deregistered."),
                ));
            }
            Vec::new()
        }
        None if runbook_values(req) || has_maps(req) => Vec::new(),
        None => nodes_matching(ctx, &nodes, req.targets.as_deref().unwrap_or_default())?,
    };
    ctx.authorize_nodes(action, matched.iter().map(|(id, _)| id.as_str()))?;
    let mut spec = Map::new();
    if let Some(p) = &req.parameters {
        spec.insert("Parameters".into(), json!(p));
    }
    if let Some(t) = req.targets.as_ref().filter(|t| !t.is_empty()) {
        let list: Vec<Value> = t
            .iter()
            .map(|t| json!({"Key": t.key, "Values": t.values.clone().unwrap_or_default()}))
            .collect();
        spec.insert("Targets".into(), Value::Array(list));
    }
    for (key, value) in [
        ("MaxConcurrency", &req.max_concurrency),
        ("MaxErrors", &req.max_errors),
        ("ComplianceSeverity", &req.compliance_severity),
        ("SyncCompliance", &req.sync_compliance),
    ] {
        if let Some(v) = value {
            spec.insert(key.into(), json!(v));
        }
    }
    if let Some(maps) = req.target_maps.as_ref().filter(|m| !m.is_empty()) {
        spec.insert("TargetMaps".into(), json!(maps));
        spec.insert(
            super::automation::RUN_AS.into(),
            json!(ctx.principal.clone()),
        );
    }
    if let Some(p) = &req.automation_target_parameter_name {
        spec.insert("AutomationTargetParameterName".into(), json!(p));
        // Its runs start the runbook as the user who made this version of the association.
        spec.insert(
            super::automation::RUN_AS.into(),
            json!(ctx.principal.clone()),
        );
    }
    Ok((
        AssociationDefinition {
            name: doc_name,
            document_version: req.document_version.clone().unwrap_or_default(),
            instance_id: req.instance_id.clone().unwrap_or_default(),
            association_name: req.association_name.clone().unwrap_or_default(),
            schedule_expression: req.schedule_expression.clone().unwrap_or_default(),
            apply_only_at_cron_interval: req.apply_only_at_cron_interval.unwrap_or(false),
            schedule_offset: req.schedule_offset.unwrap_or(0),
            duration_hours: req.duration.unwrap_or(0),
            spec_json: Value::Object(spec).to_string(),
        },
        tags,
    ))
}
