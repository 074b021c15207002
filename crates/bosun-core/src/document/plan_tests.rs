//! Tests of step planning: 1.2 and 2.x documents, typed interpolation, ENV_VAR, preconditions
//! and the step flow fields.

use std::collections::BTreeMap;

use super::*;
use crate::document::resolve_parameters;

const DOC: &str = r#"{"schemaVersion":"1.2","description":"d","parameters":{
    "commands":{"type":"StringList"},
    "workingDirectory":{"type":"String","default":""},
    "executionTimeout":{"type":"String","default":"3600"}},
  "runtimeConfig":{"aws:runShellScript":{"properties":[{"id":"0.aws:runShellScript",
    "runCommand":"{{ commands }}","workingDirectory":"{{ workingDirectory }}","timeoutSeconds":"{{ executionTimeout }}"}]}}}"#;

fn passed(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

fn planned(doc: &str, pairs: &[(&str, &[&str])]) -> Result<Vec<StepPlan>, PlanError> {
    let doc = CommandDocument::parse_json(doc).unwrap();
    let params = resolve_parameters(&doc.parameters, &passed(pairs))
        .map_err(|e| PlanError::InvalidParameters(e.0))?;
    plan_steps(&doc, &params)
}

#[test]
fn run_shell_script_resolves() {
    let steps = planned(
        DOC,
        &[
            ("commands", &["echo a", "echo b"]),
            ("executionTimeout", &["2"]),
        ],
    )
    .unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].name, "aws:runShellScript");
    assert_eq!(steps[0].run_command, vec!["echo a", "echo b"]);
    assert_eq!(steps[0].timeout_seconds, 2);
    assert_eq!(steps[0].working_directory, "");
    assert!(steps[0].env.is_empty());
    assert_eq!(steps[0].on_failure, OnFailure::Continue);
}

#[test]
fn schema_22_steps_and_unsupported_plugins() {
    let steps = planned(
        r#"{"schemaVersion":"2.2","mainSteps":[{"name":"one","action":"aws:runShellScript","inputs":{"runCommand":["echo {{ who }}"]}}],
            "parameters":{"who":{"type":"String","default":"world"}}}"#,
        &[],
    )
    .unwrap();
    assert_eq!(steps[0].name, "one");
    assert_eq!(steps[0].run_command, vec!["echo world"]);
    assert_eq!(steps[0].timeout_seconds, DEFAULT_STEP_TIMEOUT_SECONDS);
    assert_eq!(
        steps[0].platforms,
        vec![PlatformType::Linux, PlatformType::MacOS]
    );
    let other = planned(
        r#"{"schemaVersion":"2.2","mainSteps":[{"name":"x","action":"aws:softwareInventory","inputs":{}}]}"#,
        &[],
    );
    assert!(matches!(other, Err(PlanError::InvalidDocument(m)) if m.contains("not supported")));
    let pkg = planned(
        r#"{"schemaVersion":"2.2","mainSteps":[{"name":"x","action":"aws:configurePackage","inputs":{"name":"arn:aws:ssm:us-east-1:1:package/pkg","action":"Install","additionalArguments":"{\"SSM_a\":\"1\"}"}}]}"#,
        &[],
    )
    .unwrap();
    let spec = crate::document::configure_package_spec(&pkg[0].inputs).unwrap();
    assert_eq!(
        (spec.name.as_str(), spec.install, spec.in_place),
        ("pkg", true, false)
    );
    assert_eq!(
        spec.additional_arguments,
        vec![("SSM_a".to_string(), "1".to_string())]
    );
    let bad = planned(
        r#"{"schemaVersion":"2.2","mainSteps":[{"name":"x","action":"aws:configurePackage","inputs":{"name":"pkg","action":"Install","additionalArguments":{"PATH":"/tmp"}}}]}"#,
        &[],
    );
    assert!(
        matches!(bad, Err(PlanError::InvalidDocument(m)) if m.contains("must start with SSM_"))
    );
}

#[test]
fn typed_parameters_and_lists_inside_text() {
    let doc = r#"{"schemaVersion":"2.2","parameters":{
        "n":{"type":"Integer","default":30},"l":{"type":"StringList","default":["a","b"]},"flag":{"type":"Boolean","default":false}},
      "mainSteps":[{"name":"s","action":"aws:runShellScript","inputs":{
        "runCommand":["{{ l }}","echo {{ l }} {{ flag }}"],"timeoutSeconds":"{{ n }}"}}]}"#;
    let steps = planned(doc, &[]).unwrap();
    assert_eq!(
        steps[0].run_command,
        vec!["a", "b", r#"echo ["a","b"] false"#]
    );
    assert_eq!(steps[0].timeout_seconds, 30);
    let steps = planned(doc, &[("n", &["7"])]).unwrap();
    assert_eq!(steps[0].timeout_seconds, 7);
}

#[test]
fn env_var_parameters_travel_in_the_environment() {
    let doc = r#"{"schemaVersion":"2.2","parameters":{
        "msg":{"type":"String","interpolationType":"ENV_VAR"},"dir":{"type":"String","default":"/tmp","interpolationType":"ENV_VAR"}},
      "mainSteps":[{"name":"s","action":"aws:runShellScript","inputs":{
        "runCommand":["echo \"{{ msg }}\"","{{msg}}"],"workingDirectory":"{{ dir }}"}}]}"#;
    let steps = planned(doc, &[("msg", &["$(touch /tmp/pwned)"])]).unwrap();
    assert_eq!(
        steps[0].run_command,
        vec!["echo \"${SSM_msg}\"", "${SSM_msg}"]
    );
    assert_eq!(steps[0].working_directory, "/tmp");
    assert_eq!(
        steps[0].env,
        vec![
            ("SSM_dir".to_string(), "/tmp".to_string()),
            ("SSM_msg".to_string(), "$(touch /tmp/pwned)".to_string())
        ]
    );
    let nul = planned(doc, &[("msg", &["a\0b"])]);
    assert!(matches!(nul, Err(PlanError::InvalidParameters(m)) if m.contains("NUL")));
}

const MULTI: &str = r#"{"schemaVersion":"2.2","parameters":{"mode":{"type":"String","default":"install"}},"mainSteps":[
    {"name":"linux","action":"aws:runShellScript","precondition":{"StringEquals":["platformType","Linux"]},
     "inputs":{"runCommand":["echo l"],"onFailure":"exit"}},
    {"name":"win","action":"aws:runPowerShellScript","precondition":{"StringEquals":["platformType","Windows"]},
     "inputs":{"runCommand":["echo w"]}},
    {"name":"legacy","action":"aws:psModule","inputs":{"source":"x.zip"}},
    {"name":"uninstall","action":"aws:runShellScript","precondition":{"StringEquals":["{{ mode }}","uninstall"]},
     "inputs":{"runCommand":["echo u"],"onSuccess":"exit"}},
    {"name":"last","action":"aws:runShellScript","inputs":{"runCommand":["echo f"],"onFailure":"successAndExit","finallyStep":true}}]}"#;

#[test]
fn preconditions_skip_steps_for_a_known_platform() {
    let doc = CommandDocument::parse_json(MULTI).unwrap();
    let params = resolve_parameters(&doc.parameters, &BTreeMap::new()).unwrap();
    let steps = plan_steps_for(&doc, &params, PlatformType::Linux).unwrap();
    let skipped: Vec<bool> = steps.iter().map(|s| s.skip_reason.is_some()).collect();
    assert_eq!(skipped, vec![false, true, true, true, false]);
    assert!(steps[1]
        .skip_reason
        .as_deref()
        .unwrap()
        .contains("platformType Windows"));
    assert!(steps[2]
        .skip_reason
        .as_deref()
        .unwrap()
        .contains("does not run on Linux"));
    assert!(steps[3]
        .skip_reason
        .as_deref()
        .unwrap()
        .contains("is false"));
    assert_eq!(steps[0].on_failure, OnFailure::Exit);
    assert_eq!(steps[0].platforms, vec![PlatformType::Linux]);
    assert!(steps[3].exit_on_success);
    assert_eq!(steps[4].on_failure, OnFailure::SuccessAndExit);
    assert!(steps[4].finally_step);
    // Unknown platform: unsupported plugins that could run somewhere are refused.
    assert!(plan_steps(&doc, &params).is_err());
    // 2.0 fails on an incompatible plugin instead of skipping it.
    let v20 = r#"{"schemaVersion":"2.0","mainSteps":[{"name":"m","action":"aws:psModule","inputs":{"source":"x"}}]}"#;
    let doc = CommandDocument::parse_json(v20).unwrap();
    let e = plan_steps_for(&doc, &BTreeMap::new(), PlatformType::Linux).unwrap_err();
    assert!(e.to_string().contains("does not run on Linux"));
}

#[test]
fn step_plans_from_older_servers_still_deserialize() {
    let old = r#"{"name":"a","action":"aws:runShellScript","run_command":["x"],"working_directory":"","timeout_seconds":5}"#;
    let p: StepPlan = serde_json::from_str(old).unwrap();
    assert!(p.env.is_empty() && p.skip_reason.is_none() && p.platforms.is_empty());
    assert_eq!(p.on_failure, OnFailure::Continue);
    let again: StepPlan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(again, p);
}

#[test]
fn download_and_run_document_steps_keep_their_checked_inputs() {
    let doc = r#"{"schemaVersion":"2.2","parameters":{"info":{"type":"StringMap","default":{"url":"https://h/x.sh"}},
        "inner":{"type":"String","default":"Inner"}},
      "mainSteps":[
        {"name":"get","action":"aws:downloadContent","inputs":{"sourceType":"HTTP","sourceInfo":"{{ info }}","destinationPath":"bin"}},
        {"name":"nest","action":"aws:runDocument","inputs":{"documentType":"SSMDocument","documentPath":"{{ inner }}",
          "documentParameters":{"who":"{{ inner }}"}}}]}"#;
    let steps = planned(doc, &[]).unwrap();
    assert_eq!(steps[0].inputs["sourceInfo"]["url"], "https://h/x.sh");
    assert_eq!(steps[0].inputs["destinationPath"], "bin");
    assert!(steps[0].run_command.is_empty());
    assert_eq!(steps[1].inputs["documentParameters"]["who"], "Inner");
    let bad = r#"{"schemaVersion":"2.2","mainSteps":[{"name":"get","action":"aws:downloadContent",
        "inputs":{"sourceType":"HTTP","sourceInfo":{"url":"http://h/x"}}}]}"#;
    let e = planned(bad, &[]).unwrap_err();
    assert!(
        matches!(e, PlanError::InvalidDocument(m) if m.contains("step get") && m.contains("allowInsecureDownload"))
    );
}

#[test]
fn update_agent_steps_carry_their_checked_inputs() {
    const UPDATE: &str = r#"{"schemaVersion":"1.2","description":"d","parameters":{
        "version":{"type":"String","default":""},
        "allowDowngrade":{"type":"String","default":"false","allowedValues":["true","false"]}},
      "runtimeConfig":{"aws:updateSsmAgent":{"properties":[{"agentName":"bosun-agent",
        "allowDowngrade":"{{ allowDowngrade }}","source":"bosun://agent-releases",
        "targetVersion":"{{ version }}"}]}}}"#;
    let steps = planned(UPDATE, &[("version", &["1.4.0"])]).unwrap();
    assert_eq!(steps[0].action, "aws:updateSsmAgent");
    assert_eq!(steps[0].inputs["targetVersion"], "1.4.0");
    assert_eq!(steps[0].inputs["allowDowngrade"], "false");
    assert!(steps[0].run_command.is_empty());
    let e = planned(UPDATE, &[("version", &["latest"])]).unwrap_err();
    assert!(
        matches!(&e, PlanError::InvalidDocument(m) if m.contains("not a release version")),
        "{e:?}"
    );
}
