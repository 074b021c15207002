//! Tests of [`plan`](super::plan), statuses and actions.

use serde_json::{json, Value};

use super::*;
use crate::document::{validate, DocumentType};

fn runbook(steps: Value) -> Value {
    let first = steps[0]["name"].as_str().unwrap_or("one").to_string();
    json!({"schemaVersion": "0.3",
        "parameters": {"Who": {"type": "String", "default": "me"},
                       "Ids": {"type": "StringList"}},
        "mainSteps": steps, "outputs": [format!("{first}.Id")]})
}

/// Plans only what `document::validate` accepts, as the server does.
fn planned(steps: Value) -> Result<Runbook, RunbookError> {
    let doc = runbook(steps);
    validate(&doc, DocumentType::Automation).expect("the test document is valid");
    plan(&doc)
}

#[test]
fn defaults_are_aws_defaults() {
    let r = planned(json!([
        {"name": "one", "action": "aws:pause"},
        {"name": "two", "action": "aws:sleep", "inputs": {"Duration": "PT1M"},
         "onFailure": "Continue"},
    ]))
    .unwrap();
    assert_eq!(r.parameters.len(), 2);
    assert!(r
        .parameters
        .iter()
        .any(|(n, d)| n == "Who" && d.default == Some(json!("me"))));
    assert_eq!(r.outputs, vec!["one.Id".to_string()]);
    let one = &r.steps[0];
    assert_eq!(one.action, Action::Pause);
    assert_eq!(one.inputs, json!({}));
    assert_eq!(one.on_failure, OnFailure::Abort);
    assert_eq!(one.on_cancel, OnCancel::Abort);
    assert!(!one.is_end);
    assert!(one.is_critical);
    assert_eq!(one.max_attempts, 1);
    assert_eq!(one.timeout_seconds, None);
    assert_eq!(one.next_step, None);
    assert!(one.outputs.is_empty());
    let two = &r.steps[1];
    assert_eq!(two.on_failure, OnFailure::Continue);
    assert!(
        !two.is_critical,
        "Continue makes a step non-critical by default"
    );
    assert_eq!(r.step_index("two"), Some(1));
    assert_eq!(r.step_index("three"), None);
}

#[test]
fn written_properties_are_kept() {
    let r = planned(json!([
        {"name": "one", "action": "aws:executeAwsApi", "maxAttempts": 3, "timeoutSeconds": 60,
         "onFailure": "step:two", "onCancel": "step:two", "nextStep": "two",
         "isEnd": "false", "isCritical": "FALSE",
         "inputs": {"Service": "SSM", "Api": "DescribeInstanceInformation"},
         "outputs": [{"Name": "Id", "Selector": "$.InstanceInformationList[0].InstanceId",
                      "Type": "String"}]},
        {"name": "two", "action": "aws:runCommand", "isEnd": true, "onFailure": "Continue",
         "isCritical": true, "maxAttempts": 0,
         "inputs": {"DocumentName": "AWS-RunShellScript"}},
    ]))
    .unwrap();
    let one = &r.steps[0];
    assert_eq!(one.action, Action::ExecuteAwsApi);
    assert_eq!(one.max_attempts, 3);
    assert_eq!(one.timeout_seconds, Some(60));
    assert_eq!(one.on_failure, OnFailure::Step("two".into()));
    assert_eq!(one.on_cancel, OnCancel::Step("two".into()));
    assert_eq!(one.next_step.as_deref(), Some("two"));
    assert!(!one.is_end && !one.is_critical);
    assert_eq!(
        one.outputs,
        vec![OutputDecl {
            name: "Id".into(),
            selector: "$.InstanceInformationList[0].InstanceId".into(),
            output_type: "String".into()
        }]
    );
    let two = &r.steps[1];
    assert!(
        two.is_end && two.is_critical,
        "written isCritical beats the default"
    );
    assert_eq!(two.max_attempts, 1, "maxAttempts 0 still runs once");
}

#[test]
fn actions_bosun_cannot_run_are_refused_by_name() {
    for (action, inputs) in [
        (
            "aws:executeScript",
            json!({"Runtime": "python3.11", "Handler": "h"}),
        ),
        ("aws:createStack", json!({"StackName": "s"})),
        ("aws:invokeLambdaFunction", json!({"FunctionName": "f"})),
        ("aws:runInstances", json!({"ImageId": "ami-1"})),
        (
            "aws:createImage",
            json!({"InstanceId": "i-1", "ImageName": "n"}),
        ),
        ("aws:someFutureAction", json!({})),
    ] {
        let e = planned(json!([{"name": "first", "action": action, "inputs": inputs}]))
            .unwrap_err()
            .0;
        assert!(e.starts_with("Step \"first\": "), "{e}");
        assert!(
            e.contains(&format!("Bosun cannot run {action} steps")),
            "{e}"
        );
        assert!(
            e.contains("aws:runCommand"),
            "the message lists what Bosun runs: {e}"
        );
    }
}

#[test]
fn api_steps_are_refused_for_services_other_than_ssm() {
    for action in [
        "aws:executeAwsApi",
        "aws:waitForAwsResourceProperty",
        "aws:assertAwsResourceProperty",
    ] {
        let step = |service: &str| {
            json!([{"name": "call", "action": action,
                "inputs": {"Service": service, "Api": "DescribeInstances",
                           "PropertySelector": "$.x", "DesiredValues": ["y"]}}])
        };
        let e = planned(step("ec2")).unwrap_err().0;
        assert!(e.contains("Step \"call\""), "{e}");
        assert!(
            e.contains(action) && e.contains("ec2") && e.contains("only ssm"),
            "{e}"
        );
        assert!(planned(step("ssm")).is_ok());
        assert!(planned(step("Ssm")).is_ok());
        // A reference is checked when the step runs.
        assert!(planned(step("{{ Service }}")).is_ok());
    }
}

#[test]
fn flow_properties_that_cannot_be_fixed_are_refused() {
    let e = planned(json!([{"name": "a", "action": "aws:pause", "isCritical": "{{ C }}"}]))
        .unwrap_err()
        .0;
    assert!(e.contains("Step \"a\": isCritical"), "{e}");
    let e = planned(json!([{"name": "a", "action": "aws:pause", "isEnd": "yes"}]))
        .unwrap_err()
        .0;
    assert!(e.contains("isEnd"), "{e}");
    let e = planned(json!([{"name": "a", "action": "aws:pause", "timeoutSeconds": -1}]))
        .unwrap_err()
        .0;
    assert!(e.contains("timeoutSeconds -1"), "{e}");
    let e = planned(json!([
        {"name": "a", "action": "aws:runCommand", "onCancel": "step:b",
         "inputs": {"DocumentName": "d"}},
        {"name": "b", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}},
    ]))
    .unwrap_err()
    .0;
    assert!(
        e.contains("onCancel cannot go to the aws:sleep step \"b\""),
        "{e}"
    );
}

/// A retry loop through `onFailure` and back through `nextStep` is a legitimate runbook.
#[test]
fn cycles_are_allowed() {
    let r = planned(json!([
        {"name": "try", "action": "aws:runCommand", "onFailure": "step:wait",
         "inputs": {"DocumentName": "d"}, "isEnd": true},
        {"name": "wait", "action": "aws:sleep", "inputs": {"Duration": "PT1M"},
         "nextStep": "try"},
    ]))
    .unwrap();
    assert_eq!(r.steps[1].next_step.as_deref(), Some("try"));
}

#[test]
fn documents_without_steps_or_with_broken_targets_are_refused() {
    assert!(plan(&json!({"schemaVersion": "0.3"})).is_err());
    assert!(plan(&json!({"schemaVersion": "0.3", "mainSteps": []})).is_err());
    let e = plan(&json!({"mainSteps": [{"name": "a", "action": "aws:pause", "nextStep": "z"}]}))
        .unwrap_err()
        .0;
    assert!(e.contains("nextStep names the step \"z\""), "{e}");
    let e = plan(&json!({"parameters": {"p": {"type": "Float"}},
        "mainSteps": [{"name": "a", "action": "aws:pause"}]}))
    .unwrap_err()
    .0;
    assert!(e.contains("Parameter \"p\""), "{e}");
    let e = plan(
        &json!({"variables": {"v": {"type": "String", "default": "x"}},
        "mainSteps": [{"name": "a", "action": "aws:pause"}]}),
    )
    .unwrap_err()
    .0;
    assert!(e.contains("variables, which Bosun does not support"), "{e}");
    let branch = |next: &str, default: &str| {
        plan(&json!({"mainSteps": [
            {"name": "b", "action": "aws:branch", "inputs": {"Choices": [
                {"NextStep": "b", "Variable": "x", "StringEquals": "x"},
                {"NextStep": next, "Variable": "x", "StringEquals": "y"}],
                "Default": default}}]}))
    };
    assert!(branch("b", "b").is_ok());
    assert!(
        branch("{{ Next }}", "b").is_ok(),
        "a reference is checked when the step runs"
    );
    let e = branch("nowhere", "b").unwrap_err().0;
    assert!(
        e.contains("Step \"b\": Choices[1].NextStep names the step \"nowhere\""),
        "{e}"
    );
    let e = branch("b", "gone").unwrap_err().0;
    assert!(e.contains("Default names the step \"gone\""), "{e}");
}

#[test]
fn statuses_and_actions_round_trip() {
    for s in ExecStatus::ALL {
        assert_eq!(ExecStatus::parse(s.as_str()), Some(s));
    }
    assert_eq!(ExecStatus::InProgress.as_str(), "InProgress");
    assert_eq!(ExecStatus::TimedOut.as_str(), "TimedOut");
    assert_eq!(ExecStatus::PendingApproval.as_str(), "PendingApproval");
    assert_eq!(ExecStatus::parse("inprogress"), None);
    assert_eq!(ExecStatus::parse("Exited"), None);
    let terminal: Vec<_> = ExecStatus::ALL
        .into_iter()
        .filter(|s| s.is_terminal())
        .map(ExecStatus::as_str)
        .collect();
    assert_eq!(
        terminal,
        ["Success", "TimedOut", "Cancelled", "Failed", "Rejected"]
    );
    for a in Action::ALL {
        assert_eq!(Action::parse(a.as_str()), Some(a));
        assert!(a.as_str().starts_with("aws:"));
    }
    assert_eq!(
        Action::WaitForAwsResourceProperty.as_str(),
        "aws:waitForAwsResourceProperty"
    );
    assert_eq!(Action::parse("aws:runcommand"), None);
}
