//! Tests of session log recording: order, retransmissions, UTF-8 rejoining, parsing back.

use super::*;
use proptest::prelude::*;

fn output_of(cast: &str) -> String {
    let (_, events) = parse(cast).unwrap();
    events
        .iter()
        .filter(|e| e.kind == "o")
        .map(|e| e.data.as_str())
        .collect()
}

#[test]
fn records_output_in_sequence_order_once() {
    let mut r = Recorder::new(1_000, "s-1");
    let mut cast = String::new();
    cast += &r.agent_frame(0, 1_000, None); // the handshake takes a sequence number
    cast += &r.agent_frame(2, 1_200, Some(b"world\n"));
    cast += &r.agent_frame(1, 1_100, Some(b"hello "));
    cast += &r.agent_frame(1, 1_300, Some(b"hello ")); // a retransmission
    cast += &r.agent_frame(3, 2_500, Some(b"$ "));
    cast += &r.finish(3_000);
    assert_eq!(output_of(&cast), "hello world\n$ ");
    let (header, events) = parse(&cast).unwrap();
    assert_eq!((header.version, header.width, header.height), (2, 80, 24));
    assert_eq!(header.timestamp, 1);
    assert_eq!(header.title, "s-1");
    assert_eq!(events.last().unwrap().seconds, 1.5);
}

#[test]
fn resizes_set_the_header_first_then_become_events() {
    let mut r = Recorder::new(0, "");
    let mut cast = r.resize(0, 120, 40);
    cast += &r.agent_frame(0, 10, Some(b"x"));
    cast += &r.resize(20, 100, 30);
    let (header, events) = parse(&cast).unwrap();
    assert_eq!((header.width, header.height), (120, 40));
    assert_eq!(events[1].kind, "r");
    assert_eq!(events[1].data, "100x30");
}

#[test]
fn utf8_split_across_frames_is_rejoined() {
    let text = "héllo — 日本";
    let bytes = text.as_bytes();
    let mut r = Recorder::new(0, "");
    let mut cast = String::new();
    for (i, b) in bytes.iter().enumerate() {
        cast += &r.agent_frame(i as i64, i as i64, Some(std::slice::from_ref(b)));
    }
    cast += &r.finish(100);
    assert_eq!(output_of(&cast), text);
}

#[test]
fn a_gap_that_never_fills_is_skipped_after_enough_frames() {
    let mut r = Recorder::new(0, "");
    let mut cast = String::new();
    for seq in 1..=(MAX_HELD_FRAMES as i64 + 1) {
        cast += &r.agent_frame(seq, seq, Some(b"a"));
    }
    assert_eq!(output_of(&cast).len(), MAX_HELD_FRAMES + 1);
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    let mut r = Recorder::new(0, "");
    let mut cast = r.agent_frame(0, 0, Some(&[b'a', 0xff, b'b']));
    cast += &r.finish(1);
    assert_eq!(output_of(&cast), "a\u{FFFD}b");
}

#[test]
fn strip_ansi_removes_escapes_and_crlf() {
    let s = "\u{1b}[1;32mgreen\u{1b}[0m\r\n\u{1b}]0;title\u{7}$ x";
    assert_eq!(strip_ansi(s), "green\n$ x");
}

#[test]
fn parse_refuses_what_is_not_a_cast() {
    assert_eq!(parse(""), Err(CastError::Empty));
    assert!(matches!(parse("{}\n"), Err(CastError::BadLine(1, _))));
    let header = r#"{"version":2,"width":80,"height":24,"timestamp":0}"#;
    assert!(matches!(
        parse(&format!("{header}\n[1, \"o\"]\n")),
        Err(CastError::BadLine(2, _))
    ));
}

/// Chunks of output, and a delivery order: every frame once plus duplicates, shuffled.
fn deliveries() -> impl Strategy<Value = (Vec<String>, Vec<usize>)> {
    proptest::collection::vec("[a-zé日]{0,6}", 1..12).prop_flat_map(|chunks| {
        let n = chunks.len();
        proptest::collection::vec(0..n, 0..20).prop_flat_map(move |dups| {
            let mut sends: Vec<usize> = (0..n).collect();
            sends.extend(dups);
            (Just(chunks.clone()), Just(sends).prop_shuffle())
        })
    })
}

proptest! {
    #[test]
    fn any_delivery_order_and_duplication_records_the_bytes_once((chunks, sends) in deliveries()) {
        let mut r = Recorder::new(0, "");
        let mut cast = String::new();
        for i in sends {
            cast += &r.agent_frame(i as i64, i as i64, Some(chunks[i].as_bytes()));
        }
        cast += &r.finish(1000);
        let want: String = chunks.concat();
        let got = if cast.is_empty() { String::new() } else { output_of(&cast) };
        prop_assert_eq!(got, want);
    }
}
