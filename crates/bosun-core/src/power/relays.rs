//! Which Online nodes send a sleeping node's Wake-on-LAN packets: those with an interface on
//! the same IPv4 subnet as one of the target's last-known interfaces (a broadcast does not
//! cross a router), each sending to that subnet's broadcast address.

use std::net::Ipv4Addr;

use super::{Cidr, NetworkInterface, PowerError};

/// A node that might relay: its id, whether it is Online now, and its reported interfaces.
#[derive(Debug, Clone)]
pub struct RelayCandidate<'a> {
    pub node_id: &'a str,
    pub online: bool,
    pub interfaces: &'a [NetworkInterface],
}

/// One relay's job: send the packets on the subnet's broadcast address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeRelay {
    pub node_id: String,
    pub subnet: String,
    pub broadcast: Ipv4Addr,
}

fn cidrs(interfaces: &[NetworkInterface]) -> Vec<Cidr> {
    interfaces
        .iter()
        .flat_map(|i| &i.ipv4_addresses)
        .filter_map(|a| Cidr::parse(a).ok())
        .collect()
}

/// Relays for `target` (one per subnet of the target that has an Online node on it, the first
/// such node in `candidates` order), or an error naming the subnets nobody Online is on.
pub fn choose_relays(
    target: &str,
    target_interfaces: &[NetworkInterface],
    candidates: &[RelayCandidate<'_>],
) -> Result<Vec<WakeRelay>, PowerError> {
    let mut subnets: Vec<Cidr> = Vec::new();
    for c in cidrs(target_interfaces) {
        if !subnets.iter().any(|s| s.same_subnet(&c)) {
            subnets.push(c);
        }
    }
    if subnets.is_empty() {
        return Err(PowerError::NoRelay(format!(
            "{target} reported no IPv4 subnet, so no node can be chosen to send its \
             Wake-on-LAN packet"
        )));
    }
    let relays: Vec<WakeRelay> = subnets
        .iter()
        .filter_map(|subnet| {
            let relay = candidates.iter().find(|c| {
                c.online
                    && c.node_id != target
                    && cidrs(c.interfaces).iter().any(|a| a.same_subnet(subnet))
            })?;
            Some(WakeRelay {
                node_id: relay.node_id.to_string(),
                subnet: subnet.subnet(),
                broadcast: subnet.broadcast(),
            })
        })
        .collect();
    if relays.is_empty() {
        let names: Vec<String> = subnets.iter().map(Cidr::subnet).collect();
        return Err(PowerError::NoRelay(format!(
            "no Online node on subnet {} to send the Wake-on-LAN packet for {target}",
            names.join(", ")
        )));
    }
    Ok(relays)
}
