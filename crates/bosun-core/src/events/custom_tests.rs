//! Tests of `PutEvents`' entry rules and envelope.

use super::*;

fn entry(source: &str, detail_type: &str, detail: &str) -> CustomEntry {
    CustomEntry {
        time_ms: None,
        source: Some(source.into()),
        detail_type: Some(detail_type.into()),
        detail: Some(detail.into()),
        resources: Vec::new(),
    }
}

#[test]
fn required_members_are_checked_in_aws_order() {
    let mut e = entry("", "", "");
    let refusal = check_entry(&e).unwrap_err();
    assert_eq!(refusal.code, "InvalidArgument");
    assert_eq!(
        refusal.message,
        "Parameter Source is not valid. Reason: Source is a required argument."
    );
    e.source = Some("my.app".into());
    assert_eq!(
        check_entry(&e).unwrap_err().message,
        "Parameter DetailType is not valid. Reason: DetailType is a required argument."
    );
    e.detail_type = Some("Thing".into());
    e.detail = None;
    assert_eq!(
        check_entry(&e).unwrap_err().message,
        "Parameter Detail is not valid. Reason: Detail is a required argument."
    );
}

#[test]
fn detail_must_be_a_json_object() {
    for bad in ["[1]", "\"text\"", "3", "{not json"] {
        let refusal = check_entry(&entry("my.app", "Thing", bad)).unwrap_err();
        assert_eq!(refusal.code, "MalformedDetail", "{bad}");
        assert_eq!(refusal.message, "Detail is malformed.");
    }
    assert!(check_entry(&entry("my.app", "Thing", "{\"a\":1}")).is_ok());
}

#[test]
fn aws_sources_are_reserved() {
    let refusal = check_entry(&entry("aws.ssm", "Thing", "{}")).unwrap_err();
    assert_eq!(refusal.code, "NotAuthorizedForSourceException");
    assert_eq!(refusal.message, "Not authorized for the source.");
    assert!(check_entry(&entry("awsome.app", "Thing", "{}")).is_ok());
}

#[test]
fn size_counts_time_and_utf8_bytes() {
    let mut e = entry("ab", "cd", "{}");
    e.resources = vec!["r1".into(), "é".into()];
    assert_eq!(entry_size(&e), 2 + 2 + 2 + 2 + 2);
    e.time_ms = Some(0);
    assert_eq!(entry_size(&e), 24);
    let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_ENTRIES_SIZE));
    assert!(entries_over_limit(&[entry("s", "t", &big)]));
    let exact = "x".repeat(MAX_ENTRIES_SIZE - 2);
    assert!(!entries_over_limit(&[entry("s", "t", &exact)]));
    assert!(entries_over_limit(&[
        entry("s", "t", &exact),
        entry("s", "", "")
    ]));
}

#[test]
fn envelope_carries_the_entry() {
    let mut e = entry("my.app", "Thing Happened", "{\"k\":[1,2]}");
    e.resources = vec!["arn:x".into()];
    let detail = check_entry(&e).unwrap();
    let origin = Origin {
        account: "123456789012",
        region: "ap-northeast-1",
        id: "id-1",
        now_ms: 1_700_000_000_123,
    };
    let event = custom_event(origin, &e, detail.clone());
    assert_eq!(event.detail_type, "Thing Happened");
    assert_eq!(
        event.envelope,
        json!({"version":"0","id":"id-1","detail-type":"Thing Happened","source":"my.app",
            "account":"123456789012","time":"2023-11-14T22:13:20Z","region":"ap-northeast-1",
            "resources":["arn:x"],"detail":{"k":[1,2]}})
    );
    e.time_ms = Some(0);
    let event = custom_event(origin, &e, detail);
    assert_eq!(event.envelope["time"], "1970-01-01T00:00:00Z");
}
