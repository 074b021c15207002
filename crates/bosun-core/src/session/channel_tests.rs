//! Tests of one data-channel end, including an agent and a client talking through encoded bytes.

use super::*;
use crate::session::message_type::PayloadType;
use crate::session::payloads::AcknowledgeContent;
use crate::session::reliability::Disposition;

fn end(role: ChannelRole, require_valid_digest: bool) -> DataChannel {
    DataChannel::new(
        role,
        OutgoingConfig::default(),
        IncomingConfig::default(),
        require_valid_digest,
    )
}

fn input(seq: i64, payload: &[u8]) -> ClientMessage {
    ClientMessage::new(
        "input_stream_data",
        10,
        seq,
        0,
        Uuid::from_u128(100 + seq as u128),
        1,
        payload.to_vec(),
    )
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn the_agent_acks_and_delivers_input() {
    let mut agent = end(ChannelRole::Agent, false);
    let InboundEvent::Data {
        received,
        acknowledge,
    } = agent.on_frame(input(0, b"ls\r"), 50, id(1))
    else {
        panic!("expected data");
    };
    assert_eq!(received.disposition, Disposition::Delivered);
    assert_eq!(received.deliver[0].payload, b"ls\r");
    let ack = acknowledge.unwrap();
    assert_eq!(
        (ack.message_type.as_str(), ack.flags, ack.created_date_ms),
        ("acknowledge", 3, 50)
    );
    let content: AcknowledgeContent = serde_json::from_slice(&ack.payload).unwrap();
    assert_eq!(content.acknowledged_message_sequence_number, 0);
    assert_eq!(content.acknowledged_message_id, id(100).to_string());
}

#[test]
fn digests_are_checked_only_when_required() {
    let mut bad = input(0, b"x");
    bad.payload_digest = [0; 32];
    let mut lenient = end(ChannelRole::Agent, false);
    assert!(matches!(
        lenient.on_frame(bad.clone(), 1, id(1)),
        InboundEvent::Data { .. }
    ));
    let mut strict = end(ChannelRole::Agent, true);
    assert_eq!(strict.on_frame(bad, 1, id(1)), InboundEvent::BadDigest);
    assert_eq!(strict.incoming.expected_sequence_number(), 0);
}

#[test]
fn each_end_ignores_its_own_direction_and_state_messages() {
    let mut client = end(ChannelRole::Client, true);
    assert_eq!(
        client.on_frame(input(0, b"x"), 1, id(1)),
        InboundEvent::Ignored("input_stream_data".into())
    );
    let state = ClientMessage::new("agent_session_state", 1, 0, 3, id(2), 0, b"{}".to_vec());
    assert_eq!(
        client.on_frame(state, 1, id(1)),
        InboundEvent::Ignored("agent_session_state".into())
    );
    let pause = ClientMessage::new("pause_publication", 1, 0, 0, id(3), 0, vec![]);
    assert_eq!(
        client.on_frame(pause, 1, id(1)),
        InboundEvent::Ignored("pause_publication".into())
    );
}

#[test]
fn the_agent_pauses_and_any_inbound_data_resumes_it() {
    let mut agent = end(ChannelRole::Agent, false);
    let pause = ClientMessage::new("pause_publication", 1, 0, 0, id(3), 0, vec![]);
    assert_eq!(agent.on_frame(pause, 1, id(1)), InboundEvent::Paused);
    assert!(agent.outgoing.is_paused());
    agent.on_frame(input(0, b"x"), 2, id(1));
    assert!(!agent.outgoing.is_paused());
    let start = ClientMessage::new("start_publication", 1, 0, 0, id(4), 0, vec![]);
    assert_eq!(agent.on_frame(start, 3, id(1)), InboundEvent::Resumed);
}

#[test]
fn channel_closed_carries_the_reason_and_a_garbled_one_still_closes() {
    let mut client = end(ChannelRole::Client, true);
    let body =
        br#"{"SessionId":"s-1","Output":"Idle timeout of 20 minutes reached","SchemaVersion":1}"#;
    let closed = ClientMessage::new("channel_closed", 1, 0, 0, id(5), 0, body.to_vec());
    let InboundEvent::Closed(reason) = client.on_frame(closed, 1, id(1)) else {
        panic!("expected closed");
    };
    assert_eq!(reason.output, "Idle timeout of 20 minutes reached");
    let garbled = ClientMessage::new("channel_closed", 1, 0, 0, id(6), 0, b"nope".to_vec());
    assert_eq!(
        client.on_frame(garbled, 1, id(1)),
        InboundEvent::Closed(ChannelClosed::default())
    );
}

/// Agent and client exchange real wire bytes: output, its ack, and a duplicate that is re-acked.
#[test]
fn an_agent_and_a_client_talk_through_wire_bytes() {
    let mut agent = end(ChannelRole::Agent, false);
    let mut client = end(ChannelRole::Client, true);
    let wire = |frame: &ClientMessage| ClientMessage::decode(&frame.encode().unwrap()).unwrap();

    let output = agent
        .outgoing
        .send(PayloadType::Output.as_u32(), b"$ ".to_vec(), id(1), 100)
        .unwrap()
        .unwrap();
    assert_eq!(output.flags, 1, "SYN on the first output frame");
    let InboundEvent::Data {
        received,
        acknowledge,
    } = client.on_frame(wire(&output), 110, id(2))
    else {
        panic!("expected data");
    };
    assert_eq!(received.deliver[0].payload, b"$ ");
    let ack = acknowledge.unwrap();
    assert_eq!(
        agent.on_frame(wire(&ack), 130, id(3)),
        InboundEvent::Acknowledged(AckOutcome::Acknowledged { round_trip_ms: 30 })
    );
    assert_eq!(agent.outgoing.unacknowledged(), 0);

    let duplicate = client.on_frame(wire(&output), 140, id(4));
    let InboundEvent::Data {
        received,
        acknowledge,
    } = duplicate
    else {
        panic!("expected data");
    };
    assert!(received.deliver.is_empty());
    assert!(acknowledge.is_some(), "duplicates are acked again");
    assert_eq!(
        agent.on_frame(wire(&acknowledge.unwrap()), 150, id(5)),
        InboundEvent::Acknowledged(AckOutcome::Unknown)
    );
}
