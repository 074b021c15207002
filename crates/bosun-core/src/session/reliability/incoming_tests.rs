//! Tests of the receiving half.

use uuid::Uuid;

use super::*;

fn frame(seq: i64) -> ClientMessage {
    ClientMessage::new(
        "input_stream_data",
        1,
        seq,
        0,
        Uuid::from_u128(seq as u64 as u128),
        1,
        vec![seq as u8],
    )
}

fn seqs(frames: &[ClientMessage]) -> Vec<i64> {
    frames.iter().map(|f| f.sequence_number).collect()
}

#[test]
fn in_order_frames_are_delivered_and_acked() {
    let mut incoming = IncomingStream::new(IncomingConfig::default());
    let got = incoming.receive(frame(0));
    assert_eq!(got.disposition, Disposition::Delivered);
    assert_eq!(seqs(&got.deliver), [0]);
    let ack = got.acknowledge.unwrap();
    assert_eq!(ack.acknowledged_message_sequence_number, 0);
    assert_eq!(ack.acknowledged_message_type, "input_stream_data");
    assert_eq!(incoming.expected_sequence_number(), 1);
}

#[test]
fn out_of_order_frames_are_acked_buffered_then_delivered_in_order() {
    let mut incoming = IncomingStream::new(IncomingConfig::default());
    for seq in [2, 1] {
        let got = incoming.receive(frame(seq));
        assert_eq!(got.disposition, Disposition::Buffered);
        assert!(got.acknowledge.is_some());
        assert!(got.deliver.is_empty());
    }
    assert_eq!(incoming.buffered(), 2);
    let got = incoming.receive(frame(0));
    assert_eq!(seqs(&got.deliver), [0, 1, 2]);
    assert_eq!(incoming.buffered(), 0);
    assert_eq!(incoming.expected_sequence_number(), 3);
}

#[test]
fn duplicates_are_acked_again_and_never_delivered_twice() {
    let mut incoming = IncomingStream::new(IncomingConfig::default());
    incoming.receive(frame(0));
    let stale = incoming.receive(frame(0));
    assert_eq!(stale.disposition, Disposition::Duplicate);
    assert!(stale.deliver.is_empty());
    assert_eq!(
        stale
            .acknowledge
            .unwrap()
            .acknowledged_message_sequence_number,
        0
    );
    incoming.receive(frame(2));
    let buffered_again = incoming.receive(frame(2));
    assert_eq!(buffered_again.disposition, Disposition::Duplicate);
    assert!(buffered_again.acknowledge.is_some());
    assert_eq!(incoming.buffered(), 1);
}

#[test]
fn stale_duplicates_can_go_unacked_like_the_stock_plugin() {
    let mut incoming = IncomingStream::new(IncomingConfig {
        window: 10,
        ack_stale_duplicates: false,
    });
    incoming.receive(frame(0));
    assert_eq!(incoming.receive(frame(0)).acknowledge, None);
}

#[test]
fn frames_outside_the_window_are_refused_without_ack() {
    let mut incoming = IncomingStream::new(IncomingConfig {
        window: 3,
        ack_stale_duplicates: true,
    });
    for seq in [-1, 3, i64::MAX] {
        let got = incoming.receive(frame(seq));
        assert_eq!(got.disposition, Disposition::OutOfWindow, "seq {seq}");
        assert_eq!(got.acknowledge, None);
    }
    assert_eq!(
        incoming.receive(frame(2)).disposition,
        Disposition::Buffered
    );
    assert_eq!(incoming.buffered(), 1);
}

#[test]
fn a_restored_receiver_continues_the_sequence_space() {
    let mut incoming = IncomingStream::resuming_at(5, IncomingConfig::default());
    assert_eq!(
        incoming.receive(frame(4)).disposition,
        Disposition::Duplicate
    );
    assert_eq!(seqs(&incoming.receive(frame(5)).deliver), [5]);
}
