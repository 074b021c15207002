//! `rate(N unit)` expressions: a fixed period counted from an anchor.

use jiff::{SignedDuration, Timestamp};

use super::ScheduleKind;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A parsed rate: the period between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    period_ms: i64,
}

impl Rate {
    /// The period in milliseconds.
    pub fn period_ms(&self) -> i64 {
        self.period_ms
    }

    pub(super) fn parse(body: &str, kind: ScheduleKind) -> Result<Rate, String> {
        let mut words = body.split_whitespace();
        let (Some(value), Some(unit), None) = (words.next(), words.next(), words.next()) else {
            return Err("a rate expression is rate(<value> <unit>), e.g. rate(30 minutes)".into());
        };
        let value = match value.parse::<i64>() {
            Ok(v) if (1..=1_000_000).contains(&v) && value.bytes().all(|b| b.is_ascii_digit()) => v,
            _ => {
                return Err(format!(
                    "the rate value \"{value}\" must be a positive whole number"
                ))
            }
        };
        // AWS: the singular unit for 1, the plural for anything else.
        let unit_ms = match (unit, value == 1) {
            ("minute", true) | ("minutes", false) => MINUTE_MS,
            ("hour", true) | ("hours", false) => HOUR_MS,
            ("day", true) | ("days", false) => DAY_MS,
            ("minute" | "hour" | "day", false) => {
                return Err(format!("use the plural unit with {value} (\"{unit}s\")"));
            }
            ("minutes" | "hours" | "days", true) => {
                return Err(format!(
                    "use the singular unit with 1 (\"{}\")",
                    unit.trim_end_matches('s')
                ));
            }
            _ => {
                return Err(format!(
                    "the rate unit \"{unit}\" must be minute(s), hour(s) or day(s)"
                ))
            }
        };
        let period_ms = value * unit_ms;
        if kind == ScheduleKind::Association && !(30 * MINUTE_MS..31 * DAY_MS).contains(&period_ms)
        {
            return Err(
                "an association's rate must be at least 30 minutes and less than 31 days".into(),
            );
        }
        Ok(Rate { period_ms })
    }

    /// anchor + k·period for the smallest k ≥ 1 that is strictly after `after`.
    pub(super) fn next_after(&self, anchor: Timestamp, after: Timestamp) -> Timestamp {
        let elapsed = after.as_millisecond() - anchor.as_millisecond();
        let k = if elapsed < 0 {
            1
        } else {
            elapsed / self.period_ms + 1
        };
        anchor + SignedDuration::from_millis(k * self.period_ms)
    }
}
