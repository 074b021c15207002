//! Planning `aws:loop` steps: their inner `Steps` planned like main steps and placed after the
//! main steps, their inputs checked ([`super::loops`]), and the rules for what a loop may hold.
//!
//! From AWS's page: `onCancel` "isn't supported for the aws:loop action" (refused on the loop
//! step). Bosun's own choices where AWS says nothing: loops do not nest (an inner `aws:loop` is
//! refused); the loop step takes no `maxAttempts` above 1, no `timeoutSeconds` and no declared
//! `outputs` (its outputs are `CurrentIteration` and `CurrentIteratorValue`); an inner step's
//! `onCancel` may only be `Abort` (Bosun runs no cancel flow inside a loop).

use serde_json::Value;

use super::loops::check_inputs;
use super::plan::step;
use super::{Action, OnCancel, Runbook, RunbookError, Step};

/// The main steps followed by every loop's inner steps; each loop's inputs lose `Steps`
/// (its inner steps are in the plan).
pub(super) fn expand(main: Vec<Step>) -> Result<Vec<Step>, RunbookError> {
    let mut all = main;
    let main_len = all.len();
    for i in 0..main_len {
        if all[i].action != Action::Loop {
            continue;
        }
        let name = all[i].name.clone();
        let fail = |m: String| RunbookError(format!("Step \"{name}\": {m}"));
        let s = &mut all[i];
        check_inputs(&s.inputs).map_err(|e| fail(e.0))?;
        if s.on_cancel != OnCancel::Abort {
            return Err(fail(
                "onCancel isn't supported for the aws:loop action.".into(),
            ));
        }
        if s.max_attempts > 1 || s.timeout_seconds.is_some() || !s.outputs.is_empty() {
            return Err(fail(
                "Bosun takes no maxAttempts, timeoutSeconds or outputs on an aws:loop step; \
                 its outputs are CurrentIteration and CurrentIteratorValue."
                    .into(),
            ));
        }
        let raw = match s.inputs.as_object_mut().and_then(|m| m.remove("Steps")) {
            Some(Value::Array(list)) if !list.is_empty() => list,
            _ => return Err(fail("Steps must be a non-empty list of steps.".into())),
        };
        let start = all.len();
        for r in &raw {
            let Value::Object(m) = r else {
                return Err(fail("every entry of Steps must be a step object.".into()));
            };
            let mut inner = step(m)?;
            if inner.action == Action::Loop {
                return Err(fail(format!(
                    "the aws:loop step \"{}\" is inside it; Bosun does not nest loops.",
                    inner.name
                )));
            }
            if inner.on_cancel != OnCancel::Abort {
                return Err(fail(format!(
                    "the step \"{}\" inside it has onCancel {:?}; Bosun runs no cancel flow \
                     inside a loop (onCancel: Abort only).",
                    inner.name,
                    match &inner.on_cancel {
                        OnCancel::Step(t) => format!("step:{t}"),
                        OnCancel::Abort => "Abort".into(),
                    }
                )));
            }
            inner.parent = Some(i);
            all.push(inner);
        }
        let end = all.len();
        all[i].body = start..end;
    }
    Ok(all)
}

/// Step names are unique across the runbook, inner steps included.
pub(super) fn check_names(runbook: &Runbook) -> Result<(), RunbookError> {
    for (i, s) in runbook.steps.iter().enumerate() {
        if runbook.steps[..i].iter().any(|o| o.name == s.name) {
            return Err(RunbookError(format!(
                "Step name \"{}\" is used more than once; every step, including those inside \
                 an aws:loop, needs its own name.",
                s.name
            )));
        }
    }
    Ok(())
}

/// The message for step `index` going (`key`) to the step `target` outside its scope.
pub(super) fn out_of_scope(
    runbook: &Runbook,
    index: usize,
    key: &str,
    target: &str,
) -> RunbookError {
    let s = &runbook.steps[index];
    RunbookError(match s.parent {
        Some(p) => format!(
            "Step \"{}\": {key} names the step \"{target}\", which is not inside the aws:loop \
             \"{}\"; steps inside a loop may only go to steps of the same loop.",
            s.name, runbook.steps[p].name
        ),
        None => {
            let t = runbook
                .step_index(target)
                .and_then(|t| runbook.steps[t].parent);
            let l = t.map(|p| runbook.steps[p].name.as_str()).unwrap_or("");
            format!(
                "Step \"{}\": {key} names the step \"{target}\", which is inside the aws:loop \
                 \"{l}\"; only that loop's steps may go to it.",
                s.name
            )
        }
    })
}
