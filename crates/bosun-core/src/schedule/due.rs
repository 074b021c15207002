//! What a scheduler does with one schedule at `now`: which slot (if any) is due, and when to look
//! again. A slot is a fire time; a store keeps the unique (schedule, slot) of every fire, so this
//! decision only has to name the slot, never to remember anything.
//!
//! Catch-up follows SSM: after an outage the latest missed slot fires once and the older ones
//! are skipped (counted, so the caller can say so).

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::Schedule;

/// How far back a catch-up looks: older slots are never fired late.
const CATCH_UP_WINDOW: SignedDuration = SignedDuration::from_hours(400 * 24);

/// A schedule's state, as the scheduler reads it.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleState<'a> {
    pub schedule: &'a Schedule,
    /// Where the schedule starts (creation or last change): no slot at or before it fires.
    pub anchor: Timestamp,
    /// The last slot that fired, if any.
    pub last_fired: Option<Timestamp>,
    pub tz: &'a TimeZone,
    pub offset_days: u8,
}

/// The decision for one schedule at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The slot to fire now: the latest slot at or before `now` after the last fired one.
    pub slot: Option<Timestamp>,
    /// Older slots since the last fire that are skipped (an outage's missed runs).
    pub skipped: u32,
    /// The next slot after `now` (when to look again); `None`: never again.
    pub next: Option<Timestamp>,
}

impl ScheduleState<'_> {
    /// Decide for `now`.
    pub fn due_at(&self, now: Timestamp) -> Due {
        let next_after = |t: Timestamp| {
            self.schedule
                .next_after(self.anchor, t, self.tz, self.offset_days)
        };
        let floor = now.checked_sub(CATCH_UP_WINDOW).unwrap_or(now);
        let mut cursor = self.last_fired.unwrap_or(self.anchor).max(self.anchor);
        if cursor < floor {
            cursor = floor;
        }
        let mut slot = None;
        let mut passed = 0u32;
        loop {
            match next_after(cursor) {
                Some(t) if t <= now => {
                    passed = passed.saturating_add(1);
                    slot = Some(t);
                    cursor = t;
                }
                next => {
                    return Due {
                        slot,
                        skipped: passed.saturating_sub(1),
                        next,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ScheduleKind;

    fn utc(text: &str) -> Timestamp {
        format!("{text}Z").parse().unwrap()
    }

    const UTC: &TimeZone = &TimeZone::UTC;

    fn state<'a>(schedule: &'a Schedule, anchor: &str, last: Option<&str>) -> ScheduleState<'a> {
        ScheduleState {
            schedule,
            anchor: utc(anchor),
            last_fired: last.map(utc),
            tz: UTC,
            offset_days: 0,
        }
    }

    #[test]
    fn nothing_is_due_before_the_first_slot() {
        let s = Schedule::parse("cron(0 5 ? * TUE *)", ScheduleKind::Association).unwrap();
        // 3 December 2026 is a Thursday; the next Tuesday is the 8th.
        let due = state(&s, "2026-12-03T10:00:00", None).due_at(utc("2026-12-04T00:00:00"));
        assert_eq!(
            due,
            Due {
                slot: None,
                skipped: 0,
                next: Some(utc("2026-12-08T05:00:00"))
            }
        );
    }

    #[test]
    fn a_slot_is_due_once_and_an_outage_fires_only_the_latest() {
        let s = Schedule::parse("rate(1 hour)", ScheduleKind::Association).unwrap();
        let st = state(&s, "2026-12-03T00:00:00", None);
        let due = st.due_at(utc("2026-12-03T01:00:00"));
        assert_eq!(due.slot, Some(utc("2026-12-03T01:00:00")));
        assert_eq!(due.next, Some(utc("2026-12-03T02:00:00")));
        // Fired at 01:00; the server was down until 05:30: 05:00 fires, 02:00–04:00 are skipped.
        let after = state(&s, "2026-12-03T00:00:00", Some("2026-12-03T01:00:00"));
        let due = after.due_at(utc("2026-12-03T05:30:00"));
        assert_eq!(
            due,
            Due {
                slot: Some(utc("2026-12-03T05:00:00")),
                skipped: 3,
                next: Some(utc("2026-12-03T06:00:00"))
            }
        );
        // The same decision again after firing 05:00: nothing until 06:00.
        let fired = state(&s, "2026-12-03T00:00:00", Some("2026-12-03T05:00:00"));
        assert_eq!(fired.due_at(utc("2026-12-03T05:59:59")).slot, None);
    }

    #[test]
    fn an_at_schedule_fires_once() {
        let s =
            Schedule::parse("at(2027-01-01T00:00:00)", ScheduleKind::MaintenanceWindow).unwrap();
        let due = state(&s, "2026-12-01T00:00:00", None).due_at(utc("2027-01-02T00:00:00"));
        assert_eq!(
            due,
            Due {
                slot: Some(utc("2027-01-01T00:00:00")),
                skipped: 0,
                next: None
            }
        );
        let done = state(&s, "2026-12-01T00:00:00", Some("2027-01-01T00:00:00"));
        assert_eq!(
            done.due_at(utc("2027-01-02T00:00:00")),
            Due {
                slot: None,
                skipped: 0,
                next: None
            }
        );
    }

    #[test]
    fn a_long_outage_looks_back_a_bounded_window() {
        let s = Schedule::parse("rate(30 minutes)", ScheduleKind::Association).unwrap();
        let due = state(&s, "2020-01-01T00:00:00", Some("2020-01-01T00:30:00"))
            .due_at(utc("2026-12-03T10:45:00"));
        assert_eq!(due.slot, Some(utc("2026-12-03T10:30:00")));
        assert_eq!(due.next, Some(utc("2026-12-03T11:00:00")));
    }
}
