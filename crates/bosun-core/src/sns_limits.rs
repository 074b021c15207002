//! Rate limits and dedupe of SNS subscriptions' notifications as pure rules (Bosun's
//! `BosunRateLimit*` and `BosunDedupe*` subscription attributes): the attributes' bounds and
//! refusal texts, the fixed windows of a rate limit, and the identity of a notification for
//! dedupe. The server keeps the counts and claimed keys in the store and applies these rules.
//!
//! - `BosunRateLimitCount` (1–100000) with `BosunRateLimitWindowSeconds` (1–3600, default 60):
//!   at most COUNT messages per window, windows aligned to multiples of W seconds since the
//!   epoch.
//! - `BosunDedupeWindowSeconds` (1–86400) with optional `BosunDedupeBy` (a JSONPath into the
//!   event): a notification identical to one sent within the window is not sent again.
//!   Identity ([`dedupe_key`]): the SHA-256 of the value at `BosunDedupeBy`, or of the subject
//!   and message, an EventBridge event's `id` and `time` left out.

use serde_json::Value;
use sha2::{Digest, Sha256};

pub const RATE_LIMIT_COUNT: &str = "BosunRateLimitCount";
pub const RATE_LIMIT_WINDOW: &str = "BosunRateLimitWindowSeconds";
pub const DEDUPE_WINDOW: &str = "BosunDedupeWindowSeconds";
pub const DEDUPE_BY: &str = "BosunDedupeBy";
/// Every attribute of this module.
pub const ATTRIBUTES: &[&str] = &[
    RATE_LIMIT_COUNT,
    RATE_LIMIT_WINDOW,
    DEDUPE_WINDOW,
    DEDUPE_BY,
];

/// Bounds of each numeric attribute.
pub const RATE_LIMIT_COUNTS: std::ops::RangeInclusive<u32> = 1..=100_000;
pub const RATE_LIMIT_WINDOWS: std::ops::RangeInclusive<u32> = 1..=3600;
pub const DEDUPE_WINDOWS: std::ops::RangeInclusive<u32> = 1..=86_400;
/// The rate limit's window when only the count is set.
pub const DEFAULT_RATE_WINDOW_SECONDS: u32 = 60;

/// Parse one numeric attribute's value (`Err`: SNS's `Attributes Reason` text after
/// `Attributes Reason: `).
pub fn parse_number(attribute: &str, value: &str) -> Result<u32, String> {
    let (range, unit) = match attribute {
        RATE_LIMIT_COUNT => (RATE_LIMIT_COUNTS, "messages"),
        RATE_LIMIT_WINDOW => (RATE_LIMIT_WINDOWS, "seconds"),
        DEDUPE_WINDOW => (DEDUPE_WINDOWS, "seconds"),
        other => return Err(format!("Unknown attribute name {other}")),
    };
    value
        .parse::<u32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "{attribute}: Invalid value [{value}]. Must be a whole number of {unit} from {} to {}.",
                range.start(),
                range.end()
            )
        })
}

/// Check a `BosunDedupeBy` path (the JSONPath subset `BosunGroupBy` takes).
pub fn check_dedupe_by(path: &str) -> Result<(), String> {
    crate::automation::check_selector(path)
        .map_err(|e| format!("{DEDUPE_BY}: Invalid value [{path}]: {e}"))
}

/// A subscription's limits as set (`None`: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub rate_count: Option<u32>,
    pub rate_window_seconds: Option<u32>,
    pub dedupe_window_seconds: Option<u32>,
    pub dedupe_by: Option<String>,
}

impl Limits {
    /// Whether the attributes fit together: a window without its count, or a dedupe path
    /// without its window, is refused.
    pub fn check(&self) -> Result<(), String> {
        if self.rate_window_seconds.is_some() && self.rate_count.is_none() {
            return Err(format!("{RATE_LIMIT_WINDOW} needs {RATE_LIMIT_COUNT}"));
        }
        if self.dedupe_by.is_some() && self.dedupe_window_seconds.is_none() {
            return Err(format!("{DEDUPE_BY} needs {DEDUPE_WINDOW}"));
        }
        Ok(())
    }

    /// The rate limit in force, if any.
    pub fn rate(&self) -> Option<RateLimit> {
        Some(RateLimit {
            count: self.rate_count?,
            window_seconds: self
                .rate_window_seconds
                .unwrap_or(DEFAULT_RATE_WINDOW_SECONDS),
        })
    }
}

/// At most `count` messages per fixed window of `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u32,
    pub window_seconds: u32,
}

impl RateLimit {
    fn window_ms(&self) -> i64 {
        i64::from(self.window_seconds.max(1)) * 1000
    }

    /// The start of the window `now_ms` falls in (a multiple of the window since the epoch).
    pub fn window_start_ms(&self, now_ms: i64) -> i64 {
        now_ms.div_euclid(self.window_ms()) * self.window_ms()
    }

    /// The start of the next window: when a message over the limit is tried again.
    pub fn next_window_ms(&self, now_ms: i64) -> i64 {
        self.window_start_ms(now_ms) + self.window_ms()
    }
}

/// The dedupe identity of a notification (hex SHA-256), or `None` when it is never a
/// duplicate: `dedupe_by` is set and the message is not JSON holding that path.
pub fn dedupe_key(dedupe_by: Option<&str>, subject: Option<&str>, message: &str) -> Option<String> {
    let mut hash = Sha256::new();
    match dedupe_by {
        Some(path) => {
            let event: Value = serde_json::from_str(message).ok()?;
            let value = crate::automation::select(&event, path)?;
            hash.update(b"by\0");
            match value {
                Value::String(s) => hash.update(s.as_bytes()),
                other => hash.update(canonical(&other).as_bytes()),
            }
        }
        None => {
            // Framed so that no subject/message split hashes like another.
            match subject {
                Some(s) => {
                    hash.update(b"subject\0");
                    hash.update((s.len() as u64).to_be_bytes());
                    hash.update(s.as_bytes());
                }
                None => hash.update(b"nosubject\0"),
            }
            match event_without_identity(message) {
                Some(event) => {
                    hash.update(b"event\0");
                    hash.update(canonical(&event).as_bytes());
                }
                None => {
                    hash.update(b"message\0");
                    hash.update(message.as_bytes());
                }
            }
        }
    }
    Some(hex::encode(hash.finalize()))
}

/// An EventBridge event (a JSON object with `id`, `time` and `detail-type`) without its `id`
/// and `time`; `None` for any other message.
fn event_without_identity(message: &str) -> Option<Value> {
    let Ok(Value::Object(mut event)) = serde_json::from_str::<Value>(message) else {
        return None;
    };
    if !(event.contains_key("id")
        && event.contains_key("time")
        && event.contains_key("detail-type"))
    {
        return None;
    }
    event.remove("id");
    event.remove("time");
    Some(Value::Object(event))
}

/// JSON text with every object's keys sorted, without spaces.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
#[path = "sns_limits_tests.rs"]
mod tests;
