//! When a maintenance window runs next: the fire times of its schedule in its time zone, moved by
//! `ScheduleOffset`, within its `StartDate`..`EndDate`, as `NextExecutionTime` and
//! `DescribeMaintenanceWindowSchedule` report them.

use jiff::Timestamp;

use super::input::CheckedTiming;

/// Up to `limit` fire times strictly after `after`. `anchor` is where the schedule starts (the
/// window's creation or last change): a rate counts its periods from the later of it and
/// `StartDate`; nothing fires at or before `StartDate` or after `EndDate`.
pub fn fire_times(
    t: &CheckedTiming,
    anchor: Timestamp,
    after: Timestamp,
    limit: usize,
) -> Vec<Timestamp> {
    let anchor = t.start.map_or(anchor, |s| s.max(anchor));
    let mut out = Vec::new();
    let mut cursor = after;
    while out.len() < limit {
        let Some(next) = t.schedule.next_after(anchor, cursor, &t.tz, t.offset_days) else {
            break;
        };
        if t.end.is_some_and(|end| next > end) {
            break;
        }
        out.push(next);
        cursor = next;
    }
    out
}

/// A fire time as AWS writes `NextExecutionTime` and `ExecutionTime`: minutes in the window's
/// time zone with its offset (`2021-01-05T02:00Z`, `2021-01-04T18:00-08:00`).
pub fn render(t: &CheckedTiming, at: Timestamp) -> String {
    let zoned = at.to_zoned(t.tz.clone());
    let offset = zoned.offset();
    let wall = zoned.strftime("%Y-%m-%dT%H:%M").to_string();
    if offset.seconds() == 0 {
        format!("{wall}Z")
    } else {
        format!("{wall}{}", zoned.strftime("%:z"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintenance_window::input::{check_timing, WindowTiming};

    fn checked(schedule: &str, tz: &str) -> CheckedTiming {
        check_timing(&WindowTiming {
            schedule: schedule.into(),
            timezone: tz.into(),
            duration_hours: 2,
            cutoff_hours: 0,
            ..Default::default()
        })
        .unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn cron_fires_in_the_zone_and_renders_with_its_offset() {
        let t = checked("cron(0 2 ? * * *)", "America/Los_Angeles");
        let now = ts("2024-01-10T00:00:00Z");
        let times = fire_times(&t, now, now, 2);
        assert_eq!(
            times.iter().map(|x| render(&t, *x)).collect::<Vec<_>>(),
            ["2024-01-10T02:00-08:00", "2024-01-11T02:00-08:00"]
        );
        let utc = checked("cron(0 2 ? * * *)", "");
        assert_eq!(
            render(&utc, fire_times(&utc, now, now, 1)[0]),
            "2024-01-10T02:00Z"
        );
    }

    #[test]
    fn start_and_end_dates_bound_the_times() {
        let mut t = checked("rate(1 day)", "");
        let now = ts("2024-01-10T00:00:00Z");
        t.start = Some(ts("2024-02-01T12:00:00Z"));
        t.end = Some(ts("2024-02-03T13:00:00Z"));
        let times = fire_times(&t, now, now, 10);
        assert_eq!(
            times,
            [ts("2024-02-02T12:00:00Z"), ts("2024-02-03T12:00:00Z")]
        );
    }

    #[test]
    fn a_past_at_never_fires() {
        let t = checked("at(2020-01-01T00:00:00)", "");
        let now = ts("2024-01-10T00:00:00Z");
        assert!(fire_times(&t, now, now, 3).is_empty());
    }
}
