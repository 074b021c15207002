//! Minimal raw HTTP/1.1 over TCP, and SigV4 signing with the `aws-sigv4` crate, for requests
//! an SDK would never send (tampered bodies, skewed clocks, wrong secrets).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The status line and headers, lower-cased.
    pub head: String,
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
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(buf.len());
    let head = String::from_utf8_lossy(&buf[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let raw = &buf[split..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(raw)
    } else {
        raw.to_vec()
    };
    Ok(Response {
        status,
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Decode an HTTP/1.1 chunked body.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&raw[start..(start + size).min(raw.len())]);
        raw = &raw[(start + size + 2).min(raw.len())..];
    }
    out
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

/// A SigV4-signed GET of a Bosun URL (`http://addr/path`), as `curl --aws-sigv4` sends it.
pub async fn signed_get(url: &str, akid: &str, secret: &str, region: &str) -> Response {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (addr, path) = rest
        .split_once('/')
        .map(|(a, p)| (a, format!("/{p}")))
        .expect("URL with a path");
    let identity = Credentials::new(akid, secret, None, None, "e2e").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("ssm")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let headers = [("host".to_string(), addr.to_string())];
    let signable = SignableRequest::new(
        "GET",
        url.to_string(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(b""),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut text = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in instructions.headers() {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    send_raw(addr, text.as_bytes()).await.expect("GET")
}
