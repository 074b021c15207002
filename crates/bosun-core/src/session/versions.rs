//! Version rules that pick port-forwarding mode and features from the peer's version
//! (agent-protocol.md §5.10, session-clients.md §1.4 "Port sessions").
//!
//! The stock plugin learns the agent version from `HandshakeRequest.AgentVersion` and compares it
//! only when it has exactly four numeric parts (anything else counts as "not newer"). The agent
//! learns the client version from `HandshakeResponse.ClientVersion`. How AWS's agent compares a
//! client version with other than four parts is not in the references: Bosun pads missing parts
//! with zeros and treats a non-numeric version as old (basic mode, keepalive on).

use std::cmp::Ordering;

/// Agent versions above this make the stock plugin use smux.
pub const AGENT_VERSION_SMUX_AFTER: &str = "3.0.196.0";
/// Agent versions above this make the stock plugin turn smux keepalive off.
pub const AGENT_VERSION_NO_KEEPALIVE_AFTER: &str = "3.1.1511.0";
/// Agent versions above this make the stock plugin send Flag `TerminateSession` on Ctrl-C
/// (instead of calling the `TerminateSession` API).
pub const AGENT_VERSION_TERMINATE_FLAG_AFTER: &str = "2.3.722.0";
/// Client versions at or above this get smux from AWS's agent.
pub const CLIENT_VERSION_SMUX_FROM: &str = "1.1.70.0";
/// Client versions above this get smux keepalive off from AWS's agent.
pub const CLIENT_VERSION_NO_KEEPALIVE_AFTER: &str = "1.2.331.0";
/// The `type` property value that allows mux mode.
pub const LOCAL_PORT_FORWARDING: &str = "LocalPortForwarding";

/// How a port session moves bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortMode {
    /// One TCP connection, raw bytes in `Output` payloads, Flag `DisconnectToPort` between them.
    Basic,
    /// smux v1 in `Output` payloads, one stream per TCP connection.
    Multiplexed { keepalive: bool },
}

/// The stock plugin's comparison: `true` only when both are four numeric parts and `version` is
/// strictly greater.
pub fn four_part_newer_than(version: &str, threshold: &str) -> bool {
    match (parse_parts(version, 4), parse_parts(threshold, 4)) {
        (Some(v), Some(t)) => v.cmp(&t) == Ordering::Greater,
        _ => false,
    }
}

/// Lenient comparison (any number of numeric parts, missing ones are 0); `None` if not numeric.
pub fn compare_versions(version: &str, other: &str) -> Option<Ordering> {
    let mut a = parse_parts(version, 0)?;
    let mut b = parse_parts(other, 0)?;
    let len = a.len().max(b.len());
    a.resize(len, 0);
    b.resize(len, 0);
    Some(a.cmp(&b))
}

/// `exact_parts` 0 accepts any count.
fn parse_parts(version: &str, exact_parts: usize) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = version
        .trim()
        .split('.')
        .map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                p.parse().ok()
            }
        })
        .collect();
    let parts = parts?;
    (exact_parts == 0 || parts.len() == exact_parts).then_some(parts)
}

/// What the stock plugin will do, given the `AgentVersion` Bosun's agent announces and the
/// session's `type` property.
pub fn client_port_mode(agent_version: &str, forwarding_type: Option<&str>) -> PortMode {
    if forwarding_type == Some(LOCAL_PORT_FORWARDING)
        && four_part_newer_than(agent_version, AGENT_VERSION_SMUX_AFTER)
    {
        PortMode::Multiplexed {
            keepalive: !four_part_newer_than(agent_version, AGENT_VERSION_NO_KEEPALIVE_AFTER),
        }
    } else {
        PortMode::Basic
    }
}

/// The mode the agent side must use for a client that reported `client_version`, mirroring AWS's
/// agent.
pub fn agent_port_mode(client_version: &str, forwarding_type: Option<&str>) -> PortMode {
    let at_least = |threshold| {
        compare_versions(client_version, threshold).is_some_and(|o| o != Ordering::Less)
    };
    let above = |threshold| {
        compare_versions(client_version, threshold).is_some_and(|o| o == Ordering::Greater)
    };
    if forwarding_type == Some(LOCAL_PORT_FORWARDING) && at_least(CLIENT_VERSION_SMUX_FROM) {
        PortMode::Multiplexed {
            keepalive: !above(CLIENT_VERSION_NO_KEEPALIVE_AFTER),
        }
    } else {
        PortMode::Basic
    }
}

/// Whether the stock plugin ends a port session with Flag `TerminateSession` for this agent.
pub fn client_sends_terminate_flag(agent_version: &str) -> bool {
    four_part_newer_than(agent_version, AGENT_VERSION_TERMINATE_FLAG_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_part_comparison_is_strict_like_the_stock_plugin() {
        assert!(four_part_newer_than("3.3.987.0", "3.0.196.0"));
        assert!(four_part_newer_than("3.0.196.1", "3.0.196.0"));
        assert!(!four_part_newer_than("3.0.196.0", "3.0.196.0"));
        assert!(!four_part_newer_than("3.3.987", "3.0.196.0"), "three parts");
        assert!(!four_part_newer_than("3.3.987.0-bosun", "3.0.196.0"));
        assert!(!four_part_newer_than("", "3.0.196.0"));
        assert!(
            four_part_newer_than("10.0.0.0", "9.99.99.99"),
            "numeric, not text"
        );
    }

    #[test]
    fn the_client_chooses_its_port_mode_from_the_agent_version() {
        let lpf = Some(LOCAL_PORT_FORWARDING);
        assert_eq!(
            client_port_mode("3.3.987.0", lpf),
            PortMode::Multiplexed { keepalive: false }
        );
        assert_eq!(
            client_port_mode("3.1.1511.0", lpf),
            PortMode::Multiplexed { keepalive: true }
        );
        assert_eq!(client_port_mode("3.0.196.0", lpf), PortMode::Basic);
        assert_eq!(client_port_mode("3.3.987.0", None), PortMode::Basic);
        assert!(client_sends_terminate_flag("3.3.987.0"));
        assert!(!client_sends_terminate_flag("2.3.722.0"));
    }

    #[test]
    fn the_agent_chooses_its_port_mode_from_the_client_version() {
        let lpf = Some(LOCAL_PORT_FORWARDING);
        assert_eq!(
            agent_port_mode("1.2.0.0", lpf),
            PortMode::Multiplexed { keepalive: true }
        );
        assert_eq!(
            agent_port_mode("1.2.764.0", lpf),
            PortMode::Multiplexed { keepalive: false }
        );
        assert_eq!(
            agent_port_mode("1.1.70", lpf),
            PortMode::Multiplexed { keepalive: true }
        );
        assert_eq!(agent_port_mode("1.1.69.9", lpf), PortMode::Basic);
        assert_eq!(agent_port_mode("pyssm-client", lpf), PortMode::Basic);
        assert_eq!(agent_port_mode("1.2.764.0", Some("Other")), PortMode::Basic);
        assert_eq!(compare_versions("1.2", "1.2.0.0"), Some(Ordering::Equal));
    }
}
