//! The rules between a maintenance window's members that botocore's model cannot express: the
//! schedule (`cron`/`rate`/`at` for windows), its time zone, `ScheduleOffset` only with cron,
//! `StartDate`/`EndDate` as ISO-8601 and in order, `Cutoff` below `Duration`. Each refusal is
//! a `ValidationException` message.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::schedule::{Schedule, ScheduleKind};

/// A window's schedule members, as a request (or the stored window after an update) has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowTiming {
    pub schedule: String,
    /// IANA name; empty: UTC.
    pub timezone: String,
    /// Days; 0: none.
    pub offset_days: i64,
    /// ISO-8601 text; empty: none.
    pub start_date: String,
    pub end_date: String,
    pub duration_hours: i64,
    pub cutoff_hours: i64,
}

/// A checked [`WindowTiming`].
#[derive(Debug, Clone)]
pub struct CheckedTiming {
    pub schedule: Schedule,
    pub tz: TimeZone,
    pub offset_days: u8,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

/// The time zone a window's schedule is read in.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    if name.is_empty() {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).map_err(|_| {
        format!(
            "Invalid ScheduleTimezone \"{name}\": expected an IANA time zone name such as \
             America/Los_Angeles or UTC"
        )
    })
}

/// An ISO-8601 date and time (`2021-01-01T00:00:00-08:00`, `…Z`, or without an offset: UTC).
pub fn parse_date(member: &str, text: &str) -> Result<Timestamp, String> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    text.parse::<DateTime>()
        .ok()
        .and_then(|civil| TimeZone::UTC.to_timestamp(civil).ok())
        .ok_or_else(|| {
            format!(
                "Invalid {member} \"{text}\": expected an ISO-8601 date and time such as \
                 2021-01-01T00:00:00-08:00"
            )
        })
}

/// Every rule of a window's timing, in the order a reader of the request meets them.
pub fn check_timing(t: &WindowTiming) -> Result<CheckedTiming, String> {
    let schedule =
        Schedule::parse(&t.schedule, ScheduleKind::MaintenanceWindow).map_err(|e| e.message)?;
    let tz = time_zone(&t.timezone)?;
    if t.offset_days != 0 && !schedule.is_cron() {
        return Err("ScheduleOffset is only supported with cron schedule expressions.".into());
    }
    let start = (!t.start_date.is_empty())
        .then(|| parse_date("StartDate", &t.start_date))
        .transpose()?;
    let end = (!t.end_date.is_empty())
        .then(|| parse_date("EndDate", &t.end_date))
        .transpose()?;
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            return Err(format!(
                "EndDate {} must be later than StartDate {}.",
                t.end_date, t.start_date
            ));
        }
    }
    check_cutoff(t.duration_hours, t.cutoff_hours)?;
    Ok(CheckedTiming {
        schedule,
        tz,
        offset_days: t.offset_days.clamp(0, 6) as u8,
        start,
        end,
    })
}

/// `Cutoff` must leave part of the window for starting tasks: below `Duration`. AWS's wording
/// (its spelling included) as recorded in awsdocs/aws-cloudformation-user-guide#891, where the
/// bound is written `(Duration - 1 )`; here the bound named is `Duration` itself.
pub fn check_cutoff(duration_hours: i64, cutoff_hours: i64) -> Result<(), String> {
    if cutoff_hours >= duration_hours {
        return Err(format!(
            "Cuttoff was {cutoff_hours} but must be smaller than {duration_hours} (Duration)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(schedule: &str) -> WindowTiming {
        WindowTiming {
            schedule: schedule.into(),
            duration_hours: 4,
            cutoff_hours: 1,
            ..Default::default()
        }
    }

    #[test]
    fn valid_timings_pass() {
        for s in [
            "cron(0 2 ? * SUN *)",
            "rate(2 days)",
            "at(2030-01-01T10:00:00)",
        ] {
            check_timing(&timing(s)).unwrap();
        }
        let mut t = timing("cron(30 23 ? * TUE#3 *)");
        t.offset_days = 2;
        t.timezone = "America/Los_Angeles".into();
        t.start_date = "2021-01-01T00:00:00-08:00".into();
        t.end_date = "2031-01-01T00:00:00Z".into();
        let c = check_timing(&t).unwrap();
        assert_eq!(c.offset_days, 2);
        assert_eq!(c.start.unwrap().to_string(), "2021-01-01T08:00:00Z");
    }

    #[test]
    fn each_rule_refuses_with_a_message() {
        let cases: Vec<(WindowTiming, &str)> = vec![
            (timing("cron(bad)"), "Invalid schedule expression"),
            (
                WindowTiming {
                    timezone: "Mars/Olympus".into(),
                    ..timing("rate(1 day)")
                },
                "ScheduleTimezone",
            ),
            (
                WindowTiming {
                    offset_days: 2,
                    ..timing("rate(1 day)")
                },
                "ScheduleOffset",
            ),
            (
                WindowTiming {
                    start_date: "yesterday".into(),
                    ..timing("rate(1 day)")
                },
                "StartDate",
            ),
            (
                WindowTiming {
                    start_date: "2022-01-01T00:00:00Z".into(),
                    end_date: "2021-01-01T00:00:00Z".into(),
                    ..timing("rate(1 day)")
                },
                "EndDate",
            ),
            (
                WindowTiming {
                    cutoff_hours: 4,
                    ..timing("rate(1 day)")
                },
                "Cuttoff was 4 but must be smaller than 4",
            ),
        ];
        for (t, needle) in cases {
            let e = check_timing(&t).unwrap_err();
            assert!(e.contains(needle), "{t:?}: {e}");
        }
    }

    #[test]
    fn cutoff_may_be_one_hour_less_than_duration() {
        assert!(check_cutoff(1, 0).is_ok());
        assert!(check_cutoff(24, 23).is_ok());
        assert!(check_cutoff(2, 2).is_err());
    }
}
