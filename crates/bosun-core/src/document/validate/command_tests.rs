//! Tests of Command/Policy validation: accepted shapes and one refusal per rule.

use serde_json::{json, Value};

use super::super::validate;
use crate::document::{DocumentType, PlatformType};

const RUN_SHELL_SCRIPT: &str = r#"{"schemaVersion":"1.2","description":"Run a shell script.",
 "parameters":{"commands":{"type":"StringList","description":"(Required) Commands.","minItems":1,"displayType":"textarea"},
  "workingDirectory":{"type":"String","default":"","description":"(Optional) Dir.","maxChars":4096},
  "executionTimeout":{"type":"String","default":"3600","description":"(Optional) Timeout.","allowedPattern":"([1-9][0-9]{0,3})|(1[0-9]{1,4})|(2[0-7][0-9]{1,3})|(28[0-7][0-9]{1,2})|(28800)"}},
 "runtimeConfig":{"aws:runShellScript":{"properties":[{"id":"0.aws:runShellScript","runCommand":"{{ commands }}","workingDirectory":"{{ workingDirectory }}","timeoutSeconds":"{{ executionTimeout }}"}]}}}"#;

fn doc22(steps: Value) -> Value {
    json!({"schemaVersion": "2.2", "parameters": {"p": {"type": "String", "default": "x"}}, "mainSteps": steps})
}

fn step(extra: Value) -> Value {
    let mut s = json!({"name": "one", "action": "aws:runShellScript", "inputs": {"runCommand": ["echo {{ p }}"]}});
    for (k, v) in extra.as_object().unwrap() {
        if k == "inputs" {
            for (ik, iv) in v.as_object().unwrap() {
                s["inputs"][ik] = iv.clone();
            }
        } else {
            s[k] = v.clone();
        }
    }
    s
}

fn err(v: Value) -> String {
    validate(&v, DocumentType::Command).unwrap_err().to_string()
}

#[test]
fn aws_run_shell_script_validates() {
    let v: Value = serde_json::from_str(RUN_SHELL_SCRIPT).unwrap();
    let d = validate(&v, DocumentType::Command).unwrap();
    assert_eq!(d.schema_version, "1.2");
    assert_eq!(d.parameters.len(), 3);
    assert_eq!(
        d.platform_types,
        vec![PlatformType::Linux, PlatformType::MacOS]
    );
    assert!(
        validate(&v, DocumentType::Policy).is_err(),
        "Policy needs 2.0 or later"
    );
}

#[test]
fn schema_22_with_everything() {
    let v = doc22(json!([
        step(json!({"precondition": {"StringEquals": ["platformType", "Linux"]},
            "inputs": {"onFailure": "exit", "timeoutSeconds": "60", "workingDirectory": "/tmp"}})),
        {"name": "win", "action": "aws:runPowerShellScript", "precondition": {"StringEquals": ["platformType", "Windows"]},
         "inputs": {"runCommand": "Write-Output hi", "onSuccess": "exit", "timeoutSeconds": 30}},
        {"name": "pkg", "action": "aws:configurePackage", "inputs": {"name": "x", "action": "Install"}},
        {"name": "cond", "action": "aws:runShellScript", "precondition": {"StringEquals": ["{{ p }}", "x"]},
         "inputs": {"runCommand": ["true"], "finallyStep": true}},
    ]));
    let d = validate(&v, DocumentType::Command).unwrap();
    assert_eq!(
        d.platform_types,
        vec![
            PlatformType::Windows,
            PlatformType::Linux,
            PlatformType::MacOS
        ]
    );
    assert!(validate(&v, DocumentType::Policy).is_ok());
}

#[test]
fn each_rule_points_at_the_problem() {
    let cases: Vec<(Value, &str)> = vec![
        (doc22(json!([])), "mainSteps has no steps"),
        (doc22(json!("x")), "mainSteps must be a list"),
        (
            doc22(json!([{"action": "aws:runShellScript"}])),
            "mainSteps[0] needs a name",
        ),
        (
            doc22(json!([step(json!({})), step(json!({}))])),
            "mainSteps[1] (step \"one\"): the step name is used",
        ),
        (
            doc22(json!([{"name": "a"}])),
            "mainSteps[0] (step \"a\"): needs an action",
        ),
        (
            doc22(json!([{"name": "a", "action": "aws:nope"}])),
            "action aws:nope is not a known plugin",
        ),
        (
            doc22(json!([{"name": "a", "action": "aws:runShellScript", "inputs": {}}])),
            "inputs.runCommand is required",
        ),
        (
            doc22(
                json!([{"name": "a", "action": "aws:configurePackage", "inputs": {"name": "x"}}]),
            ),
            "inputs.action is required by aws:configurePackage",
        ),
        (
            doc22(json!([step(json!({"inputs": {"runCommand": [1]}}))])),
            "runCommand must be a string or a list of strings",
        ),
        (
            doc22(json!([step(json!({"inputs": {"timeoutSeconds": ["60"]}}))])),
            "timeoutSeconds [\"60\"] must be a number of seconds",
        ),
        (
            doc22(
                json!([{"name": " ", "action": "aws:runShellScript", "inputs": {"runCommand": ["x"]}}]),
            ),
            "mainSteps[0] needs a name",
        ),
        (
            doc22(json!([step(json!({"inputs": {"onFailure": "Abort"}}))])),
            "onFailure \"Abort\" is not exit or successAndExit",
        ),
        (
            doc22(json!([step(
                json!({"inputs": {"onSuccess": "successAndExit"}})
            )])),
            "onSuccess",
        ),
        (
            doc22(
                json!([step(json!({"inputs": {"finallyStep": true}})), {"name": "b", "action": "aws:runShellScript", "inputs": {"runCommand": ["x"]}}]),
            ),
            "only the last step can be a finallyStep",
        ),
        (
            doc22(json!([step(json!({"onFailure": "exit"}))])),
            "onFailure is not permitted here",
        ),
        (
            doc22(json!([step(
                json!({"precondition": {"StringLike": ["platformType", "Linux"]}})
            )])),
            "StringEquals is the only operator",
        ),
        (
            doc22(json!([step(
                json!({"precondition": {"StringEquals": ["platformType", "Solaris"]}})
            )])),
            "Linux, Windows or MacOS, not \"Solaris\"",
        ),
        (
            doc22(json!([step(
                json!({"precondition": {"StringEquals": ["platformType"]}})
            )])),
            "precondition must be",
        ),
        (
            doc22(json!([step(
                json!({"inputs": {"runCommand": ["echo {{ nope }}"]}})
            )])),
            "mainSteps[0].inputs.runCommand[0]: Parameter \"nope\" is not declared.",
        ),
        (
            json!({"schemaVersion": "2.2", "mainSteps": [step(json!({}))], "runtimeConfig": {}}),
            "runtimeConfig is not permitted",
        ),
        (
            json!({"schemaVersion": "2.0", "mainSteps": [step(json!({"precondition": {"StringEquals": ["platformType", "Linux"]}}))],
            "parameters": {"p": {"type": "String"}}}),
            "precondition needs schemaVersion 2.2",
        ),
        (
            json!({"schemaVersion": "2.0", "mainSteps": [step(json!({}))],
            "parameters": {"p": {"type": "String", "interpolationType": "ENV_VAR"}}}),
            "ENV_VAR needs schemaVersion 2.2",
        ),
        (
            json!({"schemaVersion": "1.2", "runtimeConfig": {"aws:nope": {"properties": []}}}),
            "runtimeConfig.aws:nope: aws:nope is not a known plugin",
        ),
        (
            json!({"schemaVersion": "1.2", "runtimeConfig": {"aws:runShellScript": {}}}),
            "needs properties",
        ),
        (
            json!({"schemaVersion": "1.2", "runtimeConfig": {"aws:runShellScript": {"properties": [{"id": "0"}]}}}),
            "runtimeConfig.aws:runShellScript.properties[0]: inputs.runCommand is required",
        ),
        (
            json!({"schemaVersion": "1.2", "mainSteps": []}),
            "mainSteps is not permitted",
        ),
    ];
    for (v, want) in cases {
        let e = err(v.clone());
        assert!(e.contains(want), "{v}\n  got: {e}\n want: {want}");
    }
}

#[test]
fn other_braces_and_store_references_are_left_to_later() {
    let v = doc22(json!([step(
        json!({"inputs": {"runCommand": ["docker inspect -f '{{.State}}' x", "echo {{ssm:/a/b}}"]}})
    )]));
    assert!(validate(&v, DocumentType::Command).is_ok());
}

/// AWS documents no length or character rule for Command step names and no range for a
/// step's `timeoutSeconds` (a String in the plugin reference): documents AWS accepts are
/// accepted.
#[test]
fn step_names_and_timeouts_take_what_aws_takes() {
    let long = "s".repeat(300);
    let v = doc22(json!([
        step(json!({"name": "a", "inputs": {"timeoutSeconds": 0}})),
        step(json!({"name": "with spaces & symbols: é/..", "inputs": {"timeoutSeconds": "soon"}})),
        step(json!({"name": long})),
    ]));
    let d = validate(&v, DocumentType::Command).unwrap();
    assert_eq!(d.schema_version, "2.2");
}
