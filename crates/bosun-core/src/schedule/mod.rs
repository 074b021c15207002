//! Schedule expressions as SSM writes them — `cron(…)`, `rate(…)`, `at(…)` — and the times they fire.
//!
//! Pure: callers pass the instants in. State Manager associations and maintenance windows accept
//! different subsets (`ScheduleKind`); the rules and their sources are in `api-surface.md` §6
//! (AWS's Systems Manager user guide, "Reference: Cron and rate expressions for Systems Manager").

mod cron;
mod deadline;
mod due;
mod fields;
mod rate;
#[cfg(test)]
mod tests;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

pub use cron::Cron;
pub use deadline::{execution_deadline_ms, is_past_deadline, TIMED_OUT_EXECUTION_STATUS};
pub use due::{Due, ScheduleState};
pub use rate::Rate;

/// Who the expression is for: the accepted forms differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    /// State Manager: cron (UTC, no month-specific values, at most every 30 minutes) or rate
    /// (30 minutes ..< 31 days).
    Association,
    /// Maintenance windows: full cron, rate, `at(…)`, read in the window's time zone.
    MaintenanceWindow,
}

/// A parsed, valid schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Cron(Box<Cron>),
    Rate(Rate),
    /// `at(yyyy-mm-ddThh:mm:ss)`: once, at that wall-clock time in the schedule's time zone.
    At(DateTime),
}

/// Why an expression is refused (the API answers `InvalidSchedule` or `ValidationException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScheduleError {
    pub message: String,
}

impl Schedule {
    /// Parses and validates `text` for `kind`. Keywords are case-sensitive as AWS writes them
    /// (`cron`, `rate`, `at`); month and day names are not.
    pub fn parse(text: &str, kind: ScheduleKind) -> Result<Schedule, ScheduleError> {
        let refuse = |why: String| ScheduleError {
            message: format!("Invalid schedule expression \"{text}\": {why}"),
        };
        let trimmed = text.trim();
        let (keyword, body) = trimmed
            .strip_suffix(')')
            .and_then(|t| t.split_once('('))
            .ok_or_else(|| refuse("expected cron(…), rate(…) or at(…)".into()))?;
        match keyword {
            "cron" => Cron::parse(body, kind)
                .map(|c| Schedule::Cron(Box::new(c)))
                .map_err(refuse),
            "rate" => Rate::parse(body, kind).map(Schedule::Rate).map_err(refuse),
            "at" if kind == ScheduleKind::MaintenanceWindow => {
                parse_at(body).map(Schedule::At).map_err(refuse)
            }
            "at" => Err(refuse(
                "associations accept cron(…) and rate(…) expressions, not at(…)".into(),
            )),
            _ => Err(refuse("expected cron(…), rate(…) or at(…)".into())),
        }
    }

    pub fn is_cron(&self) -> bool {
        matches!(self, Schedule::Cron(_))
    }

    pub fn is_rate(&self) -> bool {
        matches!(self, Schedule::Rate(_))
    }

    /// The first fire time strictly after `after`. `anchor` is where the schedule starts: a rate
    /// fires at anchor + k·period (k ≥ 1) and a cron or at time at or before the anchor never
    /// fires; `tz` is the wall clock cron and at read (UTC for associations); `offset_days`
    /// (`ScheduleOffset`) moves each cron fire that many days later — a fire whose cron time
    /// fell before the anchor does not run even if its offset time is still ahead. `None`: it
    /// never fires again (an `at` in the past, or a cron with no more matches before 2200).
    pub fn next_after(
        &self,
        anchor: Timestamp,
        after: Timestamp,
        tz: &TimeZone,
        offset_days: u8,
    ) -> Option<Timestamp> {
        match self {
            Schedule::Rate(rate) => Some(rate.next_after(anchor, after)),
            Schedule::At(civil) => {
                let at = tz.to_ambiguous_timestamp(*civil).compatible().ok()?;
                (at > after && at > anchor).then_some(at)
            }
            Schedule::Cron(cron) => {
                let offset = i64::from(offset_days).days();
                // base + offset > after  ⇔  base > after - offset (in the zone's calendar days).
                let earliest = after
                    .to_zoned(tz.clone())
                    .checked_sub(offset)
                    .ok()?
                    .timestamp();
                let base = cron.next_after(earliest.max(anchor), tz)?;
                Some(
                    base.to_zoned(tz.clone())
                        .checked_add(offset)
                        .ok()?
                        .timestamp(),
                )
            }
        }
    }
}

/// `yyyy-mm-ddThh:mm:ss`, as the `at(…)` form writes it.
fn parse_at(body: &str) -> Result<DateTime, String> {
    let ok_shape = body.len() == 19
        && body.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        });
    if !ok_shape {
        return Err("at(…) takes a date and time written yyyy-mm-ddThh:mm:ss".into());
    }
    body.parse::<DateTime>()
        .map_err(|_| format!("\"{body}\" is not a valid date and time"))
}
