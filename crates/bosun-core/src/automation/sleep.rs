//! When an `aws:sleep` step wakes (user guide, "aws:sleep – Delay an automation"): `Duration`
//! is an ISO-8601 duration (`PT10M`, `P1D`; days count as 24 hours, in UTC) and `Timestamp`
//! an ISO-8601 instant (`2026-01-01T00:00:00Z`); exactly one of them. The step sleeps at most
//! 604799 seconds, so a longer delay is an error rather than a shorter sleep; a negative
//! duration is an error; a timestamp already past wakes the step at once.

use jiff::{tz::TimeZone, SignedDuration, Span, Timestamp};
use serde_json::Value;

use super::InterpolateError;

/// The longest sleep AWS allows: 604799 seconds (just under 7 days).
pub const MAX_SLEEP_SECONDS: i64 = 604_799;

fn err<T>(m: String) -> Result<T, InterpolateError> {
    Err(InterpolateError(m))
}

/// When an interpolated `aws:sleep` step started at `started` wakes: `Duration` (ISO-8601,
/// e.g. `PT10M`) or `Timestamp` (ISO-8601 instant); at most 604799 s after `started`.
pub fn sleep_until(inputs: &Value, started: Timestamp) -> Result<Timestamp, InterpolateError> {
    let text = |key: &str| match inputs.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => err(format!("aws:sleep {key} {other} must be a string.")),
    };
    let wake = match (text("Duration")?, text("Timestamp")?) {
        (Some(_), Some(_)) => {
            return err("aws:sleep takes Duration or Timestamp, not both.".into());
        }
        (None, None) => return err("aws:sleep needs Duration or Timestamp.".into()),
        (Some(d), None) => {
            let span: Span = d.parse().map_err(|_| {
                InterpolateError(format!(
                    "aws:sleep Duration {d:?} is not an ISO-8601 duration such as PT10M."
                ))
            })?;
            if span.is_negative() {
                return err(format!("aws:sleep Duration {d:?} is negative."));
            }
            let too_long = || {
                InterpolateError(format!(
                    "aws:sleep Duration {d:?} is longer than {MAX_SLEEP_SECONDS} seconds."
                ))
            };
            started
                .to_zoned(TimeZone::UTC)
                .checked_add(span)
                .map_err(|_| too_long())?
                .timestamp()
        }
        (None, Some(t)) => {
            let at: Timestamp = t.parse().map_err(|_| {
                InterpolateError(format!(
                    "aws:sleep Timestamp {t:?} is not an ISO-8601 instant such as 2026-01-01T00:00:00Z."
                ))
            })?;
            at.max(started)
        }
    };
    if wake.duration_since(started) > SignedDuration::from_secs(MAX_SLEEP_SECONDS) {
        return err(format!(
            "aws:sleep cannot wait more than {MAX_SLEEP_SECONDS} seconds (it would wake at {wake})."
        ));
    }
    Ok(wake)
}
