//! Rate control for `StartAutomationExecution`: `Targets` (one entry) and
//! `TargetParameterName` resolved, at the start, to the values the runbook runs for — one child
//! execution per value (`ParameterValues` as given, or the ids of the managed nodes an
//! `InstanceIds`/`tag:`/`tag-key`/`resource-groups:Name` target matches) — each value's
//! parameters checked before anything is stored. The children are started by the runtime
//! (`crate::automation::children`) with AWS's ramp and error threshold.

use std::collections::BTreeMap;

use bosun_core::automation::{resolve_parameters, Runbook};
use bosun_core::command::{MaxConcurrency, MaxErrors};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::error::ApiError;
use crate::api::send_command::{nodes_matching, Target};
use crate::api::Ctx;

/// MaxConcurrency when the request gives none (API reference).
pub const DEFAULT_MAX_CONCURRENCY: &str = "10";
/// MaxErrors when the request gives none: stop after the first error, as Run Command does.
pub const DEFAULT_MAX_ERRORS: &str = "0";

/// What a parent execution keeps of its targets (its `targets_json` column).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct TargetPlan {
    /// `Targets` as given.
    pub targets: Value,
    /// The resolved values, one child each, in the order they start.
    pub values: Vec<String>,
    /// The parameters as passed (without the target parameter).
    pub passed: BTreeMap<String, Vec<String>>,
}

/// The rate-control members of a start request.
pub struct RateRequest<'a> {
    pub targets: &'a [Target],
    pub target_parameter_name: Option<&'a str>,
    pub max_concurrency: Option<&'a str>,
    pub max_errors: Option<&'a str>,
}

/// The typed parameters of the child for `value`.
pub fn child_parameters(
    runbook: &Runbook,
    passed: &BTreeMap<String, Vec<String>>,
    target_parameter: &str,
    value: &str,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let mut params = passed.clone();
    params.insert(target_parameter.to_string(), vec![value.to_string()]);
    resolve_parameters(runbook, &params)
        .map_err(|e| ApiError::new("InvalidAutomationExecutionParametersException", e.0))
}

/// Check the rate-control members and resolve the targets; `(plan, MaxConcurrency, MaxErrors)`.
pub fn plan_targets(
    ctx: &Ctx,
    runbook: &Runbook,
    passed: &BTreeMap<String, Vec<String>>,
    r: &RateRequest,
) -> Result<(TargetPlan, String, String), ApiError> {
    let parameter = r.target_parameter_name.ok_or_else(|| {
        ApiError::validation("TargetParameterName must be specified with Targets.")
    })?;
    if !runbook.parameters.iter().any(|(n, _)| n == parameter) {
        return Err(ApiError::new(
            "InvalidAutomationExecutionParametersException",
            format!("TargetParameterName {parameter} is not a parameter of the runbook."),
        ));
    }
    let [target] = r.targets else {
        return Err(ApiError::validation("Targets takes exactly one target."));
    };
    let values: Vec<String> = match target.key.as_deref() {
        Some("ParameterValues") => target.values.clone().unwrap_or_default(),
        _ => {
            let nodes = ctx.state.store.list_instances(&ctx.region)?;
            nodes_matching(ctx, &nodes, r.targets)?
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        }
    };
    if values.is_empty() {
        return Err(ApiError::new(
            "InvalidTarget",
            "The targets match nothing to run the automation for.",
        ));
    }
    for v in &values {
        child_parameters(runbook, passed, parameter, v)?;
    }
    let max_concurrency = r.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY);
    MaxConcurrency::parse(max_concurrency).map_err(|e| ApiError::validation(e.to_string()))?;
    let max_errors = r.max_errors.unwrap_or(DEFAULT_MAX_ERRORS);
    MaxErrors::parse(max_errors).map_err(|e| ApiError::validation(e.to_string()))?;
    let targets = serde_json::json!([{
        "Key": target.key.clone().unwrap_or_default(),
        "Values": target.values.clone().unwrap_or_default(),
    }]);
    Ok((
        TargetPlan {
            targets,
            values,
            passed: passed.clone(),
        },
        max_concurrency.to_string(),
        max_errors.to_string(),
    ))
}
