//! `Mode: Interactive` end to end: the execution waits before every step and runs only the
//! step a `StartStep` signal names (sent with the AWS CLI and the SDK), skipping others as the
//! caller chooses; `StopStep` stops a running step (its `onCancel` decides what follows); the
//! signals' errors (`AutomationStepNotFoundException`, `InvalidAutomationSignalException`).

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{AutomationExecutionStatus, ExecutionMode, SignalType, StepExecution};
use aws_sdk_ssm::Client;
use bosun_e2e::automation::{create_runbook, get, wait_status, LIMIT};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

fn runbook() -> serde_json::Value {
    let say = |what: &str| {
        serde_json::json!({
            "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
            "Parameters": {"commands": [format!("echo {what} >> {{{{ Log }}}}")]}
        })
    };
    serde_json::json!({
        "schemaVersion": "0.3",
        "parameters": {"InstanceId": {"type": "String"}, "Log": {"type": "String"}},
        "mainSteps": [
            {"name": "first", "action": "aws:runCommand", "inputs": say("one")},
            {"name": "second", "action": "aws:runCommand", "inputs": say("two")},
            {"name": "long", "action": "aws:sleep", "onCancel": "step:last",
             "inputs": {"Duration": "PT60S"}},
            {"name": "last", "action": "aws:runCommand", "inputs": say("last"), "isEnd": true}
        ]
    })
}

async fn signal(
    c: &Client,
    id: &str,
    kind: SignalType,
    key: &str,
    value: &str,
) -> Result<(), String> {
    c.send_automation_signal()
        .automation_execution_id(id)
        .signal_type(kind)
        .payload(key, vec![value.to_string()])
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or_default().to_string())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interactive_execution_runs_only_the_steps_it_is_told_to() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let c = &fleet.client;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("steps.log");
    let log = log.to_str().unwrap().to_string();
    create_runbook(c, "Step-By-Step", runbook()).await;
    let id = c
        .start_automation_execution()
        .document_name("Step-By-Step")
        .mode(ExecutionMode::Interactive)
        .parameters("InstanceId", vec![node.clone()])
        .parameters("Log", vec![log.clone()])
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Waiting).await;
    assert_eq!(e.mode(), Some(&ExecutionMode::Interactive));
    assert!(e.step_executions().is_empty(), "{e:#?}");

    // An unknown step, a stop of a step that does not exist.
    let err = signal(c, &id, SignalType::StartStep, "StepName", "nope").await;
    assert_eq!(err, Err("AutomationStepNotFoundException".into()));
    let err = signal(c, &id, SignalType::StopStep, "StepExecutionId", "x").await;
    assert_eq!(err, Err("AutomationStepNotFoundException".into()));

    // The AWS CLI starts the first step; it runs, and the execution waits again: the second
    // step does not run by itself.
    fleet
        .server
        .aws(&[
            "ssm",
            "send-automation-signal",
            "--automation-execution-id",
            &id,
            "--signal-type",
            "StartStep",
            "--payload",
            "StepName=first",
        ])
        .expect("send-automation-signal StartStep");
    let steps = wait_steps(
        c,
        &id,
        1,
        AutomationExecutionStatus::Success,
        AutomationExecutionStatus::Waiting,
    )
    .await;
    assert_eq!(steps[0].step_name(), Some("first"));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\n");

    // The caller skips `second` and starts `long`; while it runs no other step starts.
    signal(c, &id, SignalType::StartStep, "StepName", "long")
        .await
        .unwrap();
    let steps = wait_steps(
        c,
        &id,
        2,
        AutomationExecutionStatus::Inprogress,
        AutomationExecutionStatus::Inprogress,
    )
    .await;
    let err = signal(c, &id, SignalType::StartStep, "StepName", "last").await;
    assert_eq!(err, Err("InvalidAutomationSignalException".into()));
    // StopStep ends it `Cancelled`; its `onCancel` (step:last) leaves the execution waiting.
    let long = steps[1].step_execution_id().unwrap().to_string();
    signal(c, &id, SignalType::StopStep, "StepExecutionId", &long)
        .await
        .unwrap();
    wait_steps(
        c,
        &id,
        2,
        AutomationExecutionStatus::Cancelled,
        AutomationExecutionStatus::Waiting,
    )
    .await;
    let err = signal(c, &id, SignalType::StopStep, "StepExecutionId", &long).await;
    assert_eq!(err, Err("InvalidAutomationSignalException".into()));

    // The last step (`isEnd`) ends the execution.
    signal(c, &id, SignalType::StartStep, "StepName", "last")
        .await
        .unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Success).await;
    let names: Vec<_> = e
        .step_executions()
        .iter()
        .map(|s| s.step_name().unwrap())
        .collect();
    assert_eq!(names, ["first", "long", "last"]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\nlast\n");

    // An execution in Auto mode takes no StartStep.
    let auto = c
        .start_automation_execution()
        .document_name("Step-By-Step")
        .parameters("InstanceId", vec![node.clone()])
        .parameters("Log", vec![log.clone()])
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    let err = signal(c, &auto, SignalType::StartStep, "StepName", "first").await;
    assert_eq!(err, Err("InvalidAutomationSignalException".into()));
    // It runs on by itself to `long`, then is stopped.
    wait_for("the auto execution at long", LIMIT, || async {
        (get(c, &auto).await.current_step_name() == Some("long")).then_some(())
    })
    .await;
    c.stop_automation_execution()
        .automation_execution_id(&auto)
        .send()
        .await
        .unwrap();
    wait_status(c, &auto, AutomationExecutionStatus::Cancelled).await;
}
