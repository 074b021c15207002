//! Tests of the binary frame: the reference's test vector, leniency, refusals, round trips.

use super::*;
use proptest::prelude::*;

/// agent-protocol.md §5.4's independently generated vector.
const VECTOR_HEX: &str = concat!(
    "00000074696e7075745f73747265616d",
    "5f646174612020202020202020202020",
    "20202020000000010000018bcfe56800",
    "00000000000000000000000000000000",
    "a508b5f073f31b16dd01e56bff48483e",
    "1d887ce0f8672e4914d9000e801cd74e",
    "cd805dd9366c0bc42dc16adc0197dc2f",
    "00000001000000036c730d",
);

fn vector_bytes() -> Vec<u8> {
    hex::decode(VECTOR_HEX).unwrap()
}

fn vector_message() -> ClientMessage {
    ClientMessage::new(
        "input_stream_data",
        1_700_000_000_000,
        0,
        0,
        Uuid::parse_str("dd01e56b-ff48-483e-a508-b5f073f31b16").unwrap(),
        1,
        b"ls\r".to_vec(),
    )
}

#[test]
fn encodes_the_reference_vector_byte_for_byte() {
    assert_eq!(vector_message().encode().unwrap(), vector_bytes());
}

#[test]
fn decodes_the_reference_vector() {
    let decoded = ClientMessage::decode(&vector_bytes()).unwrap();
    assert_eq!(decoded, vector_message());
    assert!(decoded.has_valid_digest());
}

#[test]
fn message_id_halves_are_swapped_on_the_wire() {
    let id = Uuid::parse_str("00010203-0405-0607-0809-0a0b0c0d0e0f").unwrap();
    assert_eq!(
        message_id_to_wire(id),
        [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]
    );
    assert_eq!(message_id_from_wire(message_id_to_wire(id)), id);
}

#[test]
fn message_type_padded_with_nuls_on_the_left_is_accepted() {
    let mut bytes = vector_bytes();
    let field = b"input_stream_data";
    let start = 4 + 32 - field.len();
    bytes[4..36].fill(0);
    bytes[start..36].copy_from_slice(field);
    assert_eq!(
        ClientMessage::decode(&bytes).unwrap().message_type,
        "input_stream_data"
    );
}

#[test]
fn message_type_padded_with_nuls_on_the_right_is_accepted() {
    let mut bytes = vector_bytes();
    bytes[4 + 17..36].fill(0);
    assert_eq!(
        ClientMessage::decode(&bytes).unwrap().message_type,
        "input_stream_data"
    );
}

#[test]
fn a_wrong_digest_is_kept_and_reported_not_refused() {
    let mut bytes = vector_bytes();
    bytes[80] ^= 0xff;
    let decoded = ClientMessage::decode(&bytes).unwrap();
    assert!(!decoded.has_valid_digest());
    assert_eq!(
        decoded.encode().unwrap(),
        bytes,
        "a relay forwards it unchanged"
    );
}

#[test]
fn empty_payload_round_trips() {
    let msg = ClientMessage::new("acknowledge", 5, 0, 3, Uuid::nil(), 0, Vec::new());
    let bytes = msg.encode().unwrap();
    assert_eq!(bytes.len(), FRAME_HEADER_BYTES);
    assert_eq!(ClientMessage::decode(&bytes).unwrap(), msg);
}

#[test]
fn refusals_are_specific() {
    let bytes = vector_bytes();
    assert_eq!(
        ClientMessage::decode(&bytes[..119]),
        Err(FrameError::TooShort { len: 119 })
    );
    assert_eq!(
        ClientMessage::decode(&bytes[..122]),
        Err(FrameError::PayloadLengthMismatch {
            declared: 3,
            actual: 2
        })
    );
    let mut longer = bytes.clone();
    longer.push(b'x');
    assert_eq!(
        ClientMessage::decode(&longer),
        Err(FrameError::PayloadLengthMismatch {
            declared: 3,
            actual: 4
        })
    );
    let mut bad_header = bytes.clone();
    bad_header[3] = 0x78;
    assert_eq!(
        ClientMessage::decode(&bad_header),
        Err(FrameError::BadHeaderLength { found: 0x78 })
    );
    let mut blank_type = bytes.clone();
    blank_type[4..36].fill(b' ');
    assert_eq!(
        ClientMessage::decode(&blank_type),
        Err(FrameError::EmptyMessageType)
    );
    let mut binary_type = bytes.clone();
    binary_type[5] = 0x01;
    assert_eq!(
        ClientMessage::decode(&binary_type),
        Err(FrameError::MessageTypeNotAscii)
    );
    let mut zero_date = bytes;
    zero_date[40..48].fill(0);
    assert_eq!(
        ClientMessage::decode(&zero_date),
        Err(FrameError::ZeroCreatedDate)
    );
}

#[test]
fn encode_refuses_what_readers_could_not_parse() {
    let mut msg = vector_message();
    msg.message_type = "x".repeat(33);
    assert!(matches!(
        msg.encode(),
        Err(FrameError::MessageTypeTooLong(_))
    ));
    msg.message_type = "has space".into();
    assert_eq!(msg.encode(), Err(FrameError::MessageTypeNotAscii));
    msg.message_type = String::new();
    assert_eq!(msg.encode(), Err(FrameError::EmptyMessageType));
    let mut msg = vector_message();
    msg.created_date_ms = 0;
    assert_eq!(msg.encode(), Err(FrameError::ZeroCreatedDate));
}

fn arb_message() -> impl Strategy<Value = ClientMessage> {
    (
        "[a-z_]{1,32}",
        1u64..,
        any::<i64>(),
        any::<u64>(),
        any::<[u8; 16]>(),
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<u32>(),
    )
        .prop_map(|(ty, date, seq, flags, id, pt, payload, schema)| {
            let mut msg =
                ClientMessage::new(&ty, date, seq, flags, Uuid::from_bytes(id), pt, payload);
            msg.schema_version = schema;
            msg
        })
}

proptest! {
    #[test]
    fn every_frame_round_trips(msg in arb_message()) {
        let bytes = msg.encode().unwrap();
        prop_assert_eq!(bytes.len(), FRAME_HEADER_BYTES + msg.payload.len());
        prop_assert_eq!(ClientMessage::decode(&bytes).unwrap(), msg);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = ClientMessage::decode(&bytes);
    }

    #[test]
    fn any_truncation_is_refused(msg in arb_message(), cut in 1usize..50) {
        let bytes = msg.encode().unwrap();
        let keep = bytes.len().saturating_sub(cut);
        prop_assert!(ClientMessage::decode(&bytes[..keep]).is_err());
    }
}
