//! Session logs as asciinema v2 casts: a JSON header line, then one `[seconds, "o", text]`
//! line per piece of terminal output and `[seconds, "r", "COLSxROWS"]` per resize. Only what the
//! node sends is recorded: typed input appears as the terminal echoes it, so input typed with
//! echo off (passwords) never reaches the log. Output is recorded in the agent's sequence order,
//! once, whatever the retransmissions; UTF-8 split across frames is rejoined.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Frames held back waiting for an earlier one before the recorder skips the gap.
const MAX_HELD_FRAMES: usize = 1024;
/// Terminal size assumed until the client reports one.
const DEFAULT_SIZE: (u32, u32) = (80, 24);

/// The cast's first line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CastHeader {
    pub version: u32,
    pub width: u32,
    pub height: u32,
    /// Session start, Unix seconds.
    pub timestamp: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct CastEvent {
    pub seconds: f64,
    /// `o` (output) or `r` (resize).
    pub kind: String,
    pub data: String,
}

/// Turns one session's agent frames into cast lines.
#[derive(Debug)]
pub struct Recorder {
    start_ms: i64,
    title: String,
    header_done: bool,
    size: (u32, u32),
    next_seq: i64,
    held: BTreeMap<i64, (i64, Option<Vec<u8>>)>,
    carry: Vec<u8>,
}

impl Recorder {
    /// A recorder for a session that started at `start_ms` (epoch ms), titled e.g. with its id.
    pub fn new(start_ms: i64, title: &str) -> Recorder {
        Recorder {
            start_ms,
            title: title.to_string(),
            header_done: false,
            size: DEFAULT_SIZE,
            next_seq: 0,
            held: BTreeMap::new(),
            carry: Vec::new(),
        }
    }

    /// An `output_stream_data` frame from the agent with sequence number `seq`, received at
    /// `at_ms`; `output` is its payload when it is terminal output (`None` for the other
    /// payload types, which still take a sequence number). Returns the lines to append.
    pub fn agent_frame(&mut self, seq: i64, at_ms: i64, output: Option<&[u8]>) -> String {
        if seq < self.next_seq || self.held.contains_key(&seq) {
            return String::new();
        }
        self.held.insert(seq, (at_ms, output.map(<[u8]>::to_vec)));
        let mut lines = String::new();
        loop {
            let next = match self.held.first_key_value() {
                Some((&s, _)) if s == self.next_seq || self.held.len() > MAX_HELD_FRAMES => s,
                _ => break,
            };
            let (at, data) = self.held.remove(&next).unwrap_or_default();
            self.next_seq = next + 1;
            if let Some(data) = data {
                self.output(at, &data, &mut lines);
            }
        }
        lines
    }

    /// The client reported its terminal size (a repeat of the current size records nothing).
    pub fn resize(&mut self, at_ms: i64, cols: u32, rows: u32) -> String {
        let mut lines = String::new();
        if self.header_done && self.size == (cols, rows) {
            return lines;
        }
        if !self.header_done {
            self.size = (cols, rows);
            self.header(&mut lines);
            return lines;
        }
        self.size = (cols, rows);
        push_event(
            &mut lines,
            self.seconds(at_ms),
            "r",
            &format!("{cols}x{rows}"),
        );
        lines
    }

    /// The session ended: what is still held or half a character is written out.
    pub fn finish(&mut self, at_ms: i64) -> String {
        let mut lines = String::new();
        let held = std::mem::take(&mut self.held);
        for (at, data) in held.into_values() {
            if let Some(data) = data {
                self.output(at, &data, &mut lines);
            }
        }
        if !self.carry.is_empty() {
            let text = String::from_utf8_lossy(&self.carry).into_owned();
            self.carry.clear();
            self.header(&mut lines);
            push_event(&mut lines, self.seconds(at_ms), "o", &text);
        }
        lines
    }

    fn seconds(&self, at_ms: i64) -> f64 {
        (at_ms - self.start_ms).max(0) as f64 / 1000.0
    }

    fn header(&mut self, lines: &mut String) {
        if self.header_done {
            return;
        }
        self.header_done = true;
        let header = CastHeader {
            version: 2,
            width: self.size.0,
            height: self.size.1,
            timestamp: self.start_ms.div_euclid(1000),
            title: self.title.clone(),
        };
        lines.push_str(&serde_json::to_string(&header).unwrap_or_default());
        lines.push('\n');
    }

    fn output(&mut self, at_ms: i64, data: &[u8], lines: &mut String) {
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(data);
        let text = take_utf8(&mut bytes);
        self.carry = bytes;
        if text.is_empty() {
            return;
        }
        self.header(lines);
        push_event(lines, self.seconds(at_ms), "o", &text);
    }
}

/// The text of `bytes` up to an incomplete character at its end (left in `bytes`); invalid
/// sequences become U+FFFD.
fn take_utf8(bytes: &mut Vec<u8>) -> String {
    let mut text = String::new();
    let mut rest: &[u8] = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                text.push_str(s);
                rest = &[];
                break;
            }
            Err(e) => {
                let (good, after) = rest.split_at(e.valid_up_to());
                text.push_str(std::str::from_utf8(good).unwrap_or_default());
                match e.error_len() {
                    Some(n) => {
                        text.push('\u{FFFD}');
                        rest = &after[n..];
                    }
                    None => {
                        rest = after;
                        break;
                    }
                }
            }
        }
    }
    *bytes = rest.to_vec();
    text
}

fn push_event(lines: &mut String, seconds: f64, kind: &str, data: &str) {
    let seconds = (seconds * 1000.0).round() / 1000.0;
    let line = serde_json::to_string(&(seconds, kind, data)).unwrap_or_default();
    lines.push_str(&line);
    lines.push('\n');
}

/// Why a cast could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CastError {
    #[error("the session log is empty")]
    Empty,
    #[error("line {0} of the session log is not a cast line: {1}")]
    BadLine(usize, String),
}

/// Read a cast back (header and events).
pub fn parse(cast: &str) -> Result<(CastHeader, Vec<CastEvent>), CastError> {
    let mut lines = cast
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines.next().ok_or(CastError::Empty)?;
    let header: CastHeader =
        serde_json::from_str(first).map_err(|e| CastError::BadLine(1, e.to_string()))?;
    let mut events = Vec::new();
    for (i, line) in lines {
        let bad = |why: &str| CastError::BadLine(i + 1, why.to_string());
        let v: Vec<Value> = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        match v.as_slice() {
            [Value::Number(s), Value::String(k), Value::String(d)] => events.push(CastEvent {
                seconds: s.as_f64().unwrap_or_default(),
                kind: k.clone(),
                data: d.clone(),
            }),
            _ => return Err(bad("expected [seconds, kind, data]")),
        }
    }
    Ok((header, events))
}

/// `text` without ANSI escape sequences (CSI, OSC, and two-byte escapes) and without carriage
/// returns before a newline, for reading a log as plain text.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' if chars.peek() == Some(&'\n') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "session_log_tests.rs"]
mod tests;
