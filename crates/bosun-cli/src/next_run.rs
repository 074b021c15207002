//! When an association runs next, said in the operator's time zone: the next slot from
//! `bosun_core::schedule` (associations' schedules are read in UTC, as on AWS), shown on the
//! local wall clock (`TZ`, else the system's zone) with the zone named.

use bosun_core::schedule::{Schedule, ScheduleKind};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// What the scheduler will do next with one association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextRun {
    /// Its first run has not happened yet: it runs as soon as the scheduler looks.
    FirstRunPending,
    /// The next slot.
    At(Timestamp),
    /// No schedule: it runs only when its targets change or on `run-now`.
    Unscheduled,
    /// The schedule has no more slots.
    Never,
}

/// The association as the next-run rule reads it.
#[derive(Debug, Clone, Copy)]
pub struct Scheduled<'a> {
    pub expression: Option<&'a str>,
    pub offset_days: u8,
    pub apply_only_at_cron_interval: bool,
    /// When its current version was written (where a rate starts counting).
    pub anchor: Timestamp,
    /// Whether it has run since then.
    pub has_run: bool,
}

/// The next run of `a` after `now`, as the server's scheduler decides it.
pub fn next_run(a: &Scheduled, now: Timestamp) -> NextRun {
    if !a.has_run && !a.apply_only_at_cron_interval {
        return NextRun::FirstRunPending;
    }
    let Some(text) = a.expression.filter(|t| !t.is_empty()) else {
        return NextRun::Unscheduled;
    };
    let Ok(schedule) = Schedule::parse(text, ScheduleKind::Association) else {
        return NextRun::Never;
    };
    match schedule.next_after(a.anchor, now, &TimeZone::UTC, a.offset_days) {
        Some(t) => NextRun::At(t),
        None => NextRun::Never,
    }
}

/// The operator's time zone: `TZ` if set, else the system's.
pub fn local_zone() -> TimeZone {
    TimeZone::system()
}

/// A zone's name for people: its IANA name, else what `TZ` says, else "local time".
pub fn zone_name(tz: &TimeZone) -> String {
    if let Some(name) = tz.iana_name() {
        return name.to_string();
    }
    match std::env::var("TZ") {
        Ok(v) if !v.is_empty() => v.trim_start_matches(':').to_string(),
        _ => "local time".to_string(),
    }
}

/// `t` on the operator's wall clock: `2026-12-08 06:00 CET`.
pub fn local_time(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `next` in words, on the operator's wall clock.
pub fn describe(next: &NextRun, tz: &TimeZone) -> String {
    match next {
        NextRun::FirstRunPending => "now (first run pending)".to_string(),
        NextRun::At(t) => local_time(*t, tz),
        NextRun::Unscheduled => "on target change or run-now".to_string(),
        NextRun::Never => "never".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn weekly(has_run: bool) -> Scheduled<'static> {
        Scheduled {
            expression: Some("cron(0 5 ? * TUE *)"),
            offset_days: 0,
            apply_only_at_cron_interval: false,
            anchor: utc("2026-12-01T10:00:00Z"),
            has_run,
        }
    }

    #[test]
    fn a_weekly_cron_runs_next_tuesday_at_five_utc_shown_on_the_local_clock() {
        // 3 December 2026 is a Thursday; the next Tuesday is the 8th.
        let next = next_run(&weekly(true), utc("2026-12-03T00:00:00Z"));
        assert_eq!(next, NextRun::At(utc("2026-12-08T05:00:00Z")));
        let paris = TimeZone::get("Europe/Paris").unwrap();
        assert_eq!(describe(&next, &paris), "2026-12-08 06:00 CET");
        assert_eq!(describe(&next, &TimeZone::UTC), "2026-12-08 05:00 UTC");
        assert_eq!(zone_name(&paris), "Europe/Paris");
    }

    #[test]
    fn the_first_run_is_pending_until_it_happens_unless_only_at_cron_interval() {
        let now = utc("2026-12-03T00:00:00Z");
        assert_eq!(next_run(&weekly(false), now), NextRun::FirstRunPending);
        let only_cron = Scheduled {
            apply_only_at_cron_interval: true,
            ..weekly(false)
        };
        assert_eq!(
            next_run(&only_cron, now),
            NextRun::At(utc("2026-12-08T05:00:00Z"))
        );
    }

    #[test]
    fn a_rate_counts_from_its_anchor_and_no_schedule_never_fires_by_itself() {
        let rate = Scheduled {
            expression: Some("rate(30 minutes)"),
            anchor: utc("2026-12-03T10:10:00Z"),
            ..weekly(true)
        };
        assert_eq!(
            next_run(&rate, utc("2026-12-03T10:50:00Z")),
            NextRun::At(utc("2026-12-03T11:10:00Z"))
        );
        let none = Scheduled {
            expression: None,
            ..weekly(true)
        };
        assert_eq!(
            next_run(&none, utc("2026-12-03T10:50:00Z")),
            NextRun::Unscheduled
        );
    }
}
