//! `aws:loop`: its inputs and the iteration rule (user guide, "aws:loop – Iterate over steps
//! in an automation").
//!
//! A loop is `for each` (`Iterators`, a list or a `{{ }}` reference to a StringList parameter
//! or an earlier step's list output, typed by `IteratorDataType`: `String` (default),
//! `Integer`, `Boolean` or `StringMap`) or `do while` (`LoopCondition`, a condition shaped as an
//! `aws:branch` choice without `NextStep`), never both and never neither. `MaxIterations` is
//! 1–100; AWS's page says "The maximum number of iterations is 100" and gives no other
//! default, so Bosun's default is 100. `Iterators` may hold at most 100 items.
//!
//! Iterations count from 1. A `for each` loop runs once per item, in order, up to
//! `MaxIterations` (an empty list runs no iteration). A `do while` loop runs its steps, then
//! evaluates `LoopCondition` ("The condition is evaluated after the steps in the loop
//! complete"); while it holds and `MaxIterations` is not reached, the steps run again.
//!
//! Inner steps see `{{ <loop>.CurrentIteration }}` (an Integer) and, in a `for each` loop,
//! `{{ <loop>.CurrentIteratorValue }}` (the item, typed by `IteratorDataType`); both are the
//! loop step's outputs, and stay its outputs after it ends (the last iteration's).

use serde_json::{Map, Value};

use super::branch::condition;
use super::InterpolateError;

/// AWS's bound on `MaxIterations` and on the number of `Iterators`.
pub const MAX_ITERATIONS: u32 = 100;

/// The kind of loop.
#[derive(Debug, Clone, PartialEq)]
pub enum LoopKind {
    /// `for each`: the items, typed by `IteratorDataType`.
    Iterators(Vec<Value>),
    /// `do while`: the `LoopCondition` as written (interpolated after each iteration).
    Condition(Value),
}

/// A loop step's inputs as the runtime uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopSpec {
    pub kind: LoopKind,
    pub max_iterations: u32,
}

fn fail<T>(m: impl Into<String>) -> Result<T, InterpolateError> {
    Err(InterpolateError(m.into()))
}

const DATA_TYPES: &[&str] = &["String", "Integer", "Boolean", "StringMap"];

/// Check a loop's inputs as written (`{{ }}` references are checked when the loop starts):
/// the messages [`loop_spec`] would give for literal values.
pub(super) fn check_inputs(inputs: &Value) -> Result<(), InterpolateError> {
    let literal = |k: &str| {
        inputs
            .get(k)
            .filter(|v| !v.as_str().is_some_and(|s| s.contains("{{")))
    };
    let mut probe = Map::new();
    for k in ["Iterators", "MaxIterations", "IteratorDataType"] {
        match (inputs.get(k), literal(k)) {
            (Some(_), Some(v)) => probe.insert(k.into(), v.clone()),
            // A reference: any list stands in for it.
            (Some(_), None) if k == "Iterators" => probe.insert(k.into(), Value::Array(vec![])),
            _ => None,
        };
    }
    if let Some(c) = inputs.get("LoopCondition") {
        probe.insert("LoopCondition".into(), c.clone());
    }
    if inputs.get("Iterators").is_none() {
        if let Some(Value::Object(c)) = inputs.get("LoopCondition") {
            shape(c)?;
        }
    }
    loop_spec(&Value::Object(probe)).map(|_| ())
}

/// A condition's shape: `Variable` and one operator, or `And`/`Or`/`Not`.
fn shape(c: &Map<String, Value>) -> Result<(), InterpolateError> {
    let ok = c.contains_key("Variable") && c.len() == 2
        || c.len() == 1 && ["And", "Or", "Not"].iter().any(|k| c.contains_key(*k));
    if ok {
        Ok(())
    } else {
        fail("LoopCondition needs Variable and one operator, or And, Or or Not.")
    }
}

/// A loop step's inputs, interpolated except `LoopCondition`, checked.
pub fn loop_spec(inputs: &Value) -> Result<LoopSpec, InterpolateError> {
    let max_iterations = match inputs.get("MaxIterations") {
        None | Some(Value::Null) => MAX_ITERATIONS,
        Some(v) => {
            let n = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
            match n {
                Some(n) if (1..=i64::from(MAX_ITERATIONS)).contains(&n) => n as u32,
                _ => {
                    return fail(format!(
                        "MaxIterations {v} must be an integer from 1 to {MAX_ITERATIONS}."
                    ))
                }
            }
        }
    };
    let data_type = match inputs.get("IteratorDataType") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if DATA_TYPES.contains(&t.as_str()) => Some(t.as_str()),
        Some(v) => {
            return fail(format!(
                "IteratorDataType {v} must be one of {}.",
                DATA_TYPES.join(", ")
            ))
        }
    };
    let kind = match (inputs.get("Iterators"), inputs.get("LoopCondition")) {
        (Some(_), Some(_)) => {
            return fail("Specify either Iterators or LoopCondition for aws:loop, not both.")
        }
        (None, None) => return fail("aws:loop needs either Iterators or LoopCondition."),
        (None, Some(c)) => {
            if data_type.is_some() {
                return fail("IteratorDataType goes with Iterators, not with LoopCondition.");
            }
            if !c.is_object() {
                return fail("LoopCondition must be a condition object.");
            }
            LoopKind::Condition(c.clone())
        }
        (Some(Value::Array(items)), None) => {
            if items.len() > MAX_ITERATIONS as usize {
                return fail(format!(
                    "Iterators has {} items; aws:loop takes at most {MAX_ITERATIONS}.",
                    items.len()
                ));
            }
            let t = data_type.unwrap_or("String");
            let typed = items
                .iter()
                .map(|v| {
                    typed(v, t).ok_or_else(|| {
                        let shown: String = v.to_string().chars().take(100).collect();
                        InterpolateError(format!("Iterators item {shown} is not of type {t}."))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            LoopKind::Iterators(typed)
        }
        (Some(v), None) => {
            let shown: String = v.to_string().chars().take(100).collect();
            return fail(format!("Iterators {shown} must be a list."));
        }
    };
    Ok(LoopSpec {
        kind,
        max_iterations,
    })
}

fn typed(v: &Value, t: &str) -> Option<Value> {
    match (t, v) {
        ("String", Value::String(_)) => Some(v.clone()),
        ("String", Value::Number(_) | Value::Bool(_)) => Some(Value::String(v.to_string())),
        ("Integer", Value::Number(n)) if n.is_i64() => Some(v.clone()),
        ("Integer", Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
        ("Boolean", Value::Bool(_)) => Some(v.clone()),
        ("Boolean", Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true.into()),
        ("Boolean", Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false.into()),
        ("StringMap", Value::Object(_)) => Some(v.clone()),
        _ => None,
    }
}

/// The iteration to run after `done` iterations ended (`0`: the loop is starting): its number
/// (from 1) and, for a `for each` loop, its item; `None`: the loop is done. `condition` is
/// whether `LoopCondition` held after iteration `done` (unused for `for each` loops and before
/// the first iteration: a `do while` loop always runs once).
pub fn next_iteration(spec: &LoopSpec, done: u32, condition: bool) -> Option<(u32, Option<Value>)> {
    if done >= spec.max_iterations {
        return None;
    }
    match &spec.kind {
        LoopKind::Iterators(items) => items
            .get(done as usize)
            .map(|v| (done + 1, Some(v.clone()))),
        LoopKind::Condition(_) => (done == 0 || condition).then_some((done + 1, None)),
    }
}

/// Whether an interpolated `LoopCondition` holds (operators as `aws:branch`'s).
pub fn loop_condition_holds(c: &Value) -> Result<bool, InterpolateError> {
    match c.as_object() {
        Some(m) => condition(m, "LoopCondition", false),
        None => fail("LoopCondition must be a condition object."),
    }
}

/// `CurrentIteratorValue` as text (a StringMap item as its JSON).
pub fn iteration_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
