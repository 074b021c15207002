//! Injection corpus (reliability S5, in small): hostile parameter values through (a) a `{{ p }}`
//! document whose parameter has a strict `allowedPattern` — every value is refused by
//! `resolve_parameters` — and (b) an `ENV_VAR` document — the planned script text never holds
//! the value, only `${SSM_p}`, and the step's environment holds it byte for byte.

use std::collections::BTreeMap;

use super::{plan_steps, resolve_parameters, CommandDocument, PlanError};

fn corpus() -> Vec<String> {
    let mut v: Vec<String> = [
        ";",
        "; rm -rf /",
        "a; touch /tmp/pwned",
        "$(id)",
        "$(touch /tmp/pwned)",
        "`id`",
        "| cat /etc/passwd",
        "a && reboot",
        "a || true",
        "a\nid",
        "a\r\nid",
        "\n",
        "'",
        "\"",
        "'; id; echo '",
        "\"; id; echo \"",
        "'$(id)'",
        "\"$(id)\"",
        "\\",
        "\\$(id)",
        "a\\\nb",
        "${IFS}id",
        "$HOME",
        "$((1+1))",
        "<(id)",
        ">/tmp/pwned",
        "*",
        "~root",
        "!!",
        "%s%s%n",
        "{{other}}",
        "{{ p }}",
        "{{ssm:/secret}}",
        "--",
        "-rf",
        "--help x",
        "",
        " ",
        "\t",
        "PATH=/tmp",
        "a=b",
        "héllo wörld ✓",
        "\u{202e}txt.exe",
        "日本語",
        "😀",
        "\u{7f}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("A".repeat(100 * 1024));
    v.push(format!("{};id", "x".repeat(100 * 1024)));
    v
}

const STRICT: &str = r#"{"schemaVersion":"2.2","parameters":{"p":{"type":"String",
    "allowedPattern":"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$"}},
  "mainSteps":[{"name":"s","action":"aws:runShellScript","inputs":{"runCommand":["echo {{ p }}"]}}]}"#;

const ENV: &str = r#"{"schemaVersion":"2.2","parameters":{"p":{"type":"String","interpolationType":"ENV_VAR"}},
  "mainSteps":[{"name":"s","action":"aws:runShellScript","inputs":{
    "runCommand":["echo \"{{ p }}\"","printf '%s' \"{{p}}\" > out","{{ p }}"]}}]}"#;

fn one(value: &str) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([("p".to_string(), vec![value.to_string()])])
}

#[test]
fn a_strict_allowed_pattern_refuses_every_hostile_value() {
    let doc = CommandDocument::parse_json(STRICT).unwrap();
    for value in corpus().iter().chain([&"a\0b".to_string()]) {
        let r = resolve_parameters(&doc.parameters, &one(value));
        assert!(r.is_err(), "accepted {value:?}");
    }
    // A value the pattern allows still goes through.
    let ok = resolve_parameters(&doc.parameters, &one("web-01.example")).unwrap();
    assert_eq!(
        plan_steps(&doc, &ok).unwrap()[0].run_command,
        vec!["echo web-01.example"]
    );
}

#[test]
fn env_var_parameters_never_reach_the_script_text() {
    let doc = CommandDocument::parse_json(ENV).unwrap();
    let script = vec![
        "echo \"${SSM_p}\"".to_string(),
        "printf '%s' \"${SSM_p}\" > out".to_string(),
        "${SSM_p}".to_string(),
    ];
    for value in corpus() {
        let params = resolve_parameters(&doc.parameters, &one(&value)).unwrap();
        let steps = plan_steps(&doc, &params).unwrap();
        assert_eq!(steps.len(), 1);
        assert_eq!(
            steps[0].run_command, script,
            "value {value:?} changed the script"
        );
        assert_eq!(steps[0].env, vec![("SSM_p".to_string(), value.clone())]);
        assert_eq!(steps[0].env[0].1.as_bytes(), value.as_bytes());
    }
}

#[test]
fn nul_cannot_travel_in_an_environment_variable() {
    let doc = CommandDocument::parse_json(ENV).unwrap();
    for value in ["a\0b", "\0", "$(id)\0"] {
        let e = resolve_parameters(&doc.parameters, &one(value)).unwrap_err();
        assert!(e.0.contains("NUL"), "{e}");
        // Even if resolution were skipped, planning refuses it.
        let e = plan_steps(&doc, &one(value)).unwrap_err();
        assert!(matches!(e, PlanError::InvalidParameters(_)));
    }
}
