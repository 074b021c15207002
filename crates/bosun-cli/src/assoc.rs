//! `bosun assoc create/list/show/history/run-now/delete`: State Manager associations over the
//! SSM API, with the next run on the operator's clock and each node's status in the last run.

use anyhow::{anyhow, bail};
use aws_sdk_ssm::primitives::DateTime;
use aws_sdk_ssm::types::{Association, AssociationComplianceSeverity, AssociationDescription};
use aws_sdk_ssm::types::{AssociationExecution, AssociationExecutionTarget, Target};
use aws_sdk_ssm::Client;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::assoc_args::{merge_targets, AssocCommand, CreateArgs};
use crate::client::describe_error;
use crate::next_run::{self, NextRun, Scheduled};
use crate::{style, table};

/// `bosun assoc …`.
pub async fn dispatch(client: &Client, command: AssocCommand) -> anyhow::Result<()> {
    match command {
        AssocCommand::Create(args) => create(client, *args).await,
        AssocCommand::List { json } => list(client, json).await,
        AssocCommand::Show {
            association_id,
            json,
        } => show(client, &association_id, json).await,
        AssocCommand::History {
            association_id,
            limit,
            json,
        } => history(client, &association_id, limit, json).await,
        AssocCommand::RunNow { association_ids } => run_now(client, association_ids).await,
        AssocCommand::Delete { association_id } => delete(client, &association_id).await,
    }
}

fn timestamp(d: &DateTime) -> Option<Timestamp> {
    Timestamp::new(d.secs(), d.subsec_nanos() as i32).ok()
}

fn local(d: Option<&DateTime>, tz: &TimeZone) -> String {
    d.and_then(timestamp)
        .map(|t| next_run::local_time(t, tz))
        .unwrap_or_default()
}

fn rfc3339(d: Option<&DateTime>) -> Value {
    d.and_then(timestamp)
        .map(|t| json!(t.to_string()))
        .unwrap_or(Value::Null)
}

/// `tag:env=dev,prod  InstanceIds=mi-1` as one line.
fn targets_text(targets: &[Target]) -> String {
    targets
        .iter()
        .map(|t| format!("{}={}", t.key().unwrap_or_default(), t.values().join(",")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The next run of a described association.
fn next_of(d: &AssociationDescription, now: Timestamp) -> NextRun {
    next_run::next_run(
        &Scheduled {
            expression: d.schedule_expression(),
            offset_days: d.schedule_offset().unwrap_or(0).clamp(0, 6) as u8,
            apply_only_at_cron_interval: d.apply_only_at_cron_interval(),
            anchor: d
                .last_update_association_date()
                .or(d.date())
                .and_then(timestamp)
                .unwrap_or(now),
            has_run: d.last_execution_date().is_some(),
        },
        now,
    )
}

async fn describe(client: &Client, id: &str) -> anyhow::Result<AssociationDescription> {
    client
        .describe_association()
        .association_id(id)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?
        .association_description
        .ok_or_else(|| anyhow!("the server described no association {id}"))
}

pub async fn create(client: &Client, args: CreateArgs) -> anyhow::Result<()> {
    let mut req = client
        .create_association()
        .name(&args.document)
        .set_association_name(args.name.clone())
        .set_document_version(args.document_version.clone())
        .set_schedule_expression(args.schedule.clone())
        .set_schedule_offset(args.schedule_offset)
        .set_max_concurrency(args.max_concurrency.clone())
        .set_max_errors(args.max_errors.clone())
        .set_compliance_severity(
            args.compliance_severity
                .as_deref()
                .map(AssociationComplianceSeverity::from),
        );
    if args.apply_only_at_cron_interval {
        req = req.apply_only_at_cron_interval(true);
    }
    for (key, values) in merge_targets(&args.targets) {
        req = req.targets(Target::builder().key(key).set_values(Some(values)).build());
    }
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in &args.params {
        match params.iter_mut().find(|(name, _)| name == k) {
            Some((_, values)) => values.push(v.clone()),
            None => params.push((k.clone(), vec![v.clone()])),
        }
    }
    if !args.command.is_empty() {
        if args.document != "AWS-RunShellScript" {
            bail!(
                "a shell command after `--` only goes with AWS-RunShellScript; pass {}'s \
                 parameters with --param",
                args.document
            );
        }
        if params.iter().any(|(k, _)| k == "commands") {
            bail!("give the commands once: after `--` or with --param commands=…, not both");
        }
        params.push(("commands".into(), vec![args.command.join(" ")]));
    }
    for (k, v) in params {
        req = req.parameters(k, v);
    }
    let out = req.send().await.map_err(|e| anyhow!(describe_error(&e)))?;
    let d = out
        .association_description
        .ok_or_else(|| anyhow!("the server answered without the association"))?;
    let tz = next_run::local_zone();
    println!(
        "created association {}{}",
        d.association_id().unwrap_or_default(),
        d.association_name()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );
    println!("Document:  {}", d.name().unwrap_or_default());
    println!("Targets:   {}", targets_text(d.targets()));
    println!("Schedule:  {}", d.schedule_expression().unwrap_or("(none)"));
    println!(
        "Next run:  {} ({})",
        next_run::describe(&next_of(&d, Timestamp::now()), &tz),
        next_run::zone_name(&tz)
    );
    Ok(())
}

/// One list row's fields: from the list item, plus its description where the next run needs it.
struct Row {
    item: Association,
    next: NextRun,
}

pub async fn list(client: &Client, json: bool) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let mut rows = Vec::new();
    let mut pages = client.list_associations().into_paginator().items().send();
    while let Some(item) = pages.next().await {
        let item = item.map_err(|e| anyhow!(describe_error(&e)))?;
        // A list item lacks the anchor a rate counts from and ApplyOnlyAtCronInterval: a cron
        // association that has run needs neither, the others are described.
        let is_cron = item
            .schedule_expression()
            .is_some_and(|s| s.starts_with("cron("));
        let next = if is_cron && item.last_execution_date().is_some() {
            next_run::next_run(
                &Scheduled {
                    expression: item.schedule_expression(),
                    offset_days: item.schedule_offset().unwrap_or(0).clamp(0, 6) as u8,
                    apply_only_at_cron_interval: false,
                    anchor: Timestamp::UNIX_EPOCH,
                    has_run: true,
                },
                now,
            )
        } else {
            next_of(
                &describe(client, item.association_id().unwrap_or_default()).await?,
                now,
            )
        };
        rows.push(Row { item, next });
    }
    let tz = next_run::local_zone();
    let zone = next_run::zone_name(&tz);
    if json {
        let items: Vec<Value> = rows
            .iter()
            .map(|r| {
                let a = &r.item;
                json!({
                    "AssociationId": a.association_id(),
                    "AssociationName": a.association_name(),
                    "Name": a.name(),
                    "ScheduleExpression": a.schedule_expression(),
                    "Status": a.overview().and_then(|o| o.status()),
                    "LastExecutionDate": rfc3339(a.last_execution_date()),
                    "NextRun": match &r.next {
                        NextRun::At(t) => json!(t.to_string()),
                        NextRun::FirstRunPending => json!("pending"),
                        _ => Value::Null,
                    },
                    "NextRunLocal": next_run::describe(&r.next, &tz),
                    "TimeZone": zone,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!(
            "No associations. Create one with: bosun assoc create --target 'tag:env=prod' \
             --schedule 'rate(1 day)' -- <command>"
        );
        return Ok(());
    }
    let colours = style::stdout_colours();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let a = &r.item;
            let status = a.overview().and_then(|o| o.status()).unwrap_or_default();
            vec![
                a.association_name().unwrap_or("-").to_string(),
                a.association_id().unwrap_or_default().to_string(),
                a.name().unwrap_or_default().to_string(),
                a.schedule_expression().unwrap_or("-").to_string(),
                style::paint(colours, style::for_status(status), status),
                next_run::describe(&r.next, &tz),
            ]
        })
        .collect();
    let next_header = format!("NEXT RUN ({zone})");
    print!(
        "{}",
        table::render(
            &[
                "NAME",
                "ID",
                "DOCUMENT",
                "SCHEDULE",
                "STATUS",
                next_header.as_str()
            ],
            &cells
        )
    );
    Ok(())
}

async fn executions(
    client: &Client,
    id: &str,
    limit: i32,
) -> anyhow::Result<Vec<AssociationExecution>> {
    Ok(client
        .describe_association_executions()
        .association_id(id)
        .max_results(limit.clamp(1, 50))
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?
        .association_executions
        .unwrap_or_default())
}

async fn execution_targets(
    client: &Client,
    id: &str,
    execution_id: &str,
) -> anyhow::Result<Vec<AssociationExecutionTarget>> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_association_execution_targets()
        .association_id(id)
        .execution_id(execution_id)
        .into_paginator()
        .items()
        .send();
    while let Some(t) = pages.next().await {
        out.push(t.map_err(|e| anyhow!(describe_error(&e)))?);
    }
    Ok(out)
}

fn execution_json(e: &AssociationExecution) -> Value {
    json!({
        "ExecutionId": e.execution_id(),
        "AssociationVersion": e.association_version(),
        "Status": e.status(),
        "DetailedStatus": e.detailed_status(),
        "CreatedTime": rfc3339(e.created_time()),
        "ResourceCountByStatus": e.resource_count_by_status(),
    })
}

fn target_json(t: &AssociationExecutionTarget) -> Value {
    json!({
        "ResourceId": t.resource_id(),
        "Status": t.status(),
        "DetailedStatus": t.detailed_status(),
        "CommandId": t.output_source().and_then(|o| o.output_source_id()),
        "LastExecutionDate": rfc3339(t.last_execution_date()),
    })
}

pub async fn show(client: &Client, id: &str, json: bool) -> anyhow::Result<()> {
    let d = describe(client, id).await?;
    let last = executions(client, id, 1).await?.into_iter().next();
    let targets = match &last {
        Some(e) => execution_targets(client, id, e.execution_id().unwrap_or_default()).await?,
        None => Vec::new(),
    };
    let now = Timestamp::now();
    let next = next_of(&d, now);
    let tz = next_run::local_zone();
    let zone = next_run::zone_name(&tz);
    if json {
        let out = json!({
            "AssociationId": d.association_id(),
            "AssociationName": d.association_name(),
            "AssociationVersion": d.association_version(),
            "Name": d.name(),
            "DocumentVersion": d.document_version(),
            "Targets": targets_text(d.targets()),
            "ScheduleExpression": d.schedule_expression(),
            "Status": d.overview().and_then(|o| o.status()),
            "DetailedStatus": d.overview().and_then(|o| o.detailed_status()),
            "NextRunLocal": next_run::describe(&next, &tz),
            "TimeZone": zone,
            "LastExecution": last.as_ref().map(execution_json),
            "TargetStatuses": targets.iter().map(target_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let colours = style::stdout_colours();
    println!("Association: {}", d.association_id().unwrap_or_default());
    if let Some(n) = d.association_name() {
        println!("Name:        {n}");
    }
    println!(
        "Document:    {} (version {})",
        d.name().unwrap_or_default(),
        d.document_version().unwrap_or("$DEFAULT")
    );
    println!(
        "Version:     {}",
        d.association_version().unwrap_or_default()
    );
    println!("Targets:     {}", targets_text(d.targets()));
    println!(
        "Schedule:    {}{}",
        d.schedule_expression().unwrap_or("(none)"),
        if d.apply_only_at_cron_interval() {
            " (only at cron slots)"
        } else {
            ""
        }
    );
    let mut params: Vec<_> = d
        .parameters()
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    params.sort();
    for (k, v) in params {
        println!("Parameter:   {k} = {}", v.join(" | "));
    }
    println!(
        "Rate:        max concurrency {}, max errors {}",
        d.max_concurrency().unwrap_or("100%"),
        d.max_errors().unwrap_or("0")
    );
    if let Some(s) = d.compliance_severity() {
        println!("Severity:    {}", s.as_str());
    }
    let status = d.overview().and_then(|o| o.status()).unwrap_or_default();
    println!(
        "Status:      {} ({})",
        style::paint(colours, style::for_status(status), status),
        d.overview()
            .and_then(|o| o.detailed_status())
            .unwrap_or_default()
    );
    println!("Next run:    {} ({zone})", next_run::describe(&next, &tz));
    let Some(e) = last else {
        println!("Last run:    none yet");
        return Ok(());
    };
    let status = e.status().unwrap_or_default();
    println!(
        "Last run:    {} {} at {} ({})",
        e.execution_id().unwrap_or_default(),
        style::paint(colours, style::for_status(status), status),
        local(e.created_time(), &tz),
        e.resource_count_by_status().unwrap_or_default()
    );
    if targets.is_empty() {
        println!("             no node matched its targets");
        return Ok(());
    }
    println!();
    let rows: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            let status = t.status().unwrap_or_default();
            vec![
                t.resource_id().unwrap_or_default().to_string(),
                style::paint(colours, style::for_status(status), status),
                t.detailed_status().unwrap_or_default().to_string(),
                t.output_source()
                    .and_then(|o| o.output_source_id())
                    .unwrap_or_default()
                    .to_string(),
                local(t.last_execution_date(), &tz),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["NODE", "STATUS", "DETAIL", "COMMAND", "WHEN"], &rows)
    );
    Ok(())
}

pub async fn history(client: &Client, id: &str, limit: i32, json: bool) -> anyhow::Result<()> {
    let list = executions(client, id, limit).await?;
    if json {
        let items: Vec<Value> = list.iter().map(execution_json).collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    if list.is_empty() {
        println!("No executions of {id} yet.");
        return Ok(());
    }
    let tz = next_run::local_zone();
    let colours = style::stdout_colours();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|e| {
            let status = e.status().unwrap_or_default();
            vec![
                e.execution_id().unwrap_or_default().to_string(),
                e.association_version().unwrap_or_default().to_string(),
                style::paint(colours, style::for_status(status), status),
                e.detailed_status().unwrap_or_default().to_string(),
                local(e.created_time(), &tz),
                e.resource_count_by_status().unwrap_or_default().to_string(),
            ]
        })
        .collect();
    let when = format!("STARTED ({})", next_run::zone_name(&tz));
    print!(
        "{}",
        table::render(
            &[
                "EXECUTION",
                "VERSION",
                "STATUS",
                "DETAIL",
                when.as_str(),
                "NODES"
            ],
            &rows
        )
    );
    Ok(())
}

pub async fn run_now(client: &Client, ids: Vec<String>) -> anyhow::Result<()> {
    client
        .start_associations_once()
        .set_association_ids(Some(ids.clone()))
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    for id in ids {
        println!("started {id} (follow it with: bosun assoc show {id})");
    }
    Ok(())
}

pub async fn delete(client: &Client, id: &str) -> anyhow::Result<()> {
    client
        .delete_association()
        .association_id(id)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    println!("deleted association {id}");
    Ok(())
}
