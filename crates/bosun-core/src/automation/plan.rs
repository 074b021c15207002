//! [`plan`]: a validated schema-0.3 document's steps as Bosun runs them, with AWS's defaults.
//!
//! Defaults and forms are those of the user guide's "Properties shared by all actions":
//! `maxAttempts` 1, `onFailure` `Abort`, `onCancel` `Abort`, `isEnd` false, `isCritical` true
//! unless `onFailure` is `Continue` (then false) unless the step says otherwise. `isEnd` and
//! `isCritical` may be written as booleans or as `"true"`/`"false"` (AWS's own editor schema
//! takes both); a `{{ }}` reference there is refused, as Bosun fixes the flow before the run.
//! `maxAttempts` below 1 (AWS accepts 0 in a document) means one attempt. `onCancel` cannot
//! target `aws:approve`, `aws:pause` or `aws:sleep` steps (the same page lists them among the
//! actions a cancel flow may not use).
//!
//! Actions Bosun does not run (`aws:executeScript`, `aws:createStack`, …: they need AWS's own
//! services or are not built yet) are refused before the execution starts, and
//! so are `aws:executeAwsApi`-family steps whose literal `Service` is not `ssm`, the one
//! service Bosun serves: an execution that would fail half-way is worse than one refused.
//!
//! Runbook `variables` (and `{{ variable:… }}`) are refused: Bosun does not keep them.
//!
//! Output `Selector`s and literal `PropertySelector`s must be JSONPath Bosun evaluates
//! ([`check_selector`]), so a selector that could never match is refused before the run.
//!
//! `aws:loop` steps are planned with their inner `Steps` (`loop_plan.rs`): the inner steps follow
//! the main steps in [`Runbook::steps`], and every step may only go (`nextStep`, `onFailure`,
//! a branch's targets, `onCancel`) to a step of its own scope: a main step to main steps, a
//! step inside a loop to steps of that loop. Step names are unique across the whole runbook.
//!
//! Cycles in the step graph are NOT refused: AWS lets `nextStep` and `onFailure: step:<name>`
//! point back to an earlier step (a retry loop is a legitimate runbook), so a loop ends only
//! by a branch, a failure or a cancel, as on AWS.

use serde_json::{Map, Value};

use super::select::check_selector;
use super::{Action, OnCancel, OnFailure, OutputDecl, Runbook, RunbookError, Step};
use crate::document::ParameterDecl;

/// Build the plan from a validated schema-0.3 document's content. Refuses actions Bosun cannot
/// run (AWS-only services: `aws:executeScript`, `aws:createStack`, `aws:invokeLambdaFunction`,
/// …) with a message naming the step and the action; `aws:executeAwsApi`-family steps whose
/// `Service` is not one Bosun serves (`ssm`) are refused too.
pub fn plan(content: &Value) -> Result<Runbook, RunbookError> {
    let err = |m: String| Err(RunbookError(m));
    let mut parameters = Vec::new();
    if let Some(Value::Object(decls)) = content.get("parameters") {
        for (name, d) in decls {
            match ParameterDecl::from_json(d) {
                Ok(decl) => parameters.push((name.clone(), decl)),
                Err(why) => return err(format!("Parameter \"{name}\": {why}.")),
            }
        }
    }
    if content.get("variables").is_some_and(|v| !v.is_null()) {
        return err(
            "The runbook declares variables, which Bosun does not support (nor aws:updateVariable)."
                .into(),
        );
    }
    let Some(Value::Array(raw)) = content.get("mainSteps") else {
        return err("The runbook has no mainSteps to run.".into());
    };
    if raw.is_empty() {
        return err("The runbook has no mainSteps to run.".into());
    }
    let steps: Vec<Step> = raw
        .iter()
        .map(|s| match s {
            Value::Object(m) => step(m),
            _ => Err(RunbookError(
                "Every entry of mainSteps must be a step object.".into(),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let steps = super::loop_plan::expand(steps)?;
    let runbook = Runbook {
        parameters,
        outputs: content
            .get("outputs")
            .and_then(Value::as_array)
            .map(|o| {
                o.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        steps,
    };
    check_targets(&runbook)?;
    Ok(runbook)
}

/// Every action name Bosun runs, for messages.
fn runnable() -> String {
    Action::ALL.map(Action::as_str).join(", ")
}

pub(super) fn step(s: &Map<String, Value>) -> Result<Step, RunbookError> {
    let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
    let at = format!("Step \"{name}\"");
    let fail = |m: String| RunbookError(format!("{at}: {m}"));
    let action_name = s.get("action").and_then(Value::as_str).unwrap_or_default();
    let action = Action::parse(action_name).ok_or_else(|| {
        fail(format!(
            "Bosun cannot run {action_name} steps; it runs only {}.",
            runnable()
        ))
    })?;
    let inputs = s
        .get("inputs")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    if action.calls_api() {
        if let Some(service) = inputs.get("Service").and_then(Value::as_str) {
            if !service.contains("{{") && !service.eq_ignore_ascii_case("ssm") {
                return Err(fail(format!(
                    "{action_name} calls the {service} service, which Bosun cannot run; \
                     Bosun serves only ssm."
                )));
            }
        }
    }
    if let Some(selector) = inputs.get("PropertySelector").and_then(Value::as_str) {
        if action.calls_api() && !selector.contains("{{") {
            check_selector(selector).map_err(|why| fail(format!("PropertySelector: {why}")))?;
        }
    }
    let target = |key: &str| -> Result<Option<String>, RunbookError> {
        match s.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(v)) => Ok(Some(v.clone())),
            Some(other) => Err(fail(format!("{key} {other} must be a string."))),
        }
    };
    let on_failure = match target("onFailure")?.as_deref() {
        None | Some("Abort") => OnFailure::Abort,
        Some("Continue") => OnFailure::Continue,
        Some(v) => match v.strip_prefix("step:") {
            Some(n) => OnFailure::Step(n.to_string()),
            None => {
                return Err(fail(format!(
                    "onFailure {v:?} must be Abort, Continue or step:<name>."
                )))
            }
        },
    };
    let on_cancel = match target("onCancel")?.as_deref() {
        None | Some("Abort") => OnCancel::Abort,
        Some(v) => match v.strip_prefix("step:") {
            Some(n) => OnCancel::Step(n.to_string()),
            None => {
                return Err(fail(format!(
                    "onCancel {v:?} must be Abort or step:<name>."
                )))
            }
        },
    };
    let flag = |key: &str| -> Result<Option<bool>, RunbookError> {
        match s.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(t)) if t.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(t)) if t.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(fail(format!(
                "{key} {other} must be true or false (Bosun does not resolve references there)."
            ))),
        }
    };
    let integer = |key: &str| -> Result<Option<i64>, RunbookError> {
        match s.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| fail(format!("{key} {v} must be an integer."))),
        }
    };
    let max_attempts = match integer("maxAttempts")? {
        None => 1,
        Some(n) => {
            u32::try_from(n.max(1)).map_err(|_| fail(format!("maxAttempts {n} is too large.")))?
        }
    };
    let timeout_seconds = match integer("timeoutSeconds")? {
        None => None,
        Some(n) => Some(
            u64::try_from(n)
                .map_err(|_| fail(format!("timeoutSeconds {n} must not be negative.")))?,
        ),
    };
    let outputs = match s.get("outputs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|o| {
                let field = |k: &str| o.get(k).and_then(Value::as_str).map(String::from);
                match (field("Name"), field("Selector"), field("Type")) {
                    (Some(name), Some(selector), Some(output_type)) => {
                        check_selector(&selector)
                            .map_err(|why| fail(format!("output {name}: {why}")))?;
                        Ok(OutputDecl {
                            name,
                            selector,
                            output_type,
                        })
                    }
                    _ => Err(fail("every output needs Name, Selector and Type.".into())),
                }
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(fail("outputs must be a list.".into())),
    };
    Ok(Step {
        name: name.to_string(),
        action,
        is_critical: flag("isCritical")?.unwrap_or(on_failure != OnFailure::Continue),
        is_end: flag("isEnd")?.unwrap_or(false),
        next_step: target("nextStep")?,
        inputs,
        on_failure,
        on_cancel,
        max_attempts,
        timeout_seconds,
        outputs,
        parent: None,
        body: 0..0,
    })
}

/// `nextStep`, `onFailure`, `onCancel` and a branch's literal `NextStep`s and `Default` name
/// steps of the runbook; a cancel flow does not wait for people or time.
fn check_targets(runbook: &Runbook) -> Result<(), RunbookError> {
    super::loop_plan::check_names(runbook)?;
    for (index, s) in runbook.steps.iter().enumerate() {
        let scope = runbook.scope(index);
        let at = |key: &str, t: &str| {
            RunbookError(format!(
                "Step \"{}\": {key} names the step \"{t}\", which the runbook does not have.",
                s.name
            ))
        };
        let find = |key: &str, t: &str| -> Result<usize, RunbookError> {
            let i = runbook.step_index(t).ok_or_else(|| at(key, t))?;
            if scope.contains(&i) {
                Ok(i)
            } else {
                Err(super::loop_plan::out_of_scope(runbook, index, key, t))
            }
        };
        let targets = [
            ("nextStep", s.next_step.as_deref()),
            (
                "onFailure",
                match &s.on_failure {
                    OnFailure::Step(t) => Some(t.as_str()),
                    _ => None,
                },
            ),
        ];
        for (key, t) in targets {
            if let Some(t) = t {
                find(key, t)?;
            }
        }
        if s.action == Action::Branch {
            let choices = s.inputs.get("Choices").and_then(Value::as_array);
            let named = choices
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, c)| (format!("Choices[{i}].NextStep"), c.get("NextStep")))
                .chain([("Default".to_string(), s.inputs.get("Default"))]);
            for (key, t) in named {
                if let Some(t) = t.and_then(Value::as_str).filter(|t| !t.contains("{{")) {
                    find(&key, t)?;
                }
            }
        }
        if let OnCancel::Step(t) = &s.on_cancel {
            let i = find("onCancel", t)?;
            let action = runbook.steps[i].action;
            if matches!(action, Action::Approve | Action::Pause | Action::Sleep) {
                return Err(RunbookError(format!(
                    "Step \"{}\": onCancel cannot go to the {} step \"{t}\".",
                    s.name,
                    action.as_str()
                )));
            }
        }
    }
    Ok(())
}

impl Runbook {
    /// The index of the step called `name`.
    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }

    /// How many of [`Runbook::steps`] are `mainSteps` (the inner steps of loops follow).
    pub fn main_len(&self) -> usize {
        self.steps
            .iter()
            .position(|s| s.parent.is_some())
            .unwrap_or(self.steps.len())
    }

    /// The indexes of the steps step `index` may go to: its loop's inner steps, or the main
    /// steps.
    pub fn scope(&self, index: usize) -> std::ops::Range<usize> {
        match self.steps.get(index).and_then(|s| s.parent) {
            Some(p) => self.steps[p].body.clone(),
            None => 0..self.main_len(),
        }
    }
}
