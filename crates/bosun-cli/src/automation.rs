//! `bosun automation start/show/list/approve/resume/stop`: runbooks over the SSM Automation API
//! (Auto or Interactive mode), a started execution followed step by step, and the signals a
//! waiting step needs (`signal`: `automation_signal.rs`).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use aws_sdk_ssm::primitives::DateTime;
use aws_sdk_ssm::types::{
    AutomationExecution, AutomationExecutionFilter, AutomationExecutionFilterKey,
    AutomationExecutionStatus, ExecutionMode, SignalType, StepExecution, StopType,
};
use aws_sdk_ssm::Client;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::automation_args::{AutomationCommand, Mode, StartArgs};
use crate::automation_steps::{label, parent_json};
use crate::client::describe_error;
use crate::{next_run, table};

/// How often `start --wait` looks at the execution.
const POLL: Duration = Duration::from_millis(500);

/// `bosun automation …`; the exit status.
pub async fn dispatch(client: &Client, command: AutomationCommand) -> anyhow::Result<u8> {
    match command {
        AutomationCommand::Start(args) => start(client, args).await,
        AutomationCommand::Show { execution_id, json } => {
            show(client, &execution_id, json).await.map(|()| 0)
        }
        AutomationCommand::List {
            status,
            document,
            limit,
        } => list(client, status, document, limit).await.map(|()| 0),
        AutomationCommand::Approve {
            execution_id,
            reject,
            comment,
        } => approve(client, &execution_id, reject, comment)
            .await
            .map(|()| 0),
        AutomationCommand::Resume { execution_id } => {
            resume(client, &execution_id).await.map(|()| 0)
        }
        AutomationCommand::Signal(args) => crate::automation_signal::signal(client, args)
            .await
            .map(|()| 0),
        AutomationCommand::Stop {
            execution_id,
            complete,
        } => stop(client, &execution_id, complete).await.map(|()| 0),
    }
}

pub(crate) fn api<E>(e: aws_sdk_ssm::error::SdkError<E>) -> anyhow::Error
where
    E: std::error::Error + aws_sdk_ssm::error::ProvideErrorMetadata + 'static,
{
    anyhow!(describe_error(&e))
}

fn local(d: Option<&DateTime>, tz: &TimeZone) -> String {
    d.and_then(|d| Timestamp::new(d.secs(), d.subsec_nanos() as i32).ok())
        .map(|t| next_run::local_time(t, tz))
        .unwrap_or_default()
}

fn is_terminal(status: Option<&AutomationExecutionStatus>) -> bool {
    matches!(
        status.map(AutomationExecutionStatus::as_str),
        Some(
            "Success"
                | "Failed"
                | "TimedOut"
                | "Cancelled"
                | "Rejected"
                | "CompletedWithSuccess"
                | "CompletedWithFailure"
                | "Exited"
        )
    )
}

pub(crate) async fn get(client: &Client, id: &str) -> anyhow::Result<AutomationExecution> {
    client
        .get_automation_execution()
        .automation_execution_id(id)
        .send()
        .await
        .map_err(api)?
        .automation_execution
        .ok_or_else(|| anyhow!("the server answered without the execution"))
}

async fn start(client: &Client, args: StartArgs) -> anyhow::Result<u8> {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &args.params {
        params.entry(name.clone()).or_default().push(value.clone());
    }
    let out = client
        .start_automation_execution()
        .document_name(&args.document)
        .set_document_version(args.version.clone())
        .set_parameters((!params.is_empty()).then(|| params.into_iter().collect()))
        .set_mode(args.mode.map(|m| match m {
            Mode::Auto => ExecutionMode::Auto,
            Mode::Interactive => ExecutionMode::Interactive,
        }))
        .send()
        .await
        .map_err(api)?;
    let id = out
        .automation_execution_id
        .ok_or_else(|| anyhow!("the server answered without an execution id"))?;
    if !args.wait {
        println!("{id}");
        return Ok(0);
    }
    eprintln!("execution {id} of {}", args.document);
    follow(client, &id, Duration::from_secs(args.timeout)).await
}

/// Print each step's changes until the execution ends; 0 when it ends Success.
async fn follow(client: &Client, id: &str, limit: Duration) -> anyhow::Result<u8> {
    let deadline = Instant::now() + limit;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut hinted = false;
    loop {
        let e = get(client, id).await?;
        for s in e.step_executions() {
            let key = s.step_execution_id().unwrap_or_default().to_string();
            let status = s
                .step_status()
                .map(|x| x.as_str())
                .unwrap_or("")
                .to_string();
            if seen.get(&key) != Some(&status) {
                eprintln!("  {}", step_line(s));
                seen.insert(key, status);
            }
        }
        let status = e.automation_execution_status();
        if is_terminal(status) {
            let status = status.map(|s| s.as_str()).unwrap_or("");
            match e.failure_message().filter(|m| !m.is_empty()) {
                Some(why) => eprintln!("{status}: {why}"),
                None => eprintln!("{status}"),
            }
            for (name, values) in e.outputs().into_iter().flatten() {
                println!("{name}={}", values.join(","));
            }
            return Ok(u8::from(status != "Success"));
        }
        let waiting = e
            .step_executions()
            .iter()
            .find(|s| s.step_status().map(|x| x.as_str()) == Some("Waiting"));
        if let (Some(w), false) = (waiting, hinted) {
            let how = match w.action() {
                Some("aws:approve") => format!("bosun automation approve {id} [--reject]"),
                Some("aws:pause") => format!("bosun automation resume {id}"),
                _ => String::new(),
            };
            if !how.is_empty() {
                eprintln!("  waiting at {}: {how}", w.step_name().unwrap_or_default());
                hinted = true;
            }
        } else if waiting.is_none()
            && !hinted
            && e.mode() == Some(&ExecutionMode::Interactive)
            && status.map(|s| s.as_str()) == Some("Waiting")
        {
            eprintln!(
                "  waiting for a step: bosun automation signal {id} --type StartStep --step NAME"
            );
            hinted = true;
        }
        if Instant::now() >= deadline {
            bail!(
                "still {} after {limit:?}; it goes on (bosun automation show {id})",
                status.map(|s| s.as_str()).unwrap_or("running")
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

fn step_line(s: &StepExecution) -> String {
    let mut line = format!(
        "{} ({}): {}",
        label(s),
        s.action().unwrap_or_default(),
        s.step_status().map(|x| x.as_str()).unwrap_or_default()
    );
    if let Some(why) = s.failure_message().filter(|m| !m.is_empty()) {
        line.push_str(" — ");
        line.push_str(why);
    }
    line
}

async fn show(client: &Client, id: &str, as_json: bool) -> anyhow::Result<()> {
    let e = get(client, id).await?;
    if as_json {
        let steps: Vec<Value> = e
            .step_executions()
            .iter()
            .map(|s| {
                json!({
                    "StepName": s.step_name(), "Action": s.action(),
                    "StepStatus": s.step_status().map(|x| x.as_str()),
                    "Inputs": s.inputs(), "Outputs": s.outputs(),
                    "FailureMessage": s.failure_message(),
                    "ParentStepDetails": parent_json(s),
                })
            })
            .collect();
        let out = json!({
            "AutomationExecutionId": e.automation_execution_id(),
            "DocumentName": e.document_name(), "DocumentVersion": e.document_version(),
            "AutomationExecutionStatus": e.automation_execution_status().map(|x| x.as_str()),
            "Parameters": e.parameters(), "Outputs": e.outputs(),
            "FailureMessage": e.failure_message(), "ExecutedBy": e.executed_by(),
            "StepExecutions": steps,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let tz = next_run::local_zone();
    println!(
        "Execution   {}",
        e.automation_execution_id().unwrap_or_default()
    );
    println!(
        "Runbook     {} (version {})",
        e.document_name().unwrap_or_default(),
        e.document_version().unwrap_or_default()
    );
    println!(
        "Status      {}",
        e.automation_execution_status()
            .map(|x| x.as_str())
            .unwrap_or_default()
    );
    println!("Started by  {}", e.executed_by().unwrap_or_default());
    println!(
        "Times       {} → {}",
        local(e.execution_start_time(), &tz),
        local(e.execution_end_time(), &tz)
    );
    if let Some(why) = e.failure_message().filter(|m| !m.is_empty()) {
        println!("Failure     {why}");
    }
    for (name, values) in e.parameters().into_iter().flatten() {
        println!("Parameter   {name}={}", values.join(","));
    }
    for (name, values) in e.outputs().into_iter().flatten() {
        println!("Output      {name}={}", values.join(","));
    }
    let rows: Vec<Vec<String>> = e
        .step_executions()
        .iter()
        .map(|s| {
            let detail = match s.failure_message().filter(|m| !m.is_empty()) {
                Some(why) => why.to_string(),
                None => s
                    .outputs()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| format!("{k}={}", v.join(",")))
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            vec![
                label(s),
                s.action().unwrap_or_default().to_string(),
                s.step_status()
                    .map(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string(),
                local(s.execution_start_time(), &tz),
                local(s.execution_end_time(), &tz),
                detail,
            ]
        })
        .collect();
    print!(
        "\n{}",
        table::render(
            &["STEP", "ACTION", "STATUS", "STARTED", "ENDED", "DETAIL"],
            &rows
        )
    );
    Ok(())
}

async fn list(
    client: &Client,
    status: Option<String>,
    document: Option<String>,
    limit: i32,
) -> anyhow::Result<()> {
    if !(1..=50).contains(&limit) {
        bail!("--limit must be 1-50");
    }
    let mut req = client.describe_automation_executions().max_results(limit);
    for (key, value) in [
        (AutomationExecutionFilterKey::ExecutionStatus, status),
        (AutomationExecutionFilterKey::DocumentNamePrefix, document),
    ] {
        if let Some(v) = value {
            req = req.filters(
                AutomationExecutionFilter::builder()
                    .key(key)
                    .values(v)
                    .build()?,
            );
        }
    }
    let out = req.send().await.map_err(api)?;
    let tz = next_run::local_zone();
    let rows: Vec<Vec<String>> = out
        .automation_execution_metadata_list()
        .iter()
        .map(|m| {
            vec![
                m.automation_execution_id().unwrap_or_default().to_string(),
                m.document_name().unwrap_or_default().to_string(),
                m.automation_execution_status()
                    .map(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string(),
                local(m.execution_start_time(), &tz),
                local(m.execution_end_time(), &tz),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &["EXECUTION", "RUNBOOK", "STATUS", "STARTED", "ENDED"],
            &rows
        )
    );
    Ok(())
}

async fn approve(
    client: &Client,
    id: &str,
    reject: bool,
    comment: Option<String>,
) -> anyhow::Result<()> {
    let signal = if reject {
        SignalType::Reject
    } else {
        SignalType::Approve
    };
    let mut req = client
        .send_automation_signal()
        .automation_execution_id(id)
        .signal_type(signal);
    if let Some(c) = comment {
        req = req.payload("Comment", vec![c]);
    }
    req.send().await.map_err(api)?;
    eprintln!("{} {id}", if reject { "rejected" } else { "approved" });
    Ok(())
}

async fn resume(client: &Client, id: &str) -> anyhow::Result<()> {
    let e = get(client, id).await?;
    let Some(step) = e
        .step_executions()
        .iter()
        .find(|s| {
            s.action() == Some("aws:pause")
                && s.step_status().map(|x| x.as_str()) == Some("Waiting")
        })
        .and_then(|s| s.step_name())
    else {
        bail!("execution {id} has no aws:pause step waiting");
    };
    client
        .send_automation_signal()
        .automation_execution_id(id)
        .signal_type(SignalType::Resume)
        .payload("StepName", vec![step.to_string()])
        .send()
        .await
        .map_err(api)?;
    eprintln!("resumed {id} at {step}");
    Ok(())
}

async fn stop(client: &Client, id: &str, complete: bool) -> anyhow::Result<()> {
    client
        .stop_automation_execution()
        .automation_execution_id(id)
        .r#type(if complete {
            StopType::Complete
        } else {
            StopType::Cancel
        })
        .send()
        .await
        .map_err(api)?;
    eprintln!("stopping {id}");
    Ok(())
}
