//! Automation runbooks and change templates (schema 0.3).
//!
//! Checked, with the source of each rule (the user guide's "Systems Manager Automation actions
//! reference", "Properties shared by all actions", unless said otherwise):
//! - `schemaVersion` 0.3; `description`, `parameters`; `assumeRole` a string.
//! - `mainSteps` a non-empty list ("Required: Yes"; a change template may omit it).
//! - Each step an object with a `name` unique in the runbook ("An identifier that must be
//!   unique across all step names in the document") made of letters, digits and underscores
//!   (the reference §7.8 pattern `[a-zA-Z0-9_]+$`; `step:<name>` and `{{ step.output }}`
//!   references depend on it), and an `action` of the form `aws:<name>` (the model's
//!   `StepExecution.Action`, `^aws:[a-zA-Z]{3,40}$`).
//! - For the actions in the reference §7.8 table, their required inputs; `inputs` an object
//!   ("Required: Yes"; optional only for `aws:pause` and `aws:sleep`).
//! - `maxAttempts` and `timeoutSeconds` integers ("Type: Integer").
//! - `onFailure` (`Abort|Continue|step:<name>`), `onCancel` (`Abort|step:<name>`) and
//!   `nextStep` naming existing steps.
//! - `isEnd`/`isCritical` true/false, or a string (AWS's own published editor schema for
//!   runbooks, amazon-ssm-document-language-service, takes a string or a boolean).
//! - Step `outputs` a list of `{Name, Selector, Type}`; top-level `outputs` a list of
//!   `"<step>.<output>"` strings naming existing steps.
//! - The inner `Steps` of an `aws:loop`, the same way, their targets inside their loop
//!   (`automation_loop.rs`).
//!
//! Not checked: other top-level elements (`files`, `variables`, change-template elements) and
//! input values, which AWS itself checks only when the step runs (reference §7.3).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::super::DocumentError;
use super::{bad, description, object, parameters, schema_version, ValidatedDocument};

/// Automation actions with their required inputs (reference §7.8).
const ACTIONS: &[(&str, &[&str])] = &[
    ("aws:executeScript", &["Runtime"]),
    ("aws:runCommand", &["DocumentName"]),
    ("aws:sleep", &[]),
    ("aws:pause", &[]),
    ("aws:branch", &["Choices"]),
    ("aws:approve", &["Approvers"]),
    ("aws:executeAwsApi", &["Service", "Api"]),
    (
        "aws:waitForAwsResourceProperty",
        &["Service", "Api", "PropertySelector", "DesiredValues"],
    ),
    (
        "aws:assertAwsResourceProperty",
        &["Service", "Api", "PropertySelector", "DesiredValues"],
    ),
    ("aws:changeInstanceState", &["InstanceIds", "DesiredState"]),
    ("aws:loop", &["Steps"]),
    ("aws:executeAutomation", &["DocumentName"]),
    ("aws:invokeLambdaFunction", &["FunctionName"]),
    ("aws:executeStateMachine", &["stateMachineArn"]),
    ("aws:runInstances", &["ImageId"]),
    ("aws:createImage", &["InstanceId", "ImageName"]),
    (
        "aws:copyImage",
        &["SourceRegion", "SourceImageId", "ImageName"],
    ),
    ("aws:deleteImage", &["ImageId"]),
    ("aws:createStack", &["StackName"]),
    ("aws:deleteStack", &["StackName"]),
    ("aws:createTags", &["ResourceIds", "Tags"]),
    ("aws:invokeWebhook", &["IntegrationName"]),
];

const OUTPUT_TYPES: &[&str] = &[
    "String",
    "Integer",
    "Boolean",
    "StringList",
    "StringMap",
    "MapList",
];

pub(super) fn validate(doc: &mut ValidatedDocument) -> Result<(), DocumentError> {
    schema_version(doc, &["0.3"])?;
    description(doc)?;
    parameters(doc)?;
    let change_template = doc.document_type != super::DocumentType::Automation;
    let obj = object(doc)?;
    if obj.get("assumeRole").is_some_and(|r| !r.is_string()) {
        return Err(bad("assumeRole must be a string."));
    }
    let steps = match obj.get("mainSteps") {
        Some(Value::Array(a)) if !a.is_empty() => a.as_slice(),
        None if change_template => &[],
        Some(Value::Array(_)) => return Err(bad("mainSteps has no steps.")),
        Some(_) => return Err(bad("mainSteps must be a list of steps.")),
        None => return Err(bad("The runbook needs mainSteps.")),
    };
    let mut names = BTreeSet::new();
    for (i, s) in steps.iter().enumerate() {
        let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(bad(format!(
                "mainSteps[{i}]: the step name {name:?} must be letters, digits and underscores."
            )));
        }
        if !names.insert(name) {
            return Err(bad(format!("mainSteps[{i}] (step \"{name}\"): the step name is used by an earlier step; names must be unique.")));
        }
    }
    for (i, s) in steps.iter().enumerate() {
        let s = s
            .as_object()
            .ok_or_else(|| bad(format!("mainSteps[{i}] must be an object.")))?;
        step(
            s,
            &format!(
                "mainSteps[{i}] (step \"{}\")",
                s["name"].as_str().unwrap_or("")
            ),
            &names,
        )?;
    }
    super::automation_loop::check_loops(steps, &names)?;
    if let Some(outputs) = obj.get("outputs") {
        let list = outputs
            .as_array()
            .ok_or_else(|| bad("outputs must be a list of \"step.output\" strings."))?;
        for o in list {
            let text = o.as_str().unwrap_or("");
            match text.split_once('.') {
                Some((st, out)) if names.contains(st) && !out.is_empty() => {}
                _ => {
                    return Err(bad(format!(
                        "outputs: {o} must be \"<step>.<output>\" naming a step of the runbook."
                    )))
                }
            }
        }
    }
    Ok(())
}

pub(super) fn step(
    s: &Map<String, Value>,
    at: &str,
    names: &BTreeSet<&str>,
) -> Result<(), DocumentError> {
    let action = s.get("action").and_then(Value::as_str).unwrap_or_default();
    if !action.starts_with("aws:") || action.len() < 5 {
        return Err(bad(format!(
            "{at}: action {action:?} is not an Automation action (aws:<name>)."
        )));
    }
    let empty = Map::new();
    let inputs = match s.get("inputs") {
        Some(Value::Object(m)) => m,
        None if action == "aws:pause" || action == "aws:sleep" => &empty,
        None => return Err(bad(format!("{at}: inputs is required."))),
        Some(_) => return Err(bad(format!("{at}: inputs must be an object."))),
    };
    if let Some((_, required)) = ACTIONS.iter().find(|(a, _)| *a == action) {
        if let Some(missing) = required.iter().find(|k| !inputs.contains_key(**k)) {
            return Err(bad(format!(
                "{at}: inputs.{missing} is required by {action}."
            )));
        }
    }
    for key in ["maxAttempts", "timeoutSeconds"] {
        if let Some(v) = s.get(key) {
            if !(v.is_i64() || v.is_u64()) {
                return Err(bad(format!("{at}: {key} {v} must be an integer.")));
            }
        }
    }
    for key in ["isEnd", "isCritical"] {
        if s.get(key)
            .is_some_and(|v| !(v.is_boolean() || v.is_string()))
        {
            return Err(bad(format!("{at}: {key} must be true or false.")));
        }
    }
    let target = |key: &str, v: &str, extra: &[&str]| -> Result<(), DocumentError> {
        let ok = extra.contains(&v)
            || v.strip_prefix("step:").is_some_and(|n| names.contains(n))
            || (key == "nextStep" && names.contains(v));
        if ok {
            Ok(())
        } else {
            Err(bad(format!(
                "{at}: {key} {v:?} must be {} naming a step of the runbook.",
                if key == "nextStep" {
                    "a step name"
                } else if extra.len() > 1 {
                    "Abort, Continue or step:<name>"
                } else {
                    "Abort or step:<name>"
                }
            )))
        }
    };
    for (key, extra) in [
        ("onFailure", &["Abort", "Continue"][..]),
        ("onCancel", &["Abort"][..]),
        ("nextStep", &[][..]),
    ] {
        match s.get(key) {
            None => {}
            Some(Value::String(v)) => target(key, v, extra)?,
            Some(other) => return Err(bad(format!("{at}: {key} {other} must be a string."))),
        }
    }
    if let Some(outs) = s.get("outputs") {
        let list = outs
            .as_array()
            .ok_or_else(|| bad(format!("{at}: outputs must be a list.")))?;
        for (j, o) in list.iter().enumerate() {
            let name_ok = o
                .get("Name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            let sel_ok = o
                .get("Selector")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            let type_ok = o
                .get("Type")
                .and_then(Value::as_str)
                .is_some_and(|t| OUTPUT_TYPES.contains(&t));
            if !(name_ok && sel_ok && type_ok) {
                return Err(bad(format!(
                    "{at}: outputs[{j}] needs Name, Selector and a Type among {}.",
                    OUTPUT_TYPES.join(", ")
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::document::{validate, DocumentType};

    fn runbook(steps: Value) -> Value {
        json!({"schemaVersion": "0.3", "assumeRole": "{{ AutomationAssumeRole }}",
            "parameters": {"AutomationAssumeRole": {"type": "String", "default": ""}},
            "mainSteps": steps, "outputs": ["first.Payload"]})
    }

    #[test]
    fn runbooks_validate() {
        let v = runbook(json!([
            {"name": "first", "action": "aws:executeScript", "maxAttempts": 3, "timeoutSeconds": 600,
             "onFailure": "step:last", "isCritical": true,
             "inputs": {"Runtime": "python3.11", "Handler": "h", "Script": "def h(e, c): return 1"},
             "outputs": [{"Name": "Payload", "Selector": "$.Payload", "Type": "StringMap"}]},
            {"name": "wait", "action": "aws:sleep", "inputs": {"Duration": "PT1M"}, "nextStep": "last"},
            {"name": "last", "action": "aws:pause", "isEnd": true},
        ]));
        let d = validate(&v, DocumentType::Automation).unwrap();
        assert_eq!(d.schema_version, "0.3");
        assert!(d.platform_types.is_empty());
        // Integers AWS does not forbid, and isEnd/isCritical written as strings.
        let lax = runbook(json!([
            {"name": "first", "action": "aws:pause", "maxAttempts": 0, "timeoutSeconds": 0,
             "isEnd": "true", "isCritical": "{{ Critical }}"},
        ]));
        assert!(validate(&lax, DocumentType::Automation).is_ok());
        let ct =
            json!({"schemaVersion": "0.3", "templateInformation": "x", "executableRunBooks": []});
        assert!(validate(&ct, DocumentType::AutomationChangeTemplate).is_ok());
        assert!(validate(&ct, DocumentType::Automation).is_err());
    }

    #[test]
    fn runbook_errors_point_at_the_step() {
        let ok_step = json!({"name": "first", "action": "aws:pause"});
        let cases = [
            (
                json!([{"name": "bad-name", "action": "aws:pause"}]),
                "mainSteps[0]: the step name \"bad-name\"",
            ),
            (
                json!([ok_step, ok_step]),
                "mainSteps[1] (step \"first\"): the step name is used",
            ),
            (
                json!([{"name": "first", "action": "runShell"}]),
                "is not an Automation action",
            ),
            (
                json!([{"name": "first", "action": "aws:executeAwsApi", "inputs": {"Service": "ec2"}}]),
                "inputs.Api is required by aws:executeAwsApi",
            ),
            (
                json!([{"name": "first", "action": "aws:executeAwsApi"}]),
                "inputs is required",
            ),
            (
                json!([{"name": "first", "action": "aws:pause", "maxAttempts": 1.5}]),
                "maxAttempts 1.5 must be an integer",
            ),
            (
                json!([{"name": "first", "action": "aws:pause", "timeoutSeconds": "60"}]),
                "timeoutSeconds \"60\" must be an integer",
            ),
            (
                json!([{"name": "first", "action": "aws:pause", "onFailure": "step:nowhere"}]),
                "onFailure \"step:nowhere\" must be Abort, Continue or step:<name>",
            ),
            (
                json!([{"name": "first", "action": "aws:pause", "onCancel": "Continue"}]),
                "onCancel \"Continue\" must be Abort or step:<name>",
            ),
            (
                json!([{"name": "first", "action": "aws:pause", "nextStep": "x"}]),
                "nextStep \"x\" must be a step name",
            ),
            (
                json!([{"name": "first", "action": "aws:pause", "isEnd": 1}]),
                "isEnd must be true or false",
            ),
            (
                json!([{"name": "first", "action": "aws:pause", "outputs": [{"Name": "a"}]}]),
                "outputs[0] needs Name, Selector and a Type",
            ),
            (
                json!([{"name": "other", "action": "aws:pause"}]),
                "outputs: \"first.Payload\" must be",
            ),
        ];
        for (steps, want) in cases {
            let e = validate(&runbook(steps.clone()), DocumentType::Automation)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{steps}\n  got: {e}\n want: {want}");
        }
        let e = validate(
            &json!({"schemaVersion": "2.2", "mainSteps": []}),
            DocumentType::Automation,
        )
        .unwrap_err();
        assert_eq!(e.code(), "InvalidDocumentSchemaVersion");
    }
}
