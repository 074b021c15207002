//! `bosun-agent`: the small process on every managed node. It only dials out: one websocket to
//! the server, authenticated with the node's Ed25519 key.

pub mod channel;
pub mod cleanup;
pub mod commands;
pub mod config;
pub mod identity;
pub mod plugins;
pub mod register;
pub mod server_get;
pub mod session;
pub mod step;
pub mod sysinfo;
pub mod tls;
pub mod wake;

/// The version this agent reports (`AgentVersion`).
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Turn the server's base URL into the agent-channel websocket URL.
/// The server URLs of a `--server` value: one URL, or several separated by commas (replicas or
/// a standby), tried in order.
pub fn server_urls(servers: &str) -> Vec<&str> {
    servers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

pub fn channel_url(server: &str) -> anyhow::Result<String> {
    let base = server.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        anyhow::bail!("the server URL must start with http:// or https://, got {server:?}");
    };
    Ok(format!("{ws}{}", bosun_proto::AGENT_CHANNEL_PATH))
}

#[cfg(test)]
mod tests {
    #[test]
    fn channel_urls() {
        assert_eq!(
            super::channel_url("http://127.0.0.1:8080/").unwrap(),
            "ws://127.0.0.1:8080/v1/agent/channel"
        );
        assert_eq!(
            super::channel_url("https://bosun.example").unwrap(),
            "wss://bosun.example/v1/agent/channel"
        );
        assert!(super::channel_url("ftp://x").is_err());
        assert_eq!(
            super::server_urls("http://a:1, http://b:2,"),
            ["http://a:1", "http://b:2"]
        );
    }
}
