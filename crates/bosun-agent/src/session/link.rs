//! The session's websocket to the server's data channel: dial the server URL the agent channel
//! is on, present the single-use token in `OpenDataChannelInput`, then bridge binary frames to a
//! [`Link`]. Redials (with backoff) while the session lives, keeping the session's sequence
//! space (the pump keeps it); stops for good when the server refuses the upgrade (4xx).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context};
use bosun_core::session::payloads::OpenDataChannelInput;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message};

use super::pump::Link;

const DIAL_TIMEOUT: Duration = Duration::from_secs(15);
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where and as whom to dial.
#[derive(Clone)]
pub struct DialTarget {
    /// The server URL the agent channel is connected to (updated on failover).
    pub server: Arc<Mutex<String>>,
    pub ca_file: Option<PathBuf>,
    pub session_id: String,
    pub token: String,
    pub node_id: String,
}

/// `ws(s)://host/v1/data-channel/<id>?role=publish_subscribe` for a server base URL.
pub fn data_channel_url(server: &str, session_id: &str) -> anyhow::Result<String> {
    let base = server.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        anyhow::bail!("the server URL must start with http:// or https://, got {server:?}");
    };
    Ok(format!(
        "{ws}{}?role=publish_subscribe",
        bosun_proto::session::data_channel_path(session_id)
    ))
}

enum Dial {
    Retry(anyhow::Error),
    Refused(anyhow::Error),
}

/// Keep the session connected until `links` is closed (the session ended) or the server
/// refuses the data channel.
pub async fn dial_loop(target: DialTarget, links: mpsc::Sender<Link>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let server = target
            .server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match dial(&target, &server).await {
            Ok(socket) => {
                backoff = MIN_BACKOFF;
                let (agent, far) = Link::pair(1024);
                if links.send(agent).await.is_err() {
                    return;
                }
                if bridge(socket, far).await {
                    return;
                }
                tracing::info!(session_id = %target.session_id, "data channel lost; redialling");
            }
            Err(Dial::Refused(e)) => {
                tracing::warn!(session_id = %target.session_id, error = %format!("{e:#}"), "the server refused the data channel");
                return;
            }
            Err(Dial::Retry(e)) => {
                tracing::warn!(session_id = %target.session_id, error = %format!("{e:#}"), "cannot reach the data channel");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = links.closed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn dial(target: &DialTarget, server: &str) -> Result<crate::channel::Socket, Dial> {
    let url = data_channel_url(server, &target.session_id).map_err(Dial::Refused)?;
    let connector =
        crate::tls::connector(server, target.ca_file.as_deref()).map_err(Dial::Refused)?;
    let attempt =
        tokio_tungstenite::connect_async_tls_with_config(url.as_str(), None, false, connector);
    let mut socket = match tokio::time::timeout(DIAL_TIMEOUT, attempt).await {
        Err(_) => return Err(Dial::Retry(anyhow!("timed out connecting to {url}"))),
        Ok(Err(tungstenite::Error::Http(resp))) if resp.status().is_client_error() => {
            return Err(Dial::Refused(anyhow!("{url} answered {}", resp.status())))
        }
        Ok(Err(e)) => return Err(Dial::Retry(anyhow::Error::new(e).context(url))),
        Ok(Ok((s, _))) => s,
    };
    let open = OpenDataChannelInput {
        message_schema_version: "1.0".into(),
        request_id: uuid::Uuid::new_v4().to_string(),
        token_value: target.token.clone(),
        client_id: Some(String::new()),
        client_version: None,
        client_instance_id: Some(target.node_id.clone()),
    };
    let text = serde_json::to_string(&open)
        .context("encoding OpenDataChannelInput")
        .map_err(Dial::Retry)?;
    socket
        .send(Message::Text(text.into()))
        .await
        .context("sending OpenDataChannelInput")
        .map_err(Dial::Retry)?;
    Ok(socket)
}

/// Move frames between the socket and the link until either ends; `true` when the session side
/// is gone (stop dialling).
async fn bridge(mut socket: crate::channel::Socket, mut far: Link) -> bool {
    loop {
        tokio::select! {
            out = far.rx.recv() => match out {
                Some(bytes) => {
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        return false;
                    }
                }
                None => {
                    let _ = socket.close(None).await;
                    return true;
                }
            },
            msg = socket.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    if far.tx.send(b.to_vec()).await.is_err() {
                        let _ = socket.close(None).await;
                        return true;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return false,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn data_channel_urls() {
        assert_eq!(
            super::data_channel_url("https://h:8443/", "u-1").unwrap(),
            "wss://h:8443/v1/data-channel/u-1?role=publish_subscribe"
        );
        assert_eq!(
            super::data_channel_url("http://127.0.0.1:8080", "u-1").unwrap(),
            "ws://127.0.0.1:8080/v1/data-channel/u-1?role=publish_subscribe"
        );
    }
}
