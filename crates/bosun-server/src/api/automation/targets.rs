//! Rate control for `StartAutomationExecution`: `Targets` (one entry) and
//! `TargetParameterName` resolved, at the start, to the values the runbook runs for — one child
//! execution per value (`ParameterValues` as given, or the ids of the managed nodes an
//! `InstanceIds`/`tag:`/`tag-key`/`resource-groups:Name` target matches) — each value's
//! parameters checked before anything is stored; or `TargetMaps`, one child per map, its
//! parameters the map's over the request's. The children are started by the runtime
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
    /// `TargetMaps` as given (empty with `Targets`): one child each, its parameters the map's
    /// over `passed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maps: Vec<BTreeMap<String, Vec<String>>>,
}

impl TargetPlan {
    /// How many children the parent runs.
    pub fn len(&self) -> usize {
        if self.maps.is_empty() {
            self.values.len()
        } else {
            self.maps.len()
        }
    }

    /// The typed parameters of child `k` and what its `targets_json` keeps of its target.
    pub fn child(
        &self,
        runbook: &Runbook,
        target_parameter: &str,
        k: usize,
    ) -> Result<(BTreeMap<String, Value>, Value), ApiError> {
        match self.maps.get(k) {
            Some(map) => Ok((
                map_parameters(runbook, &self.passed, map)?,
                serde_json::json!({ "TargetMap": map }),
            )),
            None => {
                let value = &self.values[k];
                Ok((
                    child_parameters(runbook, &self.passed, target_parameter, value)?,
                    serde_json::json!({ "Target": value }),
                ))
            }
        }
    }
}

/// The parameters of a `TargetMaps` entry's child: the entry's values over the passed ones.
pub fn merge_target_map(
    passed: &BTreeMap<String, Vec<String>>,
    map: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut params = passed.clone();
    params.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
    params
}

/// The typed parameters of the child for a `TargetMaps` entry.
pub fn map_parameters(
    runbook: &Runbook,
    passed: &BTreeMap<String, Vec<String>>,
    map: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Value>, ApiError> {
    resolve_parameters(runbook, &merge_target_map(passed, map))
        .map_err(|e| ApiError::new("InvalidAutomationExecutionParametersException", e.0))
}

/// Check `TargetMaps` (each entry's parameters against the runbook) and the rate limits;
/// `(plan, MaxConcurrency, MaxErrors)`.
pub fn plan_target_maps(
    runbook: &Runbook,
    passed: &BTreeMap<String, Vec<String>>,
    maps: &[BTreeMap<String, Vec<String>>],
    max_concurrency: Option<&str>,
    max_errors: Option<&str>,
) -> Result<(TargetPlan, String, String), ApiError> {
    for map in maps {
        map_parameters(runbook, passed, map)?;
    }
    let (max_concurrency, max_errors) = rate_limits(max_concurrency, max_errors)?;
    Ok((
        TargetPlan {
            targets: Value::Null,
            values: Vec::new(),
            passed: passed.clone(),
            maps: maps.to_vec(),
        },
        max_concurrency,
        max_errors,
    ))
}

/// MaxConcurrency and MaxErrors checked, with their defaults.
fn rate_limits(
    max_concurrency: Option<&str>,
    max_errors: Option<&str>,
) -> Result<(String, String), ApiError> {
    let max_concurrency = max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY);
    MaxConcurrency::parse(max_concurrency).map_err(|e| ApiError::validation(e.to_string()))?;
    let max_errors = max_errors.unwrap_or(DEFAULT_MAX_ERRORS);
    MaxErrors::parse(max_errors).map_err(|e| ApiError::validation(e.to_string()))?;
    Ok((max_concurrency.to_string(), max_errors.to_string()))
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
    let (max_concurrency, max_errors) = rate_limits(r.max_concurrency, r.max_errors)?;
    let targets = serde_json::json!([{
        "Key": target.key.clone().unwrap_or_default(),
        "Values": target.values.clone().unwrap_or_default(),
    }]);
    Ok((
        TargetPlan {
            targets,
            values,
            passed: passed.clone(),
            maps: Vec::new(),
        },
        max_concurrency,
        max_errors,
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    fn m(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn a_target_map_entry_overrides_the_passed_parameters() {
        let passed = m(&[("A", &["1"]), ("B", &["2"])]);
        let map = m(&[("B", &["x", "y"]), ("C", &["3"])]);
        assert_eq!(
            super::merge_target_map(&passed, &map),
            m(&[("A", &["1"]), ("B", &["x", "y"]), ("C", &["3"])])
        );
        assert_eq!(super::merge_target_map(&BTreeMap::new(), &map), map);
    }

    #[test]
    fn a_plan_counts_its_maps_or_its_values() {
        let mut plan = super::TargetPlan {
            targets: serde_json::Value::Null,
            values: vec!["a".into(), "b".into()],
            passed: BTreeMap::new(),
            maps: Vec::new(),
        };
        assert_eq!(plan.len(), 2);
        plan.values.clear();
        plan.maps = vec![m(&[("A", &["1"])]); 3];
        assert_eq!(plan.len(), 3);
        // A child's `{"Target": …}` or `{"TargetMap": …}` is never read as a plan.
        let child = serde_json::json!({"TargetMap": {"A": ["1"]}}).to_string();
        assert!(serde_json::from_str::<super::TargetPlan>(&child).is_err());
        let stored = serde_json::to_string(&plan).unwrap();
        assert_eq!(
            serde_json::from_str::<super::TargetPlan>(&stored).unwrap(),
            plan
        );
    }
}
