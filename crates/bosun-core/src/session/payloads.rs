//! JSON and text payloads of the data channel, with AWS's exact field names (agent-protocol.md
//! §5.3–§5.6, session-clients.md §1.4–§3).
//!
//! Decoding is tolerant of what independent clients send (missing optional keys, `null` lists,
//! `MessageSchemaVersion` as a number); encoding writes what AWS's agent writes.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Body of an `acknowledge` frame. Clients differ on `AcknowledgedMessageType` (the npm
/// `ssm-session` always says `output_stream_data`), so receivers match acks by sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgeContent {
    #[serde(rename = "AcknowledgedMessageType", default)]
    pub acknowledged_message_type: String,
    /// The acked frame's message id in canonical UUID text form.
    #[serde(rename = "AcknowledgedMessageId", default)]
    pub acknowledged_message_id: String,
    #[serde(rename = "AcknowledgedMessageSequenceNumber")]
    pub acknowledged_message_sequence_number: i64,
    #[serde(rename = "IsSequentialMessage", default = "default_true")]
    pub is_sequential_message: bool,
}

fn default_true() -> bool {
    true
}

/// Body of `channel_closed`, sent by the service to both ends. `CreatedDate` is epoch
/// milliseconds as a *string* in AWS's structs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ChannelClosed {
    #[serde(rename = "MessageId", default)]
    pub message_id: String,
    #[serde(rename = "CreatedDate", default)]
    pub created_date: String,
    #[serde(rename = "DestinationId", default)]
    pub destination_id: String,
    #[serde(rename = "SessionId", default)]
    pub session_id: String,
    #[serde(rename = "MessageType", default)]
    pub message_type: String,
    #[serde(rename = "SchemaVersion", default)]
    pub schema_version: i64,
    /// Shown to the user by the stock plugin (the failure reason, or why the session ended).
    #[serde(rename = "Output", default)]
    pub output: String,
}

/// `agent_session_state` body, agent → service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSessionState {
    #[serde(rename = "SchemaVersion")]
    pub schema_version: i64,
    /// `Connected` or `Terminating`.
    #[serde(rename = "SessionState")]
    pub session_state: String,
    #[serde(rename = "SessionId")]
    pub session_id: String,
}

/// The first (text) WebSocket frame from either end: `OpenDataChannelInput`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDataChannelInput {
    /// `"1.0"` from AWS's clients; `pyssm-client` sends the number `1`, kept here as text.
    #[serde(rename = "MessageSchemaVersion", deserialize_with = "string_or_number")]
    pub message_schema_version: String,
    #[serde(rename = "RequestId", default)]
    pub request_id: String,
    #[serde(rename = "TokenValue")]
    pub token_value: String,
    /// Absent from the npm `ssm-session` client; the same value on every reconnect of the plugin.
    #[serde(rename = "ClientId", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(
        rename = "ClientVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_version: Option<String>,
    /// Sent by the agent's own data channel.
    #[serde(
        rename = "ClientInstanceId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_instance_id: Option<String>,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "MessageSchemaVersion must be a string or a number, got {other}"
        ))),
    }
}

/// `Size` payload (client → agent): terminal columns and rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalSize {
    pub cols: u32,
    pub rows: u32,
}

/// `ExitCode` payload text as AWS's agent writes it: `EXIT_CODE: <n>`.
pub fn encode_exit_code(code: i32) -> Vec<u8> {
    format!("EXIT_CODE: {code}").into_bytes()
}

/// Reads an `ExitCode` payload: AWS's `EXIT_CODE: n` or a bare integer (what aws-ssm-bridge
/// expects). Surrounding whitespace is ignored.
pub fn decode_exit_code(payload: &[u8]) -> Option<i32> {
    let text = std::str::from_utf8(payload).ok()?.trim();
    let number = text.strip_prefix("EXIT_CODE:").unwrap_or(text).trim();
    number.parse().ok()
}

/// `HandshakeRequest` (agent → client, output seq 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandshakeRequest {
    /// Must be 4-part numeric for the stock plugin's version comparisons (port mode choice).
    #[serde(rename = "AgentVersion")]
    pub agent_version: String,
    #[serde(
        rename = "RequestedClientActions",
        default,
        deserialize_with = "null_as_empty"
    )]
    pub requested_client_actions: Vec<RequestedClientAction>,
}

/// One requested action. `ActionParameters` depends on `ActionType`; see
/// [`SessionTypeParameters`] and [`KmsEncryptionParameters`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestedClientAction {
    /// `SessionType` or `KMSEncryption`.
    #[serde(rename = "ActionType")]
    pub action_type: String,
    #[serde(rename = "ActionParameters", default)]
    pub action_parameters: Value,
}

/// `ActionType` of the session-type action.
pub const ACTION_TYPE_SESSION_TYPE: &str = "SessionType";
/// `ActionType` of the KMS encryption action.
pub const ACTION_TYPE_KMS_ENCRYPTION: &str = "KMSEncryption";

/// `ActionParameters` of the `SessionType` action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionTypeParameters {
    /// `Standard_Stream`, `InteractiveCommands`, `NonInteractiveCommands` or `Port`.
    #[serde(rename = "SessionType")]
    pub session_type: String,
    /// Port sessions: the document's resolved properties, see [`PortSessionProperties`];
    /// shell-type sessions: `null`.
    #[serde(rename = "Properties", default)]
    pub properties: Value,
}

/// The `Properties` of a Port session type. All values are strings in AWS's documents; the
/// stock plugin takes its local port from `localPortNumber` here, not from the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PortSessionProperties {
    #[serde(
        rename = "portNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub port_number: Option<String>,
    #[serde(rename = "host", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `LocalPortForwarding` selects smux mode.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub forwarding_type: Option<String>,
    #[serde(
        rename = "localPortNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_port_number: Option<String>,
    #[serde(
        rename = "localUnixSocket",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_unix_socket: Option<String>,
    #[serde(
        rename = "localConnectionType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_connection_type: Option<String>,
}

/// `ActionParameters` of the `KMSEncryption` action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsEncryptionParameters {
    #[serde(rename = "KMSKeyId")]
    pub kms_key_id: String,
    /// Base64 of 16 random bytes.
    #[serde(rename = "Challenge", default)]
    pub challenge: String,
}

/// `HandshakeResponse` (client → agent, input seq 0 in practice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandshakeResponse {
    #[serde(rename = "ClientVersion", default)]
    pub client_version: String,
    #[serde(
        rename = "ProcessedClientActions",
        default,
        deserialize_with = "null_as_empty"
    )]
    pub processed_client_actions: Vec<ProcessedClientAction>,
    /// The stock plugin writes `null`, aws-ssm-bridge `[]`.
    #[serde(rename = "Errors", default, deserialize_with = "null_as_empty")]
    pub errors: Vec<String>,
}

/// One processed action in a [`HandshakeResponse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessedClientAction {
    #[serde(rename = "ActionType")]
    pub action_type: String,
    /// See [`ActionStatus`].
    #[serde(rename = "ActionStatus")]
    pub action_status: i64,
    /// KMS: `{"KMSCipherTextKey":…,"KMSCipherTextHash":…}`; otherwise `null` or absent.
    #[serde(rename = "ActionResult", default)]
    pub action_result: Value,
    #[serde(rename = "Error", default)]
    pub error: String,
}

/// `ActionStatus` values; anything but `Success` fails the session at the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    Success = 1,
    Failed = 2,
    Unsupported = 3,
}

impl ActionStatus {
    pub fn from_i64(value: i64) -> Option<Self> {
        match value {
            1 => Some(Self::Success),
            2 => Some(Self::Failed),
            3 => Some(Self::Unsupported),
            _ => None,
        }
    }
}

/// `HandshakeComplete` (agent → client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeComplete {
    /// A Go `time.Duration`: nanoseconds.
    #[serde(rename = "HandshakeTimeToComplete")]
    pub handshake_time_to_complete_ns: i64,
    /// Printed by the client when non-empty.
    #[serde(rename = "CustomerMessage", default)]
    pub customer_message: String,
}

/// `EncChallengeRequest` and `EncChallengeResponse` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionChallenge {
    /// Base64 of the AES-GCM sealed challenge.
    #[serde(rename = "Challenge")]
    pub challenge: String,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
#[path = "payloads_tests.rs"]
mod tests;
