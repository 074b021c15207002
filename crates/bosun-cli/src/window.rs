//! `bosun window create/add-target/add-task/list/show/execution/delete`: maintenance windows over
//! the SSM API, next runs on the operator's clock, and each node's outcome in an execution.

use std::collections::HashMap;

use anyhow::{anyhow, bail};
use aws_sdk_ssm::primitives::DateTime;
use aws_sdk_ssm::types::{
    MaintenanceWindowResourceType, MaintenanceWindowRunCommandParameters,
    MaintenanceWindowTaskInvocationParameters, MaintenanceWindowTaskType, Target,
};
use aws_sdk_ssm::Client;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::assoc_args::merge_targets;
use crate::client::describe_error;
use crate::next_run;
use crate::table;
use crate::window_args::{AddTargetArgs, AddTaskArgs, CreateWindowArgs, WindowCommand};

/// `bosun window …`.
pub async fn dispatch(client: &Client, command: WindowCommand) -> anyhow::Result<()> {
    match command {
        WindowCommand::Create(args) => create(client, args).await,
        WindowCommand::AddTarget(args) => add_target(client, args).await,
        WindowCommand::AddTask(args) => add_task(client, *args).await,
        WindowCommand::List { json } => list(client, json).await,
        WindowCommand::Show { window_id } => show(client, &window_id).await,
        WindowCommand::Execution { execution_id, json } => {
            execution(client, &execution_id, json).await
        }
        WindowCommand::Delete { window_id } => delete(client, &window_id).await,
    }
}

fn api<E>(e: aws_sdk_ssm::error::SdkError<E>) -> anyhow::Error
where
    E: std::error::Error + aws_sdk_ssm::error::ProvideErrorMetadata + 'static,
{
    anyhow!(describe_error(&e))
}

/// An AWS time string (`2026-12-08T05:00Z`, with or without seconds) on the operator's clock.
fn local_text(text: Option<&str>, tz: &TimeZone) -> String {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return String::new();
    };
    let parsed = text
        .parse::<Timestamp>()
        .or_else(|_| text.replace('Z', ":00Z").parse::<Timestamp>());
    match parsed {
        Ok(t) => next_run::local_time(t, tz),
        Err(_) => text.to_string(),
    }
}

fn local_date(d: Option<&DateTime>, tz: &TimeZone) -> String {
    d.and_then(|d| Timestamp::new(d.secs(), d.subsec_nanos() as i32).ok())
        .map(|t| next_run::local_time(t, tz))
        .unwrap_or_default()
}

fn targets_text(targets: &[Target]) -> String {
    targets
        .iter()
        .map(|t| format!("{}={}", t.key().unwrap_or_default(), t.values().join(",")))
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn create(client: &Client, args: CreateWindowArgs) -> anyhow::Result<()> {
    let out = client
        .create_maintenance_window()
        .name(&args.name)
        .schedule(&args.schedule)
        .set_schedule_timezone(args.timezone.clone())
        .set_schedule_offset(args.schedule_offset)
        .set_start_date(args.start_date.clone())
        .set_end_date(args.end_date.clone())
        .set_description(args.description.clone())
        .duration(args.duration)
        .cutoff(args.cutoff)
        .allow_unassociated_targets(args.allow_unassociated_targets)
        .send()
        .await
        .map_err(api)?;
    let id = out.window_id().unwrap_or_default();
    println!("created maintenance window {id} ({})", args.name);
    Ok(())
}

pub async fn add_target(client: &Client, args: AddTargetArgs) -> anyhow::Result<()> {
    let targets = merge_targets(&args.targets);
    let group = targets.iter().any(|(k, _)| k == "resource-groups:Name");
    if group && targets.len() > 1 {
        bail!("a resource group target cannot be combined with other targets in one registration");
    }
    let mut req = client
        .register_target_with_maintenance_window()
        .window_id(&args.window_id)
        .resource_type(if group {
            MaintenanceWindowResourceType::ResourceGroup
        } else {
            MaintenanceWindowResourceType::Instance
        })
        .set_name(args.name.clone())
        .set_owner_information(args.owner_information.clone());
    for (key, values) in targets {
        req = req.targets(Target::builder().key(key).set_values(Some(values)).build());
    }
    let out = req.send().await.map_err(api)?;
    println!(
        "registered window target {}",
        out.window_target_id().unwrap_or_default()
    );
    Ok(())
}

pub async fn add_task(client: &Client, args: AddTaskArgs) -> anyhow::Result<()> {
    let mut window_targets = args.window_targets.clone();
    if window_targets.is_empty() {
        let out = client
            .describe_maintenance_window_targets()
            .window_id(&args.window_id)
            .send()
            .await
            .map_err(api)?;
        window_targets = out
            .targets()
            .iter()
            .filter_map(|t| t.window_target_id().map(str::to_string))
            .collect();
        if window_targets.is_empty() {
            bail!(
                "window {} has no targets yet: add one with `bosun window add-target`",
                args.window_id
            );
        }
    }
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in &args.params {
        params.entry(k.clone()).or_default().push(v.clone());
    }
    if !args.command.is_empty() {
        if args.document != "AWS-RunShellScript" {
            bail!("a command after `--` is the commands parameter of AWS-RunShellScript; for {} use --param", args.document);
        }
        params
            .entry("commands".into())
            .or_default()
            .push(args.command.join(" "));
    }
    let run_command = MaintenanceWindowRunCommandParameters::builder()
        .set_parameters((!params.is_empty()).then_some(params))
        .build();
    let out = client
        .register_task_with_maintenance_window()
        .window_id(&args.window_id)
        .task_type(MaintenanceWindowTaskType::RunCommand)
        .task_arn(&args.document)
        .targets(
            Target::builder()
                .key("WindowTargetIds")
                .set_values(Some(window_targets))
                .build(),
        )
        .priority(args.priority)
        .max_concurrency(&args.max_concurrency)
        .max_errors(&args.max_errors)
        .set_name(args.name.clone())
        .task_invocation_parameters(
            MaintenanceWindowTaskInvocationParameters::builder()
                .run_command(run_command)
                .build(),
        )
        .send()
        .await
        .map_err(api)?;
    println!(
        "registered window task {}",
        out.window_task_id().unwrap_or_default()
    );
    Ok(())
}

pub async fn list(client: &Client, json: bool) -> anyhow::Result<()> {
    let mut windows = Vec::new();
    let mut pages = client
        .describe_maintenance_windows()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        windows.extend(page.map_err(api)?.window_identities().to_vec());
    }
    if json {
        let out: Vec<Value> = windows
            .iter()
            .map(|w| {
                json!({"WindowId": w.window_id(), "Name": w.name(), "Enabled": w.enabled(),
                       "Schedule": w.schedule(), "ScheduleTimezone": w.schedule_timezone(),
                       "Duration": w.duration(), "Cutoff": w.cutoff(),
                       "NextExecutionTime": w.next_execution_time()})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if windows.is_empty() {
        println!("No maintenance windows. Create one with `bosun window create`.");
        return Ok(());
    }
    let tz = next_run::local_zone();
    let next_header = format!("NEXT RUN ({})", next_run::zone_name(&tz));
    let rows: Vec<Vec<String>> = windows
        .iter()
        .map(|w| {
            vec![
                w.name().unwrap_or_default().to_string(),
                w.window_id().unwrap_or_default().to_string(),
                format!(
                    "{}{}",
                    w.schedule().unwrap_or_default(),
                    w.schedule_timezone()
                        .map(|z| format!(" {z}"))
                        .unwrap_or_default()
                ),
                format!("{}h/{}h", w.duration().unwrap_or(0), w.cutoff()),
                if w.enabled() { "yes" } else { "no" }.to_string(),
                local_text(w.next_execution_time(), &tz),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "NAME",
                "ID",
                "SCHEDULE",
                "DURATION/CUTOFF",
                "ENABLED",
                &next_header
            ],
            &rows
        )
    );
    Ok(())
}

pub async fn show(client: &Client, window_id: &str) -> anyhow::Result<()> {
    let tz = next_run::local_zone();
    let w = client
        .get_maintenance_window()
        .window_id(window_id)
        .send()
        .await
        .map_err(api)?;
    println!("Window:    {} ({window_id})", w.name().unwrap_or_default());
    println!(
        "Schedule:  {} {} (duration {}h, cutoff {}h, {})",
        w.schedule().unwrap_or_default(),
        w.schedule_timezone().unwrap_or("UTC"),
        w.duration().unwrap_or(0),
        w.cutoff(),
        if w.enabled() { "enabled" } else { "disabled" }
    );
    let targets = client
        .describe_maintenance_window_targets()
        .window_id(window_id)
        .send()
        .await
        .map_err(api)?;
    for t in targets.targets() {
        println!(
            "Target:    {} {}",
            t.window_target_id().unwrap_or_default(),
            targets_text(t.targets())
        );
    }
    let tasks = client
        .describe_maintenance_window_tasks()
        .window_id(window_id)
        .send()
        .await
        .map_err(api)?;
    for t in tasks.tasks() {
        println!(
            "Task:      {} priority {} {} {} (concurrency {}, errors {})",
            t.window_task_id().unwrap_or_default(),
            t.priority(),
            t.r#type().map(|x| x.as_str()).unwrap_or_default(),
            t.task_arn().unwrap_or_default(),
            t.max_concurrency().unwrap_or_default(),
            t.max_errors().unwrap_or_default()
        );
    }
    let schedule = client
        .describe_maintenance_window_schedule()
        .window_id(window_id)
        .max_results(3)
        .send()
        .await
        .map_err(api)?;
    for s in schedule.scheduled_window_executions() {
        println!("Next run:  {}", local_text(s.execution_time(), &tz));
    }
    let executions = client
        .describe_maintenance_window_executions()
        .window_id(window_id)
        .max_results(10)
        .send()
        .await
        .map_err(api)?;
    let rows: Vec<Vec<String>> = executions
        .window_executions()
        .iter()
        .map(|e| {
            vec![
                e.window_execution_id().unwrap_or_default().to_string(),
                e.status()
                    .map(|s| s.as_str())
                    .unwrap_or_default()
                    .to_string(),
                local_date(e.start_time(), &tz),
                e.status_details().unwrap_or_default().to_string(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        println!();
        print!(
            "{}",
            table::render(&["EXECUTION", "STATUS", "STARTED", "DETAILS"], &rows)
        );
    }
    Ok(())
}

/// Each task of an execution, and under it each node's command status.
pub async fn execution(client: &Client, execution_id: &str, json: bool) -> anyhow::Result<()> {
    let e = client
        .get_maintenance_window_execution()
        .window_execution_id(execution_id)
        .send()
        .await
        .map_err(api)?;
    let tasks = client
        .describe_maintenance_window_execution_tasks()
        .window_execution_id(execution_id)
        .send()
        .await
        .map_err(api)?;
    let mut nodes = Vec::new();
    for task in tasks.window_execution_task_identities() {
        let task_id = task.task_execution_id().unwrap_or_default();
        let invocations = client
            .describe_maintenance_window_execution_task_invocations()
            .window_execution_id(execution_id)
            .task_id(task_id)
            .send()
            .await
            .map_err(api)?;
        for inv in invocations.window_execution_task_invocation_identities() {
            let command_id = inv.execution_id().unwrap_or_default();
            let mut node = String::new();
            let mut node_status = String::new();
            if !command_id.is_empty() {
                let out = client
                    .list_command_invocations()
                    .command_id(command_id)
                    .send()
                    .await
                    .map_err(api)?;
                if let Some(ci) = out.command_invocations().first() {
                    node = ci.instance_id().unwrap_or_default().to_string();
                    node_status = ci.status_details().unwrap_or_default().to_string();
                }
            }
            nodes.push(json!({
                "TaskExecutionId": task_id,
                "TaskArn": task.task_arn(),
                "InvocationId": inv.invocation_id(),
                "Status": inv.status().map(|s| s.as_str()),
                "StatusDetails": inv.status_details(),
                "CommandId": command_id,
                "InstanceId": node,
                "CommandStatus": node_status,
            }));
        }
    }
    if json {
        let out = json!({
            "WindowExecutionId": execution_id,
            "Status": e.status().map(|s| s.as_str()),
            "StatusDetails": e.status_details(),
            "Invocations": nodes,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "Execution: {execution_id} {} {}",
        e.status().map(|s| s.as_str()).unwrap_or_default(),
        e.status_details().unwrap_or_default()
    );
    let cell = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let rows: Vec<Vec<String>> = nodes
        .iter()
        .map(|n| {
            vec![
                cell(n, "TaskArn"),
                cell(n, "InstanceId"),
                cell(n, "Status"),
                cell(n, "CommandId"),
                cell(n, "StatusDetails"),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["TASK", "NODE", "STATUS", "COMMAND", "DETAILS"], &rows)
    );
    Ok(())
}

pub async fn delete(client: &Client, window_id: &str) -> anyhow::Result<()> {
    client
        .delete_maintenance_window()
        .window_id(window_id)
        .send()
        .await
        .map_err(api)?;
    println!("deleted maintenance window {window_id}");
    Ok(())
}
