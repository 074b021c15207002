//! How a node is woken, from its tags and what it reported: a power-controller document run on
//! another node, else Wake-on-LAN to its hardware address, else nothing (an error naming the
//! tags to set).

use super::{Mac, NetworkInterface, PowerError};

/// Tag naming the Command document that powers the node on (run on the `bosun:wake-via` node).
pub const TAG_WAKE_DOCUMENT: &str = "bosun:wake-document";
/// Tag naming the controller node (`mi-…`) the wake document runs on.
pub const TAG_WAKE_VIA: &str = "bosun:wake-via";
/// Tag overriding the UDP port of the node's Wake-on-LAN packets (default 9).
pub const TAG_WAKE_PORT: &str = "bosun:wake-port";

/// The way to wake one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WakeMethod {
    /// Run `document` on `controller` with the parameter `InstanceId=<the node>`.
    Controller {
        document: String,
        controller: String,
    },
    /// Send magic packets for these hardware addresses (with the interfaces they belong to).
    WakeOnLan { macs: Vec<Mac> },
}

fn tag<'t>(tags: &'t [(String, String)], key: &str) -> Option<&'t str> {
    tags.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Choose how to wake `node_id` from its tags and last-reported interfaces.
pub fn wake_method(
    node_id: &str,
    tags: &[(String, String)],
    interfaces: &[NetworkInterface],
) -> Result<WakeMethod, PowerError> {
    match (tag(tags, TAG_WAKE_DOCUMENT), tag(tags, TAG_WAKE_VIA)) {
        (Some(document), Some(controller)) => {
            if controller == node_id {
                return Err(PowerError::BadTag(format!(
                    "the tag {TAG_WAKE_VIA} of {node_id} names the node itself: a stopped node \
                     cannot power itself on; name another node"
                )));
            }
            if !controller.starts_with("mi-") && !controller.starts_with("i-") {
                return Err(PowerError::BadTag(format!(
                    "the tag {TAG_WAKE_VIA}={controller} of {node_id} is not a managed node id \
                     (mi-…)"
                )));
            }
            return Ok(WakeMethod::Controller {
                document: document.to_string(),
                controller: controller.to_string(),
            });
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(PowerError::BadTag(format!(
                "{node_id} has only one of the tags {TAG_WAKE_DOCUMENT} and {TAG_WAKE_VIA}: a \
                 power-controller document needs both (the document, and the node it runs on)"
            )));
        }
        (None, None) => {}
    }
    let mut macs: Vec<Mac> = interfaces
        .iter()
        .filter_map(|i| Mac::parse(&i.mac_address).ok())
        .filter(|m| !m.is_zero())
        .collect();
    macs.dedup();
    if macs.is_empty() {
        return Err(PowerError::NoWakeMethod(format!(
            "no wake method configured for {node_id}: it reported no hardware (MAC) address for \
             Wake-on-LAN, and it has no power-controller document; tag it \
             {TAG_WAKE_DOCUMENT}=<Command document> and {TAG_WAKE_VIA}=<mi-… of the node that \
             runs it>"
        )));
    }
    Ok(WakeMethod::WakeOnLan { macs })
}
