//! A data channel socket that landed on a replica other than the session's relaying one (a
//! `StreamUrl` of the replica that answered `StartSession`, a load balancer, an agent that
//! failed over) is forwarded to that replica unchanged: its first frame, then every frame
//! each way. The relaying replica checks the token as for a direct socket; the forwarding one
//! keeps nothing: it checks and spends no token.
//!
//! A forwarded socket carries [`RELAYED_BY`], and a socket carrying it is never forwarded
//! again, so two replicas that disagree about a session cannot bounce it between them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame as UpCloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message as Up;
use tokio_tungstenite::Connector;

use super::close;
use crate::state::AppState;

/// The header naming the replica that forwarded a socket.
pub const RELAYED_BY: &str = "x-bosun-relayed-by";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// As a direct socket reads (see `super::relay`).
const READ_BUFFER_BYTES: usize = 16 * 1024;
const MAX_FRAME_BYTES: usize = 2 * 1024 * 1024;

/// `ws(s)://<replica>/v1/data-channel/<id>[?query]` for a replica's `http(s)://` URL.
fn upstream_url(replica_url: &str, session_id: &str, query: Option<&str>) -> String {
    let ws = match replica_url.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", replica_url.trim_start_matches("http://")),
    };
    let path = bosun_proto::session::data_channel_path(session_id);
    match query {
        Some(q) if !q.is_empty() => format!("{ws}{path}?{q}"),
        _ => format!("{ws}{path}"),
    }
}

/// TLS to another replica: the system's roots and this server's own certificate chain (replicas
/// usually share a certificate or its issuer).
fn connector(state: &AppState) -> Option<Connector> {
    let tls = state.config.tls.as_ref()?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Ok(pem) = std::fs::read(&tls.cert_path) {
        for cert in rustls_pemfile::certs(&mut pem.as_slice()).flatten() {
            let _ = roots.add(cert);
        }
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Some(Connector::Rustls(Arc::new(config)))
}

fn to_upstream(m: Message) -> Option<Up> {
    Some(match m {
        Message::Binary(b) => Up::Binary(b),
        Message::Text(t) => Up::text(t.as_str()),
        Message::Close(frame) => Up::Close(frame.map(|f| UpCloseFrame {
            code: CloseCode::from(f.code),
            reason: f.reason.as_str().into(),
        })),
        Message::Ping(_) | Message::Pong(_) => return None,
    })
}

fn to_client(m: Up) -> Option<Message> {
    Some(match m {
        Up::Binary(b) => Message::Binary(b),
        Up::Text(t) => Message::Text(t.as_str().into()),
        Up::Close(frame) => Message::Close(frame.map(|f| CloseFrame {
            code: f.code.into(),
            reason: f.reason.as_str().into(),
        })),
        Up::Ping(_) | Up::Pong(_) | Up::Frame(_) => return None,
    })
}

/// Forward `socket`, whose first frame was `first`, to the replica at `replica_url`.
pub async fn forward(
    state: &AppState,
    mut socket: WebSocket,
    replica_url: &str,
    session_id: &str,
    query: Option<&str>,
    first: String,
) {
    let url = upstream_url(replica_url, session_id, query);
    let request = url.as_str().into_client_request().map(|mut r| {
        if let Ok(me) = state.replica.id.parse() {
            r.headers_mut().insert(RELAYED_BY, me);
        }
        r
    });
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(MAX_FRAME_BYTES));
    let connected = match request {
        Ok(request) => tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio_tungstenite::connect_async_tls_with_config(
                request,
                Some(config),
                true,
                connector(state),
            ),
        )
        .await
        .map_err(|_| "timed out".to_string())
        .and_then(|r| r.map_err(|e| e.to_string())),
        Err(e) => Err(e.to_string()),
    };
    let mut upstream = match connected {
        Ok((upstream, _)) => upstream,
        Err(e) => {
            tracing::warn!(%session_id, %url, error = %e, "could not reach the replica relaying a session");
            let _ = socket
                .send(close(
                    "the server replica relaying the session could not be reached",
                ))
                .await;
            return;
        }
    };
    if upstream.send(Up::text(first)).await.is_err() {
        let _ = socket
            .send(close("the relaying server replica closed"))
            .await;
        return;
    }
    tracing::info!(%session_id, %url, "data channel forwarded to the relaying replica");
    loop {
        tokio::select! {
            from_client = socket.next() => match from_client {
                Some(Ok(Message::Ping(p))) => { let _ = socket.send(Message::Pong(p)).await; }
                Some(Ok(m)) => {
                    let closing = matches!(m, Message::Close(_));
                    if let Some(up) = to_upstream(m) {
                        if upstream.send(up).await.is_err() || closing { break; }
                    }
                }
                Some(Err(_)) | None => { let _ = upstream.close(None).await; break; }
            },
            from_upstream = upstream.next() => match from_upstream {
                Some(Ok(m)) => {
                    let closing = matches!(m, Up::Close(_));
                    if let Some(down) = to_client(m) {
                        if socket.send(down).await.is_err() || closing { break; }
                    }
                }
                Some(Err(_)) | None => {
                    let _ = socket.send(close("the relaying server replica closed")).await;
                    break;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn upstream_urls_keep_the_scheme_and_the_query() {
        assert_eq!(
            super::upstream_url(
                "https://r2.example:8443",
                "u-1",
                Some("role=publish_subscribe")
            ),
            "wss://r2.example:8443/v1/data-channel/u-1?role=publish_subscribe"
        );
        assert_eq!(
            super::upstream_url("http://10.0.0.2:8080", "u-1", None),
            "ws://10.0.0.2:8080/v1/data-channel/u-1"
        );
    }
}
