//! Facts about this host that the agent reports: name, addresses, platform, agent version.

use std::fs;
use std::net::IpAddr;

use bosun_proto::NodeInfo;

/// Read `/etc/os-release` style `KEY=value` text.
fn os_release_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix('=')?;
        Some(value.trim().trim_matches('"').to_string())
    })
}

fn ip_addresses() -> Vec<String> {
    let mut addrs: Vec<IpAddr> = Vec::new();
    if let Ok(ifaddrs) = nix::ifaddrs::getifaddrs() {
        for ifa in ifaddrs {
            let Some(addr) = ifa.address else { continue };
            if let Some(v4) = addr.as_sockaddr_in() {
                addrs.push(IpAddr::V4(v4.ip()));
            } else if let Some(v6) = addr.as_sockaddr_in6() {
                addrs.push(IpAddr::V6(v6.ip()));
            }
        }
    }
    // Routable IPv4 first, then IPv6, loopback last.
    addrs.sort_by_key(|a| (a.is_loopback(), a.is_ipv6()));
    addrs.dedup();
    addrs.iter().map(ToString::to_string).collect()
}

/// Collect the current host facts.
pub fn collect() -> NodeInfo {
    let os = fs::read_to_string("/etc/os-release")
        .or_else(|_| fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    let computer_name = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    NodeInfo {
        computer_name,
        ip_addresses: ip_addresses(),
        platform_type: "Linux".into(),
        platform_name: os_release_field(&os, "NAME").unwrap_or_else(|| "Linux".into()),
        platform_version: os_release_field(&os, "VERSION_ID").unwrap_or_default(),
        agent_version: crate::AGENT_VERSION.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_os_release() {
        let text =
            "PRETTY_NAME=\"Debian GNU/Linux 12\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n";
        assert_eq!(
            os_release_field(text, "NAME").as_deref(),
            Some("Debian GNU/Linux")
        );
        assert_eq!(os_release_field(text, "VERSION_ID").as_deref(), Some("12"));
        assert_eq!(os_release_field(text, "MISSING"), None);
    }

    #[test]
    fn collects_this_host() {
        let info = collect();
        assert_eq!(info.platform_type, "Linux");
        assert!(!info.computer_name.is_empty());
        assert!(!info.ip_addresses.is_empty(), "at least loopback");
    }
}
