//! `bosun agent-release publish|list|default|pin|unpin|pins`: Bosun's agent release operations
//! (`X-Amz-Target: BosunAgentRelease.*`, signed like the SSM API; AWS has no such operation).
//! A binary is published as the signed body of `POST /v1/agent-releases?Version=…` (it does not
//! fit the JSON endpoint's body limit); the server hashes it, signs it with its release key and
//! keeps it for `AWS-UpdateSSMAgent`. A pin (`pin VERSION [--tag Key=Value]`) makes a published
//! version what the nodes of the region (`--region`), or those of it carrying the tag, get
//! instead of the default.

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
    /// Pin a published version for the region (--region) or, with --tag, for the region's nodes
    /// carrying a tag: what AWS-UpdateSSMAgent installs there without a version, and what
    /// IsLatestVersion compares with. A tag pin wins over the region's, which wins over the
    /// default; of two tag pins matching one node, the higher version.
    Pin {
        /// The published version.
        version: String,
        /// Key=Value: only the nodes carrying this tag.
        #[arg(long, value_name = "KEY=VALUE")]
        tag: Option<String>,
    },
    /// Remove the region's pin, or with --tag that tag's pin.
    Unpin {
        /// Key=Value: the tag whose pin to remove.
        #[arg(long, value_name = "KEY=VALUE")]
        tag: Option<String>,
    },
    /// List the region's pins.
    Pins,
}

/// The `Tag` member of a pin request, from `--tag Key=Value`.
fn tag_member(tag: Option<&str>) -> anyhow::Result<Option<Value>> {
    tag.map(|t| {
        let (key, value) =
            bosun_core::agent_release::pins::parse_tag_scope(t).map_err(anyhow::Error::msg)?;
        Ok(json!({ "Key": key, "Value": value }))
    })
    .transpose()
}

fn pin_line(p: &Value) -> String {
    let scope = match p.get("Tag") {
        Some(t) => format!(
            "tag {}={}",
            t["Key"].as_str().unwrap_or("?"),
            t["Value"].as_str().unwrap_or("?")
        ),
        None => "the whole region".to_string(),
    };
    format!(
        "{:<14} {} {scope}",
        p["Version"].as_str().unwrap_or("?"),
        p["Region"].as_str().unwrap_or("?"),
    )
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
        AgentReleaseCommand::Pin { version, tag } => {
            let mut input = json!({ "Version": version });
            if let Some(t) = tag_member(tag.as_deref())? {
                input["Tag"] = t;
            }
            let answer = call(conn, "PinAgentRelease", &input)?;
            println!("pinned: {}", pin_line(&answer["Pin"]));
        }
        AgentReleaseCommand::Unpin { tag } => {
            let mut input = json!({});
            if let Some(t) = tag_member(tag.as_deref())? {
                input["Tag"] = t;
            }
            let answer = call(conn, "UnpinAgentRelease", &input)?;
            println!("unpinned: {}", answer["Unpinned"].as_str().unwrap_or("?"));
        }
        AgentReleaseCommand::Pins => {
            let answer = call(conn, "ListAgentReleasePins", &json!({}))?;
            let pins = answer["Pins"].as_array().cloned().unwrap_or_default();
            if pins.is_empty() {
                println!(
                    "no agent release is pinned in {}: every node gets the default",
                    answer["Region"].as_str().unwrap_or("this region")
                );
            }
            for p in &pins {
                println!("{}", pin_line(p));
            }
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
