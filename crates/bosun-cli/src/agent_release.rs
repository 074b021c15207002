//! `bosun agent-release publish|list|default`: Bosun's agent release operations
//! (`X-Amz-Target: BosunAgentRelease.*`, signed like the SSM API; AWS has no such operation).
//! A binary is published as the signed body of `POST /v1/agent-releases?Version=…` (it does not
//! fit the JSON endpoint's body limit); the server hashes it, signs it with its release key and
//! keeps it for `AWS-UpdateSSMAgent`.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{anyhow, bail, Context};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::client::{unreachable_message, Connection};

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
    let url = format!("{}{path_and_query}", conn.endpoint.trim_end_matches('/'));
    let host = url.split('/').nth(2).unwrap_or_default().to_string();
    let target = format!("BosunAgentRelease.{operation}");
    let identity = Credentials::new(&conn.akid, &conn.secret, None, None, "bosun").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&conn.region)
        .name("ssm")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()?
        .into();
    let headers = [
        ("host", host.as_str()),
        ("content-type", content_type),
        ("x-amz-target", target.as_str()),
    ];
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    let mut req = crate::output::http_agent()
        .post(&url)
        .header("content-type", content_type)
        .header("x-amz-target", &target);
    for (k, v) in instructions.headers() {
        req = req.header(k, v);
    }
    let resp = req
        .send(body)
        .map_err(|e| anyhow!(unreachable_message(&e)))?;
    let status = resp.status();
    let text = resp
        .into_body()
        .read_to_string()
        .context("reading the answer")?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status != 200 {
        let code = value["__type"].as_str().unwrap_or("Error");
        let message = value["message"]
            .as_str()
            .or(value["Message"].as_str())
            .unwrap_or(&text);
        bail!("{code}: {message}");
    }
    Ok(value)
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
