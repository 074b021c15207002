//! Following a command until it ends (`bosun run`, `bosun command watch`): node output as it
//! arrives, a status line (redrawn in place on a terminal, a plain line per change elsewhere),
//! Ctrl-C once to cancel on the server, twice to stop watching; then the
//! results (`crate::results`).

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use anyhow::anyhow;
use aws_sdk_ssm::types::{InstanceInformationStringFilter, PingStatus};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::client::{describe_error, Connection};
use crate::live::{follow as live_feed, Chunk};
use crate::status::{is_final, NodeState, Summary};
use crate::style;

/// Above this many targets only the command's counts are polled, not every invocation.
const PER_NODE_LIMIT: i32 = 200;

/// Exit code after the user stopped watching (128 + SIGINT, as shells do).
const DETACHED: u8 = 130;

/// Line-buffered printing of interleaved streams, each line prefixed by its node.
struct Printer {
    partial: HashMap<(String, bool), Vec<u8>>,
    /// Bytes shown so far per (node, stderr).
    shown: Shown,
    colours: bool,
}

/// Bytes of output shown live per (node, stderr).
pub type Shown = HashMap<(String, bool), u64>;

impl Printer {
    fn take(&mut self, c: Chunk, status: &mut StatusLine) {
        let key = (c.instance_id.clone(), c.stderr);
        let shown = self.shown.entry(key.clone()).or_default();
        if c.offset > *shown {
            return; // a gap: the rest is printed from the stored output at the end
        }
        let skip = (*shown - c.offset) as usize;
        if skip >= c.data.len() {
            return;
        }
        let fresh = &c.data[skip..];
        *shown += fresh.len() as u64;
        let buf = self.partial.entry(key.clone()).or_default();
        buf.extend_from_slice(fresh);
        let mut lines = Vec::new();
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            lines.push(buf.drain(..=pos).collect::<Vec<u8>>());
        }
        if !lines.is_empty() {
            status.clear();
            for line in lines {
                print_line(self.colours, &key.0, key.1, &line);
            }
            status.redraw();
        }
    }

    fn flush(&mut self) {
        for ((id, err), buf) in self.partial.drain() {
            if !buf.is_empty() {
                print_line(self.colours, &id, err, &buf);
            }
        }
    }
}

/// `node | line` on stdout (`node (stderr) | line` for stderr), ending in a newline.
pub fn print_line(colours: bool, id: &str, stderr: bool, line: &[u8]) {
    let prefix = format!("{id}{} |", if stderr { " (stderr)" } else { "" });
    let style = if stderr {
        style::for_status("Delayed")
    } else {
        style::dim()
    };
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{} ", style::paint(colours, style, &prefix));
    let _ = out.write_all(line);
    if !line.ends_with(b"\n") {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// The status line: redrawn in place on a terminal; elsewhere printed when it changes.
struct StatusLine {
    live: bool,
    colours: bool,
    text: String,
    started: Instant,
    drawn: bool,
}

impl StatusLine {
    fn show(&mut self, summary: &Summary) {
        let text = summary.render(self.colours);
        if self.live {
            self.text = text;
            self.redraw();
        } else if text != self.text {
            eprintln!("{text}");
            self.text = text;
        }
    }

    fn redraw(&mut self) {
        if self.live && !self.text.is_empty() {
            let secs = self.started.elapsed().as_secs();
            eprint!(
                "\r\x1b[2K{} {}",
                self.text,
                style::paint(self.colours, style::dim(), &format!("{secs}s"))
            );
            let _ = std::io::stderr().flush();
            self.drawn = true;
        }
    }

    fn clear(&mut self) {
        if self.live && self.drawn {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
            self.drawn = false;
        }
    }

    /// A message on its own line, above the status line.
    fn note(&mut self, message: &str) {
        self.clear();
        eprintln!("{message}");
        self.redraw();
    }
}

/// One poll: the command's status and counts, and each node's state when the fleet is small.
async fn poll(
    conn: &Connection,
    command_id: &str,
    pings: &mut HashMap<String, String>,
    check_pings: bool,
) -> anyhow::Result<(String, Summary)> {
    let out = conn
        .sdk
        .list_commands()
        .command_id(command_id)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    let c = out
        .commands()
        .first()
        .ok_or_else(|| anyhow!("no command {command_id} in {}", conn.region))?;
    let status = c
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    if c.target_count() > PER_NODE_LIMIT {
        let mut s = Summary::of(&status, c.target_count() as usize, &[]);
        s.ok =
            (c.completed_count() - c.error_count() - c.delivery_timed_out_count()).max(0) as usize;
        s.failed = (c.error_count() + c.delivery_timed_out_count()) as usize;
        s.running = (c.target_count() - c.completed_count()).max(0) as usize;
        return Ok((status, s));
    }
    let mut nodes = Vec::new();
    let mut pages = conn
        .sdk
        .list_command_invocations()
        .command_id(command_id)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let inv = item.map_err(|e| anyhow!(describe_error(&e)))?;
        nodes.push(NodeState {
            instance_id: inv.instance_id().unwrap_or_default().to_string(),
            status: inv
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            ping: None,
        });
    }
    let waiting: Vec<String> = nodes
        .iter()
        .filter(|n| matches!(n.status.as_str(), "Pending" | "Delayed"))
        .map(|n| n.instance_id.clone())
        .collect();
    if check_pings && !waiting.is_empty() {
        for chunk in waiting.chunks(50) {
            let found = conn
                .sdk
                .describe_instance_information()
                .filters(
                    InstanceInformationStringFilter::builder()
                        .key("InstanceIds")
                        .set_values(Some(chunk.to_vec()))
                        .build()?,
                )
                .send()
                .await
                .map_err(|e| anyhow!(describe_error(&e)))?;
            for n in found.instance_information_list() {
                let ping = n.ping_status().map(PingStatus::as_str).unwrap_or_default();
                pings.insert(
                    n.instance_id().unwrap_or_default().to_string(),
                    ping.to_string(),
                );
            }
        }
    }
    for n in nodes.iter_mut() {
        n.ping = pings.get(&n.instance_id).cloned();
    }
    Ok((
        status.clone(),
        Summary::of(&status, c.target_count() as usize, &nodes),
    ))
}

/// Follow `command_id` until it ends; returns the exit code.
pub async fn follow(conn: &Connection, command_id: &str, json: bool) -> anyhow::Result<u8> {
    let live = !json && style::stderr_is_terminal();
    let mut status = StatusLine {
        live,
        colours: style::stderr_colours(),
        text: String::new(),
        started: Instant::now(),
        drawn: false,
    };
    let mut printer = Printer {
        partial: HashMap::new(),
        shown: HashMap::new(),
        colours: style::stdout_colours(),
    };
    let (tx, mut rx) = mpsc::channel(256);
    let feed = (!json).then(|| {
        let (conn, id) = (conn.clone(), command_id.to_string());
        tokio::spawn(async move { live_feed(&conn, &id, tx).await })
    });
    let mut interrupts = signal(SignalKind::interrupt())?;
    let mut interrupted = 0;
    // Poll briskly while a quick command is likely to finish, then settle to twice a second.
    let sent_at = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut pings = HashMap::new();
    let mut last_ping_check: Option<Instant> = None;
    let mut redraw = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            Some(chunk) = rx.recv() => printer.take(chunk, &mut status),
            _ = redraw.tick() => status.redraw(),
            _ = interrupts.recv() => {
                interrupted += 1;
                if interrupted == 1 {
                    match conn.sdk.cancel_command().command_id(command_id).send().await {
                        Ok(_) => status.note(&format!(
                            "cancelling command {command_id} on the server (Ctrl-C again to stop watching)"
                        )),
                        Err(e) => status.note(&format!("could not cancel: {}", describe_error(&e))),
                    }
                } else {
                    status.clear();
                    printer.flush();
                    eprintln!(
                        "stopped watching command {command_id}; it goes on on the server (its cancel was requested).\n  follow it: bosun command watch {command_id}\n  cancel it: bosun command cancel {command_id}"
                    );
                    if let Some(f) = feed { f.abort(); }
                    return Ok(DETACHED);
                }
            }
            _ = tick.tick() => {
                if sent_at.elapsed() > Duration::from_secs(5) && tick.period() < Duration::from_millis(500) {
                    tick = tokio::time::interval(Duration::from_millis(500));
                }
                let check_pings = last_ping_check.is_none_or(|t| t.elapsed() > Duration::from_secs(2));
                if check_pings {
                    last_ping_check = Some(Instant::now());
                }
                let (command_status, summary) = poll(conn, command_id, &mut pings, check_pings).await?;
                if !json {
                    status.show(&summary);
                }
                if is_final(&command_status) {
                    break;
                }
            }
        }
    }
    while let Ok(chunk) = rx.try_recv() {
        printer.take(chunk, &mut status);
    }
    if let Some(f) = feed {
        f.abort();
    }
    status.clear();
    printer.flush();
    crate::results::finish(conn, command_id, json, &printer.shown, printer.colours).await
}

/// `bosun command watch ID`.
pub async fn watch_existing(conn: &Connection, command_id: &str, json: bool) -> anyhow::Result<u8> {
    follow(conn, command_id, json).await
}

/// `bosun command cancel ID`.
pub async fn cancel(client: &aws_sdk_ssm::Client, command_id: &str) -> anyhow::Result<()> {
    client
        .cancel_command()
        .command_id(command_id)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    println!("asked the server to cancel {command_id}; see it end with: bosun command watch {command_id}");
    Ok(())
}
