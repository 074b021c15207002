//! `aws:executeAutomation` (user guide, "aws:executeAutomation – Run another automation"): the
//! step's inputs as the `StartAutomationExecution` request of the secondary runbook, its
//! outputs once that execution ends, and Bosun's nesting limit.
//!
//! Inputs AWS documents: `DocumentName` (required), `DocumentVersion`, `RuntimeParameters`
//! (a map; each value becomes the list of strings `StartAutomationExecution` takes),
//! `TargetParameterName`, `Targets`, `TargetMaps`, `MaxConcurrency`, `MaxErrors`, `Tags`,
//! `TargetLocations`. They are passed to the start as they are, so whatever the start refuses
//! (tags, other accounts) is refused for a secondary runbook too; any other input fails the
//! step. Outputs: `ExecutionId`, `Status` and `Output` (the secondary execution's outputs,
//! each `name=value` with list values joined by commas, in name order — AWS documents
//! `Output` as a StringList without saying how each entry reads; this is Bosun's choice).
//!
//! AWS documents no nesting limit; Bosun allows [`MAX_NESTING_DEPTH`] ancestors above an
//! execution (a runbook that starts itself would otherwise never stop).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::InterpolateError;

/// The most ancestors (parents, their parents …) an execution started by
/// `aws:executeAutomation` may have: the top-level runbook and four nested levels below it
/// start children; the fifth level's `aws:executeAutomation` steps fail.
pub const MAX_NESTING_DEPTH: usize = 5;

/// Inputs passed to `StartAutomationExecution` as they are.
const PASSED: &[&str] = &[
    "DocumentName",
    "DocumentVersion",
    "TargetParameterName",
    "Targets",
    "TargetMaps",
    "MaxConcurrency",
    "MaxErrors",
    "Tags",
    "TargetLocations",
];

/// A value as one entry of an `AutomationParamMap`: a list of strings.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        other => vec![other.to_string()],
    }
}

/// The `StartAutomationExecution` request of an `aws:executeAutomation` step's (interpolated)
/// inputs.
pub fn nested_start_request(inputs: &Value) -> Result<Value, InterpolateError> {
    let Value::Object(inputs) = inputs else {
        return Err(InterpolateError(
            "aws:executeAutomation takes a map of inputs.".into(),
        ));
    };
    let mut body = Map::new();
    for (k, v) in inputs {
        if PASSED.contains(&k.as_str()) {
            body.insert(k.clone(), v.clone());
        } else if k == "RuntimeParameters" {
            let Value::Object(params) = v else {
                return Err(InterpolateError("RuntimeParameters must be a map.".into()));
            };
            let typed: Map<String, Value> = params
                .iter()
                .map(|(name, v)| (name.clone(), Value::from(strings(v))))
                .collect();
            body.insert("Parameters".into(), Value::Object(typed));
        } else {
            return Err(InterpolateError(format!(
                "aws:executeAutomation does not take input {k}."
            )));
        }
    }
    match body.get("DocumentName") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => {
            return Err(InterpolateError(
                "aws:executeAutomation needs DocumentName (a string).".into(),
            ))
        }
    }
    if let Some(v) = body.get("DocumentVersion") {
        if !v.is_string() {
            return Err(InterpolateError("DocumentVersion must be a string.".into()));
        }
    }
    Ok(Value::Object(body))
}

/// Whether an execution with `ancestors` executions above it may start a secondary one.
pub fn may_nest(ancestors: usize) -> Result<(), InterpolateError> {
    if ancestors >= MAX_NESTING_DEPTH {
        return Err(InterpolateError(format!(
            "aws:executeAutomation cannot start another automation here: this execution is \
             nested {ancestors} levels deep and Bosun allows at most {MAX_NESTING_DEPTH}."
        )));
    }
    Ok(())
}

/// The step's response once the secondary execution `id` ended with `status` and `outputs`
/// (its `{name: [strings]}` map).
pub fn nested_response(id: &str, status: &str, outputs: &BTreeMap<String, Vec<String>>) -> Value {
    let output: Vec<String> = outputs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.join(",")))
        .collect();
    json!({ "ExecutionId": id, "Status": status, "Output": output })
}
