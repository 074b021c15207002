//! Seed 002's fix, verbatim: a runbook starts a stopped node first (`aws:changeInstanceState`
//! running, as `AWS-StartEC2Instance` does) and only then runs its command there. The node is
//! woken by its power-controller document on another node — the test's "power on" restarts the
//! stopped agent when the controller leaves its note — and the next step's command runs on it.
//! A node with no wake method fails the runbook with the reason; a role Bosun cannot assume is
//! refused at the start. Then Bosun's own `Bosun-StartNode`/`Bosun-RestartNode` on the same
//! node (`automation_power_bosun`).

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{AutomationExecutionStatus, PingStatus, ResourceTypeForTagging, Tag};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

pub(crate) const LIMIT: Duration = Duration::from_secs(60);

async fn ping(fleet: &Fleet, node: &str) -> Option<PingStatus> {
    let out = fleet
        .client
        .describe_instance_information()
        .send()
        .await
        .ok()?;
    out.instance_information_list()
        .iter()
        .find(|n| n.instance_id() == Some(node))
        .and_then(|n| n.ping_status().cloned())
}

/// Start agent `i`, wait until Online, then kill it and wait until the server sees it gone.
async fn stopped_node(fleet: &mut Fleet, i: usize) -> String {
    fleet.agents[i].start_with_env(&[("BOSUN_AGENT_TEST_INTERFACES", "[]")]);
    let id = fleet.agents[i].instance_id.clone();
    fleet.wait_online(&id).await;
    fleet.agents[i].kill().await;
    wait_for(&format!("{id} offline"), LIMIT, || async {
        (ping(fleet, &id).await != Some(PingStatus::Online)).then_some(())
    })
    .await;
    id
}

async fn create(
    fleet: &Fleet,
    name: &str,
    kind: aws_sdk_ssm::types::DocumentType,
    content: serde_json::Value,
) {
    fleet
        .client
        .create_document()
        .name(name)
        .document_type(kind)
        .content(content.to_string())
        .send()
        .await
        .expect("CreateDocument");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_wakes_a_stopped_node_then_runs_its_command_there() {
    // The node's "shutdown" ends its agent process, whose pid the test keeps in a file.
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let stop = format!("kill $(cat {})", pid_file.display());
    let server = bosun_e2e::TestServer::start_with(&["--node-stop-command", &stop]).await;
    let mut fleet = Fleet::start_on(server, 3, 0).await;
    fleet.agents[0].start_with_env(&[("BOSUN_AGENT_TEST_INTERFACES", "[]")]);
    let controller = fleet.agents[0].instance_id.clone();
    fleet.wait_online(&controller).await;
    let sleeper = stopped_node(&mut fleet, 1).await;
    let unwakeable = stopped_node(&mut fleet, 2).await;

    let notes = tempfile::tempdir().unwrap();
    let note = notes.path().join("powered-on");
    create(
        &fleet,
        "Test-PowerOn",
        aws_sdk_ssm::types::DocumentType::Command,
        serde_json::json!({
            "schemaVersion": "2.2",
            "description": "Power a node on (test: leave a note the test acts on)",
            "parameters": {"InstanceId": {"type": "String"}},
            "mainSteps": [{"action": "aws:runShellScript", "name": "powerOn",
                "inputs": {"runCommand": [format!("echo {{{{ InstanceId }}}} >> {}", note.display())]}}]
        }),
    )
    .await;
    fleet
        .client
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::ManagedInstance)
        .resource_id(&sleeper)
        .tags(
            Tag::builder()
                .key("bosun:wake-document")
                .value("Test-PowerOn")
                .build()
                .unwrap(),
        )
        .tags(
            Tag::builder()
                .key("bosun:wake-via")
                .value(&controller)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("AddTagsToResource");
    create(
        &fleet,
        "Seed002-UpdateAgent",
        aws_sdk_ssm::types::DocumentType::Automation,
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"InstanceId": {"type": "String"}},
            "mainSteps": [
                {"name": "startInstance", "action": "aws:changeInstanceState",
                 "inputs": {"InstanceIds": ["{{ InstanceId }}"], "DesiredState": "running"}},
                {"name": "updateAgent", "action": "aws:runCommand",
                 "inputs": {"DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                            "Parameters": {"commands": ["echo updated {{ InstanceId }}"]}}}
            ]
        }),
    )
    .await;

    // The seed's runbook: wake, then the command on the woken node.
    let started = fleet
        .client
        .start_automation_execution()
        .document_name("Seed002-UpdateAgent")
        .parameters("InstanceId", vec![sleeper.clone()])
        .send()
        .await
        .expect("StartAutomationExecution");
    let id = started.automation_execution_id().unwrap().to_string();
    let who = wait_for("the controller's power-on note", LIMIT, || async {
        std::fs::read_to_string(&note).ok()
    })
    .await;
    assert_eq!(
        who.trim(),
        sleeper,
        "the power-controller document got the node id"
    );
    fleet.agents[1].start_with_env(&[("BOSUN_AGENT_TEST_INTERFACES", "[]")]);
    std::fs::write(&pid_file, fleet.agents[1].pid().unwrap().to_string()).unwrap();
    let execution = wait_for("the runbook's end", LIMIT, || async {
        let e = fleet
            .client
            .get_automation_execution()
            .automation_execution_id(&id)
            .send()
            .await
            .ok()?
            .automation_execution?;
        let done = !matches!(
            e.automation_execution_status(),
            Some(AutomationExecutionStatus::Inprogress | AutomationExecutionStatus::Pending)
        );
        done.then_some(e)
    })
    .await;
    assert_eq!(
        execution.automation_execution_status(),
        Some(&AutomationExecutionStatus::Success),
        "{:?}",
        execution.failure_message()
    );
    let steps = execution.step_executions();
    assert_eq!(steps[0].outputs().unwrap()["InstanceStates"], ["running"]);
    let output = &steps[1].outputs().unwrap()["Output"];
    assert_eq!(output[0].trim(), format!("updated {sleeper}"));
    assert_eq!(
        std::fs::read_to_string(&note).unwrap().lines().count(),
        1,
        "the node was woken once"
    );
    // The runbook's command is audited as its starter's, made on their behalf.
    let records = fleet
        .server
        .read_store(|s| s.audit_records().unwrap())
        .await;
    assert!(
        records.iter().any(|(_, r)| r.action == "ssm:SendCommand"
            && r.outcome == "Allowed"
            && r.source.contains("on the user's behalf")),
        "the runbook's SendCommand is in the audit trail"
    );

    // Stop it again with the built-in runbook and the bosun CLI.
    let (ok, out, err) = fleet
        .server
        .cli(&[
            "automation",
            "start",
            "AWS-StopEC2Instance",
            "-p",
            &format!("InstanceId={sleeper}"),
            "--wait",
            "--timeout",
            "60",
        ])
        .await;
    assert!(ok, "{out}{err}");
    assert!(
        err.contains("stopInstances (aws:changeInstanceState): Success"),
        "{err}"
    );
    fleet.agents[1].wait_exit().await;
    assert_ne!(ping(&fleet, &sleeper).await, Some(PingStatus::Online));

    // No wake method: the built-in runbook fails and says why.
    let (ok, out, err) = fleet
        .server
        .cli(&[
            "automation",
            "start",
            "AWS-StartEC2Instance",
            "-p",
            &format!("InstanceId={unwakeable}"),
            "--wait",
            "--timeout",
            "60",
        ])
        .await;
    assert!(!ok, "{out}{err}");
    assert!(err.contains("no wake method configured"), "{err}");

    // A role Bosun cannot assume is refused before anything runs.
    let e = fleet
        .client
        .start_automation_execution()
        .document_name("AWS-StartEC2Instance")
        .parameters("InstanceId", vec![sleeper.clone()])
        .parameters(
            "AutomationAssumeRole",
            vec!["arn:aws:iam::000000000000:role/ops".into()],
        )
        .send()
        .await
        .expect_err("a role is refused");
    assert_eq!(
        e.code(),
        Some("InvalidAutomationExecutionParametersException")
    );
    assert!(
        e.message().unwrap_or_default().contains("cannot assume"),
        "{e:?}"
    );

    // Bosun's own runbooks on the same node and controller.
    super::automation_power_bosun::bosun_runbooks(&mut fleet, 1, &pid_file, &note).await;
}
