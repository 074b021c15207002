//! Automation over a fleet and across crashes: rate control over targets (one child per value
//! or node, AWS's ramp under MaxConcurrency, no new child past MaxErrors), and a server killed
//! with -9 mid-runbook resuming without running a step twice.

use aws_sdk_ssm::types::{
    AutomationExecution, AutomationExecutionFilter, AutomationExecutionFilterKey,
    AutomationExecutionStatus, Target,
};
use bosun_e2e::automation::{create_runbook, get, main_runbook, span, wait_status, LIMIT};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_runbook_resumes_without_running_a_step_twice() {
    let mut fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.log");
    let log = log.to_str().unwrap().to_string();
    let c = fleet.client.clone();
    create_runbook(
        &c,
        "Twice",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"InstanceId": {"type": "String"}, "Log": {"type": "String"}},
            "mainSteps": [
                {"name": "first", "action": "aws:runCommand", "inputs": {
                    "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                    "Parameters": {"commands": ["echo first >> {{ Log }}", "sleep 3"]}}},
                {"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT4S"}},
                {"name": "second", "action": "aws:runCommand", "inputs": {
                    "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                    "Parameters": {"commands": ["echo second >> {{ Log }}"]}}}
            ]
        }),
    )
    .await;
    let id = c
        .start_automation_execution()
        .document_name("Twice")
        .parameters("InstanceId", vec![node.clone()])
        .parameters("Log", vec![log.clone()])
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    // Kill -9 while the first step's command runs: the resumed step reads that command back.
    wait_for("the first command running", LIMIT, || async {
        let e = get(&c, &id).await;
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        (e.current_step_name() == Some("first") && log == "first\n").then_some(())
    })
    .await;
    fleet.server.restart().await;
    let c = fleet.server.client();
    // And again while the sleep runs (the first command has ended).
    wait_for("the sleep step", LIMIT, || async {
        let e = get(&c, &id).await;
        (e.current_step_name() == Some("nap")).then_some(())
    })
    .await;
    fleet.server.restart().await;
    let c = fleet.server.client();
    let e = wait_status(&c, &id, AutomationExecutionStatus::Success).await;
    let names: Vec<_> = e
        .step_executions()
        .iter()
        .map(|s| s.step_name().unwrap())
        .collect();
    assert_eq!(names, ["first", "nap", "second"]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "first\nsecond\n");
    // One command per runCommand step, the step's own.
    let commands = c.list_commands().send().await.unwrap();
    assert_eq!(commands.commands().len(), 2, "{commands:#?}");
    let first = &e.step_executions()[0];
    let command_id = &first.outputs().unwrap()["CommandId"][0];
    assert!(commands
        .commands()
        .iter()
        .any(|cmd| cmd.command_id() == Some(command_id.as_str())));
    let nap = &e.step_executions()[1];
    let slept = nap.execution_end_time().unwrap().as_secs_f64()
        - nap.execution_start_time().unwrap().as_secs_f64();
    assert!(slept >= 4.0, "{nap:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_run_one_child_each_with_the_ramp_and_the_error_threshold() {
    let fleet = Fleet::start(2, 2).await;
    let c = &fleet.client;
    create_runbook(
        c,
        "Per-Value",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"Value": {"type": "String"}},
            "mainSteps": [
                {"name": "pick", "action": "aws:branch", "inputs": {
                    "Choices": [{"NextStep": "boom", "Variable": "{{ Value }}", "StartsWith": "bad"}],
                    "Default": "nap"}},
                {"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT2S"}, "isEnd": true},
                {"name": "boom", "action": "aws:executeAwsApi",
                 "inputs": {"Service": "ssm", "Api": "DeleteParameter", "Name": "x"}, "isEnd": true}
            ]
        }),
    )
    .await;
    let values = ["ok1", "bad1", "ok2", "bad2", "ok3"];
    let parent = c
        .start_automation_execution()
        .document_name("Per-Value")
        .target_parameter_name("Value")
        .targets(
            Target::builder()
                .key("ParameterValues")
                .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
                .build(),
        )
        .max_concurrency("2")
        .max_errors("1")
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    let p = wait_status(c, &parent, AutomationExecutionStatus::Failed).await;
    assert_eq!(p.target_parameter_name(), Some("Value"));
    assert_eq!(
        (p.max_concurrency(), p.max_errors()),
        (Some("2"), Some("1"))
    );
    assert_eq!(
        p.resolved_targets().unwrap().parameter_values(),
        values.map(String::from)
    );
    assert!(p.failure_message().unwrap().contains("MaxErrors"), "{p:#?}");
    let listed = c
        .describe_automation_executions()
        .filters(
            AutomationExecutionFilter::builder()
                .key(AutomationExecutionFilterKey::ParentExecutionId)
                .values(&parent)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut children = Vec::new();
    for m in listed.automation_execution_metadata_list() {
        children.push(get(c, m.automation_execution_id().unwrap()).await);
    }
    // Children start in the order of the values (two may start at one instant).
    let position = |e: &AutomationExecution| values.iter().position(|v| Some(*v) == e.target());
    children.sort_by_key(position);
    let targets: Vec<_> = children.iter().map(|e| e.target().unwrap()).collect();
    let debug: Vec<_> = children
        .iter()
        .map(|e| (e.target(), e.automation_execution_status(), span(e)))
        .collect();
    // The second error (bad2) exceeded MaxErrors 1: ok3 never started.
    assert_eq!(targets, ["ok1", "bad1", "ok2", "bad2"], "{debug:?}");
    let statuses: Vec<_> = children
        .iter()
        .map(|e| e.automation_execution_status().unwrap().as_str())
        .collect();
    assert_eq!(statuses, ["Success", "Failed", "Success", "Failed"]);
    for child in &children {
        assert_eq!(
            child.parent_automation_execution_id(),
            Some(parent.as_str())
        );
        assert_eq!(
            child.parameters().unwrap()["Value"],
            [child.target().unwrap()]
        );
    }
    // The ramp: the first child ran alone; never more than MaxConcurrency at once.
    let spans: Vec<_> = children.iter().map(span).collect();
    assert!(
        spans[0].1 <= spans[1].0 && spans[0].1 <= spans[2].0,
        "{spans:?}"
    );
    for (i, (start, _)) in spans.iter().enumerate() {
        let running = spans
            .iter()
            .filter(|(s, e)| s <= start && e > start)
            .count();
        assert!(running <= 2, "{i}: {spans:?}");
    }

    // Nodes by tag: one child per node, each running its command on its own node.
    create_runbook(c, "Greet-Runbook", main_runbook()).await;
    let parent = c
        .start_automation_execution()
        .document_name("Greet-Runbook")
        .target_parameter_name("InstanceId")
        .targets(Target::builder().key("tag:env").values("test").build())
        .max_concurrency("1")
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    let p = wait_status(c, &parent, AutomationExecutionStatus::Success).await;
    let mut nodes = p.resolved_targets().unwrap().parameter_values().to_vec();
    nodes.sort();
    let mut ids = fleet.ids();
    ids.sort();
    assert_eq!(nodes, ids);
    let listed = c
        .describe_automation_executions()
        .filters(
            AutomationExecutionFilter::builder()
                .key(AutomationExecutionFilterKey::ParentExecutionId)
                .values(&parent)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(listed.automation_execution_metadata_list().len(), 2);
    for m in listed.automation_execution_metadata_list() {
        let child = get(c, m.automation_execution_id().unwrap()).await;
        assert_eq!(
            child.automation_execution_status(),
            Some(&AutomationExecutionStatus::Success)
        );
        let run = &child.step_executions()[0];
        assert_eq!(
            run.inputs().unwrap()["InstanceIds"],
            format!("[\"{}\"]", child.target().unwrap())
        );
        assert_eq!(
            run.outputs().unwrap()["Output"],
            [format!(
                "hello from {}\n",
                child.automation_execution_id().unwrap()
            )]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_runs_again_and_a_timeout_ends_the_step() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let c = &fleet.client;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("tried");
    let marker = marker.to_str().unwrap().to_string();
    create_runbook(
        c,
        "Flaky",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"InstanceId": {"type": "String"}, "Marker": {"type": "String"}},
            "mainSteps": [
                {"name": "flaky", "action": "aws:runCommand", "maxAttempts": 2, "inputs": {
                    "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                    "Parameters": {"commands": [
                        "if [ -f {{ Marker }} ]; then echo second try; else touch {{ Marker }}; exit 4; fi"
                    ]}}},
                {"name": "slow", "action": "aws:runCommand", "timeoutSeconds": 2, "inputs": {
                    "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                    "Parameters": {"commands": ["sleep 60"]}}},
                {"name": "never", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}
            ]
        }),
    )
    .await;
    let id = c
        .start_automation_execution()
        .document_name("Flaky")
        .parameters("InstanceId", vec![node.clone()])
        .parameters("Marker", vec![marker])
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Timedout).await;
    let steps = e.step_executions();
    assert_eq!(steps.len(), 2, "{e:#?}");
    let flaky = &steps[0];
    assert_eq!(
        flaky.step_status(),
        Some(&AutomationExecutionStatus::Success)
    );
    assert_eq!(flaky.outputs().unwrap()["Output"], ["second try\n"]);
    let slow = &steps[1];
    assert_eq!(
        slow.step_status(),
        Some(&AutomationExecutionStatus::Timedout)
    );
    // Two attempts of the first step (two commands) and the slow one, which is cancelled.
    let slow_id = wait_for("the slow command cancelled", LIMIT, || async {
        let list = c.list_commands().send().await.unwrap();
        let commands = list.commands();
        let slow = commands
            .iter()
            .find(|cmd| cmd.parameters().unwrap()["commands"] == ["sleep 60"])?;
        (commands.len() == 3
            && slow.status() == Some(&aws_sdk_ssm::types::CommandStatus::Cancelled))
        .then(|| slow.command_id().unwrap().to_string())
    })
    .await;
    assert!(!slow_id.is_empty());
}
