//! What a started power operation did (kept by the caller and handed back to
//! [`super::check`]), and where it stands.

use serde::{Deserialize, Serialize};

/// One started power operation on `node_id`. Serializable: the automation runtime stores it
/// with its step, and the CLI gets it back from `WakeNode`/`StopNode`/`RestartNode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Method")]
pub enum PowerAttempt {
    /// A wake of a node that was Online already: nothing was done.
    AlreadyOnline {
        #[serde(rename = "InstanceId")]
        node_id: String,
    },
    /// A wake through `document` run on `controller` (Run Command `command_id`).
    Controller {
        #[serde(rename = "InstanceId")]
        node_id: String,
        #[serde(rename = "Controller")]
        controller: String,
        #[serde(rename = "DocumentName")]
        document: String,
        #[serde(rename = "CommandId")]
        command_id: String,
    },
    /// A wake by magic packets for `macs`, broadcast by each relay on its subnet at `port`.
    WakeOnLan {
        #[serde(rename = "InstanceId")]
        node_id: String,
        #[serde(rename = "MacAddresses")]
        macs: Vec<String>,
        #[serde(rename = "Port")]
        port: u16,
        /// (relay node, subnet, broadcast address).
        #[serde(rename = "Relays")]
        relays: Vec<(String, String, String)>,
    },
    /// A shutdown command (`command_id`) sent to the node itself.
    Stop {
        #[serde(rename = "InstanceId")]
        node_id: String,
        #[serde(rename = "CommandId")]
        command_id: String,
    },
    /// A reboot command sent to the node itself while it ran boot `boot_id`.
    Restart {
        #[serde(rename = "InstanceId")]
        node_id: String,
        #[serde(rename = "CommandId")]
        command_id: String,
        #[serde(rename = "BootId")]
        boot_id: String,
    },
}

impl PowerAttempt {
    pub fn node_id(&self) -> &str {
        match self {
            PowerAttempt::AlreadyOnline { node_id }
            | PowerAttempt::Controller { node_id, .. }
            | PowerAttempt::WakeOnLan { node_id, .. }
            | PowerAttempt::Stop { node_id, .. }
            | PowerAttempt::Restart { node_id, .. } => node_id,
        }
    }
}

/// Where an attempt stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "State", content = "Reason")]
pub enum PowerState {
    /// Not yet: the node has not come Online (wake), dropped its channel (stop), or come back
    /// with a new boot id (restart). The text says what is awaited.
    Pending(String),
    /// The node is Online (wake, restart: on a new boot) or gone (stop).
    Done,
    /// It cannot succeed any more; the text says why (the controller's command failed, ...).
    Failed(String),
}
