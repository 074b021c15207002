//! How documents and commands end, end to end on real agents: documents that exit early
//! (exit codes 168/169, `onSuccess`, `onFailure`, `finallyStep`), MaxConcurrency starting that
//! many invocations at once, MaxErrors letting started invocations finish, and cancels by node
//! ending the command `Cancelled`. Steps that must overlap wait for a file the test creates:
//! nothing here depends on timing.

use std::path::Path;
use std::time::Duration;

use aws_sdk_ssm::types::{
    CommandInvocation, CommandInvocationStatus, CommandPlugin, CommandStatus, DocumentFormat,
};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

fn shell(name: &str, lines: &[&str], extra: serde_json::Value) -> serde_json::Value {
    let mut inputs = json!({ "runCommand": lines });
    if let serde_json::Value::Object(m) = extra {
        inputs.as_object_mut().unwrap().extend(m);
    }
    json!({"action": "aws:runShellScript", "name": name, "inputs": inputs})
}

async fn create(fleet: &Fleet, name: &str, steps: Vec<serde_json::Value>) {
    let content = json!({"schemaVersion": "2.2", "description": name, "mainSteps": steps});
    fleet
        .client
        .create_document()
        .name(name)
        .content(content.to_string())
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateDocument {name}: {e:?}"));
}

async fn invocations(fleet: &Fleet, cmd: &str) -> Vec<CommandInvocation> {
    fleet
        .client
        .list_command_invocations()
        .command_id(cmd)
        .details(true)
        .send()
        .await
        .expect("ListCommandInvocations")
        .command_invocations()
        .to_vec()
}

fn status(p: &CommandPlugin) -> (&str, &str) {
    (
        p.status().map(|s| s.as_str()).unwrap_or_default(),
        p.status_details().unwrap_or_default(),
    )
}

/// A shell line that blocks until `gate` exists, after marking `started/<node id>`.
fn gated(dir: &Path) -> String {
    format!(
        "touch {0}/started-$AWS_SSM_INSTANCE_ID; while [ ! -e {0}/gate ]; do sleep 0.05; done; echo passed",
        dir.display()
    )
}

async fn wait_started(dir: &Path, ids: &[String]) {
    wait_for(&format!("{} steps to start", ids.len()), LIMIT, || async {
        ids.iter()
            .all(|id| dir.join(format!("started-{id}")).exists())
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_that_end_early_end() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let marks = tempfile::tempdir().unwrap();
    let ran = |step: &str| format!("touch {}/{step}", marks.path().display());
    let none = json!({});
    // (document, its first step, invocation and command status, first step's response code)
    let cases = [
        (
            "Exit168",
            shell("first", &["exit 168"], none.clone()),
            "Success",
            168,
        ),
        (
            "Exit169",
            shell("first", &["exit 169"], none.clone()),
            "Failed",
            169,
        ),
        (
            "OnSuccessExit",
            shell("first", &["true"], json!({"onSuccess": "exit"})),
            "Success",
            0,
        ),
        (
            "SuccessAndExit",
            shell("first", &["exit 3"], json!({"onFailure": "successAndExit"})),
            "Success",
            168,
        ),
        (
            "OnFailureExit",
            shell("first", &["exit 3"], json!({"onFailure": "exit"})),
            "Failed",
            3,
        ),
    ];
    for (doc, first, want, first_code) in cases {
        let skipped_mark = format!("{doc}-skipped");
        let finally_mark = format!("{doc}-finally");
        create(
            &fleet,
            doc,
            vec![
                first,
                shell("second", &[&ran(&skipped_mark)], json!({})),
                shell("last", &[&ran(&finally_mark)], json!({"finallyStep": true})),
            ],
        )
        .await;
        let cmd = fleet
            .client
            .send_command()
            .document_name(doc)
            .instance_ids(&id)
            .send()
            .await
            .unwrap()
            .command
            .unwrap()
            .command_id
            .unwrap();
        // The command ends (it used to stay InProgress for ever).
        let c = fleet.wait_command(&cmd, LIMIT).await;
        assert_eq!(c.status().map(|s| s.as_str()), Some(want), "{doc}: {c:?}");
        assert_eq!(c.status_details(), Some(want), "{doc}");
        assert_eq!(c.completed_count(), 1, "{doc}");
        let inv = &invocations(&fleet, &cmd).await[0];
        assert_eq!(inv.status().map(|s| s.as_str()), Some(want), "{doc}");
        assert_eq!(inv.status_details(), Some(want), "{doc}");
        let steps = inv.command_plugins();
        assert_eq!(steps.len(), 3, "{doc}");
        assert_eq!(steps[0].response_code(), first_code, "{doc}: {steps:?}");
        // The skipped step: Success with code 0 and a message, as the AWS agent reports it.
        assert_eq!(
            status(&steps[1]),
            ("Success", "Success"),
            "{doc}: {steps:?}"
        );
        assert_eq!(steps[1].response_code(), 0, "{doc}");
        let skipped_output = steps[1].output().unwrap_or_default();
        assert!(skipped_output.contains("was skipped"), "{doc}: {steps:?}");
        assert!(!skipped_output.contains("ERROR"), "{doc}: {steps:?}");
        assert!(!marks.path().join(&skipped_mark).exists(), "{doc}: ran");
        // The finally step ran after the exit.
        assert_eq!(status(&steps[2]), ("Success", "Success"), "{doc}");
        assert!(marks.path().join(&finally_mark).exists(), "{doc}: finally");
        // GetCommandInvocation on the skipped step.
        let got = fleet
            .client
            .get_command_invocation()
            .command_id(&cmd)
            .instance_id(&id)
            .plugin_name("second")
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), Some(&CommandInvocationStatus::Success));
        assert_eq!(got.response_code(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_starts_that_many_at_once() {
    let fleet = Fleet::start(3, 3).await;
    let ids = fleet.ids();
    let dir = tempfile::tempdir().unwrap();
    let cmd = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(ids.clone()))
        .parameters("commands", vec![gated(dir.path())])
        .max_concurrency("3")
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    // No step can finish before the gate opens, so all three run at the same time.
    wait_started(dir.path(), &ids).await;
    let invs = invocations(&fleet, &cmd).await;
    assert_eq!(invs.len(), 3);
    for inv in &invs {
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::InProgress),
            "{inv:?}"
        );
    }
    std::fs::write(dir.path().join("gate"), "").unwrap();
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));
    assert_eq!(c.completed_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_errors_zero_lets_started_invocations_finish() {
    let fleet = Fleet::start(3, 3).await;
    let ids = fleet.ids();
    let dir = tempfile::tempdir().unwrap();
    let failing = ids[0].clone();
    let script = format!(
        "if [ \"$AWS_SSM_INSTANCE_ID\" = {failing} ]; then exit 1; fi; {}",
        gated(dir.path())
    );
    let cmd = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(ids.clone()))
        .parameters("commands", vec![script])
        .max_concurrency("3")
        .max_errors("0")
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    // The failure arrives while the other two run.
    let others = ids[1..].to_vec();
    wait_started(dir.path(), &others).await;
    let failed = fleet.wait_done(&cmd, &failing, LIMIT).await;
    assert_eq!(failed.status(), Some(&CommandInvocationStatus::Failed));
    for inv in invocations(&fleet, &cmd).await {
        if inv.instance_id() != Some(failing.as_str()) {
            assert_eq!(
                inv.status(),
                Some(&CommandInvocationStatus::InProgress),
                "{inv:?}"
            );
        }
    }
    // Already started, they run to completion.
    std::fs::write(dir.path().join("gate"), "").unwrap();
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Failed));
    assert_eq!((c.completed_count(), c.error_count()), (3, 1));
    for id in &others {
        let inv = fleet.wait_done(&cmd, id, LIMIT).await;
        assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
        assert_eq!(inv.standard_output_content(), Some("passed\n"));
    }
}

async fn cancel_nodes(fleet: &Fleet, cmd: &str, ids: &[String]) {
    fleet
        .client
        .cancel_command()
        .command_id(cmd)
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .expect("CancelCommand");
}

async fn assert_all_cancelled(fleet: &Fleet, cmd: &str, targets: i32) {
    let c = fleet.wait_command(cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Cancelled), "{c:?}");
    assert_eq!(c.status_details(), Some("Cancelled"));
    assert_eq!((c.target_count(), c.completed_count()), (targets, targets));
    for inv in invocations(fleet, cmd).await {
        assert_eq!(inv.status(), Some(&CommandInvocationStatus::Cancelled));
        assert_eq!(inv.status_details(), Some("Cancelled"));
        for p in inv.command_plugins() {
            assert_eq!(status(p), ("Cancelled", "Cancelled"), "{inv:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_every_node_by_id_cancels_the_command() {
    let fleet = Fleet::start(2, 2).await;
    let ids = fleet.ids();
    let dir = tempfile::tempdir().unwrap();

    // One node, cancelled by naming it.
    let one = fleet.run(&ids[..1], &[&gated(dir.path())], &[]).await;
    wait_started(dir.path(), &ids[..1]).await;
    cancel_nodes(&fleet, &one, &ids[..1]).await;
    assert_all_cancelled(&fleet, &one, 1).await;

    // Two nodes, each cancelled by its own call.
    for id in &ids {
        let _ = std::fs::remove_file(dir.path().join(format!("started-{id}")));
    }
    let two = fleet.run(&ids, &[&gated(dir.path())], &[]).await;
    wait_started(dir.path(), &ids).await;
    cancel_nodes(&fleet, &two, &ids[..1]).await;
    cancel_nodes(&fleet, &two, &ids[1..]).await;
    assert_all_cancelled(&fleet, &two, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_of_invocations_that_never_ran_are_not_pending() {
    let fleet = Fleet::start(2, 2).await;
    let ids = fleet.ids();
    let dir = tempfile::tempdir().unwrap();
    // MaxConcurrency 1: the second invocation waits unsent while the first blocks.
    let cmd = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(ids.clone()))
        .parameters("commands", vec![gated(dir.path())])
        .max_concurrency("1")
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    let started = wait_for("one step to start", LIMIT, || async {
        ids.iter()
            .find(|id| dir.path().join(format!("started-{id}")).exists())
            .cloned()
    })
    .await;
    fleet
        .client
        .cancel_command()
        .command_id(&cmd)
        .send()
        .await
        .expect("CancelCommand");
    assert_all_cancelled(&fleet, &cmd, 2).await;
    let unsent = ids.iter().find(|id| **id != started).unwrap();
    assert!(!dir.path().join(format!("started-{unsent}")).exists());
}
