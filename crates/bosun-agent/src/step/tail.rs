//! Reading a step's output files while they grow, without holding them in memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Follows one output file: each [`OutputTail::read_new`] returns what was appended since.
#[derive(Debug)]
pub struct OutputTail {
    path: PathBuf,
    file: Option<File>,
    offset: u64,
}

impl OutputTail {
    /// Start at the beginning of `path` (which need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self::with_offset(path, 0)
    }

    /// Resume at `offset`, e.g. what a previous agent had already sent.
    pub fn with_offset(path: impl Into<PathBuf>, offset: u64) -> Self {
        Self {
            path: path.into(),
            file: None,
            offset,
        }
    }

    /// How many bytes have been returned so far (plus the starting offset).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Up to `max_bytes` bytes appended since the last call; empty if there is nothing new or
    /// the file does not exist yet. The bytes may end inside a multi-byte character.
    pub fn read_new(&mut self, max_bytes: usize) -> io::Result<Vec<u8>> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(f) => self.file = Some(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            }
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        file.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::new();
        file.take(max_bytes as u64).read_to_end(&mut buf)?;
        self.offset += buf.len() as u64;
        Ok(buf)
    }
}

/// The first `max_chars` characters of `path` as text, and whether the file holds more. Reads
/// at most `4 * max_chars + 4` bytes; cuts only between characters. Bytes that are not UTF-8
/// become U+FFFD (one per invalid sequence, as `String::from_utf8_lossy`). A missing file
/// reads as empty.
pub fn read_prefix(path: &Path, max_chars: usize) -> io::Result<(String, bool)> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((String::new(), false)),
        Err(e) => return Err(e),
    };
    // Every character, U+FFFD included, stands for 1 to 4 bytes, so `max_chars` characters
    // fit in `4 * max_chars` bytes; the extra bytes tell "exactly full" from "more".
    let limit = max_chars.saturating_mul(4).saturating_add(4);
    let mut bytes = Vec::new();
    file.take(limit as u64).read_to_end(&mut bytes)?;
    let at_eof = bytes.len() < limit;

    let mut text = String::new();
    let mut chars = 0;
    let mut used = 0;
    'chunks: for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if chars == max_chars {
                break 'chunks;
            }
            text.push(c);
            chars += 1;
            used += c.len_utf8();
        }
        if !chunk.invalid().is_empty() {
            if chars == max_chars {
                break;
            }
            text.push(char::REPLACEMENT_CHARACTER);
            chars += 1;
            used += chunk.invalid().len();
        }
    }
    Ok((text, used < bytes.len() || !at_eof))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn read_new_follows_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stdout");
        let mut tail = OutputTail::new(&path);
        assert!(tail.read_new(10).unwrap().is_empty());
        let mut f = File::create(&path).unwrap();
        f.write_all(b"hello world").unwrap();
        assert_eq!(tail.read_new(5).unwrap(), b"hello");
        assert_eq!(tail.read_new(100).unwrap(), b" world");
        assert!(tail.read_new(100).unwrap().is_empty());
        f.write_all(b"!").unwrap();
        assert_eq!(tail.read_new(100).unwrap(), b"!");
        assert_eq!(tail.offset(), 12);
        let mut resumed = OutputTail::with_offset(&path, 6);
        assert_eq!(resumed.read_new(100).unwrap(), b"world!");
    }

    #[test]
    fn read_prefix_cuts_on_char_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        // "aé€😀" is 1 + 2 + 3 + 4 bytes.
        std::fs::write(&path, "aé€😀z".repeat(1000)).unwrap();
        for n in 0..12 {
            let (text, truncated) = read_prefix(&path, n).unwrap();
            let expected: String = "aé€😀z".repeat(3).chars().take(n).collect();
            assert_eq!(text, expected);
            assert!(truncated);
        }
        std::fs::write(&path, "aé€😀").unwrap();
        assert_eq!(read_prefix(&path, 4).unwrap(), ("aé€😀".to_string(), false));
        assert_eq!(read_prefix(&path, 5).unwrap(), ("aé€😀".to_string(), false));
        assert_eq!(read_prefix(&path, 3).unwrap(), ("aé€".to_string(), true));
        std::fs::write(&path, b"ab\xffcd\xe2\x82").unwrap();
        assert_eq!(
            read_prefix(&path, 3).unwrap(),
            ("ab\u{fffd}".to_string(), true)
        );
        assert_eq!(
            read_prefix(&path, 10).unwrap(),
            ("ab\u{fffd}cd\u{fffd}".to_string(), false)
        );
        assert_eq!(
            read_prefix(&dir.path().join("none"), 5).unwrap(),
            (String::new(), false)
        );
    }
}
