//! Session Manager over the agent channel: how the server asks an agent to join a session, and
//! how the agent reports the session's end.
//!
//! The bytes of a session never travel on the agent channel. The server sends
//! [`SessionStart`] (re-sent until [`crate::AgentMessage::SessionAccepted`]); the agent then dials
//! its own websocket to the server's data channel (`GET` [`data_channel_path`] with
//! `?role=publish_subscribe`, on the same server URL its agent channel uses) and, as AWS's agent
//! does, sends one text frame first: `OpenDataChannelInput` (`bosun_core::session::payloads`) whose
//! `TokenValue` is [`SessionStart::agent_token`] and whose `ClientInstanceId` is the node's id.
//! That token was handed over the authenticated agent channel, so it is the agent's identity on
//! the data channel; it is single-use and bound to this session and node. From then on every
//! frame is an AWS binary `ClientMessage`, relayed unchanged between the client's websocket and
//! the agent's: the agent is the far end of AWS's data channel (handshake, acks, retransmission,
//! `ExitCode`, `channel_closed` from its side), the server is the relay that also keeps the log,
//! the timers (idle, maximum duration) and the session record.
//!
//! The end: the agent sends [`SessionEnd`] (re-sent until [`crate::ServerMessage::SessionEndAck`],
//! so a server restart loses no exit code). The server ends a session early with
//! [`crate::ServerMessage::TerminateSession`] (and `channel_closed` on the data channel): the agent
//! ends the session's whole process group (SIGHUP, then SIGKILL after a grace) and reports.

use serde::{Deserialize, Serialize};

/// Path of a session's data channel on the server, for clients and agents alike.
pub fn data_channel_path(session_id: &str) -> String {
    format!("/v1/data-channel/{session_id}")
}

/// The session document's `sessionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionKind {
    /// A login shell on a PTY (`SSM-SessionManagerRunShell`).
    #[serde(rename = "Standard_Stream")]
    StandardStream,
    /// One command on a PTY (`AWS-StartInteractiveCommand`).
    InteractiveCommands,
    /// One command on pipes, its exit code sent at the end (`AWS-StartNonInteractiveCommand`).
    NonInteractiveCommands,
    /// TCP forwarding to a port on the node or a host it reaches (`AWS-StartPortForwarding*`,
    /// `AWS-StartSSHSession`).
    Port,
}

/// Where a port session connects on the node's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortTarget {
    pub port_number: u16,
    /// `None`: `localhost`. A remote host is checked against `denied_remote_networks` on every
    /// address it resolves to, and the checked address is the one connected to.
    pub host: Option<String>,
    /// The document's `properties.type` (`LocalPortForwarding` for the forwarding documents,
    /// absent for `AWS-StartSSHSession`); with the client's version it decides smux or basic mode.
    pub forwarding_type: Option<String>,
    /// The handshake's `localPortNumber` (the client listens there).
    pub local_port_number: Option<String>,
}

/// Ask an agent to join a session (re-sent until `SessionAccepted`; the agent de-duplicates by
/// `session_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStart {
    pub session_id: String,
    pub document_name: String,
    pub kind: SessionKind,
    /// The command for `InteractiveCommands`/`NonInteractiveCommands` (parameters already
    /// interpolated), or the `Standard_Stream` document's `properties.linux.commands`
    /// override; `None` for a login shell.
    pub command: Option<String>,
    /// Present for `Port` only.
    pub port: Option<PortTarget>,
    /// Run as this user (the preferences' `runAsEnabled`/`runAsDefaultUser` or the
    /// caller's `SSMSessionRunAs` tag, resolved by the server); `None`: the agent's own user.
    pub run_as_user: Option<String>,
    /// Written to a shell's stdin before the user's input (`shellProfile.linux`).
    pub shell_profile: Option<String>,
    /// Secret the agent presents in its `OpenDataChannelInput` (single-use).
    pub agent_token: String,
    /// CIDRs a port session must not reach (`Mgs.DeniedPortForwardingRemoteIPs` and
    /// Bosun's defaults), checked on resolved addresses.
    pub denied_remote_networks: Vec<String>,
    /// Epoch ms after which the agent must not start the session (the client's token expired).
    pub start_by_ms: i64,
}

/// Why a session ended, as recorded and told to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEndReason {
    /// The shell or command exited by itself.
    Exited,
    /// `TerminateSession`, the client's terminate flag, or the server's own decision.
    Terminated,
    /// No activity for the idle timeout (server-side).
    IdleTimeout,
    /// The maximum session duration passed (server-side).
    MaxDuration,
    /// The agent could not start or run the session (`error` says why).
    Failed,
}

/// A process that left the session's process group while it ran (`setsid`, double fork) and was
/// still alive when the session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscapedProcess {
    pub pid: u32,
    pub command: String,
}

/// How a session ended on the node (re-sent until `SessionEndAck`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnd {
    pub session_id: String,
    pub reason: SessionEndReason,
    /// The shell's or command's exit status; `None` when it was killed by a signal or never ran.
    pub exit_code: Option<i32>,
    /// The signal that ended it (`SIGKILL`, `SIGHUP`, …), if one did.
    pub signal: Option<String>,
    pub escaped: Vec<EscapedProcess>,
    /// Why the session failed (`reason == Failed`); never secret.
    pub error: Option<String>,
    pub ended_at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentMessage, ServerMessage};

    #[test]
    fn session_messages_round_trip() {
        let start = ServerMessage::StartSession(SessionStart {
            session_id: "alice-0123456789abcdef0".into(),
            document_name: "AWS-StartPortForwardingSession".into(),
            kind: SessionKind::Port,
            command: None,
            port: Some(PortTarget {
                port_number: 80,
                host: None,
                forwarding_type: Some("LocalPortForwarding".into()),
                local_port_number: Some("8080".into()),
            }),
            run_as_user: None,
            shell_profile: None,
            agent_token: "t".into(),
            denied_remote_networks: vec!["169.254.169.254/32".into()],
            start_by_ms: 1,
        });
        let text = serde_json::to_string(&start).unwrap();
        assert!(text.contains(r#""type":"start_session""#), "{text}");
        assert!(text.contains(r#""kind":"Port""#), "{text}");
        assert_eq!(serde_json::from_str::<ServerMessage>(&text).unwrap(), start);

        let end = AgentMessage::SessionEnded(SessionEnd {
            session_id: "s".into(),
            reason: SessionEndReason::Exited,
            exit_code: None,
            signal: Some("SIGKILL".into()),
            escaped: vec![EscapedProcess {
                pid: 7,
                command: "sleep 100".into(),
            }],
            error: None,
            ended_at_ms: 2,
        });
        let text = serde_json::to_string(&end).unwrap();
        assert_eq!(serde_json::from_str::<AgentMessage>(&text).unwrap(), end);
        assert_eq!(
            serde_json::to_string(&SessionKind::StandardStream).unwrap(),
            r#""Standard_Stream""#
        );
    }

    #[test]
    fn the_data_channel_path_is_awss() {
        assert_eq!(data_channel_path("s-1"), "/v1/data-channel/s-1");
    }
}
