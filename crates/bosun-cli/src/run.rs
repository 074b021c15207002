//! `bosun run`: send a shell command, show each node's output live as it arrives, a progress
//! line, then a summary; exit non-zero unless every invocation succeeded.
//! Also `bosun commands` and `bosun command show`.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, bail};
use aws_sdk_ssm::types::Target;
use aws_sdk_ssm::Client;
use tokio::sync::mpsc;

use crate::client::{describe_error, ClientArgs};
use crate::live::{follow, Chunk};
use crate::table;

/// What to run where.
pub struct RunRequest {
    pub instance_ids: Vec<String>,
    pub targets: Vec<(String, Vec<String>)>,
    pub document: String,
    pub params: Vec<(String, String)>,
    pub command: Vec<String>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    pub timeout: Option<i32>,
    pub comment: Option<String>,
}

/// Parse `Key=tag:env,Values=dev,prod`.
pub fn parse_target(s: &str) -> Result<(String, Vec<String>), String> {
    let (key_part, values_part) = s
        .split_once(",Values=")
        .ok_or_else(|| format!("expected Key=<key>,Values=<v1>[,<v2>…], got {s:?}"))?;
    let key = key_part
        .strip_prefix("Key=")
        .ok_or_else(|| format!("expected Key=… in {s:?}"))?;
    Ok((
        key.to_string(),
        values_part.split(',').map(str::to_string).collect(),
    ))
}

/// Line-buffered printing of interleaved streams, each line prefixed by its node.
#[derive(Default)]
struct Printer {
    partial: HashMap<(String, bool), Vec<u8>>,
    /// Bytes shown so far per (node, stderr).
    shown: HashMap<(String, bool), u64>,
}

impl Printer {
    fn take(&mut self, c: Chunk) {
        let key = (c.instance_id.clone(), c.stderr);
        let shown = self.shown.entry(key.clone()).or_default();
        if c.offset > *shown {
            return; // a gap: the rest is printed from the full output at the end
        }
        let skip = (*shown - c.offset) as usize;
        if skip >= c.data.len() {
            return;
        }
        let fresh = &c.data[skip..];
        *shown += fresh.len() as u64;
        let buf = self.partial.entry(key.clone()).or_default();
        buf.extend_from_slice(fresh);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            print_line(&key.0, key.1, &line);
        }
    }

    fn flush(&mut self) {
        for ((id, err), buf) in self.partial.drain() {
            if !buf.is_empty() {
                print_line(&id, err, &buf);
                if !buf.ends_with(b"\n") {
                    println!();
                }
            }
        }
    }
}

fn print_line(id: &str, stderr: bool, line: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{id}{} | ", if stderr { " (stderr)" } else { "" });
    let _ = out.write_all(line);
}

pub async fn run(
    client: &Client,
    args: &ClientArgs,
    data_dir: &std::path::Path,
    req: RunRequest,
) -> anyhow::Result<i32> {
    let shell = req.document == "AWS-RunShellScript";
    if shell && req.command.is_empty() {
        bail!("give the shell command after `--`, e.g. bosun run --targets Key=tag:env,Values=dev -- uname -a");
    }
    if !shell && !req.command.is_empty() {
        bail!("a shell command after `--` only goes with AWS-RunShellScript; pass document parameters with --param");
    }
    let mut send = client.send_command().document_name(&req.document);
    if shell {
        send = send.parameters("commands", vec![req.command.join(" ")]);
    }
    send = send
        .set_max_concurrency(req.max_concurrency.clone())
        .set_max_errors(req.max_errors.clone())
        .set_timeout_seconds(req.timeout)
        .set_comment(req.comment.clone());
    if !req.instance_ids.is_empty() {
        send = send.set_instance_ids(Some(req.instance_ids.clone()));
    }
    for (k, values) in &req.targets {
        send = send.targets(
            Target::builder()
                .key(k)
                .set_values(Some(values.clone()))
                .build(),
        );
    }
    for (k, v) in &req.params {
        send = send.parameters(k, vec![v.clone()]);
    }
    let cmd = send
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?
        .command
        .ok_or_else(|| anyhow!("no command"))?;
    let command_id = cmd.command_id().unwrap_or_default().to_string();
    eprintln!(
        "command {command_id} sent to {} node(s)",
        cmd.target_count()
    );

    let (akid, secret) = args.keys(data_dir)?;
    let (tx, mut rx) = mpsc::channel(256);
    let feed = {
        let (endpoint, region, id) = (
            args.endpoint_url.clone(),
            args.region.clone(),
            command_id.clone(),
        );
        tokio::spawn(async move { follow(&endpoint, &region, &akid, &secret, &id, tx).await })
    };
    let mut printer = Printer::default();
    // Poll briskly while a quick command is likely to finish, then settle to twice a second.
    let sent_at = tokio::time::Instant::now();
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    let mut settled = false;
    let mut last_progress = String::new();
    let final_invocations = loop {
        tokio::select! {
            Some(chunk) = rx.recv() => printer.take(chunk),
            _ = poll.tick() => {
                if !settled && sent_at.elapsed() > Duration::from_secs(5) {
                    poll = tokio::time::interval(Duration::from_millis(500));
                    settled = true;
                }
                let c = client.list_commands().command_id(&command_id).send().await.map_err(|e| anyhow!(describe_error(&e)))?;
                let Some(c) = c.commands().first().cloned() else { continue };
                let progress = format!("[{}/{} done, {} errors] {}", c.completed_count(), c.target_count(), c.error_count(), c.status().map(|s| s.as_str()).unwrap_or(""));
                if progress != last_progress {
                    eprintln!("{progress}");
                    last_progress = progress;
                }
                let done = !matches!(c.status().map(|s| s.as_str()), Some("Pending" | "InProgress" | "Cancelling"));
                if done {
                    break list_invocations(client, &command_id).await?;
                }
            }
        }
    };
    while let Ok(chunk) = rx.try_recv() {
        printer.take(chunk);
    }
    feed.abort();
    printer.flush();
    // Output the live feed did not deliver (a late subscription or a gap): print it whole.
    for inv in &final_invocations {
        let key_out = (inv.0.clone(), false);
        if printer.shown.get(&key_out).copied().unwrap_or(0) == 0 && !inv.3.is_empty() {
            for line in inv.3.split_inclusive('\n') {
                print_line(&inv.0, false, line.as_bytes());
            }
            if !inv.3.ends_with('\n') {
                println!();
            }
        }
    }
    let rows: Vec<Vec<String>> = final_invocations
        .iter()
        .map(|(id, status, code, _)| vec![id.clone(), status.clone(), code.to_string()])
        .collect();
    eprint!("{}", table::render(&["NODE", "STATUS", "CODE"], &rows));
    let all_ok = !final_invocations.is_empty()
        && final_invocations.iter().all(|(_, s, _, _)| s == "Success");
    if final_invocations.is_empty() {
        eprintln!("no node matched the targets");
    }
    Ok(if all_ok { 0 } else { 1 })
}

/// (node, status details, response code, stdout) of every invocation.
async fn list_invocations(
    client: &Client,
    command_id: &str,
) -> anyhow::Result<Vec<(String, String, i32, String)>> {
    let mut out = Vec::new();
    let mut pages = client
        .list_command_invocations()
        .command_id(command_id)
        .details(true)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let inv = item.map_err(|e| anyhow!(describe_error(&e)))?;
        let plugin = inv.command_plugins().first();
        out.push((
            inv.instance_id().unwrap_or_default().to_string(),
            inv.status_details().unwrap_or_default().to_string(),
            plugin.map(|p| p.response_code()).unwrap_or(-1),
            plugin
                .and_then(|p| p.output())
                .unwrap_or_default()
                .to_string(),
        ));
    }
    Ok(out)
}

fn when(t: Option<&aws_sdk_ssm::primitives::DateTime>) -> String {
    t.and_then(|d| jiff::Timestamp::from_second(d.secs()).ok())
        .map(|ts| ts.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// `bosun commands`: recent commands, newest first.
pub async fn commands(client: &Client, limit: usize) -> anyhow::Result<()> {
    let out = client
        .list_commands()
        .max_results(limit.clamp(1, 50) as i32)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    let rows: Vec<Vec<String>> = out
        .commands()
        .iter()
        .map(|c| {
            vec![
                c.command_id().unwrap_or_default().to_string(),
                c.document_name().unwrap_or_default().to_string(),
                c.status_details().unwrap_or_default().to_string(),
                format!("{}/{}", c.completed_count(), c.target_count()),
                c.error_count().to_string(),
                when(c.requested_date_time()),
            ]
        })
        .collect();
    if rows.is_empty() {
        println!("No commands yet. Try: bosun run --targets Key=tag:env,Values=dev -- uname -a");
    } else {
        print!(
            "{}",
            table::render(
                &[
                    "COMMAND",
                    "DOCUMENT",
                    "STATUS",
                    "DONE",
                    "ERRORS",
                    "REQUESTED"
                ],
                &rows
            )
        );
    }
    Ok(())
}

/// `bosun command show <id>`: one command and its invocations with their output.
pub async fn show(client: &Client, command_id: &str) -> anyhow::Result<()> {
    let out = client
        .list_commands()
        .command_id(command_id)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    let c = out
        .commands()
        .first()
        .ok_or_else(|| anyhow!("no command {command_id}"))?;
    let params: BTreeMap<_, _> = c
        .parameters()
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    println!("Command:   {}", c.command_id().unwrap_or_default());
    println!("Document:  {}", c.document_name().unwrap_or_default());
    println!(
        "Status:    {} ({})",
        c.status().map(|s| s.as_str()).unwrap_or(""),
        c.status_details().unwrap_or("")
    );
    println!("Requested: {}", when(c.requested_date_time()));
    println!(
        "Targets:   {} (done {}, errors {}, delivery timed out {})",
        c.target_count(),
        c.completed_count(),
        c.error_count(),
        c.delivery_timed_out_count()
    );
    for (k, v) in params {
        println!("Parameter: {k} = {}", v.join(" | "));
    }
    let mut pages = client
        .list_command_invocations()
        .command_id(command_id)
        .details(true)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let inv = item.map_err(|e| anyhow!(describe_error(&e)))?;
        println!();
        println!(
            "== {} — {}",
            inv.instance_id().unwrap_or_default(),
            inv.status_details().unwrap_or_default()
        );
        for p in inv.command_plugins() {
            println!(
                "   {} — {} (exit {})",
                p.name().unwrap_or_default(),
                p.status_details().unwrap_or_default(),
                p.response_code()
            );
            for line in p.output().unwrap_or_default().lines() {
                println!("   | {line}");
            }
        }
    }
    Ok(())
}
