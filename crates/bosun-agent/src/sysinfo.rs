//! Facts about this host that the agent reports: name, addresses, network interfaces (with
//! hardware addresses, for Wake-on-LAN), boot id, platform, agent version.
//!
//! Loopback is left out of the interfaces (no card answers a magic packet there). Test-only:
//! `BOSUN_AGENT_TEST_INTERFACES` (a JSON list of interfaces) replaces what the host has, since
//! end-to-end tests run every agent on one host's loopback and need nodes that look like
//! neighbours on 127.0.0.0/8 with MACs of their own, or nodes with no MAC at all; and
//! `BOSUN_AGENT_BOOT_ID_FILE` names a file read instead of the kernel's boot id, so a test
//! can simulate a reboot by restarting the agent.

use std::fs;
use std::net::IpAddr;

use bosun_proto::{NetworkInterface, NodeInfo};
use nix::net::if_::InterfaceFlags;

/// Test-only: the interfaces to report instead of the host's (see the module docs).
pub const TEST_INTERFACES_ENV: &str = "BOSUN_AGENT_TEST_INTERFACES";

fn prefix_len(mask: std::net::Ipv4Addr) -> u32 {
    u32::from(mask).leading_ones()
}

/// The interfaces to report: the test override when set, else the host's.
fn reported_interfaces() -> Vec<NetworkInterface> {
    match std::env::var(TEST_INTERFACES_ENV) {
        Ok(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "{TEST_INTERFACES_ENV} is not a JSON list of interfaces");
            Vec::new()
        }),
        Err(_) => network_interfaces(),
    }
}

/// The host's interfaces in the order the kernel lists them, loopback left out.
fn network_interfaces() -> Vec<NetworkInterface> {
    let mut out: Vec<NetworkInterface> = Vec::new();
    let Ok(ifaddrs) = nix::ifaddrs::getifaddrs() else {
        return out;
    };
    for ifa in ifaddrs {
        if ifa.flags.contains(InterfaceFlags::IFF_LOOPBACK) {
            continue;
        }
        let i = match out.iter().position(|i| i.name == ifa.interface_name) {
            Some(i) => i,
            None => {
                out.push(NetworkInterface {
                    name: ifa.interface_name.clone(),
                    mac_address: String::new(),
                    ipv4_addresses: Vec::new(),
                });
                out.len() - 1
            }
        };
        let Some(addr) = ifa.address else { continue };
        if let Some(link) = addr.as_link_addr() {
            if let Some(mac) = link.addr().filter(|m| *m != [0; 6]) {
                out[i].mac_address = mac
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":");
            }
        } else if let Some(v4) = addr.as_sockaddr_in() {
            let prefix = ifa
                .netmask
                .as_ref()
                .and_then(|m| m.as_sockaddr_in())
                .map(|m| prefix_len(m.ip()))
                .unwrap_or(32);
            out[i].ipv4_addresses.push(format!("{}/{prefix}", v4.ip()));
        }
    }
    out
}

/// This boot's id (changes at every boot), read where the reboot protocol reads it
/// (`commands::reboot::boot_id_file`: the kernel's, or a test's `BOSUN_AGENT_BOOT_ID_FILE`);
/// empty when it cannot be read.
fn boot_id() -> String {
    crate::commands::reboot::read_boot_id(&crate::commands::reboot::boot_id_file())
        .unwrap_or_default()
}

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
        agent_version: crate::agent_version().into(),
        network_interfaces: reported_interfaces(),
        boot_id: boot_id(),
        packages: Vec::new(),
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
        assert!(!info.boot_id.is_empty(), "Linux has a boot id");
    }

    #[test]
    fn loopback_is_not_reported_and_addresses_carry_prefixes() {
        let ifs = network_interfaces();
        assert!(ifs.iter().all(|i| i.name != "lo"), "{ifs:?}");
        for a in ifs.iter().flat_map(|i| &i.ipv4_addresses) {
            assert!(a.contains('/') && !a.starts_with("127."), "{a}");
        }
    }

    #[test]
    fn prefix_lengths_count_mask_bits() {
        assert_eq!(prefix_len("255.255.255.0".parse().unwrap()), 24);
        assert_eq!(prefix_len("255.0.0.0".parse().unwrap()), 8);
        assert_eq!(prefix_len("0.0.0.0".parse().unwrap()), 0);
    }
}
