//! `cron(…)` expressions: AWS's six fields (optional leading seconds), the day rules and the
//! next matching wall-clock time in a time zone.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::fields::{
    parse_set, parse_value, ValueSet, DAY_OF_MONTH, DAY_OF_WEEK, HOURS, MINUTES, MONTH, SECONDS,
    YEAR,
};
use super::ScheduleKind;

/// A parsed cron expression (the text between the parentheses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    seconds: ValueSet,
    minutes: ValueSet,
    hours: ValueSet,
    days: Days,
    months: ValueSet,
    years: ValueSet,
}

/// Which days of a month match: exactly one of day-of-month / day-of-week is `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Days {
    /// Day-of-month values (day-of-week is `?`).
    OfMonth(ValueSet),
    /// `L`: the month's last day.
    LastOfMonth,
    /// `nW`: the weekday (Mon–Fri) nearest day n, within the month.
    NearestWeekday(u32),
    /// Day-of-week values, 1 = Sunday (day-of-month is `?`).
    OfWeek(ValueSet),
    /// `dL`: the last weekday d of the month.
    LastWeekdayOfMonth(u32),
    /// `d#n`: the n-th weekday d of the month.
    NthWeekday(u32, u32),
}

/// The shortest interval between runs each kind allows (AWS: associations run at most every
/// 30 minutes; cron expressions faster than 5 minutes are not supported).
fn min_interval_minutes(kind: ScheduleKind) -> u32 {
    match kind {
        ScheduleKind::Association => 30,
        ScheduleKind::MaintenanceWindow => 5,
    }
}

impl Cron {
    pub(super) fn parse(body: &str, kind: ScheduleKind) -> Result<Cron, String> {
        let fields: Vec<&str> = body.split_whitespace().collect();
        let (seconds, rest) = match fields.len() {
            6 => ("0", &fields[..]),
            7 => (fields[0], &fields[1..]),
            n => {
                return Err(format!(
                    "a cron expression has 6 fields (minutes hours day-of-month month \
                     day-of-week year), optionally preceded by seconds; found {n}"
                ));
            }
        };
        let seconds = parse_set(seconds, &SECONDS)?;
        let minutes = parse_set(rest[0], &MINUTES)?;
        let hours = parse_set(rest[1], &HOURS)?;
        let days = parse_days(rest[2], rest[4])?;
        let months = parse_set(rest[3], &MONTH)?;
        let years = parse_set(rest[5], &YEAR)?;
        let cron = Cron {
            seconds,
            minutes,
            hours,
            days,
            months,
            years,
        };
        if kind == ScheduleKind::Association {
            if cron.seconds.values().ne([0]) {
                return Err(
                    "the seconds field of an association's cron expression may only be 0".into(),
                );
            }
            if !cron.months.is_full(&MONTH) {
                return Err(
                    "State Manager associations do not support months in cron expressions \
                            (the month field must be *)"
                        .into(),
                );
            }
        }
        if cron.seconds.values().nth(1).is_some() {
            return Err(
                "cron expressions that run more than once a minute are not supported".into(),
            );
        }
        let shortest = cron.shortest_minute_gap();
        let floor = min_interval_minutes(kind);
        if shortest < floor {
            return Err(format!(
                "this cron expression runs every {shortest} minute(s); the shortest interval \
                 allowed here is {floor} minutes"
            ));
        }
        Ok(cron)
    }

    /// The smallest gap, in minutes, between two consecutive matching minutes of one day's
    /// hours (or across an hour boundary when two consecutive hours match).
    fn shortest_minute_gap(&self) -> u32 {
        let minutes: Vec<u32> = self.minutes.values().collect();
        let mut shortest = u32::MAX;
        for pair in minutes.windows(2) {
            shortest = shortest.min(pair[1] - pair[0]);
        }
        let consecutive_hours =
            (0..24).any(|h| self.hours.contains(h) && self.hours.contains((h + 1) % 24));
        if let (Some(first), Some(last), true) =
            (minutes.first(), minutes.last(), consecutive_hours)
        {
            shortest = shortest.min(60 - last + first);
        }
        shortest
    }

    /// Whether `date` is a day this expression runs on.
    fn matches_date(&self, date: Date) -> bool {
        if !self.years.contains(date.year() as u32) || !self.months.contains(date.month() as u32) {
            return false;
        }
        let day = date.day() as u32;
        let last = date.days_in_month() as u32;
        let weekday = date.weekday().to_sunday_one_offset() as u32;
        match &self.days {
            Days::OfMonth(set) => set.contains(day),
            Days::LastOfMonth => day == last,
            Days::NearestWeekday(n) => *n <= last && day == nearest_weekday(date, *n),
            Days::OfWeek(set) => set.contains(weekday),
            Days::LastWeekdayOfMonth(d) => weekday == *d && day + 7 > last,
            Days::NthWeekday(d, n) => weekday == *d && (day - 1) / 7 + 1 == *n,
        }
    }

    /// Whether the wall-clock time `at` (to the second) matches (the tests check fire times with it).
    #[cfg(test)]
    pub(super) fn matches(&self, at: DateTime) -> bool {
        self.matches_date(at.date())
            && self.hours.contains(at.hour() as u32)
            && self.minutes.contains(at.minute() as u32)
            && self.seconds.contains(at.second() as u32)
    }

    /// The first matching wall-clock time in `tz` strictly after `after`, before the year 2200.
    pub(super) fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let start = after.to_zoned(tz.clone()).date();
        let mut date = start;
        // A day is checked at most once; non-matching years and months are skipped whole.
        while date.year() <= YEAR.max as i16 {
            if !self.years.contains(date.year() as u32) {
                date = Date::new(date.year() + 1, 1, 1).ok()?;
                continue;
            }
            if !self.months.contains(date.month() as u32) {
                date = date.last_of_month().tomorrow().ok()?;
                continue;
            }
            if self.matches_date(date) {
                if let Some(at) = self.first_time_on(date, after, tz) {
                    return Some(at);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The first matching time of `date` that is strictly after `after` (DST gaps resolve
    /// forward, repeated hours to their first occurrence).
    fn first_time_on(&self, date: Date, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        for hour in self.hours.values() {
            for minute in self.minutes.values() {
                for second in self.seconds.values() {
                    let time = Time::new(hour as i8, minute as i8, second as i8, 0).ok()?;
                    let at = tz
                        .to_ambiguous_timestamp(DateTime::from_parts(date, time))
                        .compatible()
                        .ok()?;
                    if at > after {
                        return Some(at);
                    }
                }
            }
        }
        None
    }
}

/// Day n moved to the nearest Monday–Friday of the same month.
fn nearest_weekday(date: Date, n: u32) -> u32 {
    let last = date.days_in_month() as u32;
    let Ok(target) = date.with().day(n as i8).build() else {
        return 0;
    };
    match target.weekday().to_sunday_one_offset() {
        7 if n == 1 => 3,        // Saturday the 1st → Monday the 3rd
        7 => n - 1,              // Saturday → Friday
        1 if n == last => n - 2, // Sunday the last → Friday
        1 => n + 1,              // Sunday → Monday
        _ => n,
    }
}

fn parse_days(day_of_month: &str, day_of_week: &str) -> Result<Days, String> {
    match (day_of_month, day_of_week) {
        ("?", "?") => Err("only one of day-of-month and day-of-week may be ?".into()),
        ("?", dow) => parse_day_of_week(dow),
        (dom, "?") => parse_day_of_month(dom),
        _ => Err(
            "one of day-of-month and day-of-week must be ? (a cron expression cannot \
                  name both)"
                .into(),
        ),
    }
}

fn parse_day_of_month(text: &str) -> Result<Days, String> {
    if text.eq_ignore_ascii_case("L") {
        return Ok(Days::LastOfMonth);
    }
    if let Some(day) = text.strip_suffix(['W', 'w']) {
        return Ok(Days::NearestWeekday(parse_value(day, &DAY_OF_MONTH)?));
    }
    Ok(Days::OfMonth(parse_set(text, &DAY_OF_MONTH)?))
}

fn parse_day_of_week(text: &str) -> Result<Days, String> {
    if text.eq_ignore_ascii_case("L") {
        return Ok(Days::LastWeekdayOfMonth(7));
    }
    if let Some((day, nth)) = text.split_once('#') {
        let day = parse_value(day, &DAY_OF_WEEK)?;
        return match nth.parse::<u32>() {
            Ok(n) if (1..=5).contains(&n) && nth.len() == 1 => Ok(Days::NthWeekday(day, n)),
            _ => Err(format!(
                "in \"{text}\" the week of the month must be 1 to 5"
            )),
        };
    }
    if let Some(day) = text.strip_suffix(['L', 'l']) {
        return Ok(Days::LastWeekdayOfMonth(parse_value(day, &DAY_OF_WEEK)?));
    }
    Ok(Days::OfWeek(parse_set(text, &DAY_OF_WEEK)?))
}
