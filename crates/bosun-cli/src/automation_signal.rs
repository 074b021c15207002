//! `bosun automation signal`: StartStep, StopStep and Resume for an execution, the step named
//! as AWS's `SendAutomationSignal` payload wants it (`StepName`, or `StepExecutionId`).

use anyhow::bail;
use aws_sdk_ssm::types::{SignalType, StepExecution};
use aws_sdk_ssm::Client;

use crate::automation::{api, get};
use crate::automation_args::{Signal, SignalArgs};

/// Statuses of a step that has not ended.
fn running(s: &StepExecution) -> bool {
    matches!(
        s.step_status().map(|x| x.as_str()),
        Some("Pending" | "InProgress" | "Waiting")
    )
}

/// StopStep's `StepExecutionId` for `step`: a step execution id of the execution as given,
/// else the running execution of the step so named (else its latest, which the server then
/// says has ended).
async fn step_execution_id(client: &Client, id: &str, step: &str) -> anyhow::Result<String> {
    let e = get(client, id).await?;
    let steps = e.step_executions();
    if steps.iter().any(|s| s.step_execution_id() == Some(step)) {
        return Ok(step.to_string());
    }
    let named: Vec<&StepExecution> = steps
        .iter()
        .filter(|s| s.step_name() == Some(step))
        .collect();
    match named
        .iter()
        .rev()
        .find(|s| running(s))
        .or(named.last())
        .and_then(|s| s.step_execution_id())
    {
        Some(found) => Ok(found.to_string()),
        None => bail!("execution {id} has not run a step {step} (bosun automation show {id})"),
    }
}

pub async fn signal(client: &Client, args: SignalArgs) -> anyhow::Result<()> {
    let id = &args.execution_id;
    let mut req = client.send_automation_signal().automation_execution_id(id);
    let step = args.step.as_deref().filter(|s| !s.is_empty());
    req = match (args.signal, step) {
        (Signal::StartStep, Some(name)) => req
            .signal_type(SignalType::StartStep)
            .payload("StepName", vec![name.to_string()]),
        (Signal::StopStep, Some(step)) => {
            let step_id = step_execution_id(client, id, step).await?;
            req.signal_type(SignalType::StopStep)
                .payload("StepExecutionId", vec![step_id])
        }
        (Signal::StartStep | Signal::StopStep, None) => {
            bail!("{:?} needs --step", args.signal)
        }
        (Signal::Resume, name) => {
            let req = req.signal_type(SignalType::Resume);
            match name {
                Some(n) => req.payload("StepName", vec![n.to_string()]),
                None => req,
            }
        }
    };
    req.send().await.map_err(api)?;
    match step {
        Some(s) => eprintln!("sent {:?} for {s} to {id}", args.signal),
        None => eprintln!("sent {:?} to {id}", args.signal),
    }
    Ok(())
}
