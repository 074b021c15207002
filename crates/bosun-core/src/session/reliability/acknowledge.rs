//! Building and reading `acknowledge` frames.

use uuid::Uuid;

use crate::session::frame::ClientMessage;
use crate::session::message_type::{MessageType, FLAGS_ACKNOWLEDGE};
use crate::session::payloads::AcknowledgeContent;

/// The ack content for a received stream frame.
pub fn acknowledge_for(frame: &ClientMessage) -> AcknowledgeContent {
    AcknowledgeContent {
        acknowledged_message_type: frame.message_type.clone(),
        acknowledged_message_id: frame.message_id.hyphenated().to_string(),
        acknowledged_message_sequence_number: frame.sequence_number,
        is_sequential_message: true,
    }
}

/// An `acknowledge` frame as AWS's agent writes it: sequence number 0, flags 3, payload type 0.
pub fn acknowledge_frame(
    content: &AcknowledgeContent,
    message_id: Uuid,
    now_ms: u64,
) -> ClientMessage {
    let payload = serde_json::to_vec(content).unwrap_or_default();
    ClientMessage::new(
        MessageType::Acknowledge.as_str(),
        now_ms,
        0,
        FLAGS_ACKNOWLEDGE,
        message_id,
        0,
        payload,
    )
}

/// The content of a received `acknowledge` frame. The frame's flags and payload type are ignored
/// (the npm client writes payload type 3 and flags 0).
pub fn parse_acknowledge(frame: &ClientMessage) -> Result<AcknowledgeContent, serde_json::Error> {
    serde_json::from_slice(&frame.payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_frames_look_like_aws_acks_and_read_back() {
        let data = ClientMessage::new(
            "input_stream_data",
            9,
            4,
            0,
            Uuid::from_u128(7),
            1,
            b"x".into(),
        );
        let content = acknowledge_for(&data);
        assert_eq!(content.acknowledged_message_sequence_number, 4);
        assert_eq!(
            content.acknowledged_message_id,
            "00000000-0000-0000-0000-000000000007"
        );
        let ack = acknowledge_frame(&content, Uuid::from_u128(8), 10);
        assert_eq!(ack.message_type, "acknowledge");
        assert_eq!(
            (ack.sequence_number, ack.flags, ack.payload_type),
            (0, 3, 0)
        );
        assert!(ack.has_valid_digest());
        let decoded = ClientMessage::decode(&ack.encode().unwrap()).unwrap();
        assert_eq!(parse_acknowledge(&decoded).unwrap(), content);
    }
}
