//! Tests of the rate limit and dedupe rules.

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn event(id: &str, time: &str, status: &str) -> String {
    json!({
        "version": "0", "id": id, "detail-type": "EC2 Command Invocation Status-change Notification",
        "source": "aws.ssm", "account": "123456789012", "time": time, "region": "us-east-1",
        "resources": [], "detail": {"status": status, "command-id": "c-1"}
    })
    .to_string()
}

#[test]
fn numbers_are_bounded_with_their_reason() {
    assert_eq!(parse_number(RATE_LIMIT_COUNT, "1"), Ok(1));
    assert_eq!(parse_number(RATE_LIMIT_COUNT, "100000"), Ok(100_000));
    assert_eq!(
        parse_number(RATE_LIMIT_COUNT, "0").unwrap_err(),
        "BosunRateLimitCount: Invalid value [0]. Must be a whole number of messages from 1 to 100000."
    );
    assert!(parse_number(RATE_LIMIT_COUNT, "100001").is_err());
    assert!(parse_number(RATE_LIMIT_WINDOW, "3601").is_err());
    assert_eq!(parse_number(RATE_LIMIT_WINDOW, "3600"), Ok(3600));
    assert_eq!(parse_number(DEDUPE_WINDOW, "86400"), Ok(86_400));
    assert_eq!(
        parse_number(DEDUPE_WINDOW, "1.5").unwrap_err(),
        "BosunDedupeWindowSeconds: Invalid value [1.5]. Must be a whole number of seconds from 1 to 86400."
    );
    assert!(parse_number(DEDUPE_WINDOW, "-1").is_err());
    assert!(parse_number(DEDUPE_WINDOW, "").is_err());
    assert!(parse_number(DEDUPE_BY, "1").is_err());
    assert!(check_dedupe_by("$.detail.command-id").is_ok());
    assert!(check_dedupe_by("detail")
        .unwrap_err()
        .starts_with("BosunDedupeBy: Invalid value [detail]"));
}

#[test]
fn a_window_needs_its_count_and_a_path_its_window() {
    let window_alone = Limits {
        rate_window_seconds: Some(5),
        ..Limits::default()
    };
    assert_eq!(
        window_alone.check().unwrap_err(),
        "BosunRateLimitWindowSeconds needs BosunRateLimitCount"
    );
    let path_alone = Limits {
        dedupe_by: Some("$.detail".into()),
        ..Limits::default()
    };
    assert_eq!(
        path_alone.check().unwrap_err(),
        "BosunDedupeBy needs BosunDedupeWindowSeconds"
    );
    let count_alone = Limits {
        rate_count: Some(3),
        ..Limits::default()
    };
    assert!(count_alone.check().is_ok());
    assert_eq!(
        count_alone.rate(),
        Some(RateLimit {
            count: 3,
            window_seconds: 60
        }),
        "the default window"
    );
    assert_eq!(Limits::default().rate(), None);
}

#[test]
fn windows_are_aligned_to_the_epoch() {
    let r = RateLimit {
        count: 2,
        window_seconds: 5,
    };
    assert_eq!(r.window_start_ms(0), 0);
    assert_eq!(r.window_start_ms(4_999), 0);
    assert_eq!(r.window_start_ms(5_000), 5_000);
    assert_eq!(r.next_window_ms(5_000), 10_000);
    assert_eq!(r.window_start_ms(-1), -5_000);
}

#[test]
fn an_events_id_and_time_do_not_make_it_new() {
    let a = dedupe_key(None, None, &event("1", "2026-01-01T00:00:00Z", "Failed"));
    let b = dedupe_key(None, None, &event("2", "2026-01-01T00:01:00Z", "Failed"));
    let c = dedupe_key(None, None, &event("3", "2026-01-01T00:01:00Z", "Success"));
    assert!(a.is_some());
    assert_eq!(a, b);
    assert_ne!(a, c);
    // The subject counts; a missing subject differs from an empty one.
    let m = event("1", "t", "Failed");
    assert_ne!(dedupe_key(None, Some("x"), &m), dedupe_key(None, None, &m));
    assert_ne!(dedupe_key(None, Some(""), &m), dedupe_key(None, None, &m));
    // A message that is not an event is compared whole (its "id" matters).
    let plain_a = json!({"id": "1", "time": "t"}).to_string();
    let plain_b = json!({"id": "2", "time": "t"}).to_string();
    assert_ne!(
        dedupe_key(None, None, &plain_a),
        dedupe_key(None, None, &plain_b)
    );
    assert_eq!(
        dedupe_key(None, None, "hello"),
        dedupe_key(None, None, "hello")
    );
    assert_ne!(
        dedupe_key(None, None, "hello"),
        dedupe_key(None, None, "hello ")
    );
}

#[test]
fn a_dedupe_path_compares_only_its_value() {
    let by = Some("$.detail.command-id");
    let failed = event("1", "t1", "Failed");
    let success = event("2", "t2", "Success");
    assert_eq!(
        dedupe_key(by, None, &failed),
        dedupe_key(by, Some("s"), &success)
    );
    assert_eq!(
        dedupe_key(Some("$.nothing"), None, &failed),
        None,
        "no value: never a duplicate"
    );
    assert_eq!(dedupe_key(by, None, "not json"), None);
    assert_ne!(
        dedupe_key(Some("$.detail"), None, &failed),
        dedupe_key(Some("$.detail"), None, &success)
    );
}

#[test]
fn canonical_json_sorts_keys_at_every_depth() {
    let v: Value =
        serde_json::from_str(r#"{"b":[{"z":1,"a":"x"}],"a":{"d":null,"c":true}}"#).unwrap();
    assert_eq!(
        canonical(&v),
        r#"{"a":{"c":true,"d":null},"b":[{"a":"x","z":1}]}"#
    );
}

proptest! {
    #[test]
    fn every_instant_is_in_the_window_it_names(now in -1_000_000_000_000i64..4_000_000_000_000, w in 1u32..=3600) {
        let r = RateLimit { count: 1, window_seconds: w };
        let start = r.window_start_ms(now);
        prop_assert!(start <= now && now < r.next_window_ms(now));
        prop_assert_eq!(start % (i64::from(w) * 1000), 0);
        prop_assert_eq!(r.window_start_ms(start), start);
        prop_assert_eq!(r.window_start_ms(r.next_window_ms(now)), r.next_window_ms(now));
    }

    #[test]
    fn key_order_and_event_identity_never_change_the_key(
        id1 in "[a-z0-9-]{1,12}", id2 in "[a-z0-9-]{1,12}",
        status in "[A-Za-z]{1,10}", subject in proptest::option::of(".{0,20}"),
    ) {
        let a = event(&id1, &id1, &status);
        // The same event with its keys in another order and other id/time.
        let mut reordered: serde_json::Map<String, Value> = serde_json::Map::new();
        let parsed: serde_json::Map<String, Value> = serde_json::from_str(&a).unwrap();
        for (k, v) in parsed.into_iter().rev() {
            reordered.insert(k, v);
        }
        reordered.insert("id".into(), json!(id2));
        reordered.insert("time".into(), json!(id2));
        let b = Value::Object(reordered).to_string();
        prop_assert_eq!(dedupe_key(None, subject.as_deref(), &a), dedupe_key(None, subject.as_deref(), &b));
        let other = event(&id1, &id1, &format!("{status}x"));
        prop_assert_ne!(dedupe_key(None, subject.as_deref(), &a), dedupe_key(None, subject.as_deref(), &other));
    }
}
