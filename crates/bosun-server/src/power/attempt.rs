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
        #[serde(rename = "Relays")]
        relays: Vec<RelayUsed>,
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

/// A node that was asked to broadcast the magic packets on one subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RelayUsed {
    #[serde(rename = "InstanceId")]
    pub node_id: String,
    /// `10.0.0.0/24`.
    pub subnet: String,
    /// `10.0.0.255`.
    pub broadcast: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_travel_as_json_and_come_back_the_same() {
        let attempts = [
            PowerAttempt::AlreadyOnline {
                node_id: "mi-1".into(),
            },
            PowerAttempt::Controller {
                node_id: "mi-1".into(),
                controller: "mi-2".into(),
                document: "PowerOn".into(),
                command_id: "c".into(),
            },
            PowerAttempt::WakeOnLan {
                node_id: "mi-1".into(),
                macs: vec!["aa:bb:cc:dd:ee:ff".into()],
                port: 9,
                relays: vec![RelayUsed {
                    node_id: "mi-2".into(),
                    subnet: "10.0.0.0/24".into(),
                    broadcast: "10.0.0.255".into(),
                }],
            },
            PowerAttempt::Restart {
                node_id: "mi-1".into(),
                command_id: "c".into(),
                boot_id: "b".into(),
            },
        ];
        for a in attempts {
            let wire = serde_json::to_value(&a).unwrap();
            assert_eq!(wire["InstanceId"], "mi-1", "{wire}");
            assert!(wire["Method"].is_string(), "{wire}");
            assert_eq!(serde_json::from_value::<PowerAttempt>(wire).unwrap(), a);
        }
        let state = serde_json::to_value(PowerState::Failed("why".into())).unwrap();
        assert_eq!(
            state,
            serde_json::json!({"State": "Failed", "Reason": "why"})
        );
    }
}
