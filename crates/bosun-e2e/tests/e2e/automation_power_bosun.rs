//! Bosun's own power runbooks on the fleet `automation_power` set up: `Bosun-StartNode` wakes a
//! stopped node through its power-controller document, `Bosun-RestartNode` stops it through its
//! agent and wakes it again, both from the `bosun` CLI with their outputs shown; they are listed
//! as owned like the `AWS-` built-ins, and a user's `Bosun-Mine` is refused.

use std::path::Path;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::DocumentKeyValuesFilter;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

use super::automation_power::LIMIT;

fn notes(note: &Path) -> usize {
    std::fs::read_to_string(note)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// `bosun automation start RUNBOOK -p NodeId=NODE --wait`, playing the node's power meanwhile:
/// each power-on note the controller leaves starts agent `i` again (its pid kept for the
/// server's stop command). Returns the CLI's (ok, stdout, stderr).
async fn run(
    fleet: &mut Fleet,
    i: usize,
    runbook: &str,
    pid_file: &Path,
    note: &Path,
) -> (bool, String, String) {
    let Fleet { server, agents, .. } = fleet;
    let node = agents[i].instance_id.clone();
    let param = format!("NodeId={node}");
    let before = notes(note);
    let args = [
        "automation",
        "start",
        runbook,
        "-p",
        &param,
        "--wait",
        "--timeout",
        "60",
    ];
    let cli = server.cli(&args);
    let power = async {
        wait_for(&format!("{runbook}'s power-on note"), LIMIT, || async {
            (notes(note) > before).then_some(())
        })
        .await;
        agents[i].start_with_env(&[("BOSUN_AGENT_TEST_INTERFACES", "[]")]);
        std::fs::write(pid_file, agents[i].pid().unwrap().to_string()).unwrap();
    };
    let (out, ()) = tokio::join!(cli, power);
    assert_eq!(notes(note), before + 1, "{runbook} woke the node once");
    out
}

/// Agent `i` is stopped and tagged to be woken by the controller's `Test-PowerOn`, which
/// appends to `note`; the server stops a node with `kill $(cat pid_file)`.
pub(crate) async fn bosun_runbooks(fleet: &mut Fleet, i: usize, pid_file: &Path, note: &Path) {
    let (ok, out, err) = run(fleet, i, "Bosun-StartNode", pid_file, note).await;
    assert!(ok, "{out}{err}");
    assert!(
        err.contains("startNodes (aws:changeInstanceState): Success"),
        "{err}"
    );
    assert!(out.contains("startNodes.InstanceStates=running"), "{out}");
    assert!(out.contains("describeNodes.PingStatus=Online"), "{out}");

    // Restart: the running agent is shut down through itself, then woken again.
    let first = fleet.agents[i].pid();
    let (ok, out, err) = run(fleet, i, "Bosun-RestartNode", pid_file, note).await;
    assert!(ok, "{out}{err}");
    for line in [
        "stopNodes (aws:changeInstanceState): Success",
        "startNodes (aws:changeInstanceState): Success",
        "describeNodes (aws:executeAwsApi): Success",
    ] {
        assert!(err.contains(line), "{line}: {err}");
    }
    assert!(out.contains("stopNodes.InstanceStates=stopped"), "{out}");
    assert!(out.contains("describeNodes.PingStatus=Online"), "{out}");
    assert_ne!(fleet.agents[i].pid(), first, "a new agent process runs");

    // Owned like AWS's built-ins; the name space is Bosun's.
    let c = &fleet.client;
    let d = c
        .describe_document()
        .name("Bosun-StopNode")
        .send()
        .await
        .expect("DescribeDocument Bosun-StopNode")
        .document
        .unwrap();
    assert_eq!(d.owner(), Some("Amazon"));
    assert_eq!(d.parameters()[0].name(), Some("NodeId"));
    let listed = c
        .list_documents()
        .filters(
            DocumentKeyValuesFilter::builder()
                .key("Owner")
                .values("Amazon")
                .build(),
        )
        .max_results(50)
        .send()
        .await
        .expect("ListDocuments");
    let names: Vec<&str> = listed
        .document_identifiers()
        .iter()
        .filter_map(|d| d.name())
        .collect();
    for name in ["Bosun-RestartNode", "Bosun-StartNode", "Bosun-StopNode"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let err = fleet
        .server
        .aws(&[
            "ssm",
            "create-document",
            "--name",
            "Bosun-Mine",
            "--document-type",
            "Automation",
            "--content",
            r#"{"schemaVersion":"0.3","mainSteps":[{"name":"s","action":"aws:sleep","inputs":{"Duration":"PT1S"}}]}"#,
        ])
        .expect_err("Bosun-Mine is refused");
    assert!(err.contains("ValidationException"), "{err}");
    assert!(err.contains("reserved prefix Bosun-"), "{err}");
    let e = c
        .delete_document()
        .name("Bosun-StartNode")
        .send()
        .await
        .expect_err("a built-in cannot be deleted");
    assert_eq!(e.code(), Some("InvalidDocumentOperation"));
}
