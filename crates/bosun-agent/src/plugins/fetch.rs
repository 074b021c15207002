//! HTTP(S) GET into a file for `aws:downloadContent`: the system's trust roots, redirects
//! followed (never from HTTPS to plain HTTP unless insecure downloads are allowed, never with
//! the credentials), a size cap checked before and while reading, and an atomic write so a
//! failed download leaves nothing behind.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

/// Mode of downloaded files: the owner (the agent's user, who runs the steps) may run them.
const FILE_MODE: u32 = 0o700;

pub fn too_large(source: &str, limit: u64) -> String {
    format!(
        "{source} is larger than the download limit of {} MiB (Agent.MaxDownloadMegabytes)",
        limit >> 20
    )
}

/// An HTTP client trusting the system roots plus `extra_roots`.
pub(crate) fn client(
    https_only: bool,
    extra_roots: &[rustls::pki_types::CertificateDer<'static>],
) -> ureq::Agent {
    let roots: Vec<Certificate<'static>> = crate::tls::system_roots()
        .iter()
        .chain(extra_roots)
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::from(roots))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .https_only(https_only)
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// Download `url` into `target`; returns the number of bytes written.
pub fn http_to_file(
    url: &str,
    basic_auth: Option<&(String, String)>,
    allow_insecure: bool,
    target: &Path,
    limit: u64,
) -> Result<u64, String> {
    let https_only = !allow_insecure;
    let mut request = client(https_only, &[]).get(url);
    if let Some((user, password)) = basic_auth {
        request = request.header(
            "Authorization",
            format!("Basic {}", B64.encode(format!("{user}:{password}"))),
        );
    }
    let response = request
        .call()
        .map_err(|e| format!("could not download {url}: {e}"))?;
    response_to_file(url, response, target, limit, FILE_MODE)
}

/// Write a response's body to `target` atomically (mode `mode`), refusing an error status, a
/// body over `limit` and a body shorter than announced; returns the number of bytes written.
pub(crate) fn response_to_file(
    url: &str,
    mut response: ureq::http::Response<ureq::Body>,
    target: &Path,
    limit: u64,
    mode: u32,
) -> Result<u64, String> {
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "could not download {url}: the server answered {status}"
        ));
    }
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(url, limit));
    }
    let mut body = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .reader()
        .take(limit + 1);
    let written = bosun_fs::write_atomic_with(target, mode, |f| {
        let n = std::io::copy(&mut body, f)?;
        if n > limit {
            return Err(std::io::Error::other(too_large(url, limit)));
        }
        if let Some(d) = declared.filter(|d| *d != n) {
            return Err(std::io::Error::other(format!(
                "{n} bytes arrived of {d} announced"
            )));
        }
        Ok(n)
    })
    .map_err(|e| format!("could not download {url} to {}: {e}", target.display()))?;
    Ok(written)
}
