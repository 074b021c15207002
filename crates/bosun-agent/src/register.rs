//! `bosun-agent register`: join the fleet with a hybrid activation and save the identity.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_proto::{AgentMessage, ServerMessage, PROTOCOL_VERSION};

use crate::channel::{expect_challenge, recv_server, send_agent, Socket};
use crate::identity::{generate_key, identity_path, Identity};

pub struct RegisterArgs<'a> {
    pub state_dir: &'a Path,
    pub server: &'a str,
    pub activation_id: &'a str,
    pub activation_code: &'a str,
    pub region: Option<&'a str>,
    pub ca_file: Option<PathBuf>,
}

/// Register and save the identity; returns it.
pub async fn register(args: RegisterArgs<'_>) -> anyhow::Result<Identity> {
    if identity_path(args.state_dir).exists() {
        bail!(
            "{} already holds a registered identity; remove the state directory to register this node again",
            args.state_dir.display()
        );
    }
    let key = generate_key()?;
    let mut socket: Socket = connect_first(args.server, args.ca_file.as_deref()).await?;
    let nonce = expect_challenge(&mut socket).await?;
    let signature = B64.encode(
        ed25519_dalek::Signer::sign(
            &key,
            &bosun_proto::register_payload(&nonce, args.activation_id),
        )
        .to_bytes(),
    );
    send_agent(
        &mut socket,
        &AgentMessage::Register {
            protocol_version: PROTOCOL_VERSION,
            activation_id: args.activation_id.into(),
            activation_code: args.activation_code.into(),
            region: args.region.unwrap_or("").into(),
            public_key: B64.encode(key.verifying_key().to_bytes()),
            signature,
            info: crate::sysinfo::collect(),
        },
    )
    .await?;
    match recv_server(&mut socket)
        .await
        .context("waiting for the registration answer")?
    {
        ServerMessage::Registered {
            instance_id,
            region,
        } => {
            let identity =
                Identity::new(instance_id, region, args.server.into(), args.ca_file, &key);
            identity.save(args.state_dir)?;
            Ok(identity)
        }
        ServerMessage::Rejected { code, message } => {
            bail!("registration refused ({code:?}): {message}")
        }
        other => bail!("unexpected answer to registration: {other:?}"),
    }
}

/// Connect to the first of the `--server` URLs that answers.
async fn connect_first(servers: &str, ca_file: Option<&std::path::Path>) -> anyhow::Result<Socket> {
    let mut last = anyhow::anyhow!("--server names no URL");
    for url in crate::server_urls(servers) {
        match crate::channel::connect(url, ca_file).await {
            Ok(socket) => return Ok(socket),
            Err(e) => last = e,
        }
    }
    Err(last)
}
