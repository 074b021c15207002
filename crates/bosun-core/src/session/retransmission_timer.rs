//! The retransmission timeout (RTO) estimator of AWS's data channel (agent-protocol.md §5.8).
//!
//! `RTTV = 3/4·RTTV + 1/4·|RTT − sample|`, then `RTT = 7/8·RTT + 1/8·sample`, and
//! `RTO = RTT + max(10 ms, 4·RTTV)` capped at 1 s. Initial RTT 100 ms, RTO 200 ms. The initial
//! variation is not in the reference; 0 is assumed (it only matters for the first sample).

/// RTT before any sample.
pub const INITIAL_ROUND_TRIP_MS: f64 = 100.0;
/// RTO before any sample.
pub const INITIAL_RETRANSMISSION_TIMEOUT_MS: u64 = 200;
/// Floor of the variance term.
pub const MIN_VARIANCE_TERM_MS: f64 = 10.0;
/// Ceiling of the RTO.
pub const MAX_RETRANSMISSION_TIMEOUT_MS: u64 = 1000;
/// How often AWS's agent and plugin look for overdue frames (callers may do better by waking at
/// `OutgoingStream::next_retransmission_at_ms`).
pub const RETRANSMISSION_TICK_MS: u64 = 100;

/// Smoothed round-trip time and the timeout derived from it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetransmissionTimer {
    round_trip_ms: f64,
    round_trip_variation_ms: f64,
    timeout_ms: u64,
}

impl Default for RetransmissionTimer {
    fn default() -> Self {
        Self {
            round_trip_ms: INITIAL_ROUND_TRIP_MS,
            round_trip_variation_ms: 0.0,
            timeout_ms: INITIAL_RETRANSMISSION_TIMEOUT_MS,
        }
    }
}

impl RetransmissionTimer {
    /// Folds one round-trip sample (send to ack, milliseconds) into the estimate.
    pub fn observe(&mut self, sample_ms: u64) {
        let sample = sample_ms as f64;
        self.round_trip_variation_ms =
            0.75 * self.round_trip_variation_ms + 0.25 * (self.round_trip_ms - sample).abs();
        self.round_trip_ms = 0.875 * self.round_trip_ms + 0.125 * sample;
        let timeout =
            self.round_trip_ms + MIN_VARIANCE_TERM_MS.max(4.0 * self.round_trip_variation_ms);
        self.timeout_ms = (timeout.round() as u64).min(MAX_RETRANSMISSION_TIMEOUT_MS);
    }

    /// Current RTO in milliseconds.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    /// Current smoothed RTT in milliseconds.
    pub fn round_trip_ms(&self) -> f64 {
        self.round_trip_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_aws_defaults() {
        let timer = RetransmissionTimer::default();
        assert_eq!(timer.timeout_ms(), 200);
        assert_eq!(timer.round_trip_ms(), 100.0);
    }

    #[test]
    fn follows_the_smoothing_formula() {
        let mut timer = RetransmissionTimer::default();
        timer.observe(20);
        // RTTV = 0.25·80 = 20; RTT = 87.5 + 2.5 = 90; RTO = 90 + 80 = 170.
        assert_eq!(timer.round_trip_ms(), 90.0);
        assert_eq!(timer.timeout_ms(), 170);
    }

    #[test]
    fn steady_fast_samples_reach_the_variance_floor() {
        let mut timer = RetransmissionTimer::default();
        for _ in 0..200 {
            timer.observe(1);
        }
        assert_eq!(timer.timeout_ms(), 11, "RTT ≈ 1 ms + the 10 ms floor");
    }

    #[test]
    fn timeout_is_capped_at_one_second() {
        let mut timer = RetransmissionTimer::default();
        timer.observe(5_000);
        assert_eq!(timer.timeout_ms(), MAX_RETRANSMISSION_TIMEOUT_MS);
    }
}
