//! The session handshake rules (agent-protocol.md §5.6): when one happens, what the agent asks,
//! how a client answers, and how the agent judges the answer.
//!
//! Plain shells (`Standard_Stream`, `InteractiveCommands`) without KMS have no handshake: the
//! client stays silent until the first output frame, so the agent must send output (a prompt or
//! banner) first. All handshake messages are ordinary sequenced stream frames and are acked; the
//! `HandshakeRequest` must be output sequence number 0.

use serde_json::Value;
use thiserror::Error;

use super::payloads::{
    ActionStatus, HandshakeRequest, HandshakeResponse, ProcessedClientAction,
    RequestedClientAction, SessionTypeParameters, ACTION_TYPE_KMS_ENCRYPTION,
    ACTION_TYPE_SESSION_TYPE,
};

/// How long the agent waits for `HandshakeResponse` (and for `EncChallengeResponse`).
pub const HANDSHAKE_TIMEOUT_MS: u64 = 15_000;
/// The failure text AWS's agent reports when the client does not answer in time.
pub const HANDSHAKE_TIMED_OUT_MESSAGE: &str = "Handshake timed out. Please ensure that you have the latest version of the session manager plugin.";

/// A session document's `sessionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionType {
    StandardStream,
    InteractiveCommands,
    NonInteractiveCommands,
    Port,
}

impl SessionType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StandardStream => "Standard_Stream",
            Self::InteractiveCommands => "InteractiveCommands",
            Self::NonInteractiveCommands => "NonInteractiveCommands",
            Self::Port => "Port",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "Standard_Stream" => Some(Self::StandardStream),
            "InteractiveCommands" => Some(Self::InteractiveCommands),
            "NonInteractiveCommands" => Some(Self::NonInteractiveCommands),
            "Port" => Some(Self::Port),
            _ => None,
        }
    }

    /// Whether AWS's agent handshakes: always for NonInteractiveCommands and Port (the port
    /// plugin needs the client version), otherwise only with KMS encryption.
    pub fn requires_handshake(self, kms_encryption: bool) -> bool {
        kms_encryption || matches!(self, Self::NonInteractiveCommands | Self::Port)
    }
}

/// Why a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandshakeError {
    #[error("the client did not process the requested {0} action")]
    ActionNotProcessed(String),
    #[error("the client answered the {action_type} action with status {status}: {error}")]
    ActionFailed {
        action_type: String,
        status: i64,
        error: String,
    },
    #[error("{HANDSHAKE_TIMED_OUT_MESSAGE}")]
    TimedOut,
}

/// The agent's `HandshakeRequest` asking only for the session type (no KMS). `properties` is the
/// port session's resolved properties, or `Value::Null` for shell-type sessions.
pub fn session_type_request(
    agent_version: &str,
    session_type: SessionType,
    properties: Value,
) -> HandshakeRequest {
    let parameters = SessionTypeParameters {
        session_type: session_type.as_str().to_owned(),
        properties,
    };
    HandshakeRequest {
        agent_version: agent_version.to_owned(),
        requested_client_actions: vec![RequestedClientAction {
            action_type: ACTION_TYPE_SESSION_TYPE.to_owned(),
            action_parameters: serde_json::to_value(parameters).unwrap_or(Value::Null),
        }],
    }
}

/// Agent side: every requested action must come back processed with `Success`.
pub fn check_handshake_response(
    request: &HandshakeRequest,
    response: &HandshakeResponse,
) -> Result<(), HandshakeError> {
    for requested in &request.requested_client_actions {
        let processed = response
            .processed_client_actions
            .iter()
            .find(|p| p.action_type == requested.action_type)
            .ok_or_else(|| HandshakeError::ActionNotProcessed(requested.action_type.clone()))?;
        if ActionStatus::from_i64(processed.action_status) != Some(ActionStatus::Success) {
            return Err(HandshakeError::ActionFailed {
                action_type: processed.action_type.clone(),
                status: processed.action_status,
                error: processed.error.clone(),
            });
        }
    }
    Ok(())
}

/// Agent side: whether the wait for an answer sent at `sent_at_ms` is over.
pub fn handshake_timed_out(sent_at_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(sent_at_ms) >= HANDSHAKE_TIMEOUT_MS
}

/// Client side (Bosun's own client): the answer to a request. Known session types succeed; an
/// unknown one fails; KMS encryption is answered `Unsupported` (Bosun's client does not call
/// KMS); unknown actions are `Unsupported`.
pub fn answer_handshake_request(
    request: &HandshakeRequest,
    client_version: &str,
) -> HandshakeResponse {
    let processed = request
        .requested_client_actions
        .iter()
        .map(answer_action)
        .collect();
    HandshakeResponse {
        client_version: client_version.to_owned(),
        processed_client_actions: processed,
        errors: Vec::new(),
    }
}

fn answer_action(action: &RequestedClientAction) -> ProcessedClientAction {
    let (status, error) = match action.action_type.as_str() {
        ACTION_TYPE_SESSION_TYPE => {
            let session_type =
                serde_json::from_value::<SessionTypeParameters>(action.action_parameters.clone())
                    .ok()
                    .and_then(|p| SessionType::parse(&p.session_type));
            match session_type {
                Some(_) => (ActionStatus::Success, String::new()),
                None => (ActionStatus::Failed, "unknown session type".to_owned()),
            }
        }
        ACTION_TYPE_KMS_ENCRYPTION => (
            ActionStatus::Unsupported,
            "KMS encryption is not supported by this client".to_owned(),
        ),
        other => (ActionStatus::Unsupported, format!("unknown action {other}")),
    };
    ProcessedClientAction {
        action_type: action.action_type.clone(),
        action_status: status as i64,
        action_result: Value::Null,
        error,
    }
}

#[cfg(test)]
#[path = "handshake_tests.rs"]
mod tests;
