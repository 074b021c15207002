//! Live command output from the server's `/v1/commands/<id>/live` websocket (a Bosun
//! extension: AWS has no way to watch output while a command runs). The upgrade request is
//! SigV4-signed like every API call.

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::client::Connection;

/// One piece of output as the server relays it.
#[derive(Debug)]
pub struct Chunk {
    pub instance_id: String,
    pub stderr: bool,
    pub offset: u64,
    pub data: Vec<u8>,
}

/// Connect and forward chunks until the socket closes. Errors end the feed quietly: the CLI
/// fetches whatever it missed from the output URLs at the end.
pub async fn follow(
    conn: &Connection,
    command_id: &str,
    out: mpsc::Sender<Chunk>,
) -> anyhow::Result<()> {
    let http_url = format!(
        "{}/v1/commands/{command_id}/live",
        conn.endpoint.trim_end_matches('/')
    );
    let ws_url = http_url.replacen("http", "ws", 1);
    let mut request = ws_url.as_str().into_client_request()?;
    for (k, v) in crate::output::signed_headers(conn, &http_url)? {
        request.headers_mut().insert(
            http_header_name(&k)?,
            v.parse().context("signature header")?,
        );
    }
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .context("opening the live output feed")?;
    while let Some(Ok(msg)) = socket.next().await {
        let Message::Text(text) = msg else { continue };
        let v: serde_json::Value = serde_json::from_str(&text)?;
        let Some(data) = v["data"].as_str().and_then(|d| B64.decode(d).ok()) else {
            continue;
        };
        let chunk = Chunk {
            instance_id: v["instance_id"].as_str().unwrap_or_default().to_string(),
            stderr: v["stream"] == "stderr",
            offset: v["offset"].as_u64().unwrap_or(0),
            data,
        };
        if out.send(chunk).await.is_err() {
            break;
        }
    }
    Ok(())
}

fn http_header_name(k: &str) -> anyhow::Result<tokio_tungstenite::tungstenite::http::HeaderName> {
    k.parse().context("signature header name")
}
