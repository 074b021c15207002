//! Live command output from the server's `/v1/commands/<id>/live` websocket (a Bosun
//! extension: AWS has no way to watch output while a command runs). The upgrade request is
//! SigV4-signed like every API call.

use std::time::SystemTime;

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

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
    endpoint: &str,
    region: &str,
    akid: &str,
    secret: &str,
    command_id: &str,
    out: mpsc::Sender<Chunk>,
) -> anyhow::Result<()> {
    let http_url = format!(
        "{}/v1/commands/{command_id}/live",
        endpoint.trim_end_matches('/')
    );
    let ws_url = http_url.replacen("http", "ws", 1);
    let host = http_url.split('/').nth(2).unwrap_or_default().to_string();
    let identity = Credentials::new(akid, secret, None, None, "bosun").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("ssm")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()?
        .into();
    let headers = [("host", host.as_str())];
    let signable = SignableRequest::new(
        "GET",
        http_url.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(b""),
    )?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    let mut request = ws_url.as_str().into_client_request()?;
    for (k, v) in instructions.headers() {
        request
            .headers_mut()
            .insert(http_header_name(k)?, v.parse().context("signature header")?);
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
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
