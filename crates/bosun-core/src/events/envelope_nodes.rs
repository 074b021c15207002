//! Bosun's own event for a managed node's connection: `Managed Node Ping Status-change
//! Notification` (AWS emits no such event; this one follows the envelope and kebab-case detail
//! style of SSM's Run Command events, from source `aws.ssm`, which `PutEvents` refuses, so it
//! cannot be forged). Emitted when a node's `PingStatus` as last reported changes: `Online`
//! when its agent connects, `ConnectionLost` once it has been silent for the heartbeat timeout
//! (a reconnection within it reports nothing), `Inactive` when it is deregistered.

use serde_json::json;

use super::envelope::{detail_time, envelope, node_arn, Event, Origin};

/// The detail-type.
pub const NODE_PING_STATUS_CHANGE: &str = "Managed Node Ping Status-change Notification";

/// What the event says about the node.
#[derive(Debug, Clone, Copy)]
pub struct NodeFacts<'a> {
    pub instance_id: &'a str,
    pub computer_name: &'a str,
    pub ip_address: &'a str,
    pub platform_name: &'a str,
    pub agent_version: &'a str,
    /// When the node was last heard from (epoch ms).
    pub last_ping_ms: i64,
}

/// The node's `PingStatus` went from `previous` to `status`.
pub fn node_ping_status_change(
    origin: Origin<'_>,
    node: &NodeFacts<'_>,
    previous: &str,
    status: &str,
) -> Event {
    let detail = json!({
        "instance-id": node.instance_id,
        "computer-name": node.computer_name,
        "ip-address": node.ip_address,
        "platform-name": node.platform_name,
        "agent-version": node.agent_version,
        "last-ping-date-time": detail_time(node.last_ping_ms),
        "previous-ping-status": previous,
        "ping-status": status,
    });
    let resources = vec![node_arn(origin.region, origin.account, node.instance_id)];
    envelope(origin, NODE_PING_STATUS_CHANGE, resources, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_names_the_node_and_both_statuses() {
        let origin = Origin {
            account: "123456789012",
            region: "eu-west-1",
            id: "e-1",
            now_ms: 1_767_225_600_000,
        };
        let node = NodeFacts {
            instance_id: "mi-0123456789abcdef0",
            computer_name: "web-1",
            ip_address: "10.0.0.5",
            platform_name: "Debian GNU/Linux",
            agent_version: "0.1.0",
            last_ping_ms: 1_767_225_590_000,
        };
        let e = node_ping_status_change(origin, &node, "Online", "ConnectionLost");
        assert_eq!(e.detail_type, NODE_PING_STATUS_CHANGE);
        let v = &e.envelope;
        assert_eq!(v["source"], "aws.ssm");
        assert_eq!(v["time"], "2026-01-01T00:00:00Z");
        assert_eq!(
            v["resources"][0],
            "arn:aws:ssm:eu-west-1:123456789012:managed-instance/mi-0123456789abcdef0"
        );
        assert_eq!(v["detail"]["previous-ping-status"], "Online");
        assert_eq!(v["detail"]["ping-status"], "ConnectionLost");
        assert_eq!(
            v["detail"]["last-ping-date-time"],
            "2025-12-31T23:59:50.000Z"
        );
        assert_eq!(v["detail"]["computer-name"], "web-1");
    }
}
