//! Targets: `PutTargets` (per-target `FailedEntries`), `RemoveTargets`, `ListTargetsByRule`,
//! `ListRuleNamesByTarget`.
//!
//! Bosun delivers to SNS topics (stored now, delivered once topics exist); a target of any
//! other kind, or with settings only AWS's own targets use, is refused in `FailedEntries`,
//! never stored and ignored.

use std::collections::BTreeMap;

use bosun_core::events::rules::{self as ev, TargetKind};
use bosun_core::events::transform::TargetInput;
use bosun_core::validate::Validation;
use bosun_store::{EventTargetRecord, StoreError};
use serde_json::{json, Map, Value};

use super::input::{self, Checks};
use super::{check_bus, limit_exceeded, rule_not_found};
use crate::api::error::ApiError;
use crate::api::Ctx;

/// Target members Bosun stores and echoes (model order).
const KEPT_MEMBERS: &[&str] = &[
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "RetryPolicy",
];

/// Target members only AWS's own target kinds (or its queues) use: refused per target.
const REFUSED_MEMBERS: &[&str] = &[
    "KinesisParameters",
    "RunCommandParameters",
    "EcsParameters",
    "BatchParameters",
    "SqsParameters",
    "HttpParameters",
    "RedshiftDataParameters",
    "SageMakerPipelineParameters",
    "DeadLetterConfig",
    "AppSyncParameters",
];

/// The model's constraints on one target, at `targets.<n>.member`.
fn check_target(checks: &mut Validation, at: &str, t: &Value) {
    let s = |m: &str| t.get(m).and_then(Value::as_str);
    let id = s("Id");
    checks.required(&format!("{at}.id"), id.as_ref());
    if let Some(id) = id {
        if !ev::is_valid_name(id) {
            checks.pattern_failed(&format!("{at}.id"), id, ev::NAME_PATTERN);
        }
    }
    checks.length(&format!("{at}.id"), id, 1, 64);
    checks.required(&format!("{at}.arn"), s("Arn").as_ref());
    checks.length(&format!("{at}.arn"), s("Arn"), 1, 1600);
    checks.length(&format!("{at}.roleArn"), s("RoleArn"), 1, 1600);
    checks.length(&format!("{at}.input"), s("Input"), 0, 8192);
    checks.length(&format!("{at}.inputPath"), s("InputPath"), 0, 256);
    if let Some(tr) = t.get("InputTransformer").filter(|v| !v.is_null()) {
        let template = tr.get("InputTemplate").and_then(Value::as_str);
        let field = format!("{at}.inputTransformer.inputTemplate");
        checks.required(&field, template.as_ref());
        checks.length(&field, template, 1, 8192);
    }
    if let Some(rp) = t.get("RetryPolicy").filter(|v| !v.is_null()) {
        let n = |m: &str| rp.get(m).and_then(Value::as_i64);
        let field = format!("{at}.retryPolicy");
        checks.range(
            &format!("{field}.maximumRetryAttempts"),
            n("MaximumRetryAttempts"),
            0,
            185,
        );
        checks.range(
            &format!("{field}.maximumEventAgeInSeconds"),
            n("MaximumEventAgeInSeconds"),
            60,
            86400,
        );
    }
}

/// A target's input settings, checked as PutTargets checks them.
pub(crate) fn target_input(t: &Value, id: &str) -> Result<TargetInput, ApiError> {
    let s = |m: &str| t.get(m).and_then(Value::as_str);
    let transformer = match t.get("InputTransformer").filter(|v| !v.is_null()) {
        None => None,
        Some(tr) => {
            let mut paths = BTreeMap::new();
            if let Some(map) = tr.get("InputPathsMap").and_then(Value::as_object) {
                for (k, v) in map {
                    let path = v.as_str().ok_or_else(|| {
                        ApiError::serialization("InputPathsMap values must be strings")
                    })?;
                    paths.insert(k.clone(), path.to_string());
                }
            }
            let template = tr
                .get("InputTemplate")
                .and_then(Value::as_str)
                .unwrap_or("");
            Some((paths, template.to_string()))
        }
    };
    TargetInput::new(
        id,
        s("Input"),
        s("InputPath"),
        transformer.as_ref().map(|(p, t)| (p, t.as_str())),
    )
    .map_err(|e| ApiError::validation(e.message))
}

/// Why Bosun cannot take this target (a `FailedEntries` entry), if it cannot.
fn refusal(t: &Value, kind: &TargetKind) -> Option<String> {
    if let TargetKind::Undeliverable(service) = kind {
        return Some(format!(
            "This Bosun server cannot deliver to {service} targets: only SNS topics (arn:aws:sns:<region>:<account>:<topic>) are supported."
        ));
    }
    REFUSED_MEMBERS
        .iter()
        .find(|m| t.get(**m).is_some_and(|v| !v.is_null()))
        .map(|m| format!("{m} is not supported by this Bosun server for SNS topic targets."))
}

pub fn put_targets(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let rule = input::required(&input, "Rule")?;
    let targets = match input.get("Targets") {
        Some(Value::Array(items)) => items.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => return Err(ApiError::serialization("Targets must be a list")),
    };
    let mut checks = Checks::new();
    checks
        .name("Rule", Some(rule))
        .bus(&input)
        .list_length("Targets", targets.len(), 1, 100);
    checks.finish()?;
    let mut per_target = Validation::new();
    for (i, t) in targets.iter().enumerate() {
        check_target(&mut per_target, &format!("targets.{}.member", i + 1), t);
    }
    per_target.finish().map_err(ApiError::validation)?;
    check_bus(ctx, &input)?;
    if ctx.state.store.get_rule(&ctx.region, rule)?.is_none() {
        return Err(rule_not_found(rule));
    }
    let mut accepted = Vec::new();
    let mut failed = Vec::new();
    for t in targets {
        let id = t["Id"].as_str().unwrap_or_default();
        let arn = t["Arn"].as_str().unwrap_or_default();
        target_input(t, id)?;
        let kind = ev::target_kind(arn).map_err(|_| {
            ApiError::validation(format!(
                "Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
            ))
        })?;
        if let Some(message) = refusal(t, &kind) {
            failed.push(json!({
                "TargetId": id,
                "ErrorCode": "ValidationException",
                "ErrorMessage": message,
            }));
            continue;
        }
        let kept: Map<String, Value> = KEPT_MEMBERS
            .iter()
            .filter_map(|m| {
                t.get(*m)
                    .filter(|v| !v.is_null())
                    .map(|v| (m.to_string(), v.clone()))
            })
            .collect();
        accepted.push(EventTargetRecord {
            target_id: id.to_string(),
            arn: arn.to_string(),
            definition: Value::Object(kept).to_string(),
        });
    }
    // Bosun has no roles: the rule's messages are published with the caller's rights, so the
    // caller must be allowed to publish to every topic it targets.
    ctx.authorize_arns("sns:Publish", accepted.iter().map(|t| t.arn.as_str()))?;
    if !accepted.is_empty() {
        match ctx
            .state
            .store
            .put_targets(&ctx.region, rule, &accepted, ev::MAX_TARGETS_PER_RULE)
        {
            Ok(()) => {}
            Err(StoreError::LimitExceeded(_)) => return Err(limit_exceeded()),
            Err(StoreError::NotFound(_)) => return Err(rule_not_found(rule)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(json!({ "FailedEntryCount": failed.len(), "FailedEntries": failed }))
}

pub fn remove_targets(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let rule = input::required(&input, "Rule")?;
    let ids: Vec<String> = match input.get("Ids") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::serialization("Ids must be strings"))
            })
            .collect::<Result<_, _>>()?,
        None | Some(Value::Null) => {
            input::required(&input, "Ids")?;
            Vec::new()
        }
        Some(_) => return Err(ApiError::serialization("Ids must be a list")),
    };
    let mut checks = Checks::new();
    checks
        .name("Rule", Some(rule))
        .bus(&input)
        .list_length("Ids", ids.len(), 1, 100);
    checks.finish()?;
    if ids.iter().any(|id| id.len() > 64 || !ev::is_valid_name(id)) {
        // The model's list-member constraint, worded as AWS words it for a whole list.
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '[{}]' at 'ids' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 64, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: {}]",
            ids.join(", "),
            ev::NAME_PATTERN
        )));
    }
    check_bus(ctx, &input)?;
    match ctx.state.store.remove_targets(&ctx.region, rule, &ids) {
        Ok(()) => Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] })),
        Err(StoreError::NotFound(_)) => Err(rule_not_found(rule)),
        Err(e) => Err(e.into()),
    }
}

pub fn list_targets_by_rule(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let rule = input::required(&input, "Rule")?;
    let mut checks = Checks::new();
    checks.name("Rule", Some(rule)).bus(&input).paging(&input);
    checks.finish()?;
    check_bus(ctx, &input)?;
    let (limit, after) = input::paging(&input)?;
    if ctx.state.store.get_rule(&ctx.region, rule)?.is_none() {
        return Err(rule_not_found(rule));
    }
    let targets = ctx.state.store.rule_targets(&ctx.region, rule)?;
    let page = bosun_core::paging::page_after(targets, after.as_deref(), limit, |t| &t.target_id);
    let items = page
        .items
        .iter()
        .map(|t| serde_json::from_str::<Value>(&t.definition).map_err(ApiError::internal))
        .collect::<Result<Vec<_>, _>>()?;
    let mut v = json!({ "Targets": items });
    if let Some(token) = page.next_token {
        v["NextToken"] = json!(token);
    }
    Ok(v)
}

pub fn list_rule_names_by_target(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let arn = input::required(&input, "TargetArn")?;
    let mut checks = Checks::new();
    checks
        .length("TargetArn", Some(arn), 1, 1600)
        .bus(&input)
        .paging(&input);
    checks.finish()?;
    check_bus(ctx, &input)?;
    let (limit, after) = input::paging(&input)?;
    let names = ctx.state.store.rule_names_by_target(&ctx.region, arn)?;
    let page = bosun_core::paging::page_after(names, after.as_deref(), limit, |n| n);
    let mut v = json!({ "RuleNames": page.items });
    if let Some(token) = page.next_token {
        v["NextToken"] = json!(token);
    }
    Ok(v)
}
