//! Keeping UTF-8 sequences whole across output frames, as AWS's agent does: a character split
//! between two reads waits for its remaining bytes.

/// How many leading bytes of `bytes` can go now: all of them, unless they end in the first bytes
/// of a multi-byte UTF-8 sequence (at most 3 bytes are held back).
pub fn complete_len(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for i in (len.saturating_sub(3)..len).rev() {
        let b = bytes[i];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let need = match b {
            0xF0..=0xF7 => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => return len,
        };
        return if len - i < need { i } else { len };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::complete_len;

    #[test]
    fn split_characters_wait_for_their_rest() {
        let euro = "€".as_bytes(); // 3 bytes
        assert_eq!(complete_len(b"abc"), 3);
        assert_eq!(complete_len(&[b'a', euro[0]]), 1);
        assert_eq!(complete_len(&[b'a', euro[0], euro[1]]), 1);
        assert_eq!(complete_len(&[b'a', euro[0], euro[1], euro[2]]), 4);
        assert_eq!(complete_len("😀".as_bytes()), 4);
        assert_eq!(complete_len(&"😀".as_bytes()[..3]), 0);
        // Not UTF-8 at all: nothing is held back.
        assert_eq!(complete_len(&[0x80, 0x80, 0x80, 0x80]), 4);
        assert_eq!(complete_len(&[0xff]), 1);
        assert_eq!(complete_len(&[]), 0);
    }
}
