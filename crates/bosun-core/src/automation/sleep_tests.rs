//! Tests of [`sleep_until`](super::sleep_until).

use jiff::Timestamp;
use proptest::prelude::*;
use serde_json::json;

use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const START: &str = "2026-03-01T10:00:00Z";

#[test]
fn durations_add_to_the_start() {
    let wake = |d: &str| sleep_until(&json!({"Duration": d}), at(START));
    assert_eq!(wake("PT10M").unwrap(), at("2026-03-01T10:10:00Z"));
    assert_eq!(wake("PT1H30M5S").unwrap(), at("2026-03-01T11:30:05Z"));
    assert_eq!(wake("P1D").unwrap(), at("2026-03-02T10:00:00Z"));
    assert_eq!(wake("P6DT23H59M59S").unwrap(), at("2026-03-08T09:59:59Z"));
    assert_eq!(wake("PT0S").unwrap(), at(START));
    assert_eq!(wake(" PT1S ").unwrap(), at("2026-03-01T10:00:01Z"));
}

#[test]
fn timestamps_wake_then_or_at_once_when_past() {
    let wake = |t: &str| sleep_until(&json!({"Timestamp": t}), at(START));
    assert_eq!(
        wake("2026-03-01T12:00:00Z").unwrap(),
        at("2026-03-01T12:00:00Z")
    );
    assert_eq!(
        wake("2026-03-01T13:00:00+02:00").unwrap(),
        at("2026-03-01T11:00:00Z")
    );
    assert_eq!(wake("2020-01-01T00:00:00Z").unwrap(), at(START));
    assert_eq!(
        wake("2026-03-08T09:59:59Z").unwrap(),
        at("2026-03-08T09:59:59Z")
    );
}

#[test]
fn refusals() {
    for (inputs, want) in [
        (
            json!({"Duration": "P7D"}),
            "cannot wait more than 604799 seconds",
        ),
        (
            json!({"Duration": "P1M"}),
            "cannot wait more than 604799 seconds",
        ),
        (json!({"Duration": "-PT1M"}), "negative"),
        (
            json!({"Duration": "ten minutes"}),
            "not an ISO-8601 duration",
        ),
        (json!({"Duration": 600}), "must be a string"),
        (
            json!({"Timestamp": "2026-03-08T10:00:00Z"}),
            "cannot wait more than 604799",
        ),
        (
            json!({"Timestamp": "2026-03-08T09:59:59.5Z"}),
            "cannot wait more than",
        ),
        (json!({"Timestamp": "tomorrow"}), "not an ISO-8601 instant"),
        (json!({"Duration": "PT1M", "Timestamp": START}), "not both"),
        (json!({}), "needs Duration or Timestamp"),
    ] {
        let e = sleep_until(&inputs, at(START)).unwrap_err().0;
        assert!(e.contains(want), "{inputs}: {e}");
    }
}

proptest! {
    #[test]
    fn whole_second_durations_within_the_limit_add_exactly(secs in 0i64..=MAX_SLEEP_SECONDS) {
        let wake = sleep_until(&json!({"Duration": format!("PT{secs}S")}), at(START)).unwrap();
        prop_assert_eq!(wake.as_second() - at(START).as_second(), secs);
    }
}
