//! The agent's websocket connector: plain for `http://` servers, rustls for `https://`,
//! trusting the system roots plus an optional operator-supplied CA file.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio_tungstenite::Connector;

/// Build the connector for a server URL.
pub fn connector(server: &str, ca_file: Option<&Path>) -> anyhow::Result<Option<Connector>> {
    if !server.starts_with("https://") {
        return Ok(None);
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in system_roots() {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let pem =
            std::fs::read(path).with_context(|| format!("reading CA file {}", path.display()))?;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots
                .add(cert.context("parsing CA file")?)
                .context("adding CA certificate")?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(Connector::Rustls(Arc::new(config))))
}

/// System trust roots from the usual bundle locations (missing bundles are fine).
pub fn system_roots() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    const BUNDLES: &[&str] = &[
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ];
    for path in BUNDLES {
        if let Ok(pem) = std::fs::read(path) {
            return rustls_pemfile::certs(&mut pem.as_slice())
                .filter_map(Result::ok)
                .collect();
        }
    }
    Vec::new()
}
