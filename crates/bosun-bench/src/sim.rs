//! One simulated node: registers through a real activation (Ed25519 key, signed nonce), then
//! holds an authenticated channel, sends heartbeats, and answers every `RunCommand` with an
//! acknowledgement and a synthetic successful result — so benchmarks measure the server, not
//! process spawning.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_proto::command::{StepResult, StepStatus};
use bosun_proto::{AgentMessage, CommandResult, NodeInfo, ServerMessage, PROTOCOL_VERSION};
use ed25519_dalek::{Signer, SigningKey};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Counters shared by all simulated nodes.
#[derive(Default)]
pub struct Stats {
    pub connected: AtomicU64,
    pub commands: AtomicU64,
}

/// A registered simulated node.
pub struct SimNode {
    pub instance_id: String,
    key: SigningKey,
}

fn info(i: usize) -> NodeInfo {
    NodeInfo {
        computer_name: format!("sim-{i}"),
        ip_addresses: vec!["127.0.0.1".into()],
        platform_type: "Linux".into(),
        platform_name: "Bosun fleet simulator".into(),
        platform_version: "1".into(),
        agent_version: "0.1.0".into(),
        ..NodeInfo::default()
    }
}

/// Like the real agent, with TCP_NODELAY (small frames are not held for a delayed ACK).
async fn open(url: &str) -> anyhow::Result<(Socket, String)> {
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .context("connecting")?;
    match next(&mut socket).await? {
        ServerMessage::Challenge { nonce, .. } => Ok((socket, nonce)),
        other => bail!("expected a challenge, got {other:?}"),
    }
}

async fn next(socket: &mut Socket) -> anyhow::Result<ServerMessage> {
    loop {
        match socket.next().await.ok_or_else(|| anyhow!("closed"))?? {
            Message::Text(t) => return Ok(serde_json::from_str(&t)?),
            Message::Close(_) => bail!("closed"),
            _ => continue,
        }
    }
}

async fn send(socket: &mut Socket, msg: &AgentMessage) -> anyhow::Result<()> {
    socket
        .send(Message::Text(serde_json::to_string(msg)?.into()))
        .await?;
    Ok(())
}

/// Register one node with an activation.
pub async fn register(
    url: &str,
    activation_id: &str,
    code: &str,
    region: &str,
    index: usize,
) -> anyhow::Result<SimNode> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow!("random: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    let (mut socket, nonce) = open(url).await?;
    let signature = B64.encode(
        key.sign(&bosun_proto::register_payload(&nonce, activation_id))
            .to_bytes(),
    );
    send(
        &mut socket,
        &AgentMessage::Register {
            protocol_version: PROTOCOL_VERSION,
            activation_id: activation_id.into(),
            activation_code: code.into(),
            region: region.into(),
            public_key: B64.encode(key.verifying_key().to_bytes()),
            signature,
            info: info(index),
        },
    )
    .await?;
    match next(&mut socket).await? {
        ServerMessage::Registered { instance_id, .. } => Ok(SimNode { instance_id, key }),
        other => bail!("registration refused: {other:?}"),
    }
}

/// How a simulated node answers every command: each step succeeds printing `hi`, or (`fail`)
/// ends `Failed` with exit code 1, for benchmarks of what failures set off.
fn synthetic_result(d: &bosun_proto::CommandDelivery, fail: bool) -> CommandResult {
    let now = jiff::Timestamp::now().as_millisecond();
    CommandResult {
        command_id: d.command_id.clone(),
        not_run: None,
        steps: d
            .steps
            .iter()
            .map(|s| StepResult {
                name: s.name.clone(),
                status: if fail {
                    StepStatus::Failed
                } else {
                    StepStatus::Success
                },
                response_code: i32::from(fail),
                start_ms: Some(now),
                end_ms: Some(now),
                stdout: "hi\n".into(),
                stderr: String::new(),
                stdout_bytes: 0,
                stderr_bytes: 0,
                detail: None,
            })
            .collect(),
    }
}

impl SimNode {
    /// Stay connected, answering commands (every step failing when `fail`), until the
    /// connection ends.
    pub async fn serve(
        &self,
        url: &str,
        index: usize,
        stats: Arc<Stats>,
        fail: bool,
    ) -> anyhow::Result<()> {
        let (mut socket, nonce) = open(url).await?;
        let signature = B64.encode(
            self.key
                .sign(&bosun_proto::authenticate_payload(
                    &nonce,
                    &self.instance_id,
                ))
                .to_bytes(),
        );
        send(
            &mut socket,
            &AgentMessage::Authenticate {
                protocol_version: PROTOCOL_VERSION,
                instance_id: self.instance_id.clone(),
                signature,
                info: info(index),
            },
        )
        .await?;
        let beat = match next(&mut socket).await? {
            ServerMessage::Welcome {
                heartbeat_seconds, ..
            } => Duration::from_secs(heartbeat_seconds.max(1)),
            other => bail!("authentication refused: {other:?}"),
        };
        stats.connected.fetch_add(1, Ordering::Relaxed);
        let mut ticker = tokio::time::interval(beat);
        ticker.tick().await;
        let result = loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(e) = send(&mut socket, &AgentMessage::Heartbeat { info: None }).await { break Err(e) }
                }
                msg = next(&mut socket) => match msg {
                    Ok(ServerMessage::RunCommand(d)) => {
                        let ack = AgentMessage::CommandAck { command_id: d.command_id.clone() };
                        if let Err(e) = send(&mut socket, &ack).await { break Err(e) }
                        if let Err(e) = send(&mut socket, &AgentMessage::Result(synthetic_result(&d, fail))).await { break Err(e) }
                        stats.commands.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => break Err(e),
                }
            }
        };
        stats.connected.fetch_sub(1, Ordering::Relaxed);
        result
    }
}
