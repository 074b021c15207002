//! `bosun automation start --mode Interactive` and `bosun automation signal`: the CLI starts an
//! execution that waits before each step, starts each step by name, stops a running step by
//! name (its `onCancel` goes on to the last step), and the execution ends Success; `Revoke`
//! (Change Manager's) is refused with `InvalidAutomationSignalException`.

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{AutomationExecutionStatus, ExecutionMode, SignalType, StepExecution};
use aws_sdk_ssm::Client;
use bosun_e2e::automation::{create_runbook, get, wait_status, LIMIT};
use bosun_e2e::{wait_for, TestServer};

fn runbook() -> serde_json::Value {
    serde_json::json!({
        "schemaVersion": "0.3",
        "mainSteps": [
            {"name": "look", "action": "aws:executeAwsApi",
             "inputs": {"Service": "ssm", "Api": "DescribeInstanceInformation"}},
            {"name": "nap", "action": "aws:sleep", "onCancel": "step:last",
             "inputs": {"Duration": "PT60S"}},
            {"name": "last", "action": "aws:executeAwsApi", "isEnd": true,
             "inputs": {"Service": "ssm", "Api": "DescribeInstanceInformation"}}
        ]
    })
}

/// Wait until execution `id` has `n` steps, the last one `status`, and the execution `then`.
async fn wait_steps(
    c: &Client,
    id: &str,
    n: usize,
    status: AutomationExecutionStatus,
    then: AutomationExecutionStatus,
) -> Vec<StepExecution> {
    wait_for(
        &format!("{id}: {n} steps, last {status:?}"),
        LIMIT,
        || async {
            let e = get(c, id).await;
            let steps = e.step_executions().to_vec();
            let last_ok = steps.last().and_then(|s| s.step_status()) == Some(&status);
            (steps.len() == n && last_ok && e.automation_execution_status() == Some(&then))
                .then_some(steps)
        },
    )
    .await
}

async fn signal(server: &TestServer, id: &str, kind: &str, step: &str) {
    let (ok, out, err) = server
        .cli(&["automation", "signal", id, "--type", kind, "--step", step])
        .await;
    assert!(ok, "signal {kind} {step}: {out}{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_an_interactive_execution_step_by_step() {
    let server = TestServer::start().await;
    let c = &server.client();
    create_runbook(c, "Cli-Step-By-Step", runbook()).await;
    let (ok, out, err) = server
        .cli(&[
            "automation",
            "start",
            "Cli-Step-By-Step",
            "--mode",
            "Interactive",
        ])
        .await;
    assert!(ok, "{out}{err}");
    let id = out.trim().to_string();
    let e = wait_status(c, &id, AutomationExecutionStatus::Waiting).await;
    assert_eq!(e.mode(), Some(&ExecutionMode::Interactive));
    assert!(e.step_executions().is_empty(), "{e:#?}");

    use AutomationExecutionStatus::{Cancelled, Inprogress, Success, Waiting};
    signal(&server, &id, "StartStep", "look").await;
    wait_steps(c, &id, 1, Success, Waiting).await;

    // A running step is stopped by its name; its onCancel leaves the execution waiting.
    signal(&server, &id, "StartStep", "nap").await;
    wait_steps(c, &id, 2, Inprogress, Inprogress).await;
    signal(&server, &id, "StopStep", "nap").await;
    wait_steps(c, &id, 2, Cancelled, Waiting).await;
    // A step that never ran cannot be stopped; StartStep needs its step.
    let (ok, _, err) = server
        .cli(&[
            "automation",
            "signal",
            &id,
            "--type",
            "StopStep",
            "--step",
            "last",
        ])
        .await;
    assert!(!ok && err.contains("has not run a step last"), "{err}");
    let (ok, _, err) = server
        .cli(&["automation", "signal", &id, "--type", "StartStep"])
        .await;
    assert!(!ok && err.contains("needs --step"), "{err}");

    signal(&server, &id, "StartStep", "last").await;
    let e = wait_status(c, &id, Success).await;
    let names: Vec<_> = e
        .step_executions()
        .iter()
        .map(|s| s.step_name().unwrap())
        .collect();
    assert_eq!(names, ["look", "nap", "last"]);

    // Revoke is Change Manager's; Bosun has no change requests.
    let err = c
        .send_automation_signal()
        .automation_execution_id(&id)
        .signal_type(SignalType::Revoke)
        .send()
        .await
        .expect_err("Revoke is refused");
    assert_eq!(err.code(), Some("InvalidAutomationSignalException"));
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("no Change Manager change requests to revoke"),
        "{err:?}"
    );
}
