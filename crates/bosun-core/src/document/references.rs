//! Parameter Store references in planned steps: `{{ssm:name}}` and `{{ssm-secure:name}}`
//! (with an optional `:version` or `:label`). Plans keep the references; the server resolves
//! them in memory when it delivers a command, so a stored command never holds the values.

use std::collections::BTreeMap;

use super::StepPlan;

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

fn texts(step: &StepPlan) -> impl Iterator<Item = &String> {
    step.run_command
        .iter()
        .chain(std::iter::once(&step.working_directory))
        .chain(step.env.iter().map(|(_, v)| v))
}

/// The distinct references of a plan.
pub fn plan_references(steps: &[StepPlan]) -> Vec<SsmReference> {
    let mut all: Vec<SsmReference> = steps
        .iter()
        .flat_map(texts)
        .flat_map(|t| find_references(t))
        .collect();
    all.sort();
    all.dedup();
    all
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
}
