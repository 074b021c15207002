//! Seed 002 verbatim: a maintenance window on a resource group whose node is stopped runs an
//! `AUTOMATION` task first — `AWS-StartEC2Instance` with `InstanceId={{RESOURCE_ID}}`,
//! concurrency 100 %, error threshold 1 — which wakes the node through its power-controller
//! document (the test's "power on" restarts its agent), and then its `RUN_COMMAND` task, which
//! now runs on every node instead of silently skipping the stopped one.

use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use bosun_e2e::windows::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_automation_task_wakes_the_stopped_node_before_the_command_task() {
    let mut fleet = Fleet::start(2, 0).await;
    fleet.agents[0].start_with_env(&[("BOSUN_AGENT_TEST_INTERFACES", "[]")]);
    let controller = fleet.agents[0].instance_id.clone();
    fleet.wait_online(&controller).await;
    fleet.agents[1].start_with_env(&[("BOSUN_AGENT_TEST_INTERFACES", "[]")]);
    let sleeper = fleet.agents[1].instance_id.clone();
    fleet.wait_online(&sleeper).await;
    fleet.agents[1].kill().await;
    let server = &fleet.server;
    wait_for("the sleeper offline", LIMIT, || async {
        let out = ssm(server, &["describe-instance-information"]);
        out["InstanceInformationList"]
            .as_array()?
            .iter()
            .any(|n| n["InstanceId"] == sleeper.as_str() && n["PingStatus"] != "Online")
            .then_some(())
    })
    .await;

    let notes = tempfile::tempdir().unwrap();
    let note = notes.path().join("powered-on");
    let power_on = json!({
        "schemaVersion": "2.2",
        "description": "Power a node on (test: leave a note the test acts on)",
        "parameters": {"InstanceId": {"type": "String"}},
        "mainSteps": [{"action": "aws:runShellScript", "name": "powerOn",
            "inputs": {"runCommand": [format!("echo {{{{ InstanceId }}}} >> {}", note.display())]}}]
    });
    ssm(
        server,
        &[
            "create-document",
            "--name",
            "Test-PowerOn",
            "--document-type",
            "Command",
            "--content",
            &power_on.to_string(),
        ],
    );
    ssm(
        server,
        &[
            "add-tags-to-resource",
            "--resource-type",
            "ManagedInstance",
            "--resource-id",
            &sleeper,
            "--tags",
            "Key=bosun:wake-document,Value=Test-PowerOn",
            &format!("Key=bosun:wake-via,Value={controller}"),
        ],
    );
    create_group(server, "dev-nodes");

    let window = create_window(server, "monthly-agent-update");
    let target = register_target(
        server,
        &window,
        "RESOURCE_GROUP",
        "Key=resource-groups:Name,Values=dev-nodes",
    );
    let automation = json!({"Automation": {"Parameters": {"InstanceId": ["{{RESOURCE_ID}}"]}}});
    ssm(
        server,
        &[
            "register-task-with-maintenance-window",
            "--window-id",
            &window,
            "--task-arn",
            "AWS-StartEC2Instance",
            "--task-type",
            "AUTOMATION",
            "--targets",
            &format!("Key=WindowTargetIds,Values={target}"),
            "--priority",
            "1",
            "--max-concurrency",
            "100%",
            "--max-errors",
            "1",
            "--task-invocation-parameters",
            &automation.to_string(),
        ],
    );
    register_task(
        server,
        &window,
        &target,
        "2",
        "echo agent updated on $(hostname)",
    );
    // A runbook that does not declare a parameter given to it is refused at registration.
    let bad = json!({"Automation": {"Parameters": {"Nope": ["x"]}}});
    let e = server
        .aws(&[
            "ssm",
            "register-task-with-maintenance-window",
            "--window-id",
            &window,
            "--task-arn",
            "AWS-StartEC2Instance",
            "--task-type",
            "AUTOMATION",
            "--targets",
            &format!("Key=WindowTargetIds,Values={target}"),
            "--max-concurrency",
            "1",
            "--max-errors",
            "0",
            "--task-invocation-parameters",
            &bad.to_string(),
        ])
        .expect_err("an undeclared parameter");
    assert!(e.contains("Nope is not a parameter"), "{e}");

    arm(server, &window, 3);
    let who = wait_for("the controller's power-on note", LIMIT, || async {
        std::fs::read_to_string(&note).ok()
    })
    .await;
    assert_eq!(
        who.trim(),
        sleeper,
        "the window's runbook woke the stopped node"
    );
    fleet.agents[1].start_with_env(&[("BOSUN_AGENT_TEST_INTERFACES", "[]")]);
    let server = &fleet.server;
    let execution = wait_execution(server, &window).await;
    let id = execution["WindowExecutionId"].as_str().unwrap();
    let tasks = tasks_of(server, id);
    for t in &tasks {
        assert_eq!(t["Status"], "SUCCESS", "{t}");
    }
    assert_eq!(execution["Status"], "SUCCESS", "{execution}");
    let by_type = |kind: &str| {
        tasks
            .iter()
            .find(|t| t["TaskType"] == kind)
            .and_then(|t| t["TaskExecutionId"].as_str())
            .unwrap()
            .to_string()
    };
    let runbooks = invocations_of(server, id, &by_type("AUTOMATION"));
    assert_eq!(runbooks.len(), 2, "one runbook per group member");
    let commands = invocations_of(server, id, &by_type("RUN_COMMAND"));
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(
        commands.iter().all(|i| i["Status"] == "SUCCESS"),
        "the command ran on both nodes, the woken one too: {commands:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&note).unwrap().lines().count(),
        1,
        "woken once"
    );
}
