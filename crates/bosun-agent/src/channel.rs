//! The agent's connection to the server: connect, prove identity, send heartbeats, and
//! reconnect with jittered exponential backoff until told to stop. With several server URLs
//! (`--server a,b`) each round tries them in order, so the agent fails over to whichever
//! serves; the backoff grows only when a whole round failed.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use bosun_proto::{AgentMessage, RejectCode, ServerMessage, PROTOCOL_VERSION};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::commands::CommandService;
use crate::identity::{mark_deregistered, Identity};
use crate::session::SessionService;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A connection that lasted this long resets the backoff.
const STABLE_AFTER: Duration = Duration::from_secs(30);

/// Open the websocket to the server's agent channel.
pub async fn connect(server: &str, ca_file: Option<&Path>) -> anyhow::Result<Socket> {
    let url = crate::channel_url(server)?;
    let connector = crate::tls::connector(server, ca_file)?;
    let (socket, _) = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::connect_async_tls_with_config(url.as_str(), None, true, connector),
    )
    .await
    .map_err(|_| anyhow!("timed out connecting to {url}"))?
    .with_context(|| format!("connecting to {url}"))?;
    Ok(socket)
}

pub async fn send_agent(socket: &mut Socket, msg: &AgentMessage) -> anyhow::Result<()> {
    let text = serde_json::to_string(msg)?;
    socket
        .send(Message::Text(text.into()))
        .await
        .context("sending to the server")
}

/// The next protocol message from the server (`Err` when the connection ended).
pub async fn recv_server(socket: &mut Socket) -> anyhow::Result<ServerMessage> {
    loop {
        if let Some(message) = recv_server_or_pong(socket).await? {
            return Ok(message);
        }
    }
}

/// The next protocol message from the server, or `None` for a pong (the server is alive).
async fn recv_server_or_pong(socket: &mut Socket) -> anyhow::Result<Option<ServerMessage>> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(&t)
                    .map(Some)
                    .with_context(|| "malformed message from the server".to_string())
            }
            Some(Ok(Message::Pong(_))) => return Ok(None),
            Some(Ok(Message::Ping(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Binary(_))) => bail!("unexpected binary message from the server"),
            Some(Ok(Message::Close(_))) | None => bail!("the server closed the connection"),
            Some(Err(e)) => return Err(e).context("reading from the server"),
        }
    }
}

/// How long a connected server may stay silent (not even answering the ping sent with every
/// heartbeat) before the agent gives up on it and connects again, maybe to another replica: a
/// frozen server keeps its sockets open, so only silence tells.
fn silence_limit(heartbeat: Duration) -> Duration {
    (heartbeat * 3).max(Duration::from_secs(15))
}

/// Read the server's opening challenge and return its nonce.
pub async fn expect_challenge(socket: &mut Socket) -> anyhow::Result<String> {
    match tokio::time::timeout(CONNECT_TIMEOUT, recv_server(socket)).await {
        Ok(Ok(ServerMessage::Challenge {
            protocol_version,
            nonce,
        })) if protocol_version == PROTOCOL_VERSION => Ok(nonce),
        Ok(Ok(ServerMessage::Challenge {
            protocol_version, ..
        })) => {
            bail!("the server speaks protocol {protocol_version}, this agent {PROTOCOL_VERSION}")
        }
        Ok(Ok(other)) => bail!("expected a challenge, got {other:?}"),
        Ok(Err(e)) => Err(e),
        Err(_) => bail!("timed out waiting for the server's challenge"),
    }
}

/// How one connection ended.
enum Ended {
    /// Lost; try again.
    Retry(anyhow::Error),
    /// The server refused us for good, or deregistered us.
    Stop(anyhow::Error),
}

/// Keep the node connected until a permanent refusal. Returns the reason it stopped.
pub async fn run(
    identity: &Identity,
    state_dir: &Path,
    commands: &std::sync::Arc<CommandService>,
    sessions: &std::sync::Arc<SessionService>,
) -> anyhow::Error {
    let urls = crate::server_urls(&identity.server);
    let mut backoff = MIN_BACKOFF;
    loop {
        for url in &urls {
            let started = tokio::time::Instant::now();
            let ended = connect_once(identity, url, state_dir, commands, sessions).await;
            commands.outbox.disconnect();
            sessions.outbox.disconnect();
            match ended {
                Ended::Stop(e) => return e,
                Ended::Retry(e) => {
                    if started.elapsed() >= STABLE_AFTER {
                        backoff = MIN_BACKOFF;
                    }
                    tracing::warn!(server = %url, error = %format!("{e:#}"), "connection to the server lost or refused");
                }
            }
        }
        let wait = jitter(backoff);
        tracing::warn!(
            retry_in_ms = wait.as_millis() as u64,
            "no server answered; trying again"
        );
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// "Equal jitter": half the backoff plus a random share of the other half.
fn jitter(backoff: Duration) -> Duration {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    let r = f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX);
    backoff / 2 + backoff.mul_f64(r / 2.0)
}

async fn connect_once(
    identity: &Identity,
    server: &str,
    state_dir: &Path,
    commands: &std::sync::Arc<CommandService>,
    sessions: &std::sync::Arc<SessionService>,
) -> Ended {
    let mut socket = match connect(server, identity.ca_file.as_deref()).await {
        Ok(s) => s,
        Err(e) => return Ended::Retry(e),
    };
    let nonce = match expect_challenge(&mut socket).await {
        Ok(n) => n,
        Err(e) => return Ended::Retry(e),
    };
    let signature = match identity.sign(&bosun_proto::authenticate_payload(
        &nonce,
        &identity.instance_id,
    )) {
        Ok(s) => s,
        Err(e) => return Ended::Stop(e),
    };
    let mut info = crate::sysinfo::collect();
    info.packages = installed_packages(state_dir);
    let hello = AgentMessage::Authenticate {
        protocol_version: PROTOCOL_VERSION,
        instance_id: identity.instance_id.clone(),
        signature,
        info: info.clone(),
    };
    if let Err(e) = send_agent(&mut socket, &hello).await {
        return Ended::Retry(e);
    }
    let heartbeat = match recv_server(&mut socket).await {
        Ok(ServerMessage::Welcome {
            heartbeat_seconds,
            release_key,
            release_key_rotation,
            ..
        }) => {
            if let Err(e) = crate::release_key::on_welcome(
                state_dir,
                release_key.as_deref(),
                release_key_rotation.as_ref(),
            ) {
                tracing::warn!(error = %e, "the server's release key is not trusted");
            }
            crate::update::on_connected(state_dir);
            Duration::from_secs(heartbeat_seconds.max(1))
        }
        Ok(ServerMessage::Rejected { code, message }) => return refused(code, message, state_dir),
        Ok(ServerMessage::Deregistered { message }) => return deregistered(message, state_dir),
        Ok(other) => {
            return Ended::Retry(anyhow!("unexpected answer to authentication: {other:?}"))
        }
        Err(e) => return Ended::Retry(e),
    };
    tracing::info!(instance_id = %identity.instance_id, "connected to the server");
    let (tx, mut outgoing) = tokio::sync::mpsc::channel::<AgentMessage>(64);
    commands.outbox.connect(tx.clone());
    sessions.outbox.connect(tx);
    {
        let svc = sessions.clone();
        let server = server.to_string();
        tokio::spawn(async move { svc.on_connected(&server).await });
    }
    {
        let svc = commands.clone();
        tokio::spawn(async move { svc.on_connected().await });
    }
    let mut ticker = tokio::time::interval(heartbeat);
    ticker.tick().await;
    let mut beats: u64 = 0;
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if last_heard.elapsed() > silence_limit(heartbeat) {
                    return Ended::Retry(anyhow!(
                        "the server has not answered for {} s",
                        last_heard.elapsed().as_secs()
                    ));
                }
                if let Err(e) = socket.send(Message::Ping(Default::default())).await {
                    return Ended::Retry(anyhow::Error::new(e).context("pinging the server"));
                }
                beats += 1;
                // Refresh host facts now and then (installed packages every beat); send them
                // only when they changed.
                let mut now = if beats.is_multiple_of(10) {
                    crate::sysinfo::collect()
                } else {
                    info.clone()
                };
                now.packages = installed_packages(state_dir);
                let fresh = (now != info).then(|| { info = now.clone(); now });
                if let Err(e) = send_agent(&mut socket, &AgentMessage::Heartbeat { info: fresh }).await {
                    return Ended::Retry(e);
                }
            }
            Some(out) = outgoing.recv() => {
                if let Err(e) = send_agent(&mut socket, &out).await {
                    return Ended::Retry(e);
                }
            }
            msg = recv_server_or_pong(&mut socket) => match msg {
                Ok(None) => last_heard = tokio::time::Instant::now(),
                Ok(Some(ServerMessage::Deregistered { message })) => return deregistered(message, state_dir),
                Ok(Some(ServerMessage::Rejected { code, message })) => return refused(code, message, state_dir),
                Ok(Some(m @ (ServerMessage::RunCommand(_)
                | ServerMessage::CancelCommand { .. }
                | ServerMessage::ResultAck { .. }
                | ServerMessage::FetchOutput { .. }))) => {
                    last_heard = tokio::time::Instant::now();
                    // Handled off the read loop: handling may wait on the outgoing queue.
                    let svc = commands.clone();
                    tokio::spawn(async move { svc.handle(m).await });
                }
                Ok(Some(m)) if SessionService::handles(&m) => {
                    last_heard = tokio::time::Instant::now();
                    let svc = sessions.clone();
                    tokio::spawn(async move { svc.handle(m).await });
                }
                Ok(Some(ServerMessage::SendWakePacket { mac, broadcast, port })) => {
                    last_heard = tokio::time::Instant::now();
                    tokio::task::spawn_blocking(move || crate::wake::handle(mac, broadcast, port));
                }
                Ok(Some(other)) => tracing::warn!(kind = other.kind(), "unexpected message from the server"),
                Err(e) => return Ended::Retry(e),
            }
        }
    }
}

fn deregistered(message: String, state_dir: &Path) -> Ended {
    if let Err(e) = mark_deregistered(state_dir, &message) {
        tracing::error!(error = %format!("{e:#}"), "could not record deregistration");
    }
    Ended::Stop(anyhow!("this node was deregistered: {message}"))
}

fn refused(code: RejectCode, message: String, state_dir: &Path) -> Ended {
    match code {
        RejectCode::Deregistered => deregistered(message, state_dir),
        RejectCode::ProtocolError | RejectCode::ServerError => {
            Ended::Retry(anyhow!("server said {code:?}: {message}"))
        }
        c if c.is_permanent() => {
            Ended::Stop(anyhow!("the server refused this node ({c:?}): {message}"))
        }
        c => Ended::Retry(anyhow!("server said {c:?}: {message}")),
    }
}

/// The Distributor packages this node has installed, as its facts report them.
fn installed_packages(state_dir: &std::path::Path) -> Vec<bosun_core::document::InstalledPackage> {
    crate::plugins::package_files::all_installed(state_dir)
        .into_iter()
        .map(|p| bosun_core::document::InstalledPackage {
            name: p.name,
            version: p.version,
        })
        .collect()
}
