//! Keeps `endpoint_url` in `<data-dir>/config` (the AWS config file the first start wrote) equal
//! to the address this server listens on, so the AWS CLI, boto3 and `bosun` find it with only
//! `AWS_CONFIG_FILE` set. Only the `[default]` profile's `endpoint_url` line is touched.

use std::net::SocketAddr;

use anyhow::Context;

use crate::config::ServerConfig;

/// The URL clients on this host use: a wildcard listen address is reached on loopback.
pub fn endpoint_url(config: &ServerConfig, addr: SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{addr}")
}

/// `text` with `endpoint_url = url` in its `[default]` section (replaced, or added at the end
/// of the section; the section is created when missing).
pub fn with_endpoint(text: &str, url: &str) -> String {
    let line = format!("endpoint_url = {url}");
    let mut out: Vec<String> = Vec::new();
    let mut in_default = false;
    let mut done = false;
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with('[') {
            if in_default && !done {
                out.push(line.clone());
                done = true;
            }
            in_default = t == "[default]";
        } else if in_default
            && t.split_once('=')
                .is_some_and(|(k, _)| k.trim() == "endpoint_url")
        {
            if !done {
                out.push(line.clone());
                done = true;
            }
            continue;
        }
        out.push(l.to_string());
    }
    if !done {
        if !in_default {
            out.push("[default]".into());
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

/// Record the endpoint in `<data-dir>/config` if that file exists and says otherwise.
pub fn record_endpoint(config: &ServerConfig, addr: SocketAddr) -> anyhow::Result<()> {
    let path = config.data_dir.join("config");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let updated = with_endpoint(&text, &endpoint_url(config, addr));
    if updated != text {
        bosun_fs::write_atomic(&path, updated.as_bytes(), 0o600)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_or_replaces_the_default_profiles_endpoint() {
        let first = "[default]\nregion = us-east-1\n";
        let one = with_endpoint(first, "http://127.0.0.1:8080");
        assert_eq!(
            one,
            "[default]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:8080\n"
        );
        let two = with_endpoint(&one, "http://127.0.0.1:9");
        assert_eq!(
            two,
            "[default]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:9\n"
        );
        let other = "[profile x]\nendpoint_url = keep\n[default]\nregion = r\n[profile y]\n";
        assert_eq!(
            with_endpoint(other, "u"),
            "[profile x]\nendpoint_url = keep\n[default]\nregion = r\nendpoint_url = u\n[profile y]\n"
        );
        assert_eq!(with_endpoint("", "u"), "[default]\nendpoint_url = u\n");
    }

    #[test]
    fn wildcard_addresses_become_loopback() {
        let c = ServerConfig::default();
        assert_eq!(
            endpoint_url(&c, "0.0.0.0:80".parse().unwrap()),
            "http://127.0.0.1:80"
        );
        assert_eq!(
            endpoint_url(&c, "[::]:80".parse().unwrap()),
            "http://[::1]:80"
        );
    }
}
