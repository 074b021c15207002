//! `bosun session`: a Session Manager client of its own — a shell on a node (raw terminal,
//! resizes), or one command whose exit status becomes `bosun`'s own (AWS's plugin always exits
//! 0) — and `bosun sessions`, the active or past sessions.

pub mod channel;
pub mod plugin;
pub mod port;
pub mod stdio;
pub mod terminal;

use std::io::Write;

use aws_sdk_ssm::types::SessionState;
use tokio::sync::mpsc;

use crate::client::Connection;
use channel::{Ending, Input, Output};

/// `bosun session` arguments.
#[derive(clap::Args, Clone, Debug)]
pub struct SessionArgs {
    /// The managed node (mi-… or i-…).
    pub target: String,
    /// Run this command instead of a shell (AWS-StartNonInteractiveCommand: no terminal, its
    /// exit status becomes this command's).
    #[arg(long, conflicts_with = "document")]
    pub command: Option<String>,
    /// A session document (default: the shell of SSM-SessionManagerRunShell).
    #[arg(long)]
    pub document: Option<String>,
    /// A document parameter, name=value (repeatable).
    #[arg(long = "param", value_parser = crate::fleet::parse_tag, value_name = "NAME=VALUE")]
    pub params: Vec<(String, String)>,
    /// Why (recorded with the session).
    #[arg(long)]
    pub reason: Option<String>,
}

/// Starts the session and runs it on this terminal; returns the process exit status: the
/// remote exit code, or 255 when the session ended without one (terminated, timed out).
pub async fn session(conn: &Connection, args: SessionArgs) -> anyhow::Result<u8> {
    let mut request = conn.sdk.start_session().target(&args.target);
    if let Some(command) = &args.command {
        request = request
            .document_name("AWS-StartNonInteractiveCommand")
            .parameters("command", vec![command.clone()]);
    } else if let Some(document) = &args.document {
        request = request.document_name(document);
    }
    for (name, value) in &args.params {
        request = request.parameters(name, vec![value.clone()]);
    }
    if let Some(reason) = &args.reason {
        request = request.reason(reason);
    }
    let started = request
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(crate::client::describe_error(&e)))?;
    let (Some(stream_url), Some(token)) = (started.stream_url(), started.token_value()) else {
        anyhow::bail!("StartSession answered without a stream URL or token");
    };
    let interactive = args.command.is_none();
    let ending = attach(conn, stream_url, token, interactive).await?;
    Ok(exit_status(&ending))
}

/// Runs an open session on this terminal until it ends.
pub async fn attach(
    conn: &Connection,
    stream_url: &str,
    token: &str,
    interactive: bool,
) -> anyhow::Result<Ending> {
    let http_url = stream_url.replacen("ws", "http", 1);
    let headers = crate::output::signed_headers(conn, &http_url)?;
    let raw = interactive.then(terminal::RawMode::enter);
    let (input_tx, input_rx) = mpsc::channel(64);
    let (output_tx, mut output_rx) = mpsc::channel::<Output>(64);
    if let Some((cols, rows)) = terminal::size() {
        let _ = input_tx.send(Input::Resize { cols, rows }).await;
    }
    read_stdin(input_tx.clone());
    if interactive {
        tokio::spawn(follow_resizes(input_tx.clone()));
    }
    if !raw.as_ref().is_some_and(terminal::RawMode::is_terminal) {
        // Without a raw terminal Ctrl-C reaches this process, not the remote one: end the
        // session (the agent ends the remote process group) instead of leaving it behind.
        let tx = input_tx.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(Input::Terminate).await;
            }
        });
    }
    drop(input_tx);
    let printer = tokio::spawn(async move {
        let mut stdout = std::io::stdout();
        while let Some(out) = output_rx.recv().await {
            let Output::Data(bytes) = out else { continue };
            let _ = stdout.write_all(&bytes);
            let _ = stdout.flush();
        }
    });
    let ending = channel::run(stream_url, token, headers, input_rx, output_tx, 1024).await;
    let _ = printer.await;
    drop(raw);
    let ending = ending?;
    if ending.exit_code.is_none() && !ending.reason.is_empty() {
        eprintln!("\r\nsession ended: {}", ending.reason);
    }
    Ok(ending)
}

/// The process exit status for a session's end.
pub fn exit_status(ending: &Ending) -> u8 {
    match ending.exit_code {
        Some(code) => u8::try_from(code).unwrap_or(255),
        None => 255,
    }
}

/// Reads stdin on a thread of its own (a blocked read must not hold up the runtime's
/// shutdown when the session ends first).
fn read_stdin(tx: mpsc::Sender<Input>) {
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 1024];
        loop {
            match std::io::Read::read(&mut stdin, &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.blocking_send(Input::Bytes(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
}

async fn follow_resizes(tx: mpsc::Sender<Input>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut resized) = signal(SignalKind::window_change()) else {
        return;
    };
    while resized.recv().await.is_some() {
        if let Some((cols, rows)) = terminal::size() {
            if tx.send(Input::Resize { cols, rows }).await.is_err() {
                return;
            }
        }
    }
}

/// `bosun sessions [--history]`.
pub async fn sessions(conn: &Connection, history: bool) -> anyhow::Result<()> {
    let state = if history {
        SessionState::History
    } else {
        SessionState::Active
    };
    let mut rows = Vec::new();
    let mut pages = conn
        .sdk
        .describe_sessions()
        .state(state)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow::anyhow!(crate::client::describe_error(&e)))?;
        for s in page.sessions() {
            rows.push(vec![
                s.session_id().unwrap_or_default().to_string(),
                s.target().unwrap_or_default().to_string(),
                s.status()
                    .map(|x| x.as_str().to_string())
                    .unwrap_or_default(),
                s.document_name().unwrap_or_default().to_string(),
                s.owner().unwrap_or_default().to_string(),
                s.start_date().map(|d| d.to_string()).unwrap_or_default(),
                s.details().unwrap_or_default().to_string(),
            ]);
        }
    }
    print!(
        "{}",
        crate::table::render(
            &["SESSION", "TARGET", "STATUS", "DOCUMENT", "OWNER", "STARTED", "DETAILS"],
            &rows
        )
    );
    Ok(())
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.exit_code {
            Some(code) => write!(f, "exit code {code}"),
            None => write!(f, "{}", self.reason),
        }
    }
}
