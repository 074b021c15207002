//! Command and Policy documents.
//!
//! Checked, with the source of each rule:
//! - `schemaVersion`: Command 1.2, 2.0, 2.2; Policy 2.0 or later (user guide, "Schemas,
//!   features, and examples").
//! - Top-level elements `schemaVersion`, `description`, `parameters`, and `runtimeConfig` for
//!   1.2 or `mainSteps` for 2.x (user guide, "Data elements and parameters"); nothing else
//!   (Bosun's rule: a misspelt element is refused, not ignored).
//! - 1.2 `runtimeConfig` maps known plugins to `properties` (an object or a list of objects)
//!   (user guide: "Dictionary<string,PluginConfiguration>", the plugin reference's 1.2 syntax).
//! - 2.x `mainSteps` is required (user guide: "Required: Yes") and is a non-empty list.
//! - Each step: a string `name`, not blank and unique in the document (the step name is how
//!   the API reports and selects a step's result: `CommandPlugin.Name`,
//!   `GetCommandInvocation.PluginName`); AWS documents no length or character rule for Command
//!   step names, so Bosun applies none (a name becomes a folder name through
//!   `ids::step_dir_name`, which encodes anything unsafe). A string `action` naming a known
//!   plugin (the table below, from the plugin reference; AWS refuses others as an invalid
//!   plugin). Matched ignoring case because the model's own list spells some differently.
//!   An object `inputs` holding the plugin's required inputs (plugin reference, "Required:
//!   Yes"). Only `precondition`/`description` besides (Bosun's rule, as for the top level).
//! - `precondition` only in 2.2 and only `{"StringEquals": [left, right]}`, with
//!   `platformType` on the left requiring `Linux|Windows|MacOS` on the right, or a parameter
//!   expression on the left (user guide, "Schemas, features, and examples": cross-platform
//!   support, `StringEquals` the only operator).
//! - The shared inputs `onFailure` (`exit`/`successAndExit`), `onSuccess` (`exit`),
//!   `finallyStep` (true or false; true only on the last step) (plugin reference, "Shared
//!   inputs").
//! - The run-script inputs: `runCommand` a string or list of strings, required by the script
//!   plugins; `workingDirectory` a string; `timeoutSeconds` a number or a string (plugin
//!   reference: "Type: String"; its value is the plan's business when the document runs).
//! - Every `{{ name }}` names a declared parameter (AWS refuses the document with
//!   `Parameter "<name>" is not declared.`, as seen from CreateDocument in public reports).
//! - `interpolationType: ENV_VAR` only in schema 2.2 (user guide: the property came with 2.2;
//!   and an agent must never fall back to splicing such a value into text, S5).
//!
//! Not checked: plugin inputs beyond presence of the required ones and the run-script inputs
//! (their values are the plugin's business when it runs).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::super::decl::{valid_parameter_name, Interpolation};
use super::super::interpolate::{is_store_inner, references};
use super::super::{DocumentError, DocumentType, PlatformType};
use super::{bad, description, known_keys, object, parameters, schema_version, ValidatedDocument};

use PlatformType::{Linux as L, MacOS as M, Windows as W};

/// Plugins a Command/Policy step may use: `(action, platforms, required inputs)`, from the
/// Command document plugin reference (platforms and "Required: Yes" inputs).
pub const COMMAND_PLUGINS: &[(&str, &[PlatformType], &[&str])] = &[
    ("aws:runShellScript", &[L, M], &["runCommand"]),
    ("aws:runPowerShellScript", &[W, L, M], &["runCommand"]),
    (
        "aws:downloadContent",
        &[L, W],
        &["sourceType", "sourceInfo"],
    ),
    ("aws:runDocument", &[L, W], &["documentType"]),
    ("aws:configurePackage", &[L, W, M], &["name", "action"]),
    ("aws:softwareInventory", &[L, W, M], &[]),
    (
        "aws:updateSsmAgent",
        &[L, W, M],
        &["agentName", "allowDowngrade", "source"],
    ),
    ("aws:updateAgent", &[W], &["agentName", "source"]),
    ("aws:applications", &[W], &["action", "source"]),
    ("aws:psModule", &[W], &["source"]),
    ("aws:configureDocker", &[L, W], &["action"]),
    ("aws:runDockerAction", &[L, W], &["action"]),
    ("aws:cloudWatch", &[W], &[]),
    (
        "aws:domainJoin",
        &[W, L],
        &["directoryId", "directoryName", "dnsIpAddresses"],
    ),
    ("aws:refreshAssociation", &[L, W, M], &[]),
];

type Plugin = (
    &'static str,
    &'static [PlatformType],
    &'static [&'static str],
);

fn plugin(action: &str) -> Option<&'static Plugin> {
    COMMAND_PLUGINS
        .iter()
        .find(|(a, _, _)| a.eq_ignore_ascii_case(action))
}

pub(super) fn validate(doc: &mut ValidatedDocument) -> Result<(), DocumentError> {
    let versions: &[&str] = if doc.document_type == DocumentType::Policy {
        &["2.0", "2.2"]
    } else {
        &["1.2", "2.0", "2.2"]
    };
    schema_version(doc, versions)?;
    description(doc)?;
    parameters(doc)?;
    let obj = object(doc)?.clone();
    let v12 = doc.schema_version == "1.2";
    let steps_key = if v12 { "runtimeConfig" } else { "mainSteps" };
    known_keys(
        &obj,
        &["schemaVersion", "description", "parameters", steps_key],
        "The document",
    )?;
    if doc.schema_version != "2.2" {
        if let Some((n, _)) = doc
            .parameters
            .iter()
            .find(|(_, d)| d.interpolation == Interpolation::EnvVar)
        {
            return Err(bad(format!(
                "Parameter \"{n}\": interpolationType ENV_VAR needs schemaVersion 2.2."
            )));
        }
    }
    let mut platforms = BTreeSet::new();
    if v12 {
        runtime_config(&obj, &mut platforms)?;
    } else {
        main_steps(&obj, doc.schema_version == "2.2", &mut platforms)?;
    }
    let declared: Vec<&str> = doc.parameters.iter().map(|(n, _)| n.as_str()).collect();
    check_references(
        obj.get(steps_key).unwrap_or(&Value::Null),
        &declared,
        steps_key,
    )?;
    doc.platform_types = platforms.into_iter().collect();
    Ok(())
}

fn runtime_config(
    obj: &Map<String, Value>,
    platforms: &mut BTreeSet<PlatformType>,
) -> Result<(), DocumentError> {
    let rc = match obj.get("runtimeConfig") {
        Some(Value::Object(m)) if !m.is_empty() => m,
        Some(Value::Object(_)) => return Err(bad("runtimeConfig has no plugins.")),
        Some(_) => {
            return Err(bad(
                "runtimeConfig must be a map of plugin names to their configuration.",
            ))
        }
        None => return Err(bad("A schema 1.2 document needs runtimeConfig.")),
    };
    for (name, config) in rc {
        let at = format!("runtimeConfig.{name}");
        let p = plugin(name).ok_or_else(|| bad(format!("{at}: {name} is not a known plugin.")))?;
        platforms.extend(p.1.iter().copied());
        let props = config
            .as_object()
            .and_then(|c| c.get("properties"))
            .ok_or_else(|| bad(format!("{at}: the plugin needs properties.")))?;
        let items: Vec<&Value> = match props {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for (i, item) in items.into_iter().enumerate() {
            if let Some(inputs) = item.as_object() {
                run_script_inputs(p.0, inputs, &format!("{at}.properties[{i}]"))?;
            }
        }
    }
    Ok(())
}

fn main_steps(
    obj: &Map<String, Value>,
    v22: bool,
    platforms: &mut BTreeSet<PlatformType>,
) -> Result<(), DocumentError> {
    let steps = match obj.get("mainSteps") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => return Err(bad("mainSteps has no steps.")),
        Some(_) => return Err(bad("mainSteps must be a list of steps.")),
        None => return Err(bad("The document needs mainSteps.")),
    };
    let mut names = BTreeSet::new();
    for (i, step) in steps.iter().enumerate() {
        let s = step
            .as_object()
            .ok_or_else(|| bad(format!("mainSteps[{i}] must be an object.")))?;
        let name = match s.get("name") {
            Some(Value::String(n)) if !n.trim().is_empty() => n.as_str(),
            _ => return Err(bad(format!("mainSteps[{i}] needs a name."))),
        };
        let at = format!("mainSteps[{i}] (step \"{name}\")");
        if !names.insert(name) {
            return Err(bad(format!(
                "{at}: the step name is used by an earlier step; names must be unique."
            )));
        }
        let action = s
            .get("action")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("{at}: needs an action.")))?;
        let p = plugin(action)
            .ok_or_else(|| bad(format!("{at}: action {action} is not a known plugin.")))?;
        platforms.extend(p.1.iter().copied());
        known_keys(
            s,
            &["name", "action", "inputs", "precondition", "description"],
            &at,
        )?;
        let empty = Map::new();
        let inputs = match s.get("inputs") {
            None => &empty,
            Some(Value::Object(m)) => m,
            Some(_) => return Err(bad(format!("{at}: inputs must be an object."))),
        };
        if let Some(missing) = p.2.iter().find(|k| !inputs.contains_key(**k)) {
            return Err(bad(format!(
                "{at}: inputs.{missing} is required by {}.",
                p.0
            )));
        }
        run_script_inputs(p.0, inputs, &at)?;
        shared_inputs(inputs, &at, i + 1 == steps.len())?;
        if let Some(pre) = s.get("precondition") {
            if !v22 {
                return Err(bad(format!("{at}: precondition needs schemaVersion 2.2.")));
            }
            precondition(pre, &at)?;
        }
    }
    Ok(())
}

fn run_script_inputs(
    action: &str,
    inputs: &Map<String, Value>,
    at: &str,
) -> Result<(), DocumentError> {
    if let Some(rc) = inputs.get("runCommand") {
        let ok = rc.is_string()
            || rc
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            return Err(bad(format!(
                "{at}: inputs.runCommand must be a string or a list of strings."
            )));
        }
    } else if action.ends_with("ShellScript") || action.ends_with("PowerShellScript") {
        return Err(bad(format!(
            "{at}: inputs.runCommand is required by {action}."
        )));
    }
    if inputs
        .get("workingDirectory")
        .is_some_and(|w| !w.is_string())
    {
        return Err(bad(format!(
            "{at}: inputs.workingDirectory must be a string."
        )));
    }
    // Plugin reference: `timeoutSeconds` is a String (numbers are written either way); which
    // number of seconds it holds is checked when the document runs.
    match inputs.get("timeoutSeconds") {
        None | Some(Value::Number(_)) | Some(Value::String(_)) => {}
        Some(other) => {
            return Err(bad(format!(
                "{at}: inputs.timeoutSeconds {other} must be a number of seconds."
            )))
        }
    }
    Ok(())
}

fn shared_inputs(inputs: &Map<String, Value>, at: &str, last: bool) -> Result<(), DocumentError> {
    match inputs.get("onFailure") {
        None => {}
        Some(Value::String(s)) if s == "exit" || s == "successAndExit" => {}
        Some(other) => {
            return Err(bad(format!(
                "{at}: inputs.onFailure {other} is not exit or successAndExit."
            )))
        }
    }
    match inputs.get("onSuccess") {
        None => {}
        Some(Value::String(s)) if s == "exit" => {}
        Some(other) => return Err(bad(format!("{at}: inputs.onSuccess {other} is not exit."))),
    }
    match inputs.get("finallyStep") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) if last => {}
        Some(Value::Bool(true)) => {
            return Err(bad(format!(
                "{at}: only the last step can be a finallyStep."
            )))
        }
        Some(other) => {
            return Err(bad(format!(
                "{at}: inputs.finallyStep {other} must be true or false."
            )))
        }
    }
    Ok(())
}

fn precondition(pre: &Value, at: &str) -> Result<(), DocumentError> {
    let pair = pre
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("StringEquals"))
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2 && a.iter().all(Value::is_string))
        .ok_or_else(|| bad(format!("{at}: precondition must be {{\"StringEquals\": [\"platformType\", \"Linux|Windows|MacOS\"]}} (StringEquals is the only operator).")))?;
    let (left, right) = (
        pair[0].as_str().unwrap_or(""),
        pair[1].as_str().unwrap_or(""),
    );
    if left == "platformType" && PlatformType::parse(right).is_none() {
        return Err(bad(format!("{at}: precondition platformType must be compared with Linux, Windows or MacOS, not {right:?}.")));
    }
    if left != "platformType" && !left.contains("{{") {
        return Err(bad(format!(
            "{at}: precondition compares platformType or a parameter expression, not {left:?}."
        )));
    }
    Ok(())
}

/// Every `{{ name }}` in the steps must name a declared parameter.
fn check_references(v: &Value, declared: &[&str], at: &str) -> Result<(), DocumentError> {
    match v {
        Value::String(s) => {
            for r in references(s) {
                if !is_store_inner(r.inner)
                    && valid_parameter_name(r.inner)
                    && !declared.contains(&r.inner)
                {
                    return Err(bad(format!(
                        "{at}: Parameter \"{}\" is not declared.",
                        r.inner
                    )));
                }
            }
            Ok(())
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_references(x, declared, &format!("{at}[{i}]"))),
        Value::Object(m) => m
            .iter()
            .try_for_each(|(k, x)| check_references(x, declared, &format!("{at}.{k}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
