//! Wire types of the agent channel: versioned JSON messages over one websocket per agent.
//!
//! The handshake: the server speaks first with a [`ServerMessage::Challenge`] carrying a fresh
//! nonce; the agent answers with [`AgentMessage::Register`] (first contact, with an activation)
//! or [`AgentMessage::Authenticate`] (a registered node), both signed with the node's Ed25519 key
//! over [`register_payload`] / [`authenticate_payload`]. Identity comes only from that proof;
//! no later message names the node.

use serde::{Deserialize, Serialize};

pub mod command;
pub mod session;

pub use command::{CommandDelivery, CommandResult, OutputChunk};
pub use session::{SessionEnd, SessionStart};

/// Version of the channel protocol this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Path of the agent websocket on the server.
pub const AGENT_CHANNEL_PATH: &str = "/v1/agent/channel";

/// Facts an agent reports about its host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub computer_name: String,
    pub ip_addresses: Vec<String>,
    pub platform_type: String,
    pub platform_name: String,
    pub platform_version: String,
    pub agent_version: String,
    /// Interfaces with their hardware and IPv4 addresses, for Wake-on-LAN (older agents send
    /// none).
    #[serde(default)]
    pub network_interfaces: Vec<NetworkInterface>,
    /// `/proc/sys/kernel/random/boot_id`: changes at every boot, so a restart can be told from
    /// a reconnect (empty from older agents).
    #[serde(default)]
    pub boot_id: String,
    /// Distributor packages installed by `aws:configurePackage` (older agents send none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<bosun_core::document::InstalledPackage>,
}

/// One network interface of a node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInterface {
    pub name: String,
    /// `aa:bb:cc:dd:ee:ff`; empty when the interface has none.
    #[serde(default)]
    pub mac_address: String,
    /// IPv4 addresses with their prefix length: `10.0.0.5/24`.
    #[serde(default)]
    pub ipv4_addresses: Vec<String>,
}

/// Messages from the server to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message on every connection: sign this nonce to prove who you are.
    Challenge {
        protocol_version: u32,
        nonce: String,
    },
    /// Registration succeeded: this is the node's id and region from now on.
    Registered { instance_id: String, region: String },
    /// Authentication succeeded; send heartbeats every `heartbeat_seconds`.
    Welcome {
        instance_id: String,
        heartbeat_seconds: u64,
        /// The server's Ed25519 agent release key (base64): the agent pins the first it sees
        /// and verifies releases against it. Absent from older servers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        release_key: Option<String>,
        /// When `release_key` is not the key the agent pinned: the pinned key's signature over
        /// `bosun_core::agent_release::key_rotation_payload(release_key)`, with that key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        release_key_rotation: Option<KeyRotation>,
    },
    /// The handshake failed; the connection closes after this message.
    Rejected { code: RejectCode, message: String },
    /// The node was deregistered by an operator: stop, and do not reconnect.
    Deregistered { message: String },
    /// Run a command (re-sent until acknowledged).
    RunCommand(CommandDelivery),
    /// Stop a command if it is running; report it `Cancelled`.
    CancelCommand { command_id: String },
    /// The server has stored this command's result; the agent may drop its spooled copy.
    ResultAck { command_id: String },
    /// Send output of a finished step again from `offset` (the server's copy has a gap).
    FetchOutput {
        command_id: String,
        step: String,
        stream: command::Stream,
        offset: u64,
    },
    /// Join a Session Manager session (re-sent until `SessionAccepted`): see [`session`].
    StartSession(SessionStart),
    /// End a session now: its process group is hung up, then killed; report `SessionEnded`.
    TerminateSession {
        session_id: String,
        reason: session::SessionEndReason,
    },
    /// The server has stored this session's end; the agent may forget it.
    SessionEndAck { session_id: String },
    /// Send a Wake-on-LAN magic packet for `mac` by UDP broadcast to `broadcast:port`, on
    /// behalf of a sleeping node on this node's subnet. Fire and forget: the wake is judged by
    /// the sleeping node coming Online.
    SendWakePacket {
        mac: String,
        broadcast: String,
        port: u16,
    },
}

impl ServerMessage {
    /// The message's `type` as sent on the wire, for logs: a message's fields may hold a
    /// secret (a session's agent token), so logs name the type only.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerMessage::Challenge { .. } => "challenge",
            ServerMessage::Registered { .. } => "registered",
            ServerMessage::Welcome { .. } => "welcome",
            ServerMessage::Rejected { .. } => "rejected",
            ServerMessage::Deregistered { .. } => "deregistered",
            ServerMessage::RunCommand(_) => "run_command",
            ServerMessage::CancelCommand { .. } => "cancel_command",
            ServerMessage::ResultAck { .. } => "result_ack",
            ServerMessage::FetchOutput { .. } => "fetch_output",
            ServerMessage::StartSession(_) => "start_session",
            ServerMessage::TerminateSession { .. } => "terminate_session",
            ServerMessage::SessionEndAck { .. } => "session_end_ack",
            ServerMessage::SendWakePacket { .. } => "send_wake_packet",
        }
    }
}

/// A release key handed over by the key it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotation {
    /// The previous release key (base64).
    pub previous_key: String,
    /// The previous key's signature over the rotation payload (base64).
    pub signature: String,
}

/// Why a handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum RejectCode {
    /// Unknown activation id or wrong code (deliberately indistinguishable).
    InvalidActivation,
    ActivationExpired,
    RegistrationLimitExceeded,
    /// Signature, key or instance id did not check out.
    AuthenticationFailed,
    /// The node was deregistered; its key no longer works.
    Deregistered,
    /// The agent speaks a protocol version the server does not.
    UnsupportedVersion,
    /// The message was not what the handshake expects.
    ProtocolError,
    /// The server failed; try again later.
    ServerError,
}

impl RejectCode {
    /// True when retrying the same handshake can never succeed.
    pub fn is_permanent(self) -> bool {
        !matches!(self, RejectCode::ServerError)
    }
}

/// Messages from an agent to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMessage {
    /// First contact: join the fleet with a hybrid activation.
    Register {
        protocol_version: u32,
        activation_id: String,
        activation_code: String,
        /// Region the activation lives in; empty means the server's default region.
        region: String,
        /// Ed25519 public key, base64 (standard, padded).
        public_key: String,
        /// Signature over [`register_payload`], base64.
        signature: String,
        info: NodeInfo,
    },
    /// A registered node connecting again.
    Authenticate {
        protocol_version: u32,
        instance_id: String,
        /// Signature over [`authenticate_payload`], base64.
        signature: String,
        info: NodeInfo,
    },
    /// Liveness; carries fresh host facts when they changed.
    Heartbeat { info: Option<NodeInfo> },
    /// The agent has persisted this command (or already had it).
    CommandAck { command_id: String },
    /// Output as it is written (live) or re-sent on request.
    Output(OutputChunk),
    /// The end of a command on this node (re-sent until `ResultAck`).
    Result(CommandResult),
    /// The agent has taken this session (or already had it) and is dialling its data channel.
    SessionAccepted { session_id: String },
    /// The end of a session on this node (re-sent until `SessionEndAck`).
    SessionEnded(SessionEnd),
}

impl AgentMessage {
    /// The message's `type` as sent on the wire, for logs: `Register` holds the activation
    /// code, so logs name the type only.
    pub fn kind(&self) -> &'static str {
        match self {
            AgentMessage::Register { .. } => "register",
            AgentMessage::Authenticate { .. } => "authenticate",
            AgentMessage::Heartbeat { .. } => "heartbeat",
            AgentMessage::CommandAck { .. } => "command_ack",
            AgentMessage::Output(_) => "output",
            AgentMessage::Result(_) => "result",
            AgentMessage::SessionAccepted { .. } => "session_accepted",
            AgentMessage::SessionEnded(_) => "session_ended",
        }
    }
}

/// Bytes an agent signs to register: binds the nonce and the activation it uses.
pub fn register_payload(nonce: &str, activation_id: &str) -> Vec<u8> {
    format!("bosun-agent-register-v1\n{nonce}\n{activation_id}").into_bytes()
}

/// Bytes an agent signs to authenticate: binds the nonce and the id it claims.
pub fn authenticate_payload(nonce: &str, instance_id: &str) -> Vec<u8> {
    format!("bosun-agent-authenticate-v1\n{nonce}\n{instance_id}").into_bytes()
}

/// Header naming the node that signs a plain HTTP request to its server (agent release and
/// package file downloads); the signature is the node's identity proof, as on its channel.
pub const NODE_ID_HEADER: &str = "x-bosun-node";
/// Header with the signed request's time, in Unix seconds.
pub const NODE_DATE_HEADER: &str = "x-bosun-node-date";
/// Header with the base64 Ed25519 signature over [`node_request_payload`].
pub const NODE_SIGNATURE_HEADER: &str = "x-bosun-node-signature";
/// Most a node-signed request's time may differ from the server's clock.
pub const NODE_REQUEST_SKEW_SECS: i64 = 300;

/// Bytes an agent signs for a plain HTTP request: binds the method, the path with its query,
/// the node and the time, so a signature serves for nothing else and only briefly.
pub fn node_request_payload(
    method: &str,
    path_and_query: &str,
    instance_id: &str,
    date_unix: i64,
) -> Vec<u8> {
    format!("bosun-agent-request-v1\n{method}\n{path_and_query}\n{instance_id}\n{date_unix}")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_with_type_tags() {
        let m = ServerMessage::Rejected {
            code: RejectCode::RegistrationLimitExceeded,
            message: "full".into(),
        };
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains(r#""type":"rejected""#), "{text}");
        assert!(
            text.contains(r#""code":"RegistrationLimitExceeded""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<ServerMessage>(&text).unwrap(), m);

        let a = AgentMessage::Heartbeat { info: None };
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<AgentMessage>(&text).unwrap(), a);
    }

    #[test]
    fn kind_is_the_wire_type_tag() {
        let messages = [
            ServerMessage::Challenge {
                protocol_version: 1,
                nonce: "n".into(),
            },
            ServerMessage::Registered {
                instance_id: "mi-1".into(),
                region: "r".into(),
            },
            ServerMessage::Welcome {
                instance_id: "mi-1".into(),
                heartbeat_seconds: 5,
                release_key: Some("k".into()),
                release_key_rotation: None,
            },
            ServerMessage::Deregistered {
                message: "m".into(),
            },
            ServerMessage::CancelCommand {
                command_id: "c".into(),
            },
            ServerMessage::ResultAck {
                command_id: "c".into(),
            },
            ServerMessage::SessionEndAck {
                session_id: "s".into(),
            },
            ServerMessage::SendWakePacket {
                mac: "aa:bb:cc:dd:ee:ff".into(),
                broadcast: "10.0.0.255".into(),
                port: 9,
            },
        ];
        for m in messages {
            let wire = serde_json::to_value(&m).unwrap();
            assert_eq!(wire["type"], m.kind(), "{wire}");
        }
        let agent = [
            AgentMessage::Heartbeat { info: None },
            AgentMessage::CommandAck {
                command_id: "c".into(),
            },
            AgentMessage::SessionAccepted {
                session_id: "s".into(),
            },
        ];
        for m in agent {
            let wire = serde_json::to_value(&m).unwrap();
            assert_eq!(wire["type"], m.kind(), "{wire}");
        }
    }

    #[test]
    fn node_info_from_an_older_agent_has_no_interfaces_or_boot_id() {
        let old = r#"{"computer_name":"h","ip_addresses":[],"platform_type":"Linux","platform_name":"D","platform_version":"12","agent_version":"0.1.0"}"#;
        let info: NodeInfo = serde_json::from_str(old).unwrap();
        assert!(info.network_interfaces.is_empty());
        assert_eq!(info.boot_id, "");
    }

    #[test]
    fn payloads_differ_by_purpose() {
        assert_ne!(register_payload("n", "x"), authenticate_payload("n", "x"));
    }
}
