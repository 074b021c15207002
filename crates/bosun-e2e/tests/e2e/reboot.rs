//! The reboot protocol end to end, on a real server and a real agent process: steps exiting
//! 194 or 3010 with `Agent.AllowReboot` true reboot the node through `Agent.RebootCommand` and
//! the document resumes after the boot at the step that asked (run again, as AWS's agent does),
//! with every finished step run once. The "reboot" here: the reboot command tells the test (a
//! file), and the test does what a reboot does to the agent: kills it, changes the boot id (a
//! file named by the test-only `BOSUN_AGENT_BOOT_ID_FILE`) and starts it again on the same
//! state dir. Without `AllowReboot`, when the reboot command fails, when the node is still in
//! the same boot after `Agent.RebootTimeoutSeconds`, or when `AllowReboot` was turned off before
//! the reboot, the step fails saying so and the document goes on under its flow rules.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocation, CommandInvocationStatus, DocumentFormat};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(40);

struct Node {
    fleet: Fleet,
    id: String,
    /// Marks, the fake boot id and the reboot command's log.
    dir: tempfile::TempDir,
}

impl Node {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn boot_env(&self) -> (&'static str, String) {
        (
            "BOSUN_AGENT_BOOT_ID_FILE",
            self.path("boot_id").display().to_string(),
        )
    }

    fn start_agent(&mut self) {
        let (k, v) = self.boot_env();
        self.fleet.agents[0].start_with_env(&[(k, &v)]);
    }
}

/// A server and one agent with the `Agent` config section `agent_section` makes (given the
/// test's folder), running in boot "boot-1".
async fn node(agent_section: impl FnOnce(&Path) -> serde_json::Value) -> Node {
    let fleet = Fleet::start(1, 0).await;
    let id = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("boot_id"), "boot-1\n").unwrap();
    let section = agent_section(dir.path());
    fleet.agents[0].configure(&json!({ "Agent": section }).to_string());
    let mut node = Node { fleet, id, dir };
    node.start_agent();
    node.fleet.wait_online(&node.id).await;
    node
}

/// A reboot command that only tells the test it ran, by adding a line to `reboots`.
fn reboot_script(dir: &Path) -> PathBuf {
    let script = dir.join("reboot.sh");
    let text = format!(
        "#!/bin/sh\necho \"reboot asked in $(cat {boot})\" >> {log}\n",
        boot = dir.join("boot_id").display(),
        log = dir.join("reboots").display()
    );
    std::fs::write(&script, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// A shell step that appends `n` to `order`, then, the first time only (a marker file), says
/// so and exits `code`.
fn step(
    dir: &Path,
    n: u32,
    first_exit: Option<i32>,
    extra: serde_json::Value,
) -> serde_json::Value {
    let order = dir.join("order").display().to_string();
    let mut run = vec![format!("echo {n} >> {order}")];
    if let Some(code) = first_exit {
        let mark = dir.join(format!("asked-{n}")).display().to_string();
        run.push(format!(
            "if [ ! -e {mark} ]; then touch {mark}; echo 'step {n} asks for a reboot'; exit {code}; fi"
        ));
        run.push(format!("echo 'step {n} after the reboot'"));
    }
    let mut inputs = json!({ "runCommand": run });
    if let serde_json::Value::Object(m) = extra {
        inputs.as_object_mut().unwrap().extend(m);
    }
    json!({"action": "aws:runShellScript", "name": format!("step{n}"), "inputs": inputs})
}

async fn send(node: &Node, name: &str, steps: Vec<serde_json::Value>) -> String {
    let content = json!({"schemaVersion": "2.2", "description": name, "mainSteps": steps});
    node.fleet
        .client
        .create_document()
        .name(name)
        .content(content.to_string())
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateDocument {name}: {e:?}"));
    node.fleet
        .client
        .send_command()
        .document_name(name)
        .instance_ids(&node.id)
        .send()
        .await
        .expect("SendCommand")
        .command
        .unwrap()
        .command_id
        .unwrap()
}

async fn invocation(node: &Node, cmd: &str) -> CommandInvocation {
    node.fleet
        .client
        .list_command_invocations()
        .command_id(cmd)
        .details(true)
        .send()
        .await
        .expect("ListCommandInvocations")
        .command_invocations()
        .first()
        .cloned()
        .expect("one invocation")
}

async fn wait_ended(node: &Node, cmd: &str) -> CommandInvocation {
    node.fleet.wait_command(cmd, LIMIT).await;
    invocation(node, cmd).await
}

/// Each plugin's (name, status, response code).
fn plugins(inv: &CommandInvocation) -> Vec<(String, String, i32)> {
    inv.command_plugins()
        .iter()
        .map(|p| {
            (
                p.name().unwrap_or_default().to_string(),
                p.status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                p.response_code(),
            )
        })
        .collect()
}

fn plugin_output(inv: &CommandInvocation, name: &str) -> String {
    let p = inv
        .command_plugins()
        .iter()
        .find(|p| p.name() == Some(name))
        .unwrap_or_else(|| panic!("no plugin {name}"));
    p.output().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_asking_for_reboots_resume_after_each_boot_and_finished_steps_never_rerun() {
    let mut node = node(|dir| {
        json!({
            "AllowReboot": true,
            "RebootCommand": reboot_script(dir).display().to_string(),
        })
    })
    .await;
    let d = node.dir.path().to_path_buf();
    let cmd = send(
        &node,
        "RebootTwice",
        vec![
            step(&d, 1, None, json!({})),
            step(&d, 2, Some(194), json!({})),
            // Windows' code: `exit 3010` arrives as 194 on Linux (statuses are 8 bits).
            step(&d, 3, Some(3010), json!({})),
        ],
    )
    .await;
    for boot in 1..=2 {
        wait_for(&format!("reboot request {boot}"), LIMIT, || async {
            (lines(&d.join("reboots")).len() == boot).then_some(())
        })
        .await;
        // The node goes down: the agent dies with it, and the invocation stays InProgress.
        node.fleet.agents[0].kill().await;
        let inv = invocation(&node, &cmd).await;
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::InProgress),
            "{inv:?}"
        );
        // It comes back in a new boot.
        std::fs::write(d.join("boot_id"), format!("boot-{}\n", boot + 1)).unwrap();
        node.start_agent();
    }
    let inv = wait_ended(&node, &cmd).await;
    let log = node.fleet.agents[0].log();
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Success),
        "{inv:?}\n{log}"
    );
    // Each finished step ran once; each step that asked ran again after its reboot.
    assert_eq!(lines(&d.join("order")), ["1", "2", "2", "3", "3"]);
    assert_eq!(
        lines(&d.join("reboots")),
        ["reboot asked in boot-1", "reboot asked in boot-2"]
    );
    for (name, status, code) in plugins(&inv) {
        assert_eq!((status.as_str(), code), ("Success", 0), "{name}: {inv:?}");
    }
    // A step's output is that of both its runs.
    for n in [2, 3] {
        let out = plugin_output(&inv, &format!("step{n}"));
        assert_eq!(
            out,
            format!("step {n} asks for a reboot\nstep {n} after the reboot\n"),
            "{inv:?}"
        );
    }
    // Nothing is left pending: a later command runs at once, without any reboot.
    let again = send(&node, "AfterReboots", vec![step(&d, 4, None, json!({}))]).await;
    let inv = wait_ended(&node, &again).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(lines(&d.join("reboots")).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_allow_reboot_a_reboot_request_fails_its_step_and_the_flow_rules_go_on() {
    let node = node(|_| json!({ "AllowReboot": false })).await;
    let d = node.dir.path().to_path_buf();
    // onFailure unset: the document goes on after the failed step.
    let cmd = send(
        &node,
        "RebootRefused",
        vec![
            step(&d, 1, None, json!({})),
            step(&d, 2, Some(194), json!({})),
            step(&d, 3, None, json!({})),
        ],
    )
    .await;
    let inv = wait_ended(&node, &cmd).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
    let got = plugins(&inv);
    assert_eq!(got[1].1, "Failed", "{inv:?}");
    assert_eq!(got[1].2, 194);
    assert_eq!(got[2].1, "Success");
    let out = plugin_output(&inv, "step2");
    assert!(
        out.contains("this agent may not reboot the node (Agent.AllowReboot is false)"),
        "{out}"
    );
    assert_eq!(lines(&d.join("order")), ["1", "2", "3"]);
    // onFailure: exit stops the document at the refused step.
    std::fs::remove_file(d.join("order")).unwrap();
    let cmd = send(
        &node,
        "RebootRefusedExit",
        vec![
            step(&d, 5, Some(3010), json!({"onFailure": "exit"})),
            step(&d, 6, None, json!({})),
        ],
    )
    .await;
    let inv = wait_ended(&node, &cmd).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
    let got = plugins(&inv);
    // Exit statuses are 8 bits on Linux: `exit 3010` arrives as 194 (3010 mod 256).
    assert_eq!((got[0].1.as_str(), got[0].2), ("Failed", 194), "{inv:?}");
    assert_eq!(got[1].1, "Success", "skipped steps show Success: {inv:?}");
    assert_eq!(lines(&d.join("order")), ["5"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_reboot_command_fails_the_step_that_asked_and_the_document_goes_on() {
    let node = node(|_| {
        json!({
            "AllowReboot": true,
            "RebootCommand": "echo 'Failed to reboot: access denied' >&2; exit 3",
        })
    })
    .await;
    let d = node.dir.path().to_path_buf();
    let cmd = send(
        &node,
        "RebootFails",
        vec![
            step(&d, 1, None, json!({})),
            step(&d, 2, Some(194), json!({})),
            step(&d, 3, None, json!({})),
        ],
    )
    .await;
    let inv = wait_ended(&node, &cmd).await;
    let log = node.fleet.agents[0].log();
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Failed),
        "{inv:?}\n{log}"
    );
    let got = plugins(&inv);
    assert_eq!((got[1].1.as_str(), got[1].2), ("Failed", 194), "{inv:?}");
    assert_eq!(got[2].1, "Success");
    let out = plugin_output(&inv, "step2");
    assert!(
        out.contains("asked for a reboot (exit code 194), and it failed")
            && out.contains("Failed to reboot: access denied"),
        "{out}"
    );
    // The step ran once (its reboot never happened), and so did every other.
    assert_eq!(lines(&d.join("order")), ["1", "2", "3"]);
    // The agent is not left rebooting: the next command runs.
    let again = send(
        &node,
        "AfterFailedReboot",
        vec![step(&d, 4, None, json!({}))],
    )
    .await;
    let inv = wait_ended(&node, &again).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_still_in_the_same_boot_after_the_timeout_fails_the_step_that_asked() {
    let mut node = node(|dir| {
        json!({
            "AllowReboot": true,
            "RebootCommand": reboot_script(dir).display().to_string(),
            "RebootTimeoutSeconds": 10,
        })
    })
    .await;
    let d = node.dir.path().to_path_buf();
    let cmd = send(
        &node,
        "RebootIgnored",
        vec![
            step(&d, 1, None, json!({})),
            step(&d, 2, Some(194), json!({})),
            step(&d, 3, None, json!({})),
        ],
    )
    .await;
    wait_for("the reboot request", LIMIT, || async {
        (lines(&d.join("reboots")).len() == 1).then_some(())
    })
    .await;
    // The agent restarts, but the node did not reboot (same boot id): the reboot command is
    // not run again, and the step is not run again either.
    node.fleet.agents[0].kill().await;
    node.start_agent();
    let inv = wait_ended(&node, &cmd).await;
    let log = node.fleet.agents[0].log();
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Failed),
        "{inv:?}\n{log}"
    );
    let got = plugins(&inv);
    assert_eq!((got[1].1.as_str(), got[1].2), ("Failed", 194), "{inv:?}");
    assert_eq!(got[2].1, "Success");
    let out = plugin_output(&inv, "step2");
    assert!(
        out.contains("the node did not restart within 10 seconds (its boot id did not change)"),
        "{out}"
    );
    assert_eq!(lines(&d.join("order")), ["1", "2", "3"]);
    assert_eq!(lines(&d.join("reboots")).len(), 1, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_allow_reboot_off_before_the_reboot_fails_the_step_instead() {
    let mut node = node(|dir| {
        json!({
            "AllowReboot": true,
            "RebootCommand": reboot_script(dir).display().to_string(),
        })
    })
    .await;
    let d = node.dir.path().to_path_buf();
    let cmd = send(
        &node,
        "RebootTurnedOff",
        vec![
            step(&d, 1, None, json!({})),
            step(&d, 2, Some(194), json!({})),
            step(&d, 3, None, json!({})),
        ],
    )
    .await;
    wait_for("the reboot request", LIMIT, || async {
        (lines(&d.join("reboots")).len() == 1).then_some(())
    })
    .await;
    node.fleet.agents[0].kill().await;
    node.fleet.agents[0].configure(&json!({"Agent": {"AllowReboot": false}}).to_string());
    node.start_agent();
    let inv = wait_ended(&node, &cmd).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
    let got = plugins(&inv);
    assert_eq!((got[1].1.as_str(), got[1].2), ("Failed", 194), "{inv:?}");
    let out = plugin_output(&inv, "step2");
    assert!(
        out.contains("Agent.AllowReboot was turned off before the node rebooted"),
        "{out}"
    );
    assert_eq!(lines(&d.join("order")), ["1", "2", "3"]);
    assert_eq!(lines(&d.join("reboots")).len(), 1);
}
