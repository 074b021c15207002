//! `bosun agent-release publish|list|default`: Bosun's agent release operations
//! (`X-Amz-Target: BosunAgentRelease.*`, signed like the SSM API; AWS has no such operation).
//! A binary is published as the signed body of `POST /v1/agent-releases?Version=…` (it does not
//! fit the JSON endpoint's body limit); the server hashes it, signs it with its release key and
//! keeps it for `AWS-UpdateSSMAgent`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::client::Connection;

#[derive(Subcommand, Clone, Debug)]
pub enum AgentReleaseCommand {
    /// Publish a bosun-agent binary as a release (signed by the server's release key).
    Publish {
        /// The bosun-agent binary.
        binary: PathBuf,
        /// Its version (2 to 4 dot-separated numbers, e.g. 1.4.0); it must be the version the
        /// binary reports, or updates to it never become healthy and are rolled back.
        #[arg(long)]
        version: String,
        /// amd64 or arm64.
        #[arg(long, default_value = "amd64")]
        arch: String,
        /// Make it the default release (what AWS-UpdateSSMAgent installs without a version).
        #[arg(long)]
        default: bool,
    },
    /// List published releases.
    List,
    /// Make a published version the default release of its architecture.
    Default {
        /// The published version.
        version: String,
        /// amd64 or arm64.
        #[arg(long, default_value = "amd64")]
        arch: String,
    },
}

/// One signed POST (blocking); the answer's JSON, or the error as `Code: message`.
fn post(
    conn: &Connection,
    path_and_query: &str,
    operation: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<Value> {
    let target = format!("BosunAgentRelease.{operation}");
    let headers = [
        ("content-type", content_type),
        ("x-amz-target", target.as_str()),
    ];
    let (status, text) =
        crate::signed::request(conn, "ssm", "POST", path_and_query, &headers, body)?;
    crate::signed::json_answer(status, &text)
}

fn call(conn: &Connection, operation: &str, input: &Value) -> anyhow::Result<Value> {
    post(
        conn,
        "/",
        operation,
        "application/x-amz-json-1.1",
        input.to_string().as_bytes(),
    )
}

fn line(r: &Value) -> String {
    format!(
        "{:<14} {}/{:<6} {:>10} bytes  sha256 {}{}",
        r["Version"].as_str().unwrap_or("?"),
        r["Platform"].as_str().unwrap_or("?"),
        r["Arch"].as_str().unwrap_or("?"),
        r["Size"],
        r["Sha256"].as_str().unwrap_or("?"),
        if r["Default"].as_bool() == Some(true) {
            "  (default)"
        } else {
            ""
        }
    )
}

fn run(conn: &Connection, command: AgentReleaseCommand) -> anyhow::Result<()> {
    match command {
        AgentReleaseCommand::Publish {
            binary,
            version,
            arch,
            default,
        } => {
            let bytes =
                std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
            let mut query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("Version", &version)
                .append_pair("Arch", &arch)
                .finish();
            if default {
                query.push_str("&Default=true");
            }
            let answer = post(
                conn,
                &format!("/v1/agent-releases?{query}"),
                "PublishAgentRelease",
                "application/octet-stream",
                &bytes,
            )?;
            let verb = if answer["Created"].as_bool() == Some(true) {
                "published"
            } else {
                "already published"
            };
            println!("{verb}: {}", line(&answer["Release"]));
        }
        AgentReleaseCommand::List => {
            let answer = call(conn, "ListAgentReleases", &json!({}))?;
            let releases = answer["Releases"].as_array().cloned().unwrap_or_default();
            if releases.is_empty() {
                println!("no agent releases are published");
            }
            for r in &releases {
                println!("{}", line(r));
            }
            println!(
                "release key: {}",
                answer["ReleaseKey"].as_str().unwrap_or("?")
            );
        }
        AgentReleaseCommand::Default { version, arch } => {
            let answer = call(
                conn,
                "SetDefaultAgentRelease",
                &json!({ "Version": version, "Arch": arch }),
            )?;
            println!("default: {}", line(&answer["Release"]));
        }
    }
    Ok(())
}

/// Run `bosun agent-release …`.
pub async fn dispatch(conn: &Connection, command: AgentReleaseCommand) -> anyhow::Result<u8> {
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || run(&conn, command)).await??;
    Ok(0)
}
