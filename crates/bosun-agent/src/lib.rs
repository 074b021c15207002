//! `bosun-agent`: the small process on every managed node. It only dials out: one websocket to
//! the server, authenticated with the node's Ed25519 key.

pub mod channel;
pub mod cleanup;
pub mod commands;
pub mod config;
pub mod identity;
pub mod plugins;
pub mod register;
pub mod release_key;
pub mod server_get;
pub mod session;
pub mod step;
pub mod sysinfo;
pub mod tls;
pub mod update;
pub mod wake;

/// The first bytes of the version slot: a release may carry its version in the slot (written
/// into the binary after the build, e.g. by a release pipeline or a test), else the agent is
/// the package version.
pub const VERSION_SLOT_MARKER: &[u8; 28] = b"@@BOSUN_AGENT_VERSION_SLOT@@";

/// The version slot: the marker, then up to 32 bytes of version, NUL-padded.
#[used]
static VERSION_SLOT: [u8; 64] = version_slot();

const fn version_slot() -> [u8; 64] {
    let mut slot = [0u8; 64];
    let mut i = 0;
    while i < VERSION_SLOT_MARKER.len() {
        slot[i] = VERSION_SLOT_MARKER[i];
        i += 1;
    }
    slot
}

/// The version this agent reports (`AgentVersion`): the version slot's, when one was written
/// into the binary, else the package version.
pub fn agent_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        // A volatile read: the compiler must not fold the slot's build-time zeros.
        // SAFETY: a read of an initialised, aligned static of plain bytes.
        let slot: [u8; 64] = unsafe { std::ptr::read_volatile(&VERSION_SLOT) };
        let value = &slot[VERSION_SLOT_MARKER.len()..];
        let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
        match std::str::from_utf8(&value[..end]) {
            Ok(v) if !v.is_empty() => v.to_string(),
            _ => env!("CARGO_PKG_VERSION").to_string(),
        }
    })
}

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
