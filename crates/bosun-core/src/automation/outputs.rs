//! Step outputs: a step's declared `outputs` taken from its response and typed, and the
//! execution's top-level `outputs` as the API reports them (`map<string, list<string>>`).
//!
//! Conversions to an output's `Type` (user guide, "Running automations with outputs"): String
//! takes a string, or a number/boolean as its text; Integer a whole number or a numeric string;
//! Boolean a boolean or `"true"`/`"false"`; StringList a list of strings (numbers and booleans
//! as text); StringMap a map; MapList a list of maps. Anything else fails the step with a
//! message naming the output, rather than storing a value of the wrong type.
//!
//! An execution output whose step produced no value reads
//! `["No output available yet because the step is not successfully executed"]`, as AWS's
//! `GetAutomationExecution`/`DescribeAutomationExecutions` show it (the AWS CLI reference's
//! `describe-automation-executions` example, `createImage.ImageId`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::select::select;
use super::{InterpolateError, Runbook, Step};

/// What AWS shows for an execution output whose step produced none.
pub const NO_OUTPUT: &str = "No output available yet because the step is not successfully executed";

/// A step's declared outputs from its response, converted to each output's `Type`; a selector
/// that matches nothing leaves that output out (AWS shows no value for it).
///
/// Keyed by the output's `Name` (as `StepExecution.Outputs` is); the caller keys them
/// `"<step>.<Name>"` for [`Context::step_outputs`](super::Context) and
/// [`execution_outputs`].
pub fn step_outputs(
    step: &Step,
    response: &Value,
) -> Result<BTreeMap<String, Value>, InterpolateError> {
    let mut out = BTreeMap::new();
    for o in &step.outputs {
        let Some(v) = select(response, &o.selector) else {
            continue;
        };
        let typed = convert(&v, &o.output_type).ok_or_else(|| {
            let shown: String = v.to_string().chars().take(200).collect();
            InterpolateError(format!(
                "Output {}.{}: the value {shown} selected by {} is not a {}.",
                step.name, o.name, o.selector, o.output_type
            ))
        })?;
        out.insert(o.name.clone(), typed);
    }
    Ok(out)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}

fn convert(v: &Value, output_type: &str) -> Option<Value> {
    match output_type {
        "String" => scalar_text(v).map(Value::String),
        "Integer" => match v {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .map(Value::from),
            Value::String(s) => s.trim().parse::<i64>().ok().map(Value::from),
            _ => None,
        },
        "Boolean" => match v {
            Value::Bool(b) => Some(Value::Bool(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
            _ => None,
        },
        "StringList" => match v {
            Value::Array(items) => items
                .iter()
                .map(|x| scalar_text(x).map(Value::String))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
            _ => None,
        },
        "StringMap" => v.is_object().then(|| v.clone()),
        "MapList" => match v {
            Value::Array(items) if items.iter().all(Value::is_object) => Some(v.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A typed output as the API's list of strings: a list of strings gives its items, a string,
/// number or boolean one item (its text), a map or a list of maps one item (its JSON text).
pub fn output_strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) if items.iter().all(|x| scalar_text(x).is_some()) => {
            items.iter().filter_map(scalar_text).collect()
        }
        other => vec![scalar_text(other).unwrap_or_else(|| other.to_string())],
    }
}

/// An execution's outputs from its steps' outputs (top-level `outputs`), `step_outputs` keyed
/// `"<step>.<output>"`.
pub fn execution_outputs(
    runbook: &Runbook,
    step_outputs: &BTreeMap<String, Value>,
) -> BTreeMap<String, Vec<String>> {
    runbook
        .outputs
        .iter()
        .map(|key| {
            let values = match step_outputs.get(key) {
                Some(v) => output_strings(v),
                None => vec![NO_OUTPUT.to_string()],
            };
            (key.clone(), values)
        })
        .collect()
}
