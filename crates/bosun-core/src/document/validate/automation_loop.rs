//! Automation runbooks: the inner `Steps` of each `aws:loop` step, checked as main steps are
//! (names, `action`, required inputs, `maxAttempts`/`timeoutSeconds`, flags, `outputs`), with
//! their `nextStep`/`onFailure`/`onCancel` naming steps of the same loop (the user guide's
//! "aws:loop": the steps "function like a nested runbook") and their names unique across the
//! whole document ("An identifier that must be unique across all step names in the document").

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::DocumentError;
use super::automation::step;
use super::bad;

/// Check the loops among `steps` (`mainSteps`), whose names are `main`.
pub(super) fn check_loops(steps: &[Value], main: &BTreeSet<&str>) -> Result<(), DocumentError> {
    let mut all: BTreeSet<&str> = main.clone();
    for (i, s) in steps.iter().enumerate() {
        if s.get("action").and_then(Value::as_str) != Some("aws:loop") {
            continue;
        }
        let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
        let at = format!("mainSteps[{i}] (step \"{name}\")");
        let inner = match s.get("inputs").and_then(|v| v.get("Steps")) {
            Some(Value::Array(list)) if !list.is_empty() => list,
            _ => {
                return Err(bad(format!(
                    "{at}: inputs.Steps must be a non-empty list of steps."
                )))
            }
        };
        let mut names = BTreeSet::new();
        for (j, t) in inner.iter().enumerate() {
            let n = t.get("name").and_then(Value::as_str).unwrap_or_default();
            let at = format!("{at}: inputs.Steps[{j}]");
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(bad(format!(
                    "{at}: the step name {n:?} must be letters, digits and underscores."
                )));
            }
            if !all.insert(n) {
                return Err(bad(format!(
                    "{at} (step \"{n}\"): the step name is used by another step; names must \
                     be unique."
                )));
            }
            names.insert(n);
        }
        for (j, t) in inner.iter().enumerate() {
            let t = t
                .as_object()
                .ok_or_else(|| bad(format!("{at}: inputs.Steps[{j}] must be an object.")))?;
            let n = t["name"].as_str().unwrap_or_default();
            step(
                t,
                &format!("{at}: inputs.Steps[{j}] (step \"{n}\")"),
                &names,
            )?;
        }
    }
    Ok(())
}
