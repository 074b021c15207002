//! Tests of [`select`](super::select) and [`property_matches`](super::property_matches).

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

fn response() -> Value {
    json!({
        "Payload": {"x": 1, "name.with.dots": "d"},
        "InstanceInformationList": [
            {"InstanceId": "i-1", "PingStatus": "Online"},
            {"InstanceId": "i-2", "PingStatus": "ConnectionLost"},
        ],
        "Empty": [],
    })
}

#[test]
fn definite_paths_select_one_value() {
    let r = response();
    assert_eq!(select(&r, "$"), Some(r.clone()));
    assert_eq!(select(&r, "$.Payload.x"), Some(json!(1)));
    assert_eq!(
        select(&r, "$.InstanceInformationList[0].PingStatus"),
        Some(json!("Online"))
    );
    assert_eq!(
        select(&r, "$.InstanceInformationList[-1].InstanceId"),
        Some(json!("i-2"))
    );
    assert_eq!(
        select(&r, "$['Payload']['name.with.dots']"),
        Some(json!("d"))
    );
    assert_eq!(select(&r, "$[\"Payload\"].x"), Some(json!(1)));
    assert_eq!(
        select(&r, "$.Payload"),
        Some(json!({"x": 1, "name.with.dots": "d"}))
    );
}

#[test]
fn wildcards_select_lists() {
    let r = response();
    assert_eq!(
        select(&r, "$.InstanceInformationList[*].InstanceId"),
        Some(json!(["i-1", "i-2"]))
    );
    assert_eq!(
        select(&r, "$.InstanceInformationList.*.PingStatus"),
        Some(json!(["Online", "ConnectionLost"]))
    );
    assert_eq!(select(&r, "$.Empty[*].InstanceId"), Some(json!([])));
    assert_eq!(select(&r, "$.Payload.*"), Some(json!(["d", 1])));
}

#[test]
fn missing_and_unsupported_paths_select_nothing() {
    let r = response();
    for s in [
        "$.Nope",
        "$.Payload.x.y",
        "$.InstanceInformationList[5]",
        "$.InstanceInformationList[-3]",
        "$.Payload[0]",
        "$..InstanceId",
        "$.InstanceInformationList[?(@.PingStatus)]",
        "Payload.x",
        "$.a[",
    ] {
        assert_eq!(select(&r, s), None, "{s}");
    }
    assert!(check_selector("$.a[0]['b'].*").is_ok());
    for s in ["$..a", "$.a[0:2]", "a.b", "$.a[", "$a"] {
        assert!(check_selector(s).is_err(), "{s}");
    }
}

#[test]
fn properties_match_as_text() {
    let want = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(property_matches(
        &json!("running"),
        &want(&["pending", "running"])
    ));
    assert!(!property_matches(&json!("Running"), &want(&["running"])));
    assert!(property_matches(&json!(42), &want(&["42"])));
    assert!(property_matches(&json!(true), &want(&["true"])));
    assert!(!property_matches(&json!(true), &want(&["True"])));
    assert!(property_matches(&json!(["a", "b"]), &want(&["a", "b"])));
    assert!(!property_matches(&json!(["a", "c"]), &want(&["a", "b"])));
    assert!(!property_matches(&json!([]), &want(&["a"])));
    assert!(!property_matches(&json!(null), &want(&["null"])));
    assert!(!property_matches(&json!({"a": "a"}), &want(&["a"])));
    assert!(!property_matches(&json!("a"), &[]));
}

proptest! {
    #[test]
    fn dollar_selects_the_whole_value(s in "[a-z]{0,5}", n in any::<i32>()) {
        let v = json!({"s": s, "n": n, "l": [s, n]});
        prop_assert_eq!(select(&v, "$"), Some(v.clone()));
        prop_assert_eq!(select(&v, "$.l[*]"), Some(json!([s, n])));
        prop_assert_eq!(select(&v, "$.l[1]"), Some(json!(n)));
    }
}
