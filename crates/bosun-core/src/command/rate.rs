//! Run Command rate controls: parse `MaxConcurrency` and `MaxErrors`, resolve them for a
//! target count, and plan how many invocations to send next.
//!
//! Facts (user guide "Run commands at scale",
//! <https://docs.aws.amazon.com/systems-manager/latest/userguide/send-commands-multiple.html>):
//! - MaxErrors `n` allows `n` errors: dispatch stops when error `n + 1` arrives ("3" stops at the
//!   fourth error, "0" at the first, "10%" of 50 targets at the sixth).
//! - Invocations already running when that happens may complete, and may fail too.
//! - Errors are `Failed` and `ExecutionTimedOut` invocations (`Command.ErrorCount`).
//! - MaxConcurrency is "the maximum number of managed nodes that are allowed to run the command
//!   at the same time" (API reference, `SendCommand`): Run Command starts that many at once.
//!   The exponential ramp (one node, then two, then four…) is documented for Automation rate
//!   control, not for Run Command; [`ramp_window`] keeps it for Automation, [`plan`] does not
//!   use it.
//! - Defaults: MaxConcurrency "50", MaxErrors "0" (API reference, `SendCommand`).

use std::fmt;
use std::str::FromStr;

use super::status::InvocationState;

/// Model pattern of `MaxConcurrency` (what AWS prints in a `ValidationException`).
pub const MAX_CONCURRENCY_PATTERN: &str = "^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$";
/// Model pattern of `MaxErrors`.
pub const MAX_ERRORS_PATTERN: &str = "^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$";
/// Model length bounds shared by both, in characters.
pub const MIN_LENGTH: usize = 1;
pub const MAX_LENGTH: usize = 7;

/// A rate limit as written: an absolute number or a percentage of the targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    Count(usize),
    Percent(u8),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Count(n) => write!(f, "{n}"),
            Limit::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Why a rate string was refused; the first failed check only. AWS reports a length and a
/// pattern failure together, so request validation should check both against the exported
/// bounds and patterns before parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("must be {MIN_LENGTH} to {MAX_LENGTH} characters long")]
    Length,
    #[error("must match {0}")]
    Pattern(&'static str),
}

/// Both patterns accept exactly the canonical decimal spellings (no sign, no leading zero) of a
/// count or of a percentage 0..=100 followed by `%`; they differ only in whether 0 is allowed.
fn parse_limit(s: &str, zero_ok: bool, pattern: &'static str) -> Result<Limit, RateError> {
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&s.chars().count()) {
        return Err(RateError::Length);
    }
    let (digits, percent) = match s.strip_suffix('%') {
        Some(d) => (d, true),
        None => (s, false),
    };
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    // At most 7 digits, so this cannot overflow.
    let value: usize = match digits.parse() {
        Ok(v) if canonical => v,
        _ => return Err(RateError::Pattern(pattern)),
    };
    if (value == 0 && !zero_ok) || (percent && value > 100) {
        return Err(RateError::Pattern(pattern));
    }
    Ok(match u8::try_from(value) {
        Ok(p) if percent => Limit::Percent(p),
        _ => Limit::Count(value),
    })
}

/// `floor(share% × targets)`, without overflow.
fn percent_of(percent: u8, targets: usize) -> usize {
    let p = usize::from(percent);
    targets / 100 * p + targets % 100 * p / 100
}

/// `SendCommand.MaxConcurrency`: how many invocations may be in flight at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MaxConcurrency(Limit);

impl MaxConcurrency {
    /// The value used when the request omits it.
    pub const DEFAULT: MaxConcurrency = MaxConcurrency(Limit::Count(50));

    pub fn parse(s: &str) -> Result<Self, RateError> {
        parse_limit(s, false, MAX_CONCURRENCY_PATTERN).map(MaxConcurrency)
    }

    pub fn limit(self) -> Limit {
        self.0
    }

    /// The absolute limit for `targets` invocations.
    ///
    /// A percentage is rounded down but never below 1 when there is a target. AWS does not
    /// document rounding for SSM; this is the rule AWS documents for percentage concurrency of
    /// CloudFormation StackSets ("rounds down … except … where rounding down would result in
    /// zero", `StackSetOperationPreferences.MaxConcurrentPercentage`), and it never runs more
    /// at once than the stated share except for the one node needed to make progress.
    pub fn resolve(self, targets: usize) -> usize {
        match self.0 {
            Limit::Count(n) => n,
            Limit::Percent(p) => percent_of(p, targets).max(usize::from(targets > 0)),
        }
    }
}

impl Default for MaxConcurrency {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// `SendCommand.MaxErrors`: how many errors are tolerated before dispatch stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MaxErrors(Limit);

impl MaxErrors {
    /// The value used when the request omits it.
    pub const DEFAULT: MaxErrors = MaxErrors(Limit::Count(0));

    pub fn parse(s: &str) -> Result<Self, RateError> {
        parse_limit(s, true, MAX_ERRORS_PATTERN).map(MaxErrors)
    }

    pub fn limit(self) -> Limit {
        self.0
    }

    /// The number of errors tolerated for `targets` invocations.
    ///
    /// A percentage is rounded down. The only documented case is exact (10% of 50 tolerates 5
    /// errors and stops at the sixth); for fractions AWS documents nothing, and rounding down
    /// never tolerates more errors than the stated share (10% of 5 targets tolerates none).
    pub fn resolve(self, targets: usize) -> usize {
        match self.0 {
            Limit::Count(n) => n,
            Limit::Percent(p) => percent_of(p, targets),
        }
    }
}

impl Default for MaxErrors {
    fn default() -> Self {
        Self::DEFAULT
    }
}

macro_rules! string_forms {
    ($name:ident) => {
        impl FromStr for $name {
            type Err = RateError;
            fn from_str(s: &str) -> Result<Self, RateError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = RateError;
            fn try_from(s: String) -> Result<Self, RateError> {
                Self::parse(&s)
            }
        }

        /// The spelling the API echoes back; equal to the accepted input, which is canonical.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.to_string()
            }
        }
    };
}

string_forms!(MaxConcurrency);
string_forms!(MaxErrors);

/// Where a command's invocations stand, as the planner needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DispatchCounts {
    /// Sent and not terminal: `InProgress`, `Delayed` (still being retried), `Cancelling`.
    pub in_flight: usize,
    /// Terminal, whatever the reason.
    pub finished: usize,
    /// `Failed` + `ExecutionTimedOut` so far (`Command.ErrorCount`).
    pub errors: usize,
    /// `Pending`: never sent.
    pub not_started: usize,
}

impl DispatchCounts {
    /// Count a command's invocations.
    pub fn tally(invocations: &[InvocationState]) -> Self {
        let mut c = DispatchCounts::default();
        for s in invocations {
            match s {
                InvocationState::Pending => c.not_started += 1,
                s if s.is_terminal() => c.finished += 1,
                _ => c.in_flight += 1,
            }
            c.errors += usize::from(s.counts_as_error());
        }
        c
    }
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchPlan {
    /// Send this many `Pending` invocations now.
    pub start: usize,
    /// Errors exceeded MaxErrors: every `Pending` invocation must become `Terminated`
    /// (`InvocationEvent::MaxErrorsExceeded`). In-flight ones are left to finish.
    pub terminate_not_started: bool,
}

/// More errors than MaxErrors tolerates: stop sending.
pub fn errors_exceeded(errors: usize, max_errors: usize) -> bool {
    errors > max_errors
}

/// Automation's ramp-up, kept for Automation rate control (Run Command does not ramp: see
/// [`plan`]): how many executions may be in flight after `finished` have completed: 1, then 2
/// once the first is done, 4 once three are done, 8 once seven are done, … capped at
/// MaxConcurrency. Waves that complete together double the window; completions that trickle in
/// widen it one at a time.
pub fn ramp_window(finished: usize, max_concurrency: usize) -> usize {
    finished.saturating_add(1).min(max_concurrency)
}

/// Decide how many invocations to send now (`max_concurrency`/`max_errors` already resolved).
///
/// Nothing starts once errors exceed MaxErrors (invocations already in flight run on);
/// otherwise the planner fills every free slot at once, up to MaxConcurrency in flight: with
/// MaxConcurrency N the first N invocations start together. `max_concurrency` 0 starts nothing
/// (`resolve` never gives 0 when there is a target). Call it again whenever an invocation
/// changes state.
pub fn plan(counts: &DispatchCounts, max_concurrency: usize, max_errors: usize) -> DispatchPlan {
    if errors_exceeded(counts.errors, max_errors) {
        return DispatchPlan {
            start: 0,
            terminate_not_started: counts.not_started > 0,
        };
    }
    let room = max_concurrency.saturating_sub(counts.in_flight);
    DispatchPlan {
        start: room.min(counts.not_started),
        terminate_not_started: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::string::string_regex;
    use std::collections::BTreeSet;

    /// The strings each pattern accepts, up to four characters, written independently of the
    /// parser: canonical decimals of a count, or of a percentage 0..=100 followed by `%`.
    fn accepted(zero_ok: bool) -> BTreeSet<String> {
        let lo = usize::from(!zero_ok);
        let counts = (lo..10_000).map(|n| n.to_string());
        let percents = (lo..=100).map(|p| format!("{p}%"));
        counts.chain(percents).collect()
    }

    /// Every string of length 0..=4 over a small alphabet that covers each pattern branch.
    fn all_short_strings() -> Vec<String> {
        let alphabet = ['0', '1', '9', '%', '-', ' '];
        let mut out = vec![String::new()];
        let mut layer = vec![String::new()];
        for _ in 0..4 {
            layer = layer
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            out.extend(layer.iter().cloned());
        }
        out
    }

    #[test]
    fn parsing_accepts_exactly_the_model_patterns() {
        let (conc, errs) = (accepted(false), accepted(true));
        for s in all_short_strings() {
            let c = MaxConcurrency::parse(&s);
            assert_eq!(c.is_ok(), conc.contains(&s), "MaxConcurrency {s:?}");
            let e = MaxErrors::parse(&s);
            assert_eq!(e.is_ok(), errs.contains(&s), "MaxErrors {s:?}");
            if let (Ok(c), Ok(e)) = (c, e) {
                assert_eq!((c.to_string(), e.to_string()), (s.clone(), s.clone()));
            }
        }
    }

    #[test]
    fn parsing_edge_cases() {
        use Limit::{Count, Percent};
        let c = |s| MaxConcurrency::parse(s).map(MaxConcurrency::limit);
        let e = |s| MaxErrors::parse(s).map(MaxErrors::limit);
        let pc = Err(RateError::Pattern(MAX_CONCURRENCY_PATTERN));
        let pe = Err(RateError::Pattern(MAX_ERRORS_PATTERN));
        assert_eq!(c("1"), Ok(Count(1)));
        assert_eq!(c("9999999"), Ok(Count(9_999_999)));
        assert_eq!(c("10000000"), Err(RateError::Length));
        assert_eq!(c(""), Err(RateError::Length));
        assert_eq!(c("0"), pc);
        assert_eq!(c("0%"), pc);
        assert_eq!(c("1%"), Ok(Percent(1)));
        assert_eq!(c("100%"), Ok(Percent(100)));
        assert_eq!(c("101%"), pc);
        assert_eq!(c("100"), Ok(Count(100)));
        assert_eq!(c("05"), pc);
        assert_eq!(c("5%%"), pc);
        assert_eq!(c("%"), pc);
        assert_eq!(c("+5"), pc);
        assert_eq!(c(" 5"), pc);
        assert_eq!(c("٥"), pc, "non-ASCII digit");
        assert_eq!(e("0"), Ok(Count(0)));
        assert_eq!(e("0%"), Ok(Percent(0)));
        assert_eq!(e("00"), pe);
        assert_eq!(e("00%"), pe);
        assert_eq!(e("1000%"), pe);
        assert_eq!(e("12345678"), Err(RateError::Length));
    }

    #[test]
    fn defaults_and_string_forms() {
        assert_eq!(MaxConcurrency::default().to_string(), "50");
        assert_eq!(MaxErrors::default().to_string(), "0");
        assert_eq!(
            "10%".parse::<MaxConcurrency>().map(|m| m.resolve(50)),
            Ok(5)
        );
        assert_eq!(String::from(MaxErrors::parse("7%").unwrap()), "7%");
        assert_eq!(
            MaxErrors::try_from("x".to_string()),
            Err(RateError::Pattern(MAX_ERRORS_PATTERN))
        );
        assert_eq!(
            RateError::Length.to_string(),
            "must be 1 to 7 characters long"
        );
    }

    /// Every percentage against every target count up to 300.
    #[test]
    fn every_percentage_rounds_down_and_concurrency_keeps_one() {
        for p in 0..=100u8 {
            for n in 0..=300usize {
                let exact = n * usize::from(p);
                let floor = exact / 100;
                assert!(floor * 100 <= exact && exact < (floor + 1) * 100);
                assert_eq!(
                    MaxErrors(Limit::Percent(p)).resolve(n),
                    floor,
                    "{p}% of {n}"
                );
                let want = if n > 0 { floor.max(1) } else { 0 };
                assert_eq!(
                    MaxConcurrency(Limit::Percent(p)).resolve(n),
                    want,
                    "{p}% of {n}"
                );
            }
        }
    }

    #[test]
    fn documented_and_boundary_resolutions() {
        let e = |s: &str, n| MaxErrors::parse(s).unwrap().resolve(n);
        let c = |s: &str, n| MaxConcurrency::parse(s).unwrap().resolve(n);
        assert_eq!(e("10%", 50), 5, "stops at the sixth error");
        assert_eq!(e("3", 50), 3, "stops at the fourth error");
        assert_eq!(e("0", 50), 0, "stops at the first error");
        assert_eq!(e("10%", 5), 0);
        assert_eq!(e("100%", 7), 7);
        assert_eq!(e("0%", 1000), 0);
        assert_eq!(e("99%", 1), 0);
        assert_eq!(c("1%", 1), 1);
        assert_eq!(c("1%", 0), 0);
        assert_eq!(c("50%", 3), 1);
        assert_eq!(c("100%", 3), 3);
        assert_eq!(c("10", 3), 10, "counts are kept as written");
        assert_eq!(c("10", 0), 10);
        assert_eq!(percent_of(100, usize::MAX), usize::MAX);
        assert_eq!(percent_of(50, usize::MAX), usize::MAX / 2);
    }

    #[test]
    fn error_threshold_is_one_beyond_max_errors() {
        // "3" stops at the fourth error, "0" at the first.
        let first_stopping_error = |max: usize| (0..).find(|&e| errors_exceeded(e, max));
        assert_eq!(first_stopping_error(3), Some(4));
        assert_eq!(first_stopping_error(0), Some(1));
        for max in 0..5 {
            for errors in 0..8 {
                let tolerated = (0..=max).contains(&errors);
                assert_eq!(errors_exceeded(errors, max), !tolerated);
            }
        }
    }

    #[test]
    fn ramp_doubles_by_waves() {
        let windows: Vec<_> = [0, 1, 3, 7, 15, 31].map(|f| ramp_window(f, 50)).into();
        assert_eq!(windows, [1, 2, 4, 8, 16, 32]);
        assert_eq!(ramp_window(63, 50), 50);
        assert_eq!(ramp_window(usize::MAX, 3), 3);
        assert_eq!(ramp_window(5, 0), 0);
    }

    #[test]
    fn plan_cases() {
        let counts = |in_flight, finished, errors, not_started| DispatchCounts {
            in_flight,
            finished,
            errors,
            not_started,
        };
        let go = |start| DispatchPlan {
            start,
            terminate_not_started: false,
        };
        let stop = |t| DispatchPlan {
            start: 0,
            terminate_not_started: t,
        };
        assert_eq!(plan(&counts(0, 0, 0, 10), 50, 0), go(10), "all at once");
        assert_eq!(
            plan(&counts(0, 0, 0, 10), 3, 0),
            go(3),
            "no ramp: 3 at once"
        );
        assert_eq!(plan(&counts(3, 0, 0, 7), 3, 0), go(0), "all slots busy");
        assert_eq!(plan(&counts(2, 1, 0, 7), 3, 0), go(1), "one slot freed");
        assert_eq!(
            plan(&counts(1, 2, 0, 7), 50, 0),
            go(7),
            "room for everything left"
        );
        assert_eq!(
            plan(&counts(0, 40, 0, 60), 10, 0),
            go(10),
            "capped by MaxConcurrency"
        );
        assert_eq!(
            plan(&counts(0, 40, 0, 3), 10, 0),
            go(3),
            "capped by what is left"
        );
        assert_eq!(plan(&counts(12, 40, 0, 3), 10, 0), go(0), "already over");
        assert_eq!(plan(&counts(0, 0, 0, 0), 10, 0), go(0), "nothing left");
        assert_eq!(plan(&counts(0, 5, 0, 5), 0, 0), go(0), "zero concurrency");
        assert_eq!(
            plan(&counts(2, 3, 3, 5), 10, 3),
            go(5),
            "at the limit, still sending"
        );
        assert_eq!(plan(&counts(2, 4, 4, 5), 10, 3), stop(true), "one beyond");
        assert_eq!(
            plan(&counts(2, 4, 4, 0), 10, 3),
            stop(false),
            "nothing to terminate"
        );
        assert_eq!(plan(&counts(0, 1, 1, 49), 50, 0), stop(true), "MaxErrors 0");
    }

    #[test]
    fn tally_classifies_every_state() {
        let c = DispatchCounts::tally(&InvocationState::ALL);
        assert_eq!(
            c,
            DispatchCounts {
                in_flight: 3,
                finished: 9,
                errors: 2,
                not_started: 1
            }
        );
    }

    proptest! {
        #[test]
        fn generated_pattern_strings_round_trip(
            // The model patterns with the 7-character length bound folded in.
            c in string_regex("([1-9][0-9]{0,6}|[1-9][0-9]%|[1-9]%|100%)").unwrap(),
            e in string_regex("([1-9][0-9]{0,6}|0|[1-9][0-9]%|[0-9]%|100%)").unwrap(),
        ) {
            prop_assert_eq!(MaxConcurrency::parse(&c).map(|v| v.to_string()), Ok(c));
            prop_assert_eq!(MaxErrors::parse(&e).map(|v| v.to_string()), Ok(e));
        }

        #[test]
        fn resolution_is_bounded_and_monotone(p in 0..=100u8, n in 0..100_000usize) {
            let e = MaxErrors(Limit::Percent(p));
            prop_assert!(e.resolve(n) <= n);
            prop_assert!(e.resolve(n) <= e.resolve(n + 1));
            if p > 0 {
                let c = MaxConcurrency(Limit::Percent(p));
                prop_assert!(c.resolve(n) <= n.max(1));
                prop_assert!(c.resolve(n) <= c.resolve(n + 1));
                prop_assert_eq!(c.resolve(n) == 0, n == 0);
            }
        }

        /// Follow the plan while invocations finish in random order with random results.
        #[test]
        fn following_the_plan_respects_both_limits(
            targets in 0..60usize,
            max_concurrency in 1..12usize,
            max_errors in 0..6usize,
            outcomes in prop::collection::vec(any::<bool>(), 0..200),
        ) {
            let (mut pending, mut running) = (targets, 0usize);
            let (mut finished, mut errors, mut terminated) = (0, 0, 0);
            // Each step finishes one running invocation; `true` means it failed.
            let mut outcomes = outcomes.into_iter();
            loop {
                let counts = DispatchCounts {
                    in_flight: running,
                    finished,
                    errors,
                    not_started: pending,
                };
                let p = plan(&counts, max_concurrency, max_errors);
                if errors > max_errors {
                    prop_assert_eq!(p.start, 0);
                    prop_assert_eq!(p.terminate_not_started, pending > 0);
                } else {
                    prop_assert!(!p.terminate_not_started);
                    // Liveness: something runs while work remains.
                    prop_assert!(pending == 0 || running > 0 || p.start > 0);
                }
                if p.terminate_not_started {
                    terminated += pending;
                    finished += pending;
                    pending = 0;
                }
                running += p.start;
                pending -= p.start;
                prop_assert!(running <= max_concurrency);
                // No ramp: every free slot is filled at once.
                prop_assert_eq!(running, max_concurrency.min(running + pending));
                if running == 0 {
                    break;
                }
                running -= 1;
                finished += 1;
                errors += usize::from(outcomes.next().unwrap_or(false));
            }
            prop_assert_eq!(pending, 0);
            prop_assert_eq!(finished, targets);
            // Once errors exceeded the limit, at most the in-flight ones could still fail.
            prop_assert!(errors <= max_errors + max_concurrency);
            if terminated > 0 {
                prop_assert!(errors > max_errors);
            }
        }
    }
}
