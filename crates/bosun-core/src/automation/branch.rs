//! `aws:branch`: which step a branch step goes to (user guide, "aws:branch – Run conditional
//! automation steps").
//!
//! `Choices` is a list of `{NextStep, Variable, <operator>: value}` or `{NextStep, And|Or: [..]}`
//! or `{NextStep, Not: {..}}`; the conditions inside `And`/`Or`/`Not` have the same shape
//! without `NextStep`, and nest. The first choice whose condition holds names the next step,
//! else `Default`, else none (the step fails).
//!
//! Inputs arrive interpolated, so a `Variable` may be a string, a number or a boolean:
//! - string operators (`StringEquals`, `EqualsIgnoreCase`, `StartsWith`, `EndsWith`,
//!   `Contains`) compare text (numbers/booleans as their JSON text); `Contains` on a list
//!   variable (a StringList parameter or output) asks whether an element equals the value;
//! - numeric operators accept numbers or numeric strings on both sides;
//! - `BooleanEquals` accepts `true`/`false` as booleans or strings (any case).
//!
//! A condition without a known operator, with two operators, or with a value of the wrong kind
//! is an error naming the choice: AWS refuses an unsupported operator when the document is
//! created, and a type mismatch when the step runs.

use serde_json::{Map, Value};

use super::InterpolateError;

const OPERATORS: &[&str] = &[
    "StringEquals",
    "EqualsIgnoreCase",
    "StartsWith",
    "EndsWith",
    "Contains",
    "NumericEquals",
    "NumericGreater",
    "NumericLesser",
    "NumericGreaterOrEquals",
    "NumericLesserOrEquals",
    "BooleanEquals",
];

/// Evaluate an interpolated `aws:branch` step's inputs: the `NextStep` of the first matching
/// choice, else `Default`, else `Ok(None)` (the step fails: no choice matched).
pub fn choose_branch(inputs: &Value) -> Result<Option<String>, InterpolateError> {
    let err = |m: String| Err(InterpolateError(m));
    let Some(choices) = inputs.get("Choices").and_then(Value::as_array) else {
        return err("aws:branch needs Choices, a list of choices.".into());
    };
    for (i, choice) in choices.iter().enumerate() {
        let at = format!("Choices[{i}]");
        let Some(obj) = choice.as_object() else {
            return err(format!("{at} must be an object."));
        };
        let Some(next) = obj.get("NextStep").and_then(Value::as_str) else {
            return err(format!("{at} needs NextStep, the name of a step."));
        };
        if condition(obj, &at, true)? {
            return Ok(Some(next.to_string()));
        }
    }
    match inputs.get("Default") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(d)) => Ok(Some(d.clone())),
        Some(other) => err(format!("Default {other} must be the name of a step.")),
    }
}

fn fail<T>(at: &str, why: impl std::fmt::Display) -> Result<T, InterpolateError> {
    Err(InterpolateError(format!("{at}: {why}")))
}

/// Whether one condition holds. `top` says whether `NextStep` may appear in it.
pub(super) fn condition(
    c: &Map<String, Value>,
    at: &str,
    top: bool,
) -> Result<bool, InterpolateError> {
    let keys: Vec<&str> = c
        .keys()
        .map(String::as_str)
        .filter(|k| !(top && *k == "NextStep"))
        .collect();
    let sub = |v: &Value, at: String| -> Result<bool, InterpolateError> {
        match v.as_object() {
            Some(m) => condition(m, &at, false),
            None => fail(&at, "a condition must be an object"),
        }
    };
    let list = |key: &str| -> Result<bool, InterpolateError> {
        let Some(items) = c
            .get(key)
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
        else {
            return fail(at, format!("{key} needs a non-empty list of conditions"));
        };
        let mut results = Vec::with_capacity(items.len());
        for (j, item) in items.iter().enumerate() {
            results.push(sub(item, format!("{at}.{key}[{j}]"))?);
        }
        Ok(if key == "And" {
            results.iter().all(|r| *r)
        } else {
            results.iter().any(|r| *r)
        })
    };
    match keys.as_slice() {
        ["And"] | ["Or"] => list(keys[0]),
        ["Not"] => Ok(!sub(&c["Not"], format!("{at}.Not"))?),
        _ => {
            let Some(variable) = c.get("Variable") else {
                return fail(
                    at,
                    "a condition needs Variable and an operator, or And, Or or Not",
                );
            };
            let ops: Vec<&str> = keys.iter().copied().filter(|k| *k != "Variable").collect();
            let [op] = ops.as_slice() else {
                return fail(
                    at,
                    format!(
                        "a condition needs exactly one operator, not {}",
                        ops.join(", ")
                    ),
                );
            };
            if !OPERATORS.contains(op) {
                return fail(
                    at,
                    format!(
                        "{op} is not an aws:branch operator ({})",
                        OPERATORS.join(", ")
                    ),
                );
            }
            compare(op, variable, &c[*op]).or_else(|why| fail(at, why))
        }
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Apply one operator; the error says which side has the wrong kind of value.
fn compare(op: &str, variable: &Value, value: &Value) -> Result<bool, String> {
    let want = |kind: &str, side: &str, v: &Value| format!("{op} needs {kind}; {side} is {v}");
    if op == "Contains" {
        if let Value::Array(items) = variable {
            let v = text(value).ok_or_else(|| want("a string", "the value", value))?;
            return Ok(items.iter().any(|x| text(x).as_deref() == Some(v.as_str())));
        }
    }
    if op.starts_with("Numeric") {
        let a = number(variable).ok_or_else(|| want("a number", "Variable", variable))?;
        let b = number(value).ok_or_else(|| want("a number", "the value", value))?;
        return Ok(match op {
            "NumericEquals" => a == b,
            "NumericGreater" => a > b,
            "NumericLesser" => a < b,
            "NumericGreaterOrEquals" => a >= b,
            _ => a <= b,
        });
    }
    if op == "BooleanEquals" {
        let a = boolean(variable).ok_or_else(|| want("true or false", "Variable", variable))?;
        let b = boolean(value).ok_or_else(|| want("true or false", "the value", value))?;
        return Ok(a == b);
    }
    let a = text(variable).ok_or_else(|| want("a string", "Variable", variable))?;
    let b = text(value).ok_or_else(|| want("a string", "the value", value))?;
    Ok(match op {
        "StringEquals" => a == b,
        "EqualsIgnoreCase" => a.to_lowercase() == b.to_lowercase(),
        "StartsWith" => a.starts_with(&b),
        "EndsWith" => a.ends_with(&b),
        _ => a.contains(&b),
    })
}
