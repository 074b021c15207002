//! When an `aws:sleep` step wakes.

use serde_json::Value;

use super::InterpolateError;

/// The longest sleep AWS allows: 604799 seconds (just under 7 days).
pub const MAX_SLEEP_SECONDS: i64 = 604_799;

/// When an interpolated `aws:sleep` step started at `started` wakes: `Duration` (ISO-8601,
/// e.g. `PT10M`) or `Timestamp` (ISO-8601 instant); at most 604799 s after `started`.
pub fn sleep_until(
    inputs: &Value,
    started: jiff::Timestamp,
) -> Result<jiff::Timestamp, InterpolateError> {
    let _ = (inputs, started);
    todo!()
}
