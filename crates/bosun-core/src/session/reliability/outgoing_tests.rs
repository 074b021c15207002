//! Tests of the sending half.

use super::*;
use crate::session::reliability::acknowledge_for;

fn stream() -> OutgoingStream {
    OutgoingStream::new(MessageType::OutputStreamData, OutgoingConfig::default())
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn numbers_frames_from_zero_with_syn_on_the_first() {
    let mut out = stream();
    let first = out.send(1, b"a".to_vec(), id(1), 1000).unwrap().unwrap();
    let second = out.send(1, b"b".to_vec(), id(2), 1001).unwrap().unwrap();
    assert_eq!((first.sequence_number, first.flags), (0, 1));
    assert_eq!((second.sequence_number, second.flags), (1, 0));
    assert_eq!(first.message_type, "output_stream_data");
    assert!(first.has_valid_digest());
    assert_eq!(out.unacknowledged(), 2);
    assert_eq!(out.next_sequence_number(), 2);
}

#[test]
fn acks_remove_exactly_the_named_frame_and_update_the_timeout() {
    let mut out = stream();
    let a = out.send(1, b"a".to_vec(), id(1), 1000).unwrap().unwrap();
    let b = out.send(1, b"b".to_vec(), id(2), 1000).unwrap().unwrap();
    assert_eq!(
        out.on_acknowledge(&acknowledge_for(&b), 1020),
        AckOutcome::Acknowledged { round_trip_ms: 20 }
    );
    assert_eq!(out.retransmission_timeout_ms(), 170);
    assert_eq!(out.unacknowledged(), 1);
    assert_eq!(
        out.on_acknowledge(&acknowledge_for(&b), 1030),
        AckOutcome::Unknown
    );
    assert!(matches!(
        out.on_acknowledge(&acknowledge_for(&a), 1030),
        AckOutcome::Acknowledged { .. }
    ));
    assert_eq!(out.unacknowledged(), 0);
    assert_eq!(out.next_retransmission_at_ms(), None);
}

#[test]
fn an_ack_naming_another_message_id_is_ignored_but_a_missing_id_matches_by_sequence() {
    let mut out = stream();
    let a = out.send(1, b"a".to_vec(), id(1), 1000).unwrap().unwrap();
    let mut wrong = acknowledge_for(&a);
    wrong.acknowledged_message_id = id(99).to_string();
    assert_eq!(out.on_acknowledge(&wrong, 1001), AckOutcome::Unknown);
    let mut swapped = acknowledge_for(&a);
    swapped.acknowledged_message_id =
        Uuid::from_bytes(crate::session::frame::message_id_to_wire(a.message_id)).to_string();
    let mut probe = out.clone();
    assert!(
        matches!(
            probe.on_acknowledge(&swapped, 1001),
            AckOutcome::Acknowledged { .. }
        ),
        "a client that does not un-swap the wire id still acks"
    );
    let mut anonymous = acknowledge_for(&a);
    anonymous.acknowledged_message_id = String::new();
    anonymous.acknowledged_message_type = "input_stream_data".into();
    assert!(matches!(
        out.on_acknowledge(&anonymous, 1001),
        AckOutcome::Acknowledged { .. }
    ));
}

#[test]
fn retransmits_every_overdue_frame_once_per_timeout() {
    let mut out = stream();
    out.send(1, b"a".to_vec(), id(1), 1000).unwrap();
    out.send(1, b"b".to_vec(), id(2), 1100).unwrap();
    assert_eq!(out.next_retransmission_at_ms(), Some(1200));
    assert!(out.due_retransmissions(1199, 10).unwrap().is_empty());
    let due = out.due_retransmissions(1200, 10).unwrap();
    assert_eq!(
        due.iter().map(|f| f.sequence_number).collect::<Vec<_>>(),
        [0]
    );
    assert!(
        out.due_retransmissions(1250, 10).unwrap().is_empty(),
        "a resent frame waits a full timeout again"
    );
    let due = out.due_retransmissions(1400, 10).unwrap();
    assert_eq!(
        due.iter().map(|f| f.sequence_number).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(
        out.due_retransmissions(1600, 1).unwrap().len(),
        1,
        "bounded by max"
    );
}

#[test]
fn a_retransmitted_frame_is_byte_identical() {
    let mut out = stream();
    let sent = out.send(5, b"{}".to_vec(), id(1), 1000).unwrap().unwrap();
    let again = out.due_retransmissions(5000, 10).unwrap();
    assert_eq!(again, vec![sent]);
}

#[test]
fn full_buffer_refuses_instead_of_dropping() {
    let mut out = OutgoingStream::new(
        MessageType::InputStreamData,
        OutgoingConfig {
            capacity: 2,
            max_resends: None,
        },
    );
    out.send(1, vec![], id(1), 1).unwrap();
    out.send(1, vec![], id(2), 1).unwrap();
    assert_eq!(
        out.send(1, vec![], id(3), 1),
        Err(OutgoingError::Full { unacknowledged: 2 })
    );
    assert_eq!(
        out.next_sequence_number(),
        2,
        "a refused send uses no number"
    );
}

#[test]
fn gives_up_after_the_configured_resends() {
    let mut out = OutgoingStream::new(
        MessageType::InputStreamData,
        OutgoingConfig {
            capacity: 10,
            max_resends: Some(2),
        },
    );
    out.send(1, vec![], id(1), 0).unwrap();
    assert_eq!(out.due_retransmissions(1000, 10).unwrap().len(), 1);
    assert_eq!(out.due_retransmissions(2000, 10).unwrap().len(), 1);
    assert_eq!(
        out.due_retransmissions(3000, 10),
        Err(OutgoingError::GaveUp {
            sequence_number: 0,
            resends: 2
        })
    );
}

#[test]
fn pause_holds_new_frames_and_resends_until_resumed() {
    let mut out = stream();
    out.send(1, b"a".to_vec(), id(1), 1000).unwrap();
    out.set_paused(true);
    assert!(out.is_paused());
    assert_eq!(out.send(1, b"b".to_vec(), id(2), 1001).unwrap(), None);
    assert!(out.due_retransmissions(9000, 10).unwrap().is_empty());
    assert_eq!(out.next_retransmission_at_ms(), None);
    out.set_paused(false);
    assert_eq!(
        out.next_retransmission_at_ms(),
        Some(0),
        "the held frame is due at once"
    );
    let due = out.due_retransmissions(1002, 10).unwrap();
    assert_eq!(
        due.iter().map(|f| f.sequence_number).collect::<Vec<_>>(),
        [1]
    );
    let due = out.due_retransmissions(1300, 10).unwrap();
    assert_eq!(
        due.iter().map(|f| f.sequence_number).collect::<Vec<_>>(),
        [0, 1]
    );
}

#[test]
fn reconnect_resends_everything_unacked_in_order_and_keeps_numbering() {
    let mut out = stream();
    for n in 0..3 {
        out.send(1, vec![n], id(n.into()), 1000).unwrap();
    }
    out.on_reconnect();
    let due = out.due_retransmissions(1001, 10).unwrap();
    assert_eq!(
        due.iter().map(|f| f.sequence_number).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let next = out.send(1, vec![], id(9), 1002).unwrap().unwrap();
    assert_eq!(next.sequence_number, 3);
}
