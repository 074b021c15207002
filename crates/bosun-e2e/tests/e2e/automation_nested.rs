//! `aws:executeAutomation` end to end: a step runs a secondary runbook as a real child
//! execution (its `ParentAutomationExecutionId` the parent's) with the starter's permissions,
//! waits for it and takes its `ExecutionId`, `Status` and `Output`; a child started with
//! targets is itself a rate-control parent; a runbook that starts itself stops at Bosun's
//! nesting limit; stopping the parent cancels the child; and a server killed with -9 while
//! the child runs resumes waiting for that child instead of starting another.

use aws_sdk_ssm::types::{AutomationExecutionStatus, StopType};
use aws_sdk_ssm::Client;
use bosun_e2e::automation::{children, create_runbook, get, wait_status, LIMIT};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

async fn start(c: &Client, doc: &str, params: &[(&str, &str)]) -> String {
    let mut req = c.start_automation_execution().document_name(doc);
    for (k, v) in params {
        req = req.parameters(*k, vec![v.to_string()]);
    }
    req.send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "StartAutomationExecution {doc}: {:?}",
                e.into_service_error()
            )
        })
        .automation_execution_id
        .unwrap()
}

fn child_runbook() -> serde_json::Value {
    serde_json::json!({
        "schemaVersion": "0.3",
        "parameters": {"InstanceId": {"type": "String"}, "Name": {"type": "String"}},
        "outputs": ["say.Output"],
        "mainSteps": [{"name": "say", "action": "aws:runCommand", "inputs": {
            "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
            "Parameters": {"commands": ["echo hi {{ Name }}"]}}}]
    })
}

fn parent_runbook(child: &str) -> serde_json::Value {
    serde_json::json!({
        "schemaVersion": "0.3",
        "parameters": {"InstanceId": {"type": "String"}},
        "outputs": ["call.ExecutionId", "call.Status"],
        "mainSteps": [
            {"name": "call", "action": "aws:executeAutomation", "inputs": {
                "DocumentName": child,
                "RuntimeParameters": {"InstanceId": "{{ InstanceId }}", "Name": "{{ automation:EXECUTION_ID }}"}}},
            {"name": "after", "action": "aws:runCommand", "inputs": {
                "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                "Parameters": {"commands": ["echo child was {{ call.Status }}"]}}}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_runs_a_secondary_runbook_as_the_starter_and_takes_its_outputs() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let c = &fleet.client;
    create_runbook(c, "Child-Greet", child_runbook()).await;
    create_runbook(c, "Parent-Greet", parent_runbook("Child-Greet")).await;
    create_runbook(c, "Secret-Child", child_runbook()).await;
    create_runbook(c, "Parent-Secret", parent_runbook("Secret-Child")).await;
    let id = start(c, "Parent-Greet", &[("InstanceId", &node)]).await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Success).await;
    let steps = e.step_executions();
    assert_eq!(steps.len(), 2, "{e:#?}");
    let call = &steps[0];
    assert_eq!(call.action(), Some("aws:executeAutomation"));
    let out = call.outputs().unwrap();
    let child_id = out["ExecutionId"][0].clone();
    assert_eq!(out["Status"], ["Success"]);
    assert_eq!(out["Output"], [format!("say.Output=hi {id}\n")]);
    assert_eq!(
        steps[1].outputs().unwrap()["Output"],
        ["child was Success\n"]
    );
    assert_eq!(
        e.outputs().unwrap()["call.ExecutionId"],
        std::slice::from_ref(&child_id)
    );
    // The child is a real execution of the secondary runbook, the parent's, run as its starter.
    let child = get(c, &child_id).await;
    assert_eq!(child.document_name(), Some("Child-Greet"));
    assert_eq!(child.parent_automation_execution_id(), Some(id.as_str()));
    assert_eq!(child.executed_by(), e.executed_by());
    assert_eq!(
        child.parameters().unwrap()["Name"],
        std::slice::from_ref(&id)
    );
    assert_eq!(
        child.automation_execution_status(),
        Some(&AutomationExecutionStatus::Success)
    );
    let listed = children(c, &id).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0].automation_execution_id(), Some(child_id.as_str()));

    // A starter who may not start the secondary runbook: the step fails, no child exists.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ssm:StartAutomationExecution",
             "Resource": "arn:aws:ssm:*:*:automation-definition/Secret-*"}
        ]
    });
    let (limited, _, _) = fleet
        .server
        .user_with_policy("limited", &policy.to_string())
        .await;
    let id = start(&limited, "Parent-Secret", &[("InstanceId", &node)]).await;
    let e = wait_status(&limited, &id, AutomationExecutionStatus::Failed).await;
    let call = &e.step_executions()[0];
    assert_eq!(call.step_status(), Some(&AutomationExecutionStatus::Failed));
    assert!(
        call.failure_message().unwrap().contains("AccessDenied"),
        "{call:#?}"
    );
    assert_eq!(e.step_executions().len(), 1);
    assert!(children(c, &id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_started_with_targets_runs_one_grandchild_per_value() {
    let fleet = Fleet::start(0, 0).await;
    let c = &fleet.client;
    create_runbook(
        c,
        "Nap",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"Name": {"type": "String"}},
            "mainSteps": [{"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}]
        }),
    )
    .await;
    create_runbook(
        c,
        "Fan",
        serde_json::json!({
            "schemaVersion": "0.3",
            "mainSteps": [{"name": "fan", "action": "aws:executeAutomation", "inputs": {
                "DocumentName": "Nap", "TargetParameterName": "Name", "MaxConcurrency": "1",
                "Targets": [{"Key": "ParameterValues", "Values": ["a", "b", "c"]}]}}]
        }),
    )
    .await;
    let id = start(c, "Fan", &[]).await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Success).await;
    let child_id = e.step_executions()[0].outputs().unwrap()["ExecutionId"][0].clone();
    let child = get(c, &child_id).await;
    assert_eq!(child.parent_automation_execution_id(), Some(id.as_str()));
    assert_eq!(child.target_parameter_name(), Some("Name"));
    assert_eq!(
        child.resolved_targets().unwrap().parameter_values(),
        ["a", "b", "c"]
    );
    let mut targets: Vec<_> = children(c, &child_id)
        .await
        .iter()
        .map(|g| g.target().unwrap().to_string())
        .collect();
    targets.sort();
    assert_eq!(targets, ["a", "b", "c"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_that_starts_itself_stops_at_the_nesting_limit() {
    let fleet = Fleet::start(0, 0).await;
    let c = &fleet.client;
    create_runbook(
        c,
        "Recurse",
        serde_json::json!({
            "schemaVersion": "0.3",
            "mainSteps": [{"name": "again", "action": "aws:executeAutomation",
                "inputs": {"DocumentName": "Recurse"}}]
        }),
    )
    .await;
    let top = start(c, "Recurse", &[]).await;
    let e = wait_status(c, &top, AutomationExecutionStatus::Failed).await;
    // Five levels below the top were started; the fifth's step was refused.
    let mut chain = vec![top.clone()];
    loop {
        let kids = children(c, chain.last().unwrap()).await;
        assert!(kids.len() <= 1, "{kids:#?}");
        let Some(k) = kids.first() else { break };
        chain.push(k.automation_execution_id().unwrap().to_string());
    }
    assert_eq!(chain.len(), 6, "{chain:?}");
    let deepest = get(c, chain.last().unwrap()).await;
    assert_eq!(
        deepest.automation_execution_status(),
        Some(&AutomationExecutionStatus::Failed)
    );
    let why = deepest.step_executions()[0]
        .failure_message()
        .unwrap()
        .to_string();
    assert!(why.contains("at most 5"), "{why}");
    // Each level above failed because its child did.
    let step = &e.step_executions()[0];
    assert_eq!(step.outputs().unwrap()["Status"], ["Failed"]);
    assert_eq!(step.outputs().unwrap()["ExecutionId"], [chain[1].clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_parent_cancels_its_child() {
    let fleet = Fleet::start(0, 0).await;
    let c = &fleet.client;
    create_runbook(
        c,
        "Hold",
        serde_json::json!({
            "schemaVersion": "0.3",
            "mainSteps": [{"name": "hold", "action": "aws:pause", "inputs": {}}]
        }),
    )
    .await;
    create_runbook(
        c,
        "Holder",
        serde_json::json!({
            "schemaVersion": "0.3",
            "mainSteps": [{"name": "call", "action": "aws:executeAutomation",
                "inputs": {"DocumentName": "Hold"}}]
        }),
    )
    .await;
    let id = start(c, "Holder", &[]).await;
    let child_id = wait_for("the child waiting", LIMIT, || async {
        let kids = children(c, &id).await;
        let k = kids.first()?;
        (k.automation_execution_status() == Some(&AutomationExecutionStatus::Waiting))
            .then(|| k.automation_execution_id().unwrap().to_string())
    })
    .await;
    c.stop_automation_execution()
        .automation_execution_id(&id)
        .r#type(StopType::Cancel)
        .send()
        .await
        .unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Cancelled).await;
    assert_eq!(
        e.step_executions()[0].step_status(),
        Some(&AutomationExecutionStatus::Cancelled)
    );
    wait_status(c, &child_id, AutomationExecutionStatus::Cancelled).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_the_child_runs_resumes_waiting_for_it() {
    let mut fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.log");
    let log = log.to_str().unwrap().to_string();
    let c = fleet.client.clone();
    create_runbook(
        &c,
        "Slow-Child",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"InstanceId": {"type": "String"}, "Log": {"type": "String"}},
            "mainSteps": [{"name": "work", "action": "aws:runCommand", "inputs": {
                "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                "Parameters": {"commands": ["echo child >> {{ Log }}", "sleep 3"]}}}]
        }),
    )
    .await;
    create_runbook(
        &c,
        "Slow-Parent",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"InstanceId": {"type": "String"}, "Log": {"type": "String"}},
            "mainSteps": [{"name": "call", "action": "aws:executeAutomation", "inputs": {
                "DocumentName": "Slow-Child",
                "RuntimeParameters": {"InstanceId": "{{ InstanceId }}", "Log": "{{ Log }}"}}}]
        }),
    )
    .await;
    let id = start(&c, "Slow-Parent", &[("InstanceId", &node), ("Log", &log)]).await;
    wait_for("the child's command running", LIMIT, || async {
        let running = std::fs::read_to_string(&log).unwrap_or_default() == "child\n";
        (running && children(&c, &id).await.len() == 1).then_some(())
    })
    .await;
    fleet.server.restart().await;
    let c = fleet.server.client();
    let e = wait_status(&c, &id, AutomationExecutionStatus::Success).await;
    let kids = children(&c, &id).await;
    assert_eq!(kids.len(), 1, "{kids:#?}");
    assert_eq!(
        e.step_executions()[0].outputs().unwrap()["ExecutionId"],
        [kids[0].automation_execution_id().unwrap().to_string()]
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "child\n");
    let commands = c.list_commands().send().await.unwrap();
    assert_eq!(commands.commands().len(), 1, "{commands:#?}");
}
