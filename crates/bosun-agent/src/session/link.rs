//! The session's websocket to the server's data channel: dial the server URL the agent channel
//! is on, present the session's agent token in `OpenDataChannelInput` (good for every redial
//! while the session lives), then bridge binary frames to a
//! [`Link`]. Redials (with backoff) while the session lives, keeping the session's sequence
//! space (the pump keeps it); stops for good when the server refuses the upgrade (4xx), says
//! the session is over, or cannot be reached for [`GIVE_UP_AFTER`] (the session then ends on
//! the node: its worker does not outlive a server that forgot it).

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
/// How long the data channel may stay down before the node ends the session.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

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
    let mut down_since = tokio::time::Instant::now();
    loop {
        if down_since.elapsed() > GIVE_UP_AFTER {
            tracing::warn!(session_id = %target.session_id, "the data channel stayed down; ending the session");
            return;
        }
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
                match bridge(socket, far).await {
                    Bridged::SessionGone => return,
                    Bridged::Over(why) => {
                        tracing::info!(session_id = %target.session_id, reason = %why, "the server ended the data channel");
                        return;
                    }
                    Bridged::Lost => {}
                }
                down_since = tokio::time::Instant::now();
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
        tokio_tungstenite::connect_async_tls_with_config(url.as_str(), None, true, connector);
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

/// How a bridged socket ended.
enum Bridged {
    /// The session side is gone: stop dialling.
    SessionGone,
    /// The server closed it saying the session is over (ended, or unknown to it).
    Over(String),
    /// Anything else: redial.
    Lost,
}

/// Whether a close reason from the server means the session is over for good (ended, unknown,
/// or not this token's: no redial changes that).
fn is_over(reason: &str) -> bool {
    [
        "the session has ended",
        "no such session",
        "the token is not valid",
    ]
    .iter()
    .any(|over| reason.contains(over))
}

/// Move frames between the socket and the link until either ends.
async fn bridge(mut socket: crate::channel::Socket, mut far: Link) -> Bridged {
    loop {
        tokio::select! {
            out = far.rx.recv() => match out {
                Some(bytes) => {
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        return Bridged::Lost;
                    }
                }
                None => {
                    let _ = socket.close(None).await;
                    return Bridged::SessionGone;
                }
            },
            msg = socket.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    if far.tx.send(b.to_vec()).await.is_err() {
                        let _ = socket.close(None).await;
                        return Bridged::SessionGone;
                    }
                }
                Some(Ok(Message::Close(Some(frame)))) if is_over(&frame.reason) => {
                    return Bridged::Over(frame.reason.to_string())
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Bridged::Lost,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bosun_core::session::frame::ClientMessage;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    /// Accept one data-channel websocket (the callback's error type is tungstenite's); return its path and query and its first text frame.
    #[allow(clippy::result_large_err)]
    async fn accept(
        listener: &tokio::net::TcpListener,
    ) -> (crate::channel::Socket, String, OpenDataChannelInput) {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut uri = String::new();
        let ws = tokio_tungstenite::accept_hdr_async(
            tokio_tungstenite::MaybeTlsStream::Plain(tcp),
            |req: &Request, resp: Response| {
                uri = req.uri().to_string();
                Ok(resp)
            },
        )
        .await
        .unwrap();
        let mut ws = ws;
        let Some(Ok(Message::Text(first))) = ws.next().await else {
            panic!("no OpenDataChannelInput")
        };
        (ws, uri, serde_json::from_str(&first).unwrap())
    }

    #[tokio::test]
    async fn dials_with_the_token_bridges_frames_and_redials_when_dropped() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = format!("http://{}", listener.local_addr().unwrap());
        let (links_tx, mut links) = mpsc::channel(1);
        let target = DialTarget {
            server: Arc::new(Mutex::new(server)),
            ca_file: None,
            session_id: "alice-0123".into(),
            token: "secret-token".into(),
            node_id: "mi-0123456789abcdef0".into(),
        };
        let dialer = tokio::spawn(dial_loop(target, links_tx));
        let limit = Duration::from_secs(20);
        let (mut ws, uri, open) = tokio::time::timeout(limit, accept(&listener))
            .await
            .unwrap();
        assert_eq!(uri, "/v1/data-channel/alice-0123?role=publish_subscribe");
        assert_eq!(open.token_value, "secret-token");
        assert_eq!(open.message_schema_version, "1.0");
        assert_eq!(
            open.client_instance_id.as_deref(),
            Some("mi-0123456789abcdef0")
        );
        assert_eq!(open.client_id.as_deref(), Some(""));
        assert!(uuid::Uuid::parse_str(&open.request_id).is_ok());
        let mut link = tokio::time::timeout(limit, links.recv())
            .await
            .unwrap()
            .unwrap();
        let frame = ClientMessage::new(
            "input_stream_data",
            1,
            0,
            1,
            uuid::Uuid::new_v4(),
            1,
            b"x".to_vec(),
        );
        ws.send(Message::Binary(frame.encode().unwrap().into()))
            .await
            .unwrap();
        assert_eq!(link.rx.recv().await.unwrap(), frame.encode().unwrap());
        link.tx.send(b"out".to_vec()).await.unwrap();
        let Some(Ok(Message::Binary(out))) = ws.next().await else {
            panic!("no frame")
        };
        assert_eq!(&out[..], b"out");
        // The socket drops: the dialer comes back with the same token and a new link.
        drop(ws);
        let (_ws, _, again) = tokio::time::timeout(limit, accept(&listener))
            .await
            .unwrap();
        assert_eq!(again.token_value, "secret-token");
        let second = tokio::time::timeout(limit, links.recv())
            .await
            .unwrap()
            .unwrap();
        // The session ends: the dialer stops.
        drop(links);
        drop(link);
        drop(second);
        tokio::time::timeout(limit, dialer).await.unwrap().unwrap();
    }

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
