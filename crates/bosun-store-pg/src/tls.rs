//! TLS to PostgreSQL: rustls (ring) with the system's roots plus an optional CA file, so the
//! URL's `sslmode` means what an operator expects. `disable`: plain TCP. `prefer` (the default):
//! TLS when the server offers it — with the certificate verified, stricter than libpq's `prefer`
//! — else plain TCP. `require`: TLS, verified, or no connection. The CA file is the libpq
//! parameter `sslrootcert=<path>` in the URL, which Bosun reads itself (the driver does not).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::PgError;

/// Remove `sslrootcert=<path>` from a URL (`?…&sslrootcert=…`) or key=value connection string;
/// returns the rest and the path.
pub(crate) fn take_root_cert(url: &str) -> (String, Option<PathBuf>) {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return (url.to_string(), None);
        };
        let mut ca = None;
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| match pair.strip_prefix("sslrootcert=") {
                Some(path) => {
                    ca = Some(PathBuf::from(percent_decode(path)));
                    false
                }
                None => true,
            })
            .collect();
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return (rest, ca);
    }
    let mut ca = None;
    let kept: Vec<&str> = url
        .split_whitespace()
        .filter(|pair| match pair.strip_prefix("sslrootcert=") {
            Some(path) => {
                ca = Some(PathBuf::from(path));
                false
            }
            None => true,
        })
        .collect();
    (kept.join(" "), ca)
}

/// `%XX` escapes in a URL query value (paths with spaces or `&`).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The connector every connection uses: verified TLS with the system's roots and `ca_file`.
pub(crate) fn connector(ca_file: Option<&Path>) -> Result<MakeRustlsConnect, PgError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            PgError::Config(format!("cannot read sslrootcert {}: {e}", path.display()))
        })?;
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| {
                PgError::Config(format!("sslrootcert {} is not PEM: {e}", path.display()))
            })?;
            roots
                .add(cert)
                .map_err(|e| PgError::Config(format!("sslrootcert {}: {e}", path.display())))?;
            added += 1;
        }
        if added == 0 {
            return Err(PgError::Config(format!(
                "sslrootcert {} holds no certificate",
                path.display()
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PgError::Config(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_cert_is_taken_out_of_either_url_form() {
        assert_eq!(
            take_root_cert("postgres://u@h/db?sslmode=require&sslrootcert=/etc/ca%20x.pem"),
            (
                "postgres://u@h/db?sslmode=require".into(),
                Some(PathBuf::from("/etc/ca x.pem"))
            )
        );
        assert_eq!(
            take_root_cert("postgres://u@h/db?sslrootcert=/ca.pem"),
            ("postgres://u@h/db".into(), Some(PathBuf::from("/ca.pem")))
        );
        assert_eq!(
            take_root_cert("postgres://u@h/db"),
            ("postgres://u@h/db".into(), None)
        );
        assert_eq!(
            take_root_cert("host=h sslrootcert=/ca.pem dbname=d"),
            ("host=h dbname=d".into(), Some(PathBuf::from("/ca.pem")))
        );
    }
}
