//! Message types, payload types and flag values of the data channel (agent-protocol.md §5.5).

/// The `MessageType` header strings Bosun knows; others decode as [`MessageType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Client → agent sequenced stream data.
    InputStreamData,
    /// Agent → client sequenced stream data.
    OutputStreamData,
    /// Both ways, JSON [`super::payloads::AcknowledgeContent`].
    Acknowledge,
    /// Service → both, JSON [`super::payloads::ChannelClosed`].
    ChannelClosed,
    /// Service → agent flow control: resume sending.
    StartPublication,
    /// Service → agent flow control: stop sending and retransmitting.
    PausePublication,
    /// Agent → service, JSON [`super::payloads::AgentSessionState`].
    AgentSessionState,
    /// Anything else, kept verbatim (trimmed).
    Other(String),
}

impl MessageType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::InputStreamData => "input_stream_data",
            Self::OutputStreamData => "output_stream_data",
            Self::Acknowledge => "acknowledge",
            Self::ChannelClosed => "channel_closed",
            Self::StartPublication => "start_publication",
            Self::PausePublication => "pause_publication",
            Self::AgentSessionState => "agent_session_state",
            Self::Other(other) => other,
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "input_stream_data" => Self::InputStreamData,
            "output_stream_data" => Self::OutputStreamData,
            "acknowledge" => Self::Acknowledge,
            "channel_closed" => Self::ChannelClosed,
            "start_publication" => Self::StartPublication,
            "pause_publication" => Self::PausePublication,
            "agent_session_state" => Self::AgentSessionState,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Whether frames of this type carry a sequence number that is acked, ordered and retransmitted.
    /// Every other type is sent with sequence number 0 and never acked.
    pub fn is_sequenced(&self) -> bool {
        matches!(self, Self::InputStreamData | Self::OutputStreamData)
    }
}

/// `PayloadType` values of sequenced stream data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadType {
    /// Terminal bytes both ways; raw TCP bytes or smux frames in port sessions.
    Output = 1,
    /// Defined by AWS, unused.
    Error = 2,
    /// Client → agent `{"cols":N,"rows":M}`.
    Size = 3,
    /// Defined by AWS, unused.
    Parameter = 4,
    HandshakeRequest = 5,
    HandshakeResponse = 6,
    HandshakeComplete = 7,
    EncChallengeRequest = 8,
    EncChallengeResponse = 9,
    /// 4-byte big-endian [`FlagPayload`].
    Flag = 10,
    /// Agent → client stderr of NonInteractiveCommands with `separateOutputStream`.
    StdErr = 11,
    /// Agent → client `EXIT_CODE: n`.
    ExitCode = 12,
}

impl PayloadType {
    pub fn from_u32(value: u32) -> Option<Self> {
        Some(match value {
            1 => Self::Output,
            2 => Self::Error,
            3 => Self::Size,
            4 => Self::Parameter,
            5 => Self::HandshakeRequest,
            6 => Self::HandshakeResponse,
            7 => Self::HandshakeComplete,
            8 => Self::EncChallengeRequest,
            9 => Self::EncChallengeResponse,
            10 => Self::Flag,
            11 => Self::StdErr,
            12 => Self::ExitCode,
            _ => return None,
        })
    }

    pub fn as_u32(self) -> u32 {
        self as u32
    }
}

/// Header `Flags` bit 0 (the comment in AWS's code calls it SYN). Nobody acts on flags.
pub const FLAG_SYN: u64 = 1;
/// Header `Flags` bit 1 (FIN per AWS's comment).
pub const FLAG_FIN: u64 = 2;
/// What AWS's agent and plugin write on `acknowledge` and `agent_session_state` frames.
pub const FLAGS_ACKNOWLEDGE: u64 = FLAG_SYN | FLAG_FIN;

/// The flags AWS's agent writes on an outgoing stream frame: SYN on sequence number 0 only.
pub fn stream_data_flags(sequence_number: i64) -> u64 {
    if sequence_number == 0 {
        FLAG_SYN
    } else {
        0
    }
}

/// Values of a [`PayloadType::Flag`] payload (4-byte big-endian u32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagPayload {
    /// Client → agent, basic port mode: close the TCP connection, redial on the next data.
    DisconnectToPort = 1,
    /// Client → agent: end the session.
    TerminateSession = 2,
    /// Agent → client, mux port mode: dialling the destination failed.
    ConnectToPortError = 3,
}

impl FlagPayload {
    pub fn encode(self) -> [u8; 4] {
        (self as u32).to_be_bytes()
    }

    /// `None` for anything but exactly four bytes holding a known value.
    pub fn decode(payload: &[u8]) -> Option<Self> {
        let bytes: [u8; 4] = payload.try_into().ok()?;
        match u32::from_be_bytes(bytes) {
            1 => Some(Self::DisconnectToPort),
            2 => Some(Self::TerminateSession),
            3 => Some(Self::ConnectToPortError),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_round_trip_and_only_stream_data_is_sequenced() {
        for ty in [
            MessageType::InputStreamData,
            MessageType::OutputStreamData,
            MessageType::Acknowledge,
            MessageType::ChannelClosed,
            MessageType::StartPublication,
            MessageType::PausePublication,
            MessageType::AgentSessionState,
        ] {
            assert_eq!(MessageType::parse(ty.as_str()), ty);
        }
        assert!(MessageType::InputStreamData.is_sequenced());
        assert!(MessageType::OutputStreamData.is_sequenced());
        assert!(!MessageType::Acknowledge.is_sequenced());
        assert_eq!(
            MessageType::parse("weird"),
            MessageType::Other("weird".into())
        );
    }

    #[test]
    fn payload_types_match_the_reference_numbers() {
        assert_eq!(PayloadType::Output.as_u32(), 1);
        assert_eq!(PayloadType::Size.as_u32(), 3);
        assert_eq!(PayloadType::HandshakeRequest.as_u32(), 5);
        assert_eq!(PayloadType::Flag.as_u32(), 10);
        assert_eq!(PayloadType::ExitCode.as_u32(), 12);
        for n in 1..=12 {
            assert_eq!(PayloadType::from_u32(n).unwrap().as_u32(), n);
        }
        assert_eq!(PayloadType::from_u32(0), None);
        assert_eq!(PayloadType::from_u32(17), None);
    }

    #[test]
    fn flag_payloads_are_big_endian_u32() {
        assert_eq!(FlagPayload::TerminateSession.encode(), [0, 0, 0, 2]);
        assert_eq!(
            FlagPayload::decode(&[0, 0, 0, 1]),
            Some(FlagPayload::DisconnectToPort)
        );
        assert_eq!(
            FlagPayload::decode(&[0, 0, 0, 3]),
            Some(FlagPayload::ConnectToPortError)
        );
        assert_eq!(FlagPayload::decode(&[0, 0, 0, 4]), None);
        assert_eq!(FlagPayload::decode(&[0, 0, 2]), None);
        assert_eq!(stream_data_flags(0), 1);
        assert_eq!(stream_data_flags(7), 0);
        assert_eq!(FLAGS_ACKNOWLEDGE, 3);
    }
}
