//! `StartAutomationExecution`: the runbook (an `Automation` document) is planned and its
//! parameters typed before anything is stored, so a runbook Bosun cannot run, or bad
//! parameters, refuse the start; `ClientToken` makes a retry return the first execution.
//! With `Targets` (or `TargetMaps`), the execution is a parent whose children run one per
//! target value (or map) (`targets.rs`). `Mode: Interactive` starts it waiting for
//! `StartStep`. A step's `aws:executeAutomation` starts its child through here too
//! (`Ctx::parent_execution`, with the id the step fixed), nested at most
//! `bosun_core::automation::MAX_NESTING_DEPTH` deep. Requests Bosun cannot honour yet (tags,
//! alarms, other accounts and regions) are refused, never ignored.

use std::collections::BTreeMap;

use bosun_core::automation::{may_nest, plan, resolve_parameters, MAX_NESTING_DEPTH, MODES};
use bosun_core::ids;
use bosun_store::{AutomationExecutionRecord, AutomationStarted};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::targets::{plan_target_maps, plan_targets, RateRequest};
use crate::api::error::ApiError;
use crate::api::send_command::Target;
use crate::api::{parse, Ctx};
use crate::documents::{content, resolve, Lookup, Selector};
use crate::state::random_bytes;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    document_name: String,
    document_version: Option<String>,
    parameters: Option<BTreeMap<String, Vec<String>>>,
    client_token: Option<String>,
    mode: Option<String>,
    targets: Option<Vec<Target>>,
    target_maps: Option<Vec<BTreeMap<String, Vec<String>>>>,
    target_parameter_name: Option<String>,
    max_concurrency: Option<String>,
    max_errors: Option<String>,
}

/// Members Bosun does not honour yet, and why; present (non-empty) ones refuse the start.
const NOT_YET: &[(&str, &str)] = &[
    (
        "TargetLocations",
        "Bosun runs automations in the caller's own account and region only",
    ),
    (
        "TargetLocationsURL",
        "Bosun runs automations in the caller's own account and region only",
    ),
    (
        "Tags",
        "tags on automation executions are not implemented yet",
    ),
    ("AlarmConfiguration", "Bosun has no CloudWatch alarms"),
];
fn refuse_unsupported(body: &Value) -> Result<(), ApiError> {
    for (member, why) in NOT_YET {
        let present = match body.get(*member) {
            None | Some(Value::Null) => false,
            Some(Value::Array(a)) => !a.is_empty(),
            Some(_) => true,
        };
        if present {
            return Err(ApiError::validation(format!(
                "{member}: this Bosun server cannot honour it ({why})."
            )));
        }
    }
    Ok(())
}

/// Bosun runs a runbook with the permissions of the user who starts it (AWS's rule when no role
/// is given) and cannot assume an IAM role: a runbook whose `assumeRole` comes out non-empty
/// (`{{ AutomationAssumeRole }}` given a role, or a role written in) is refused, not run with
/// other permissions than it asked for.
fn refuse_assume_role(
    content: &Value,
    runbook: &bosun_core::automation::Runbook,
    passed: &BTreeMap<String, Vec<String>>,
) -> Result<(), ApiError> {
    let Some(role) = content.get("assumeRole").and_then(Value::as_str) else {
        return Ok(());
    };
    let reference = regex::Regex::new(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}").expect("a valid regex");
    let resolved = reference.replace_all(role, |c: &regex::Captures| {
        let name = &c[1];
        passed
            .get(name)
            .map(|v| v.join(","))
            .or_else(|| {
                runbook
                    .parameters
                    .iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, d)| d.default_values())
                    .map(|v| v.join(","))
            })
            .unwrap_or_default()
    });
    if resolved.trim().is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        "InvalidAutomationExecutionParametersException",
        format!(
            "assumeRole {resolved}: Bosun runs runbooks with the permissions of the user who \
             starts them and cannot assume an IAM role; leave AutomationAssumeRole empty."
        ),
    ))
}

/// A hash of the request without its `ClientToken`, to tell a retry from a reuse.
fn request_hash(body: &Value) -> String {
    let mut body = body.clone();
    if let Value::Object(m) = &mut body {
        m.remove("ClientToken");
    }
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

fn definition_error(name: &str, e: Lookup) -> ApiError {
    match e {
        Lookup::NoDocument => ApiError::new(
            "AutomationDefinitionNotFoundException",
            format!("Automation definition {name} not found."),
        ),
        Lookup::NoVersion => ApiError::new(
            "AutomationDefinitionVersionNotFoundException",
            format!("The version of automation definition {name} does not exist."),
        ),
        Lookup::Store(e) => ApiError::internal(e),
    }
}

/// The parent of an execution an `aws:executeAutomation` step starts, refused when the
/// parent is already nested as deep as Bosun allows.
fn nested_parent(ctx: &Ctx) -> Result<Option<String>, ApiError> {
    let Some(parent) = &ctx.parent_execution else {
        return Ok(None);
    };
    let mut ancestors = 0;
    let mut above = ctx
        .state
        .store
        .get_automation_execution(parent)?
        .and_then(|p| p.parent_id);
    while let Some(id) = above {
        ancestors += 1;
        if ancestors > MAX_NESTING_DEPTH {
            break;
        }
        above = ctx
            .state
            .store
            .get_automation_execution(&id)?
            .and_then(|p| p.parent_id);
    }
    may_nest(ancestors).map_err(|e| ApiError::validation(e.0))?;
    Ok(Some(parent.clone()))
}

pub fn start_automation_execution(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    refuse_unsupported(&body)?;
    let hash = request_hash(&body);
    let req: Request = parse(body)?;
    let mode = req.mode.clone().unwrap_or_else(|| "Auto".into());
    if !MODES.contains(&mode.as_str()) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{mode}' at 'mode' failed to satisfy constraint: \
             Member must satisfy enum value set: [Auto, Interactive]"
        )));
    }
    let targets = req.targets.clone().unwrap_or_default();
    let maps = req.target_maps.clone().unwrap_or_default();
    if !targets.is_empty() && !maps.is_empty() {
        // botocore's documentation of `TargetMaps`.
        return Err(ApiError::new(
            "InvalidAutomationExecutionParametersException",
            "Both Targets and TargetMaps can't be specified together.",
        ));
    }
    if !maps.is_empty() && req.target_parameter_name.is_some() {
        return Err(ApiError::validation(
            "TargetParameterName applies to Targets; each TargetMaps entry names the \
             parameters it sets itself.",
        ));
    }
    if mode == "Interactive" && !(targets.is_empty() && maps.is_empty()) {
        return Err(ApiError::validation(
            "Mode Interactive: an execution with Targets or TargetMaps runs its children in \
             Auto mode; start each target's runbook interactively on its own.",
        ));
    }
    let name = crate::documents::bare_name(&req.document_name).to_string();
    let doc = resolve(
        &*ctx.state.store,
        &ctx.region,
        &req.document_name,
        Selector::from_request(req.document_version.as_deref(), None),
    )
    .map_err(|e| definition_error(&name, e))?;
    if doc.document_type != "Automation" {
        return Err(ApiError::new(
            "AutomationDefinitionNotFoundException",
            format!(
                "{name} is a {} document, not an Automation runbook.",
                doc.document_type
            ),
        ));
    }
    let value = content::parse(&doc.content, &doc.format)
        .map_err(|e| ApiError::validation(format!("Runbook {name}: {e}")))?;
    let runbook = plan(&value).map_err(|e| ApiError::validation(format!("Runbook {name}: {e}")))?;
    let passed = req.parameters.clone().unwrap_or_default();
    refuse_assume_role(&value, &runbook, &passed)?;
    // With targets: a parent execution whose children the runtime starts, one per value or map.
    let (parameters_json, targets_json, target_parameter_name, max_concurrency, max_errors) =
        if !maps.is_empty() {
            let (plan, max_concurrency, max_errors) = plan_target_maps(
                &runbook,
                &passed,
                &maps,
                req.max_concurrency.as_deref(),
                req.max_errors.as_deref(),
            )?;
            (
                serde_json::to_string(&passed).map_err(ApiError::internal)?,
                serde_json::to_string(&plan).map_err(ApiError::internal)?,
                String::new(),
                max_concurrency,
                max_errors,
            )
        } else if targets.is_empty() {
            if req.target_parameter_name.is_some()
                || req.max_concurrency.is_some()
                || req.max_errors.is_some()
            {
                return Err(ApiError::validation(
                    "TargetParameterName, MaxConcurrency and MaxErrors apply only with Targets \
                     (MaxConcurrency and MaxErrors also with TargetMaps).",
                ));
            }
            let params = resolve_parameters(&runbook, &passed)
                .map_err(|e| ApiError::new("InvalidAutomationExecutionParametersException", e.0))?;
            (
                serde_json::to_string(&params).map_err(ApiError::internal)?,
                "[]".to_string(),
                String::new(),
                String::new(),
                String::new(),
            )
        } else {
            let rate = RateRequest {
                targets: &targets,
                target_parameter_name: req.target_parameter_name.as_deref(),
                max_concurrency: req.max_concurrency.as_deref(),
                max_errors: req.max_errors.as_deref(),
            };
            let (plan, max_concurrency, max_errors) = plan_targets(ctx, &runbook, &passed, &rate)?;
            (
                serde_json::to_string(&passed).map_err(ApiError::internal)?,
                serde_json::to_string(&plan).map_err(ApiError::internal)?,
                req.target_parameter_name.clone().unwrap_or_default(),
                max_concurrency,
                max_errors,
            )
        };
    let parent_id = nested_parent(ctx)?;
    // A step starting a secondary runbook fixes its id beforehand (`Ctx::command_id`).
    let execution_id = ctx
        .command_id
        .clone()
        .unwrap_or_else(|| ids::uuid_v4(random_bytes()));
    let record = AutomationExecutionRecord {
        execution_id: execution_id.clone(),
        region: ctx.region.clone(),
        document_name: doc.name.clone(),
        document_version: doc.version.to_string(),
        document_content: value.to_string(),
        status: "Pending".into(),
        mode,
        parameters_json,
        outputs_json: "{}".into(),
        failure_message: String::new(),
        executed_by: format!(
            "arn:aws:iam::{}:user/{}",
            ctx.state.config.account_id, ctx.principal
        ),
        parent_id,
        targets_json,
        target_parameter_name,
        max_concurrency,
        max_errors,
        client_token: req.client_token.unwrap_or_default(),
        request_hash: hash,
        current_step_name: String::new(),
        current_action: String::new(),
        start_ms: ctx.now_ms,
        end_ms: None,
        wake_ms: None,
        stop_requested: String::new(),
        signals_json: "[]".into(),
        owner: ctx.state.replica.id.clone(),
        lease_until_ms: ctx.now_ms + crate::automation::LEASE_MS,
    };
    match ctx.state.store.create_automation_execution(&record)? {
        AutomationStarted::Created => {
            ctx.state.automation.kick();
            Ok(json!({ "AutomationExecutionId": execution_id }))
        }
        AutomationStarted::Replayed(id) => Ok(json!({ "AutomationExecutionId": id })),
        AutomationStarted::TokenMismatch => Err(ApiError::new(
            "IdempotentParameterMismatch",
            "The ClientToken was used before with different parameters.",
        )),
    }
}

/// The runbook an Automation association names, planned and checked as a start checks it.
fn runbook_for_association(
    ctx: &Ctx,
    document_name: &str,
    document_version: Option<&str>,
    passed: &BTreeMap<String, Vec<String>>,
) -> Result<bosun_core::automation::Runbook, ApiError> {
    let name = crate::documents::bare_name(document_name).to_string();
    let doc = resolve(
        &*ctx.state.store,
        &ctx.region,
        document_name,
        Selector::from_request(document_version, None),
    )
    .map_err(|e| definition_error(&name, e))?;
    let value = content::parse(&doc.content, &doc.format)
        .map_err(|e| ApiError::validation(format!("Runbook {name}: {e}")))?;
    let runbook = plan(&value).map_err(|e| ApiError::validation(format!("Runbook {name}: {e}")))?;
    refuse_assume_role(&value, &runbook, passed)?;
    Ok(runbook)
}

/// What an Automation association's runs will ask of `StartAutomationExecution`, checked when
/// the association is created or updated, as a start would check it but storing nothing: the
/// runbook exists and Bosun can run it, `target_parameter` is one of its parameters, the
/// parameters type, and the rate controls parse. Targets that match no node now are accepted
/// (nodes may come later; a run that finds none fails saying so).
pub(crate) fn check_rate_controlled_start(
    ctx: &Ctx,
    document_name: &str,
    document_version: Option<&str>,
    passed: &BTreeMap<String, Vec<String>>,
    rate: &RateRequest,
) -> Result<(), ApiError> {
    let runbook = runbook_for_association(ctx, document_name, document_version, passed)?;
    match plan_targets(ctx, &runbook, passed, rate) {
        Err(e) if e.code == "InvalidTarget" => Ok(()),
        other => other.map(|_| ()),
    }
}

/// [`check_rate_controlled_start`] for an association with `TargetMaps`: each map's
/// parameters over `passed` type against the runbook, and the rate controls parse.
pub(crate) fn check_target_maps_start(
    ctx: &Ctx,
    document_name: &str,
    document_version: Option<&str>,
    passed: &BTreeMap<String, Vec<String>>,
    maps: &[BTreeMap<String, Vec<String>>],
    max_concurrency: Option<&str>,
    max_errors: Option<&str>,
) -> Result<(), ApiError> {
    let runbook = runbook_for_association(ctx, document_name, document_version, passed)?;
    plan_target_maps(&runbook, passed, maps, max_concurrency, max_errors).map(|_| ())
}
