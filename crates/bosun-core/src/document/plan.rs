//! Resolve a Command document and its parameters into the steps an agent runs: which plugin,
//! which commands, where, and for how long.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CommandDocument, ResolvedParams};

/// The default execution timeout of a step when the document gives none (seconds).
pub const DEFAULT_STEP_TIMEOUT_SECONDS: u64 = 3600;

/// One step, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPlan {
    /// The plugin name reported in `CommandPlugins` / `PluginName` (step name in 2.x,
    /// plugin name such as `aws:runShellScript` in 1.2).
    pub name: String,
    pub action: String,
    /// Lines of the shell script.
    pub run_command: Vec<String>,
    pub working_directory: String,
    pub timeout_seconds: u64,
}

/// Why a document cannot be run (maps to `InvalidDocument` / `InvalidParameters`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    InvalidDocument(String),
    #[error("{0}")]
    InvalidParameters(String),
}

/// Replace `{{ name }}` references in a string input. A whole-value reference to a list
/// parameter is handled by [`interpolate_list`].
fn interpolate(text: &str, params: &ResolvedParams) -> Result<String, PlanError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = after[..end].trim();
        if name.starts_with("ssm:") || name.starts_with("ssm-secure:") {
            return Err(PlanError::InvalidParameters(format!(
                "Parameter Store references ({{{{{name}}}}}) are not supported by this Bosun server yet."
            )));
        }
        match params.get(name) {
            Some(values) => out.push_str(&values.join("\n")),
            None => {
                return Err(PlanError::InvalidDocument(format!(
                    "The document references the undeclared parameter {name}."
                )))
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `runCommand` may be a list of lines or a single `{{ list }}` reference.
fn interpolate_list(v: &Value, params: &ResolvedParams) -> Result<Vec<String>, PlanError> {
    let items: Vec<&str> = match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => {
            return Err(PlanError::InvalidDocument(
                "runCommand must be a string or a list of strings".into(),
            ))
        }
    };
    let mut lines = Vec::new();
    for item in items {
        let t = item.trim();
        let whole = t
            .strip_prefix("{{")
            .and_then(|r| r.strip_suffix("}}"))
            .map(str::trim);
        match whole.and_then(|n| params.get(n)) {
            Some(values) => lines.extend(values.iter().cloned()),
            None => lines.push(interpolate(item, params)?),
        }
    }
    Ok(lines)
}

fn step_from_inputs(
    name: String,
    action: &str,
    inputs: &Value,
    params: &ResolvedParams,
) -> Result<StepPlan, PlanError> {
    if action != "aws:runShellScript" {
        return Err(PlanError::InvalidDocument(format!(
            "The plugin {action} is not supported by this Bosun server yet."
        )));
    }
    let run_command = interpolate_list(inputs.get("runCommand").unwrap_or(&Value::Null), params)?;
    let working_directory = match inputs.get("workingDirectory").and_then(Value::as_str) {
        Some(s) => interpolate(s, params)?,
        None => String::new(),
    };
    let timeout_seconds = match inputs.get("timeoutSeconds") {
        None => DEFAULT_STEP_TIMEOUT_SECONDS,
        Some(Value::Number(n)) => n.as_u64().unwrap_or(DEFAULT_STEP_TIMEOUT_SECONDS),
        Some(Value::String(s)) => {
            let text = interpolate(s, params)?;
            if text.trim().is_empty() {
                DEFAULT_STEP_TIMEOUT_SECONDS
            } else {
                text.trim().parse().map_err(|_| {
                    PlanError::InvalidParameters(format!(
                        "The execution timeout {text:?} is not a number of seconds."
                    ))
                })?
            }
        }
        Some(_) => {
            return Err(PlanError::InvalidDocument(
                "timeoutSeconds must be a number".into(),
            ))
        }
    };
    Ok(StepPlan {
        name,
        action: action.to_string(),
        run_command,
        working_directory,
        timeout_seconds,
    })
}

/// Resolve every step of the document.
pub fn plan_steps(
    doc: &CommandDocument,
    params: &ResolvedParams,
) -> Result<Vec<StepPlan>, PlanError> {
    let mut steps = Vec::new();
    if doc.schema_version == "1.2" {
        let runtime = doc
            .content
            .get("runtimeConfig")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                PlanError::InvalidDocument("a schema 1.2 document needs runtimeConfig".into())
            })?;
        for (plugin, config) in runtime {
            let props = config.get("properties").cloned().unwrap_or(Value::Null);
            let list = match props {
                Value::Array(a) => a,
                Value::Object(_) => vec![props],
                _ => {
                    return Err(PlanError::InvalidDocument(format!(
                        "{plugin} has no properties"
                    )))
                }
            };
            for p in list {
                steps.push(step_from_inputs(plugin.clone(), plugin, &p, params)?);
            }
        }
    } else {
        let main = doc
            .content
            .get("mainSteps")
            .and_then(Value::as_array)
            .ok_or_else(|| PlanError::InvalidDocument("the document needs mainSteps".into()))?;
        for step in main {
            let name = step
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let action = step
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if name.is_empty() || action.is_empty() {
                return Err(PlanError::InvalidDocument(
                    "every step needs a name and an action".into(),
                ));
            }
            steps.push(step_from_inputs(
                name,
                action,
                step.get("inputs").unwrap_or(&Value::Null),
                params,
            )?);
        }
    }
    if steps.is_empty() {
        return Err(PlanError::InvalidDocument(
            "the document has no steps".into(),
        ));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::resolve_parameters;

    const DOC: &str = r#"{"schemaVersion":"1.2","description":"d","parameters":{
        "commands":{"type":"StringList"},
        "workingDirectory":{"type":"String","default":""},
        "executionTimeout":{"type":"String","default":"3600"}},
      "runtimeConfig":{"aws:runShellScript":{"properties":[{"id":"0.aws:runShellScript",
        "runCommand":"{{ commands }}","workingDirectory":"{{ workingDirectory }}","timeoutSeconds":"{{ executionTimeout }}"}]}}}"#;

    #[test]
    fn run_shell_script_resolves() {
        let doc = CommandDocument::parse_json(DOC).unwrap();
        let mut passed = std::collections::BTreeMap::new();
        passed.insert(
            "commands".to_string(),
            vec!["echo a".to_string(), "echo b".to_string()],
        );
        passed.insert("executionTimeout".to_string(), vec!["2".to_string()]);
        let params = resolve_parameters(&doc.parameters, &passed).unwrap();
        let steps = plan_steps(&doc, &params).unwrap();
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].name, "aws:runShellScript");
        assert_eq!(steps[0].run_command, vec!["echo a", "echo b"]);
        assert_eq!(steps[0].timeout_seconds, 2);
        assert_eq!(steps[0].working_directory, "");
    }

    #[test]
    fn schema_22_steps_and_unsupported_plugins() {
        let doc = CommandDocument::parse_json(
            r#"{"schemaVersion":"2.2","mainSteps":[{"name":"one","action":"aws:runShellScript","inputs":{"runCommand":["echo {{ who }}"]}}],
                "parameters":{"who":{"type":"String","default":"world"}}}"#,
        )
        .unwrap();
        let params = resolve_parameters(&doc.parameters, &Default::default()).unwrap();
        let steps = plan_steps(&doc, &params).unwrap();
        assert_eq!(steps[0].name, "one");
        assert_eq!(steps[0].run_command, vec!["echo world"]);
        assert_eq!(steps[0].timeout_seconds, DEFAULT_STEP_TIMEOUT_SECONDS);

        let other = CommandDocument::parse_json(
            r#"{"schemaVersion":"2.2","mainSteps":[{"name":"x","action":"aws:runPowerShellScript","inputs":{}}]}"#,
        )
        .unwrap();
        assert!(matches!(
            plan_steps(&other, &Default::default()),
            Err(PlanError::InvalidDocument(_))
        ));
    }
}
