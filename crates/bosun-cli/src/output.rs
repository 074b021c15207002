//! A command's whole output: `GetCommandInvocation` gives the first 24,000 characters of each
//! stream; beyond that the stream is read from its `StandardOutputUrl`/`StandardErrorUrl`
//! (`GET /v1/output/…`, SigV4-signed like every API call).

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, Context};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

use crate::client::{describe_error, unreachable_message, Connection};

/// What the API inlines of each stream (`StandardOutputContent`), in characters.
pub const INLINE_CHARS: usize = 24_000;

/// SigV4 headers for a GET of `url` (service `ssm`).
pub fn signed_headers(conn: &Connection, url: &str) -> anyhow::Result<Vec<(String, String)>> {
    let host = url.split('/').nth(2).unwrap_or_default().to_string();
    let identity = Credentials::new(&conn.akid, &conn.secret, None, None, "bosun").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&conn.region)
        .name("ssm")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()?
        .into();
    let headers = [("host", host.as_str())];
    let signable = SignableRequest::new("GET", url, headers.into_iter(), SignableBody::Bytes(b""))?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn system_roots() -> Vec<ureq::tls::Certificate<'static>> {
    for path in [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ] {
        if let Ok(pem) = std::fs::read(path) {
            return rustls_pemfile::certs(&mut pem.as_slice())
                .filter_map(Result::ok)
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                .collect();
        }
    }
    Vec::new()
}

pub(crate) fn http_agent() -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::from(system_roots()))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

/// Open a signed GET of an output URL (blocking; call from a blocking thread).
fn open(conn: &Connection, url: &str) -> anyhow::Result<Box<dyn Read + Send>> {
    let mut req = http_agent().get(url);
    for (k, v) in signed_headers(conn, url)? {
        req = req.header(k, v);
    }
    let resp = req.call().map_err(|e| anyhow!(unreachable_message(&e)))?;
    if resp.status() != 200 {
        let status = resp.status();
        let body = resp.into_body().read_to_string().unwrap_or_default();
        anyhow::bail!("{url} answered {status}: {body}");
    }
    Ok(Box::new(resp.into_body().into_reader()))
}

/// The whole stream at `url`.
pub async fn fetch(conn: &Connection, url: &str) -> anyhow::Result<Vec<u8>> {
    let (conn, url) = (conn.clone(), url.to_string());
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        open(&conn, &url)?
            .read_to_end(&mut out)
            .with_context(|| format!("reading {url}"))?;
        Ok(out)
    })
    .await?
}

/// Stream `url` line by line into `line` (blocking thread; `line` gets each line with its
/// newline, the last one possibly without).
pub async fn stream_lines(
    conn: &Connection,
    url: &str,
    mut line: impl FnMut(&[u8]) + Send + 'static,
) -> anyhow::Result<()> {
    let (conn, url) = (conn.clone(), url.to_string());
    tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(open(&conn, &url)?);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("reading {url}"))?;
            if n == 0 {
                return Ok(());
            }
            line(&buf);
        }
    })
    .await?
}

/// One step's output on one node as `GetCommandInvocation` has it.
pub struct StepOutput {
    pub stdout: String,
    pub stderr: String,
    pub stdout_url: String,
    pub stderr_url: String,
}

impl StepOutput {
    /// Whether the API cut a stream (it inlines [`INLINE_CHARS`] characters).
    pub fn cut(text: &str) -> bool {
        text.chars().count() >= INLINE_CHARS
    }
}

pub async fn step_output(
    conn: &Connection,
    command_id: &str,
    instance_id: &str,
    plugin: &str,
) -> anyhow::Result<StepOutput> {
    let out = conn
        .sdk
        .get_command_invocation()
        .command_id(command_id)
        .instance_id(instance_id)
        .plugin_name(plugin)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    Ok(StepOutput {
        stdout: out
            .standard_output_content()
            .unwrap_or_default()
            .to_string(),
        stderr: out.standard_error_content().unwrap_or_default().to_string(),
        stdout_url: out.standard_output_url().unwrap_or_default().to_string(),
        stderr_url: out.standard_error_url().unwrap_or_default().to_string(),
    })
}

/// A stream's bytes: the inline text, or the whole stream from its URL when the API cut it.
/// If the URL cannot be read, the inline text and a note saying where the rest is.
pub async fn whole(conn: &Connection, inline: &str, url: &str) -> (Vec<u8>, Option<String>) {
    if !StepOutput::cut(inline) || url.is_empty() {
        return (inline.as_bytes().to_vec(), None);
    }
    match fetch(conn, url).await {
        Ok(bytes) => (bytes, None),
        Err(e) => (
            inline.as_bytes().to_vec(),
            Some(format!(
                "output cut at {INLINE_CHARS} characters; the rest is at {url} (a SigV4-signed \
                 GET: {e})"
            )),
        ),
    }
}
