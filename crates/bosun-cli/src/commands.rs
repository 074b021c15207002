//! `bosun commands` (recent commands) and `bosun command show` (one command with every node's
//! whole output: inline up to the API's 24,000 characters, streamed from the output URL past it).

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::anyhow;
use aws_sdk_ssm::Client;

use crate::client::{describe_error, Connection};
use crate::{output, style, table};

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
    let colours = style::stdout_colours();
    let rows: Vec<Vec<String>> = out
        .commands()
        .iter()
        .map(|c| {
            let status = c.status().map(|s| s.as_str()).unwrap_or_default();
            vec![
                c.command_id().unwrap_or_default().to_string(),
                c.document_name().unwrap_or_default().to_string(),
                style::paint(
                    colours,
                    style::for_status(status),
                    c.status_details().unwrap_or_default(),
                ),
                format!("{}/{}", c.completed_count(), c.target_count()),
                c.error_count().to_string(),
                when(c.requested_date_time()),
            ]
        })
        .collect();
    if rows.is_empty() {
        println!("No commands yet. Try: bosun run --all -- uname -a");
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

/// Print one stream of one step, `   | ` before each line, all of it.
async fn print_stream(
    conn: &Connection,
    label: &str,
    inline: &str,
    url: &str,
) -> anyhow::Result<()> {
    if inline.is_empty() {
        return Ok(());
    }
    if !label.is_empty() {
        println!("   {label}:");
    }
    if !output::StepOutput::cut(inline) || url.is_empty() {
        for line in inline.lines() {
            println!("   | {line}");
        }
        return Ok(());
    }
    // Longer than the API inlines: stream the whole of it from the output URL.
    let streamed = output::stream_lines(conn, url, |line| {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"   | ");
        let _ = out.write_all(line.strip_suffix(b"\n").unwrap_or(line));
        let _ = out.write_all(b"\n");
    })
    .await;
    if let Err(e) = streamed {
        for line in inline.lines() {
            println!("   | {line}");
        }
        println!(
            "   (cut at {} characters; the rest is at {url}, a SigV4-signed GET: {e:#})",
            output::INLINE_CHARS
        );
    }
    Ok(())
}

/// `bosun command show <id>`: one command and its invocations with their whole output.
pub async fn show(conn: &Connection, command_id: &str) -> anyhow::Result<()> {
    let client = &conn.sdk;
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
        let node = inv.instance_id().unwrap_or_default().to_string();
        println!();
        println!("== {node} — {}", inv.status_details().unwrap_or_default());
        for p in inv.command_plugins() {
            let name = p.name().unwrap_or_default();
            println!(
                "   {name} — {} (exit {})",
                p.status_details().unwrap_or_default(),
                p.response_code()
            );
            let o = output::step_output(conn, command_id, &node, name).await?;
            print_stream(conn, "", &o.stdout, &o.stdout_url).await?;
            print_stream(conn, "stderr", &o.stderr, &o.stderr_url).await?;
        }
    }
    Ok(())
}
