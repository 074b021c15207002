//! Schedule expressions: the documented examples, refusals, fire times across DST, properties.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use proptest::prelude::*;

use super::{Schedule, ScheduleKind};

const A: ScheduleKind = ScheduleKind::Association;
const W: ScheduleKind = ScheduleKind::MaintenanceWindow;

fn utc(text: &str) -> Timestamp {
    format!("{text}Z").parse().unwrap()
}

fn next(expr: &str, kind: ScheduleKind, after: &str) -> Option<Timestamp> {
    let schedule = Schedule::parse(expr, kind).unwrap();
    schedule.next_after(utc("2000-01-01T00:00:00"), utc(after), &TimeZone::UTC, 0)
}

#[test]
fn documented_examples_parse() {
    for expr in [
        "cron(0/30 * * * ? *)",
        "cron(0 0/1 * * ? *)",
        "cron(0 0/12 * * ? *)",
        "cron(15 13 ? * * *)",
        "cron(15 13 ? * MON *)",
        "cron(30 23 ? * TUE#3 *)",
        "cron(0 0 ? * 3L *)",
        "cron(0 2 ? * SUN *)",
        "cron(0 5 ? * TUE *)",
        "cron(0 */30 * * * ? *)",
        "cron(0 2 L * ? *)",
        "rate(30 minutes)",
        "rate(1 hour)",
        "rate(5 hours)",
        "rate(15 days)",
        "rate(30 days)",
    ] {
        Schedule::parse(expr, A).unwrap_or_else(|e| panic!("{expr}: {e}"));
        Schedule::parse(expr, W).unwrap_or_else(|e| panic!("{expr}: {e}"));
    }
    for expr in [
        "cron(30 09 ? * * *)",
        "cron(24 30 09 ? * * *)",
        "cron(15 10 ? * MON-FRI *)",
        "cron(15 10 ? * 6L *)",
        "cron(0 2 ? JAN,JUL THU#3 2027-2030)",
        "cron(0/5 * 3W * ? *)",
        "rate(1 minute)",
        "rate(2 days)",
        "at(2027-07-07T15:55:00)",
    ] {
        Schedule::parse(expr, W).unwrap_or_else(|e| panic!("{expr}: {e}"));
    }
}

#[test]
fn refusals_say_why() {
    for (expr, kind, why) in [
        ("cron(0 2 * * * *)", W, "must be ?"),
        ("cron(0 2 ? * ? *)", W, "only one of"),
        ("cron(0 2 * *)", W, "6 fields"),
        ("cron(60 2 ? * * *)", W, "minutes value \"60\""),
        ("cron(0 24 ? * * *)", W, "hours value \"24\""),
        ("cron(0 2 32 * ? *)", W, "day-of-month value \"32\""),
        ("cron(0 2 ? FOO * *)", W, "month value \"FOO\""),
        ("cron(0 2 ? * 8 *)", W, "day-of-week value \"8\""),
        ("cron(0 2 ? * TUE#6 *)", W, "week of the month"),
        ("cron(0 2 ? * * 2200)", W, "year value"),
        ("cron(0 5-2 ? * * *)", W, "backwards"),
        ("cron(0/0 * ? * * *)", W, "increment"),
        ("cron(0/2 * ? * * *)", W, "every 2 minute"),
        ("cron(0/15 * * * ? *)", A, "30 minutes"),
        ("cron(0 2 ? JAN * *)", A, "months"),
        ("cron(30 0 2 ? * * *)", A, "seconds"),
        ("cron(0/10 0 2 ? * * *)", W, "more than once a minute"),
        ("rate(29 minutes)", A, "at least 30 minutes"),
        ("rate(31 days)", A, "less than 31 days"),
        ("rate(1 hours)", W, "singular"),
        ("rate(5 hour)", W, "plural"),
        ("rate(0 minutes)", W, "positive"),
        ("rate(5 weeks)", W, "unit"),
        ("rate(5)", W, "rate(<value> <unit>)"),
        ("at(2027-07-07T15:55:00)", A, "not at(…)"),
        ("at(2027-07-07 15:55)", W, "yyyy-mm-dd"),
        ("at(2027-02-30T15:55:00)", W, "not a valid date"),
        ("every day", W, "expected cron"),
        ("CRON(0 2 ? * * *)", W, "expected cron"),
    ] {
        let err = Schedule::parse(expr, kind).expect_err(expr).message;
        assert!(err.contains(why), "{expr}: {err}");
        assert!(
            err.starts_with(&format!("Invalid schedule expression \"{expr}\"")),
            "{err}"
        );
    }
}

#[test]
fn fire_times_follow_the_day_rules() {
    // December 2026 starts on a Tuesday; its Thursdays are the 3rd, 10th, 17th, 24th, 31st.
    let cases = [
        (
            "cron(0 2 ? * THU#3 *)",
            "2026-12-03T15:00:00",
            "2026-12-17T02:00:00",
        ),
        (
            "cron(0 2 L * ? *)",
            "2026-12-03T15:00:00",
            "2026-12-31T02:00:00",
        ),
        (
            "cron(0 2 L * ? *)",
            "2027-02-01T00:00:00",
            "2027-02-28T02:00:00",
        ),
        (
            "cron(15 10 ? * 6L *)",
            "2026-12-03T15:00:00",
            "2026-12-25T10:15:00",
        ),
        (
            "cron(15 10 ? * L *)",
            "2026-12-03T15:00:00",
            "2026-12-26T10:15:00",
        ),
        (
            "cron(0 5 ? * TUE *)",
            "2026-12-03T15:00:00",
            "2026-12-08T05:00:00",
        ),
        (
            "cron(0 5 ? * TUE *)",
            "2026-12-08T05:00:00",
            "2026-12-15T05:00:00",
        ),
        (
            "cron(0 0/12 * * ? *)",
            "2026-12-03T12:00:00",
            "2026-12-04T00:00:00",
        ),
        (
            "cron(0/30 * * * ? *)",
            "2026-12-03T12:00:00",
            "2026-12-03T12:30:00",
        ),
        // 1 May 2027 is a Saturday: 1W is Monday the 3rd; 30 May 2027 is a Sunday: 30W is the 31st.
        (
            "cron(0 9 1W * ? *)",
            "2027-04-30T00:00:00",
            "2027-05-03T09:00:00",
        ),
        (
            "cron(0 9 30W * ? *)",
            "2027-05-04T00:00:00",
            "2027-05-31T09:00:00",
        ),
        // 31 Oct 2027 is a Sunday and the month's last day: 31W is Friday the 29th.
        (
            "cron(0 9 31W * ? *)",
            "2027-10-01T00:00:00",
            "2027-10-29T09:00:00",
        ),
        (
            "cron(0 9 31 * ? *)",
            "2027-02-01T00:00:00",
            "2027-03-31T09:00:00",
        ),
        (
            "cron(0 9 29 FEB ? *)",
            "2027-01-01T00:00:00",
            "2028-02-29T09:00:00",
        ),
        (
            "cron(24 30 09 ? * * *)",
            "2027-01-01T09:30:24",
            "2027-01-02T09:30:24",
        ),
    ];
    for (expr, after, expected) in cases {
        assert_eq!(
            next(expr, W, after),
            Some(utc(expected)),
            "{expr} after {after}"
        );
    }
    assert_eq!(next("cron(0 9 ? * * 2027)", W, "2027-12-31T10:00:00"), None);
}

#[test]
fn wall_clock_times_survive_daylight_saving_changes() {
    let ny = TimeZone::get("America/New_York").unwrap();
    let daily = Schedule::parse("cron(30 2 * * ? *)", W).unwrap();
    // 14 March 2027: 02:30 does not exist in New York; the run moves to 03:30 EDT (07:30Z).
    let spring = daily.next_after(
        utc("2027-01-01T00:00:00"),
        utc("2027-03-14T05:00:00"),
        &ny,
        0,
    );
    assert_eq!(spring, Some(utc("2027-03-14T07:30:00")));
    // 7 November 2027: 01:30 happens twice; it runs once, at the first.
    let fold = Schedule::parse("cron(30 1 * * ? *)", W).unwrap();
    let first = fold
        .next_after(
            utc("2027-01-01T00:00:00"),
            utc("2027-11-07T04:00:00"),
            &ny,
            0,
        )
        .unwrap();
    assert_eq!(first, utc("2027-11-07T05:30:00"));
    let second = fold
        .next_after(utc("2027-01-01T00:00:00"), first, &ny, 0)
        .unwrap();
    assert_eq!(second, utc("2027-11-08T06:30:00"));
    let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
    let at = Schedule::parse("at(2027-07-07T15:55:00)", W).unwrap();
    assert_eq!(
        at.next_after(
            utc("2027-01-01T00:00:00"),
            utc("2027-07-01T00:00:00"),
            &tokyo,
            0
        ),
        Some(utc("2027-07-07T06:55:00"))
    );
    assert_eq!(
        at.next_after(
            utc("2027-01-01T00:00:00"),
            utc("2027-07-08T00:00:00"),
            &tokyo,
            0
        ),
        None
    );
}

#[test]
fn offsets_move_runs_later_but_never_revive_a_passed_cron_day() {
    // Second Thursday of December 2026 is the 10th; offset 3 → Sunday the 13th.
    let s = Schedule::parse("cron(0 0 ? * THU#2 *)", A).unwrap();
    let anchor = utc("2026-12-01T00:00:00");
    let at = s.next_after(anchor, utc("2026-12-03T00:00:00"), &TimeZone::UTC, 3);
    assert_eq!(at, Some(utc("2026-12-13T00:00:00")));
    // Created on the 11th: the 10th has passed, so the 13th does not run; January's does
    // (14 January 2027 + 3 days).
    let late = s.next_after(
        utc("2026-12-11T00:00:00"),
        utc("2026-12-11T00:00:00"),
        &TimeZone::UTC,
        3,
    );
    assert_eq!(late, Some(utc("2027-01-17T00:00:00")));
}

#[test]
fn rates_count_whole_periods_from_the_anchor() {
    let r = Schedule::parse("rate(30 days)", A).unwrap();
    let anchor = utc("2026-12-01T05:00:00");
    let z = TimeZone::UTC;
    assert_eq!(
        r.next_after(anchor, anchor, &z, 0),
        Some(utc("2026-12-31T05:00:00"))
    );
    assert_eq!(
        r.next_after(anchor, utc("2026-11-01T00:00:00"), &z, 0),
        Some(utc("2026-12-31T05:00:00"))
    );
    assert_eq!(
        r.next_after(anchor, utc("2026-12-31T05:00:00"), &z, 0),
        Some(utc("2027-01-30T05:00:00"))
    );
}

fn field(max: u32, names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        (0..=max).prop_map(|v| v.to_string()),
        (0..=max, 1..=max.max(1)).prop_map(|(a, s)| format!("{a}/{s}")),
        (0..=max, 0..=max).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        proptest::sample::select(names).prop_map(|n| n.to_string()),
    ]
}

fn cron_text() -> impl Strategy<Value = String> {
    let dom = prop_oneof![
        (1u32..=31).prop_map(|d| format!("{d} ?")),
        Just("L ?".to_string()),
        (1u32..=31).prop_map(|d| format!("{d}W ?")),
        Just("* ?".to_string()),
        field(6, &["MON", "SAT"]).prop_map(|d| format!("? {}", d.replace('0', "1"))),
        (1u32..=7, 1u32..=5).prop_map(|(d, n)| format!("? {d}#{n}")),
        (1u32..=7).prop_map(|d| format!("? {d}L")),
    ];
    (
        field(59, &["7"]),
        field(23, &["3"]),
        dom,
        prop_oneof![
            Just("*".to_string()),
            (1u32..=12).prop_map(|m| m.to_string())
        ],
    )
        .prop_map(|(m, h, days, month)| {
            let (dom, dow) = days.split_once(' ').unwrap();
            format!("cron({m} {h} {dom} {month} {dow} *)")
        })
}

proptest! {
    #[test]
    fn parse_never_panics(text in ".{0,40}") {
        let _ = Schedule::parse(&text, A);
        let _ = Schedule::parse(&format!("cron({text})"), W);
        let _ = Schedule::parse(&format!("rate({text})"), W);
    }

    /// The next fire time matches the expression, and no minute between `after` and it does.
    #[test]
    fn next_fire_is_the_first_match(text in cron_text(), start in 1_800_000_000i64..1_900_000_000) {
        let Ok(Schedule::Cron(cron)) = Schedule::parse(&text, W) else { return Ok(()); };
        let after = Timestamp::from_second(start).unwrap();
        let tz = TimeZone::UTC;
        let Some(fire) = cron.next_after(after, &tz) else { return Ok(()); };
        prop_assert!(fire > after);
        let civil = |t: Timestamp| -> DateTime { t.to_zoned(tz.clone()).datetime() };
        prop_assert!(cron.matches(civil(fire)), "{} at {}", text, fire);
        // Scan every minute in between when the gap is short enough to check.
        let gap_minutes = (fire.as_second() - after.as_second()) / 60;
        if gap_minutes < 200_000 {
            let mut t = Timestamp::from_second((after.as_second() / 60 + 1) * 60).unwrap();
            while t < fire {
                prop_assert!(!cron.matches(civil(t)), "{} matched {} before {}", text, t, fire);
                t = Timestamp::from_second(t.as_second() + 60).unwrap();
            }
        }
    }
}
