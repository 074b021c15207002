//! Crashes lose nothing: kill -9 of an agent mid-command (with and without its step
//! supervisor) and of the server mid-fan-out; every invocation ends terminal, each step runs
//! at most once, and results arrive.

use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocationStatus, CommandStatus};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(40);

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_mid_step_reattaches_and_reports_the_real_result() {
    let mut fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let (runs, gate) = (dir.path().join("runs"), dir.path().join("gate"));
    let script = format!(
        "echo run >> {runs}; while [ ! -e {gate} ]; do sleep 0.05; done; echo finished",
        runs = runs.display(),
        gate = gate.display()
    );
    let cmd = fleet.run(std::slice::from_ref(&id), &[&script], &[]).await;
    wait_for("the step to start", LIMIT, || async {
        runs.exists().then_some(())
    })
    .await;
    fleet.agents[0].kill().await;
    // The step goes on without the agent; let it finish while the agent is down.
    std::fs::write(&gate, "").unwrap();
    fleet.agents[0].start();
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Success),
        "{inv:?}"
    );
    assert_eq!(inv.standard_output_content(), Some("finished\n"));
    assert_eq!(lines(&runs), 1, "the step ran exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_whose_supervisor_died_ends_failed_and_is_not_rerun() {
    let mut fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let script = format!("echo run >> {}; sleep 60", runs.display());
    let cmd = fleet.run(std::slice::from_ref(&id), &[&script], &[]).await;
    wait_for("the step to start", LIMIT, || async {
        runs.exists().then_some(())
    })
    .await;
    fleet.agents[0].kill().await;
    let record = fleet.agents[0]
        .orchestration_dir()
        .join(&cmd)
        .join("awsrunShellScript/supervisor.json");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(record).unwrap()).unwrap();
    let pid = record["supervisor_pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    fleet.agents[0].start();
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
    let list = fleet
        .client
        .list_command_invocations()
        .command_id(&cmd)
        .details(true)
        .send()
        .await
        .unwrap();
    let plugin = &list.command_invocations()[0].command_plugins()[0];
    assert_eq!(plugin.status_details(), Some("Failed"));
    assert!(
        plugin.output().unwrap_or_default().contains("interrupted"),
        "{plugin:?}"
    );
    assert_eq!(
        lines(&runs),
        1,
        "an interrupted step is never silently re-run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_fan_out_finishes_every_invocation() {
    let mut fleet = Fleet::start(3, 3).await;
    let ids = fleet.ids();
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "echo run >> {}/$AWS_SSM_INSTANCE_ID; sleep 0.5; echo done",
        dir.path().display()
    );
    let out = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(ids.clone()))
        .parameters("commands", vec![script])
        .max_concurrency("1")
        .send()
        .await
        .unwrap();
    let cmd = out.command.unwrap().command_id.unwrap();
    wait_for("the first node to start", LIMIT, || async {
        std::fs::read_dir(dir.path()).ok()?.next().map(|_| ())
    })
    .await;
    fleet.server.restart().await;
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success), "{c:?}");
    for id in &ids {
        let inv = fleet.wait_done(&cmd, id, LIMIT).await;
        assert_eq!(inv.standard_output_content(), Some("done\n"));
        assert_eq!(lines(&dir.path().join(id)), 1, "{id} ran once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_follows_the_agent_config() {
    let mut fleet = Fleet::start(1, 0).await;
    let id = fleet.ids()[0].clone();
    fleet.agents[0].configure(r#"{"Ssm": {"OrchestrationDirectoryCleanup": "clean-success"}}"#);
    fleet.agents[0].start();
    fleet.wait_online(&id).await;
    let ok = fleet.run(std::slice::from_ref(&id), &["true"], &[]).await;
    let bad = fleet.run(std::slice::from_ref(&id), &["false"], &[]).await;
    fleet.wait_done(&ok, &id, LIMIT).await;
    fleet.wait_done(&bad, &id, LIMIT).await;
    let orch = fleet.agents[0].orchestration_dir();
    wait_for("the successful command's folder to go", LIMIT, || async {
        (!orch.join(&ok).exists()).then_some(())
    })
    .await;
    assert!(
        orch.join(&bad).exists(),
        "clean-success keeps failed commands"
    );
    for _ in 0..2 {
        let more = fleet.run(std::slice::from_ref(&id), &["false"], &[]).await;
        fleet.wait_done(&more, &id, LIMIT).await;
    }
    let count = || std::fs::read_dir(&orch).map(|d| d.count()).unwrap_or(0);
    assert_eq!(count(), 3);

    fleet.agents[0].kill().await;
    fleet.agents[0].configure(
        r#"{"Ssm": {"OrchestrationDirectoryCleanup": "clean-success-failed", "OrchestrationDirectoryMaxEntries": 1}}"#,
    );
    fleet.agents[0].start();
    // The start-up sweep applies the entry cap at once.
    wait_for("the entry cap to be applied", LIMIT, || async {
        (count() <= 1).then_some(())
    })
    .await;
    assert!(!orch.join(&bad).exists(), "the oldest folder goes first");
    let bad2 = fleet
        .run(std::slice::from_ref(&id), &["false # again"], &[])
        .await;
    fleet.wait_done(&bad2, &id, LIMIT).await;
    wait_for("the failed command's folder to go", LIMIT, || async {
        (!orch.join(&bad2).exists()).then_some(())
    })
    .await;

    // A config with a typo is refused with the key named, instead of silently ignored.
    fleet.agents[0].kill().await;
    fleet.agents[0].configure(r#"{"Mds": {"CommandWorkerLimit": 3}}"#);
    let (ok, stderr) = fleet.agents[0].run_once().await;
    assert!(!ok && stderr.contains("CommandWorkerLimit"), "{stderr}");
}
