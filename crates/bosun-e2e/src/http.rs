//! Minimal raw HTTP/1.1 over TCP, and SigV4 signing with the `aws-sigv4` crate, for requests
//! an SDK would never send (tampered bodies, skewed clocks, wrong secrets).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    /// The `__type` of an AWS JSON error body.
    pub fn error_type(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("__type").and_then(|t| t.as_str()).map(str::to_string))
            .unwrap_or_default()
    }
}

/// Send raw request bytes and read the whole response.
pub async fn send_raw(addr: &str, request: &[u8]) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok(Response { status, body })
}

pub async fn get(addr: &str, path: &str) -> std::io::Result<Response> {
    send_raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
}

/// A signed AWS JSON 1.1 request, as (headers, body), ready to tamper with.
pub struct SignedRequest {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Sign `body` for `AmazonSSM.<op>` with the given key, region and signing time.
pub fn sign_request(
    addr: &str,
    op: &str,
    body: &str,
    akid: &str,
    secret: &str,
    region: &str,
    time: SystemTime,
) -> SignedRequest {
    let identity = Credentials::new(akid, secret, None, None, "e2e").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("ssm")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let mut headers = vec![
        ("host".to_string(), addr.to_string()),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        ("x-amz-target".to_string(), format!("AmazonSSM.{op}")),
    ];
    let url = format!("http://{addr}/");
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    for (k, v) in instructions.headers() {
        headers.push((k.to_string(), v.to_string()));
    }
    SignedRequest {
        headers,
        body: body.to_string(),
    }
}

/// Send a (possibly tampered) signed request.
pub async fn send_signed(addr: &str, req: &SignedRequest) -> Response {
    let mut text = String::from("POST / HTTP/1.1\r\n");
    for (k, v) in &req.headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{}",
        req.body.len(),
        req.body
    ));
    send_raw(addr, text.as_bytes()).await.expect("send request")
}
