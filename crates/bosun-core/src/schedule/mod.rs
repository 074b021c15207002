//! Schedule expressions as SSM writes them — `cron(…)`, `rate(…)`, `at(…)` — and the times they fire.
//!
//! Pure: callers pass the instants in. State Manager associations and maintenance windows accept
//! different subsets (`ScheduleKind`); the rules and their sources are in `api-surface.md` §6.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Who the expression is for: the accepted forms differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    /// State Manager: cron (UTC, no month-specific values) or rate (30 minutes ..< 31 days).
    Association,
    /// Maintenance windows: full cron, rate, `at(…)`, with a time zone.
    MaintenanceWindow,
}

/// A parsed, valid schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Cron(Cron),
    Rate(Rate),
    At(At),
}

/// `cron(…)`: the set of wall-clock minutes it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
}

/// `rate(N unit)`: a fixed period counted from an anchor (creation or last change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub period_ms: i64,
}

/// `at(yyyy-mm-ddThh:mm:ss)`: once, in the schedule's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    pub civil: jiff::civil::DateTime,
}

/// Why an expression is refused (the API answers `InvalidSchedule` / `ValidationException` with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScheduleError {
    pub message: String,
}

impl Schedule {
    /// Parses and validates `text` for `kind`.
    pub fn parse(text: &str, kind: ScheduleKind) -> Result<Schedule, ScheduleError> {
        let _ = (text, kind);
        todo!("schedule parsing")
    }

    pub fn is_cron(&self) -> bool {
        matches!(self, Schedule::Cron(_))
    }

    pub fn is_rate(&self) -> bool {
        matches!(self, Schedule::Rate(_))
    }

    /// The first fire time strictly after `after`. `anchor` is where a rate counts from (ignored
    /// by cron and at); `tz` is the wall clock cron and at read (UTC for associations);
    /// `offset_days` shifts cron fire times (`ScheduleOffset`). `None`: it never fires again.
    pub fn next_after(
        &self,
        anchor: Timestamp,
        after: Timestamp,
        tz: &TimeZone,
        offset_days: u8,
    ) -> Option<Timestamp> {
        let _ = (anchor, after, tz, offset_days);
        todo!("next fire time")
    }
}
