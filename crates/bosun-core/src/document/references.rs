//! Parameter Store references in planned steps: `{{ssm:name}}` and `{{ssm-secure:name}}`
//! (with an optional `:version` or `:label`). Plans keep the references; the server resolves
//! them in memory when it delivers a command, so a stored command never holds the values.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Attachment, StepPlan};

/// One reference as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SsmReference {
    /// The exact text to replace, braces included.
    pub token: String,
    /// The parameter name (or ARN), with its selector if any.
    pub name: String,
    /// `ssm-secure:` (a SecureString, decrypted for the node).
    pub secure: bool,
}

/// Every reference in a text, in order of appearance.
pub fn find_references(text: &str) -> Vec<SsmReference> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        let parsed = inner
            .strip_prefix("ssm-secure:")
            .map(|n| (n, true))
            .or_else(|| inner.strip_prefix("ssm:").map(|n| (n, false)));
        if let Some((name, secure)) = parsed.filter(|(n, _)| !n.trim().is_empty()) {
            out.push(SsmReference {
                token: rest[start..start + 2 + end + 2].to_string(),
                name: name.trim().to_string(),
                secure,
            });
        }
        rest = &after[end + 2..];
    }
    out
}

/// Every string of a value, in order.
fn value_texts<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| value_texts(x, out)),
        Value::Object(m) => m.values().for_each(|x| value_texts(x, out)),
        _ => {}
    }
}

/// The texts of one step that may hold references, split into script texts (its own lines,
/// working directory and environment) and the rest (plugin inputs, nested documents' steps).
fn step_texts<'a>(step: &'a StepPlan, scripts: &mut Vec<&'a str>, others: &mut Vec<&'a str>) {
    scripts.extend(step.run_command.iter().map(String::as_str));
    scripts.push(&step.working_directory);
    scripts.extend(step.env.iter().map(|(_, v)| v.as_str()));
    value_texts(&step.inputs, others);
    if let Some(Attachment::Steps { steps, .. }) = &step.attachment {
        let mut nested = Vec::new();
        for s in steps {
            step_texts(s, &mut nested, others);
        }
        others.extend(nested);
    }
}

fn distinct(texts: &[&str]) -> Vec<SsmReference> {
    let mut all: Vec<SsmReference> = texts.iter().flat_map(|t| find_references(t)).collect();
    all.sort();
    all.dedup();
    all
}

/// The distinct references of a plan, nested documents included.
pub fn plan_references(steps: &[StepPlan]) -> Vec<SsmReference> {
    let (mut scripts, mut others) = (Vec::new(), Vec::new());
    steps
        .iter()
        .for_each(|s| step_texts(s, &mut scripts, &mut others));
    scripts.extend(others);
    distinct(&scripts)
}

/// References outside a step's own script, working directory and environment: in plugin
/// inputs (a download URL) or in the steps of a document run by `aws:runDocument`. Plain
/// values are resolved there too; SecureString values are not (they would reach the node's
/// disk in the plugin's input file), so the server refuses `{{ssm-secure:…}}` in these places.
pub fn references_outside_scripts(steps: &[StepPlan]) -> Vec<SsmReference> {
    let (mut scripts, mut others) = (Vec::new(), Vec::new());
    steps
        .iter()
        .for_each(|s| step_texts(s, &mut scripts, &mut others));
    distinct(&others)
}

/// Resolve references: plain values (`values`, keyed by token) are replaced in place; secret
/// values (`secrets`, keyed by token) never become script text — in `runCommand` the token
/// becomes `${BOSUN_SECRET_<n>}` and the value travels in the step's environment, marked in
/// `secret_env`; an `env` value holding a secret token gets the value and is marked too.
pub fn substitute_resolved(
    steps: &mut [StepPlan],
    values: &BTreeMap<String, String>,
    secrets: &BTreeMap<String, String>,
) {
    substitute(steps, values);
    for step in steps.iter_mut() {
        for (n, (token, value)) in secrets.iter().enumerate() {
            let var = format!("BOSUN_SECRET_{n}");
            let mut used = false;
            for line in step.run_command.iter_mut() {
                if line.contains(token.as_str()) {
                    *line = line.replace(token.as_str(), &format!("${{{var}}}"));
                    used = true;
                }
            }
            let mut marked = Vec::new();
            for (name, v) in step.env.iter_mut() {
                if v.contains(token.as_str()) {
                    *v = v.replace(token.as_str(), value);
                    marked.push(name.clone());
                }
            }
            if used {
                step.env.push((var.clone(), value.clone()));
                marked.push(var);
            }
            for m in marked {
                if !step.secret_env.contains(&m) {
                    step.secret_env.push(m);
                }
            }
        }
    }
}

/// Replace every reference token by its value (`values` is keyed by token).
pub fn substitute(steps: &mut [StepPlan], values: &BTreeMap<String, String>) {
    let apply = |s: &mut String| {
        for (token, value) in values {
            if s.contains(token.as_str()) {
                *s = s.replace(token.as_str(), value);
            }
        }
    };
    for step in steps {
        step.run_command.iter_mut().for_each(apply);
        apply(&mut step.working_directory);
        for (_, v) in step.env.iter_mut() {
            apply(v);
        }
        substitute_value(&mut step.inputs, &apply);
        if let Some(Attachment::Steps { steps, .. }) = &mut step.attachment {
            substitute(steps, values);
        }
    }
}

fn substitute_value(v: &mut Value, apply: &impl Fn(&mut String)) {
    match v {
        Value::String(s) => apply(s),
        Value::Array(a) => a.iter_mut().for_each(|x| substitute_value(x, apply)),
        Value::Object(m) => m.values_mut().for_each(|x| substitute_value(x, apply)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_kinds_with_selectors_and_spaces() {
        let refs = find_references(
            "dig @{{ssm:/app/dns-ip}} x {{ ssm-secure:/db/pass:3 }} {{ other }} {{ssm:}}",
        );
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].token, "{{ssm:/app/dns-ip}}");
        assert_eq!(refs[0].name, "/app/dns-ip");
        assert!(!refs[0].secure);
        assert_eq!(refs[1].token, "{{ ssm-secure:/db/pass:3 }}");
        assert_eq!(refs[1].name, "/db/pass:3");
        assert!(refs[1].secure);
    }

    #[test]
    fn secrets_never_become_script_text() {
        let mut steps = vec![StepPlan {
            run_command: vec!["login --password \"{{ssm-secure:/p}}\"".into()],
            env: vec![("SSM_x".into(), "pre-{{ssm-secure:/p}}".into())],
            ..Default::default()
        }];
        let secrets: BTreeMap<String, String> =
            [("{{ssm-secure:/p}}".to_string(), "$(rm -rf /)".to_string())].into();
        substitute_resolved(&mut steps, &BTreeMap::new(), &secrets);
        assert_eq!(
            steps[0].run_command,
            vec!["login --password \"${BOSUN_SECRET_0}\""]
        );
        assert!(steps[0]
            .env
            .contains(&("BOSUN_SECRET_0".to_string(), "$(rm -rf /)".to_string())));
        assert!(steps[0]
            .env
            .contains(&("SSM_x".to_string(), "pre-$(rm -rf /)".to_string())));
        assert_eq!(
            steps[0].secret_env,
            vec!["SSM_x".to_string(), "BOSUN_SECRET_0".to_string()]
        );
    }

    #[test]
    fn substitutes_commands_directories_and_env() {
        let mut steps = vec![StepPlan {
            run_command: vec!["echo {{ssm:a}}".into()],
            working_directory: "{{ssm:a}}".into(),
            env: vec![("SSM_x".into(), "{{ssm-secure:b}}".into())],
            ..Default::default()
        }];
        let refs = plan_references(&steps);
        assert_eq!(refs.len(), 2);
        let values: BTreeMap<String, String> = [
            ("{{ssm:a}}".to_string(), "1".to_string()),
            ("{{ssm-secure:b}}".to_string(), "s".to_string()),
        ]
        .into();
        substitute(&mut steps, &values);
        assert_eq!(steps[0].run_command, vec!["echo 1"]);
        assert_eq!(steps[0].working_directory, "1");
        assert_eq!(steps[0].env[0].1, "s");
    }

    #[test]
    fn inputs_and_nested_steps_are_searched_and_substituted() {
        let inner = StepPlan {
            run_command: vec!["echo {{ssm:/b}} {{ssm-secure:/s}}".into()],
            ..Default::default()
        };
        let mut steps = vec![StepPlan {
            inputs: serde_json::json!({"sourceInfo": {"url": "https://{{ssm:/a}}/x"}}),
            attachment: Some(Attachment::Steps {
                name: "Inner".into(),
                version: 1,
                steps: vec![inner],
            }),
            ..Default::default()
        }];
        let names = |refs: Vec<SsmReference>| {
            let mut n: Vec<String> = refs.into_iter().map(|r| r.name).collect();
            n.sort();
            n
        };
        assert_eq!(names(plan_references(&steps)), vec!["/a", "/b", "/s"]);
        assert_eq!(
            names(references_outside_scripts(&steps)),
            vec!["/a", "/b", "/s"]
        );
        let values = BTreeMap::from([
            ("{{ssm:/a}}".to_string(), "host".to_string()),
            ("{{ssm:/b}}".to_string(), "B".to_string()),
        ]);
        substitute(&mut steps, &values);
        assert_eq!(steps[0].inputs["sourceInfo"]["url"], "https://host/x");
        let Some(Attachment::Steps { steps: nested, .. }) = &steps[0].attachment else {
            unreachable!()
        };
        assert_eq!(nested[0].run_command[0], "echo B {{ssm-secure:/s}}");
    }
}
