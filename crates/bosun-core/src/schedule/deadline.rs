//! An association's `Duration`: the hours one execution may run. Once they have passed since
//! the execution started, its pending and running invocations are cancelled and the execution
//! ends as timed out.

/// The statuses of an execution and of its association's `Overview` once `Duration` ended it.
/// `Overview.Status` only takes `Pending`, `Success` or `Failed`, so the association shows
/// `Failed` with the timeout as its detailed status.
pub const TIMED_OUT_EXECUTION_STATUS: &str = "TimedOut";

const HOUR_MS: i64 = 3_600_000;

/// When an execution started at `started_ms` under a `Duration` of `duration_hours` must be
/// cancelled; `None` when the association has no `Duration` (0 or less).
pub fn execution_deadline_ms(started_ms: i64, duration_hours: i64) -> Option<i64> {
    (duration_hours > 0).then(|| started_ms.saturating_add(duration_hours.saturating_mul(HOUR_MS)))
}

/// Whether an execution started at `started_ms` is past its `Duration` at `now_ms` (the
/// deadline itself counts as past).
pub fn is_past_deadline(started_ms: i64, duration_hours: i64, now_ms: i64) -> bool {
    execution_deadline_ms(started_ms, duration_hours).is_some_and(|d| now_ms >= d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_duration_there_is_no_deadline() {
        assert_eq!(execution_deadline_ms(1_000, 0), None);
        assert!(!is_past_deadline(1_000, 0, i64::MAX));
    }

    #[test]
    fn the_deadline_is_the_start_plus_the_hours() {
        assert_eq!(execution_deadline_ms(1_000, 2), Some(1_000 + 2 * HOUR_MS));
        assert!(!is_past_deadline(1_000, 2, 1_000 + 2 * HOUR_MS - 1));
        assert!(is_past_deadline(1_000, 2, 1_000 + 2 * HOUR_MS));
        assert!(is_past_deadline(1_000, 24, 1_000 + 25 * HOUR_MS));
    }

    #[test]
    fn huge_values_do_not_overflow() {
        assert_eq!(execution_deadline_ms(i64::MAX - 1, 24), Some(i64::MAX));
    }
}
