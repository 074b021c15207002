//! Target input settings and the InputTransformer's quirks.

use super::*;
use serde_json::json;

const RULE: RuleContext = RuleContext {
    rule_name: "r",
    rule_arn: "arn:aws:events:us-east-1:123456789012:rule/r",
    ingestion_time: "2026-01-01T00:00:00Z",
};

fn event() -> Value {
    json!({"version":"0","id":"e1","detail-type":"T","source":"s","account":"1","time":"t","region":"x","resources":[],"detail":{"command":"c","n":3,"obj":{"a":1}}})
}

fn paths(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn transform(map: &[(&str, &str)], template: &str) -> Result<String, UndeliverableInput> {
    TargetInput::new("t1", None, None, Some((&paths(map), template)))
        .unwrap()
        .render(&event(), &RULE)
}

#[test]
fn only_one_input_setting_per_target() {
    let map = paths(&[]);
    let err = TargetInput::new("t1", Some("{}"), Some("$.detail"), None).unwrap_err();
    assert_eq!(
        err.message,
        "Only one of Input, InputPath, or InputTransformer must be provided for target t1."
    );
    assert!(TargetInput::new("t1", None, Some("$.detail"), Some((&map, "\"x\""))).is_err());
    assert_eq!(InvalidTargetInput::CODE, "ValidationException");
}

#[test]
fn undeclared_and_misplaced_placeholders_are_refused() {
    let map = paths(&[("command", "$.detail.command")]);
    let refuse = |template: &str| {
        TargetInput::new("t1", None, None, Some((&map, template)))
            .unwrap_err()
            .message
    };
    assert_eq!(
        refuse("\"<command> <nope>\""),
        "InputTemplate for target t1 contains invalid placeholder nope."
    );
    assert_eq!(
        refuse("{\"e\": \"<aws.events.event>\"}"),
        "InputTemplate for target t1 contains invalid placeholder aws.events.event."
    );
}

#[test]
fn paths_map_keys_and_paths_are_checked() {
    let bad_key = paths(&[("AWSfoo", "$.detail")]);
    assert!(InputTransformer::new("t1", &bad_key, "\"x\"").is_err());
    let bad_path = paths(&[("k", "detail")]);
    assert!(InputTransformer::new("t1", &bad_path, "\"x\"").is_err());
    let too_many: BTreeMap<String, String> = (0..=MAX_INPUT_PATHS)
        .map(|i| (format!("k{i}"), "$.detail".to_string()))
        .collect();
    assert!(InputTransformer::new("t1", &too_many, "\"x\"").is_err());
}

#[test]
fn inputs_whole_event_constant_and_path() {
    let whole = TargetInput::new("t1", None, None, None).unwrap();
    assert_eq!(whole.render(&event(), &RULE).unwrap(), event().to_string());
    let constant = TargetInput::new("t1", Some("{\"k\": 1}"), None, None).unwrap();
    assert_eq!(constant.render(&event(), &RULE).unwrap(), "{\"k\": 1}");
    assert!(TargetInput::new("t1", Some("not json"), None, None).is_err());
    let path = TargetInput::new("t1", None, Some("$.detail.command"), None).unwrap();
    assert_eq!(path.render(&event(), &RULE).unwrap(), "\"c\"");
    let missing = TargetInput::new("t1", None, Some("$.detail.none"), None).unwrap();
    assert!(matches!(
        missing.render(&event(), &RULE),
        Err(UndeliverableInput::PathMatchedNothing { .. })
    ));
}

#[test]
fn string_and_json_templates() {
    let map = [
        ("c", "$.detail.command"),
        ("n", "$.detail.n"),
        ("o", "$.detail.obj"),
    ];
    assert_eq!(transform(&map, "\"<c> <n> <o>\"").unwrap(), "\"c 3 {a:1}\"");
    assert_eq!(
        transform(&map, "{\"c\": <c>, \"n\": <n>, \"o\": <o>}").unwrap(),
        "{\"c\": \"c\", \"n\": 3, \"o\": {\"a\":1}}"
    );
    assert!(matches!(
        transform(&map, "{\"o\": \"<o>\"}"),
        Err(UndeliverableInput::NotJson { .. })
    ));
    assert!(transform(&map, "<c> unquoted").is_err());
}

#[test]
fn predefined_placeholders_come_from_the_rule_and_the_event() {
    let body = transform(
        &[],
        "{\"arn\": \"<aws.events.rule-arn>\", \"name\": <aws.events.rule-name>, \"at\": \"<aws.events.event.ingestion-time>\", \"e\": <aws.events.event>, \"full\": <aws.events.event.json>}",
    )
    .unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["arn"], RULE.rule_arn);
    assert_eq!(v["name"], "r");
    assert_eq!(v["at"], RULE.ingestion_time);
    assert_eq!(v["e"]["detailType"], "T");
    assert!(v["e"].get("detail").is_none() && v["e"].get("detail-type").is_none());
    assert_eq!(v["full"], event());
}
