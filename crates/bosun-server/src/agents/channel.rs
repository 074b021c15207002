//! One agent's websocket: the signed handshake (register or authenticate), then heartbeats.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use bosun_core::ids;
use bosun_proto::{AgentMessage, NodeInfo, RejectCode, ServerMessage, PROTOCOL_VERSION};
use bosun_store::{NewInstance, NodeFacts, RegisterOutcome};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::node_auth::verify_signature;
use super::Outbound;
use crate::state::{now_ms, random_bytes, AppState};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Axum handler for the agent channel path.
pub async fn agent_channel(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_MESSAGE_BYTES)
        // Small per-connection buffers: a server holds thousands of mostly idle agent channels
        // (the read buffer is allocated and touched whole up front; it grows for big messages).
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| async move { run(state, socket).await })
}

async fn send(socket: &mut WebSocket, msg: &ServerMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(msg).expect("server messages serialize");
    socket.send(Message::Text(text.into())).await
}

async fn reject(mut socket: WebSocket, code: RejectCode, message: impl Into<String>) {
    let message = message.into();
    tracing::info!(?code, %message, "agent handshake rejected");
    let _ = send(&mut socket, &ServerMessage::Rejected { code, message }).await;
    let _ = socket.close().await;
}

async fn next_agent_message(socket: &mut WebSocket) -> Option<Result<AgentMessage, String>> {
    loop {
        match socket.next().await? {
            Ok(Message::Text(t)) => {
                return Some(serde_json::from_str(&t).map_err(|e| format!("bad message: {e}")))
            }
            Ok(Message::Ping(_)) | Ok(Message::Pong(_)) => continue,
            Ok(Message::Binary(_)) => {
                return Some(Err("binary messages are not part of the protocol".into()))
            }
            Ok(Message::Close(_)) | Err(_) => return None,
        }
    }
}

fn facts(info: &NodeInfo) -> NodeFacts {
    let clip = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    NodeFacts {
        computer_name: clip(&info.computer_name, 255),
        ip_address: clip(
            info.ip_addresses.first().map(String::as_str).unwrap_or(""),
            46,
        ),
        platform_type: match info.platform_type.as_str() {
            t @ ("Linux" | "Windows" | "MacOS") => t.to_string(),
            _ => "Linux".into(),
        },
        platform_name: clip(&info.platform_name, 256),
        platform_version: clip(&info.platform_version, 256),
        agent_version: clip(&info.agent_version, 64),
        // Bounded: an agent's report is not trusted to be small.
        network_interfaces: info
            .network_interfaces
            .iter()
            .take(64)
            .map(|i| bosun_core::power::NetworkInterface {
                name: clip(&i.name, 64),
                mac_address: clip(&i.mac_address, 17),
                ipv4_addresses: i
                    .ipv4_addresses
                    .iter()
                    .take(32)
                    .map(|a| clip(a, 18))
                    .collect(),
            })
            .collect(),
        boot_id: clip(&info.boot_id, 64),
        packages: info
            .packages
            .iter()
            .take(256)
            .map(|p| bosun_core::document::InstalledPackage {
                name: clip(&p.name, 128),
                version: clip(&p.version, 128),
            })
            .collect(),
    }
}

async fn run(state: Arc<AppState>, mut socket: WebSocket) {
    let nonce = hex::encode(random_bytes::<32>());
    if send(
        &mut socket,
        &ServerMessage::Challenge {
            protocol_version: PROTOCOL_VERSION,
            nonce: nonce.clone(),
        },
    )
    .await
    .is_err()
    {
        return;
    }
    let first = match tokio::time::timeout(HANDSHAKE_TIMEOUT, next_agent_message(&mut socket)).await
    {
        Ok(Some(Ok(m))) => m,
        Ok(Some(Err(e))) => return reject(socket, RejectCode::ProtocolError, e).await,
        Ok(None) | Err(_) => return,
    };
    match first {
        AgentMessage::Register {
            protocol_version,
            activation_id,
            activation_code,
            region,
            public_key,
            signature,
            info,
        } => {
            if protocol_version != PROTOCOL_VERSION {
                return reject(
                    socket,
                    RejectCode::UnsupportedVersion,
                    format!("server speaks protocol {PROTOCOL_VERSION}"),
                )
                .await;
            }
            if !verify_signature(
                &public_key,
                &bosun_proto::register_payload(&nonce, &activation_id),
                &signature,
            ) {
                return reject(
                    socket,
                    RejectCode::AuthenticationFailed,
                    "the registration signature does not verify",
                )
                .await;
            }
            let region = if region.is_empty() {
                state.config.default_region.clone()
            } else {
                region
            };
            let instance_id = ids::managed_instance_id(random_bytes());
            let store = state.store.clone();
            let now = now_ms();
            let node = NewInstance {
                region: region.clone(),
                instance_id: instance_id.clone(),
                activation_id: activation_id.clone(),
                public_key,
                name: String::new(),
                iam_role: String::new(),
                registration_ms: now,
                info: facts(&info),
            };
            let code_hash = ids::hash_activation_code(&activation_code);
            let outcome = tokio::task::spawn_blocking(move || {
                let activation = store.get_activation(&node.region, &activation_id)?;
                let mut node = node;
                if let Some(a) = activation {
                    node.name = a.default_instance_name;
                    node.iam_role = a.iam_role;
                }
                store.register_instance(&activation_id, &code_hash, &node, now)
            })
            .await;
            match outcome {
                Ok(Ok(RegisterOutcome::Registered)) => {
                    tracing::info!(%instance_id, %region, "node registered");
                    state.associations.targets_changed();
                    let _ = send(&mut socket, &ServerMessage::Registered { instance_id, region }).await;
                    let _ = socket.close().await;
                }
                Ok(Ok(RegisterOutcome::InvalidActivation)) => {
                    reject(socket, RejectCode::InvalidActivation, "The activation is not valid: the activation ID and code do not match, or the activation does not exist in this region.").await
                }
                Ok(Ok(RegisterOutcome::Expired)) => reject(socket, RejectCode::ActivationExpired, "The activation has expired.").await,
                Ok(Ok(RegisterOutcome::LimitExceeded)) => {
                    reject(socket, RejectCode::RegistrationLimitExceeded, "The activation's registration limit has been reached.").await
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "registration failed");
                    reject(socket, RejectCode::ServerError, "registration failed on the server; try again").await
                }
                Err(e) => {
                    tracing::error!(error = %e, "registration task failed");
                    reject(socket, RejectCode::ServerError, "registration failed on the server; try again").await
                }
            }
        }
        AgentMessage::Authenticate {
            protocol_version,
            instance_id,
            signature,
            info,
        } => {
            if protocol_version != PROTOCOL_VERSION {
                return reject(
                    socket,
                    RejectCode::UnsupportedVersion,
                    format!("server speaks protocol {PROTOCOL_VERSION}"),
                )
                .await;
            }
            let store = state.store.clone();
            let id = instance_id.clone();
            let record = match tokio::task::spawn_blocking(move || store.get_instance(&id)).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "instance lookup failed");
                    return reject(socket, RejectCode::ServerError, "server error; try again")
                        .await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "instance lookup failed");
                    return reject(socket, RejectCode::ServerError, "server error; try again")
                        .await;
                }
            };
            let Some(record) = record else {
                return reject(
                    socket,
                    RejectCode::AuthenticationFailed,
                    "unknown managed node or bad signature",
                )
                .await;
            };
            if !verify_signature(
                &record.public_key,
                &bosun_proto::authenticate_payload(&nonce, &instance_id),
                &signature,
            ) {
                return reject(
                    socket,
                    RejectCode::AuthenticationFailed,
                    "unknown managed node or bad signature",
                )
                .await;
            }
            if record.deregistered {
                return reject(socket, RejectCode::Deregistered, format!("managed node {instance_id} was deregistered; register it again with a new activation")).await;
            }
            serve_node(state, socket, instance_id, info).await;
        }
        _ => {
            reject(
                socket,
                RejectCode::ProtocolError,
                "expected register or authenticate",
            )
            .await
        }
    }
}

/// The authenticated part of a connection: heartbeats in, hub messages out.
async fn serve_node(
    state: Arc<AppState>,
    mut socket: WebSocket,
    instance_id: String,
    info: NodeInfo,
) {
    let now = now_ms();
    record_facts(&state, &instance_id, facts(&info), now).await;
    // The session in the store first: a replica closes its connections the store says were
    // replaced, so a connection must never be attached before its session is written.
    let (store, id, replica) = (
        state.store.clone(),
        instance_id.clone(),
        state.replica.id.clone(),
    );
    let epoch =
        match tokio::task::spawn_blocking(move || store.open_agent_session(&id, &replica, now))
            .await
        {
            Ok(Ok(epoch)) => epoch,
            Ok(Err(e)) => {
                tracing::error!(%instance_id, error = %e, "could not record the node's session");
                return reject(socket, RejectCode::ServerError, "server error; try again").await;
            }
            Err(e) => {
                tracing::error!(%instance_id, error = %e, "node session task failed");
                return reject(socket, RejectCode::ServerError, "server error; try again").await;
            }
        };
    let heartbeat_seconds = state.config.heartbeat_interval.as_secs().max(1);
    if send(
        &mut socket,
        &ServerMessage::Welcome {
            instance_id: instance_id.clone(),
            heartbeat_seconds,
            release_key: Some(state.release_key.public_b64()),
            release_key_rotation: state.release_key.rotation(),
        },
    )
    .await
    .is_err()
    {
        let (store, id, replica) = (
            state.store.clone(),
            instance_id.clone(),
            state.replica.id.clone(),
        );
        let _ =
            tokio::task::spawn_blocking(move || store.close_agent_session(&id, &replica, epoch))
                .await;
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let conn_id = state.hub.attach(&instance_id, tx, now, epoch);
    tracing::info!(%instance_id, "node online");
    let (st, id) = (state.clone(), instance_id.clone());
    match tokio::task::spawn_blocking(move || {
        crate::node_pings::announce(&st, &id, None, "Online", now)
    })
    .await
    {
        Ok(Ok(_)) => {}
        // The sweep announces it later.
        Ok(Err(e)) => {
            tracing::warn!(%instance_id, error = %e, "could not announce the node Online")
        }
        Err(e) => tracing::warn!(%instance_id, error = %e, "node announcement task failed"),
    }
    // Anything waiting for this node (Delayed, unacknowledged) goes out now.
    state.orchestrator.kick();
    let idle_limit = state.config.heartbeat_timeout();
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outbound::Send(m)) => { if send(&mut socket, &m).await.is_err() { break; } }
                Some(Outbound::SendAndClose(m)) => { let _ = send(&mut socket, &m).await; let _ = socket.close().await; break; }
                None => break,
            },
            msg = tokio::time::timeout(idle_limit, next_agent_message(&mut socket)) => match msg {
                Ok(Some(Ok(AgentMessage::Heartbeat { info }))) => {
                    let now = now_ms();
                    state.hub.heard(&instance_id, now);
                    if let Some(i) = info {
                        record_facts(&state, &instance_id, facts(&i), now).await;
                    }
                }
                Ok(Some(Ok(msg))) => {
                    state.hub.heard(&instance_id, now_ms());
                    handle_report(&state, &instance_id, msg).await;
                }
                Ok(Some(Err(e))) => { tracing::warn!(%instance_id, error = %e, "dropping connection"); break; }
                Ok(None) => break,
                Err(_) => { tracing::info!(%instance_id, "no heartbeat within the timeout; closing"); break; }
            }
        }
    }
    let last_heard = state.hub.last_heard(&instance_id).unwrap_or_else(now_ms);
    state.hub.detach(&instance_id, conn_id);
    let (store, id, replica) = (
        state.store.clone(),
        instance_id.clone(),
        state.replica.id.clone(),
    );
    let ended = move || {
        store.close_agent_session(&id, &replica, epoch)?;
        store.touch_instance(&id, last_heard)
    };
    match tokio::task::spawn_blocking(ended).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "could not record last ping"),
        Err(e) => tracing::error!(error = %e, "last ping task failed"),
    }
    tracing::info!(%instance_id, "node disconnected");
}

/// Store a node's reported facts, off the async threads (the store may be across the network).
async fn record_facts(state: &Arc<AppState>, instance_id: &str, facts: NodeFacts, now: i64) {
    let (store, id) = (state.store.clone(), instance_id.to_string());
    match tokio::task::spawn_blocking(move || store.update_instance_info(&id, &facts, now)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "could not record node facts"),
        Err(e) => tracing::error!(error = %e, "node facts task failed"),
    }
}

/// Command reports from an authenticated node (its id comes from the channel, not the message).
async fn handle_report(state: &Arc<AppState>, instance_id: &str, msg: AgentMessage) {
    let (st, id) = (state.clone(), instance_id.to_string());
    let work = tokio::task::spawn_blocking(move || match msg {
        AgentMessage::CommandAck { command_id } => {
            crate::orchestrator::on_ack(&st, &id, &command_id)
        }
        AgentMessage::Output(chunk) => crate::orchestrator::on_output(&st, &id, &chunk),
        AgentMessage::Result(result) => crate::orchestrator::on_result(&st, &id, &result),
        AgentMessage::SessionAccepted { session_id } => {
            crate::sessions::on_accepted(&st, &id, &session_id).map_err(Into::into)
        }
        AgentMessage::SessionEnded(end) => {
            crate::sessions::on_ended(&st, &id, &end).map_err(Into::into)
        }
        other => {
            tracing::warn!(instance_id = %id, kind = other.kind(), "unexpected message after handshake");
            Ok(())
        }
    });
    match work.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(%instance_id, error = %e, "could not handle an agent report"),
        Err(e) => tracing::error!(%instance_id, error = %e, "agent report handler panicked"),
    }
}
