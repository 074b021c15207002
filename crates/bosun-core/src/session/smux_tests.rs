//! Tests of the smux v1 codec: the bytes seen on the wire, coalescing, splitting, refusals.

use super::*;
use proptest::prelude::*;

#[test]
fn syn_for_stream_three_matches_the_observed_bytes() {
    let syn = SmuxFrame::new(SmuxCommand::Syn, 3, Vec::new());
    assert_eq!(
        syn.encode().unwrap(),
        [0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00]
    );
}

#[test]
fn lengths_and_stream_ids_are_little_endian() {
    let push = SmuxFrame::new(SmuxCommand::Push, 0x0102_0304, vec![7; 0x0105]);
    let bytes = push.encode().unwrap();
    assert_eq!(
        &bytes[..8],
        [0x01, 0x02, 0x05, 0x01, 0x04, 0x03, 0x02, 0x01]
    );
}

#[test]
fn one_payload_with_fin_and_syn_together_yields_both() {
    let mut payload = SmuxFrame::new(SmuxCommand::Fin, 3, vec![])
        .encode()
        .unwrap();
    SmuxFrame::new(SmuxCommand::Syn, 5, vec![])
        .encode_into(&mut payload)
        .unwrap();
    let frames = SmuxDecoder::new().push(&payload).unwrap();
    assert_eq!(
        frames,
        [
            SmuxFrame::new(SmuxCommand::Fin, 3, vec![]),
            SmuxFrame::new(SmuxCommand::Syn, 5, vec![])
        ]
    );
}

#[test]
fn a_frame_split_across_payloads_is_reassembled() {
    let bytes = SmuxFrame::new(SmuxCommand::Push, 3, b"hello".to_vec())
        .encode()
        .unwrap();
    let mut decoder = SmuxDecoder::new();
    assert!(decoder.push(&bytes[..3]).unwrap().is_empty());
    assert!(decoder.push(&bytes[3..10]).unwrap().is_empty());
    assert_eq!(decoder.pending_bytes(), 10);
    let frames = decoder.push(&bytes[10..]).unwrap();
    assert_eq!(frames[0].data, b"hello");
    assert_eq!(decoder.pending_bytes(), 0);
}

#[test]
fn non_smux_bytes_are_refused() {
    assert_eq!(
        SmuxDecoder::new().push(b"mock$ prompt"),
        Err(SmuxError::BadVersion(b'm'))
    );
    assert_eq!(
        SmuxDecoder::new().push(&[1, 4, 0, 0, 3, 0, 0, 0]),
        Err(SmuxError::UnknownCommand(4))
    );
    let too_long = SmuxFrame::new(SmuxCommand::Push, 3, vec![0; 65_536]);
    assert_eq!(too_long.encode(), Err(SmuxError::DataTooLong(65_536)));
}

#[test]
fn push_frames_cut_at_the_default_frame_size() {
    let frames = push_frames(7, &vec![1; SMUX_MAX_FRAME_DATA * 2 + 1]);
    let sizes: Vec<usize> = frames.iter().map(|f| f.data.len()).collect();
    assert_eq!(sizes, [SMUX_MAX_FRAME_DATA, SMUX_MAX_FRAME_DATA, 1]);
    assert!(frames
        .iter()
        .all(|f| f.stream_id == 7 && f.command == SmuxCommand::Push));
}

fn arb_frame() -> impl Strategy<Value = SmuxFrame> {
    (
        prop_oneof![
            Just(SmuxCommand::Syn),
            Just(SmuxCommand::Fin),
            Just(SmuxCommand::Push),
            Just(SmuxCommand::Nop)
        ],
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(command, stream_id, data)| SmuxFrame::new(command, stream_id, data))
}

proptest! {
    #[test]
    fn any_split_of_a_frame_sequence_decodes_to_the_same_frames(
        frames in proptest::collection::vec(arb_frame(), 0..20),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..10),
    ) {
        let mut bytes = Vec::new();
        for frame in &frames {
            frame.encode_into(&mut bytes).unwrap();
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.push(0);
        points.push(bytes.len());
        points.sort_unstable();
        let mut decoder = SmuxDecoder::new();
        let mut decoded = Vec::new();
        for pair in points.windows(2) {
            decoded.extend(decoder.push(&bytes[pair[0]..pair[1]]).unwrap());
        }
        prop_assert_eq!(decoded, frames);
        prop_assert_eq!(decoder.pending_bytes(), 0);
    }
}
