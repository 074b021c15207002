//! Every recorded EventBridge `TestEventPattern` case (AWS's answers, see
//! `data/eventbridge-patterns/README.md`) run through `bosun_core::events::pattern`: `<name>`
//! must match, `<name>_NEG` must not, `<name>_EXC` must be refused with AWS's message.

use bosun_core::events::pattern::EventPattern;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/eventbridge-patterns")
}

/// The JSON5 the cases use, made JSON: `//` and `/* */` comments and trailing commas go.
fn json5_to_json(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            out.push(c as char);
            if c == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1] as char);
                i += 1;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
            out.push('"');
        } else if text[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if text[i..].starts_with("/*") {
            i += text[i..].find("*/").expect("unclosed comment") + 2;
            continue;
        } else if c == b',' {
            let next = text[i + 1..].trim_start_matches(|ch: char| ch.is_whitespace());
            let next = strip_leading_comments(next);
            if !(next.starts_with('}') || next.starts_with(']')) {
                out.push(',');
            }
        } else {
            out.push(c as char);
        }
        i += 1;
    }
    // The byte-wise copy above split multi-byte characters; rebuild them.
    String::from_utf8(out.chars().map(|ch| ch as u8).collect()).expect("utf-8")
}

fn strip_leading_comments(mut rest: &str) -> &str {
    loop {
        if rest.starts_with("//") {
            rest = rest.find('\n').map_or("", |n| &rest[n..]);
        } else if rest.starts_with("/*") {
            rest = rest.find("*/").map_or("", |n| &rest[n + 2..]);
        } else {
            return rest;
        }
        rest = rest.trim_start();
    }
}

/// AWS's message for each `_EXC` case, by case name.
fn recorded_errors() -> BTreeMap<String, String> {
    let text = fs::read_to_string(data_dir().join("errors-snapshot.json")).unwrap();
    let snapshot: BTreeMap<String, Value> = serde_json::from_str(&text).unwrap();
    let mut errors = BTreeMap::new();
    for (key, entry) in snapshot {
        let name = key
            .rsplit_once('[')
            .unwrap()
            .1
            .trim_end_matches(']')
            .to_string();
        if let Some(message) =
            entry["recorded-content"][&name]["exception_message"]["Error"]["Message"].as_str()
        {
            errors.insert(name, message.lines().next().unwrap().to_string());
        }
    }
    errors
}

#[test]
fn every_recorded_case_gets_aws_answer() {
    let errors = recorded_errors();
    let mut failures = Vec::new();
    let mut counts = BTreeMap::from([("match", 0), ("no match", 0), ("error", 0)]);
    let mut files: Vec<PathBuf> = fs::read_dir(data_dir().join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json5"))
        .collect();
    files.sort();
    for file in &files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_string();
        let case: Value = serde_json::from_str(&json5_to_json(&fs::read_to_string(file).unwrap()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let pattern_text = case["EventPattern"].to_string();
        let result = EventPattern::parse(&pattern_text);
        let outcome = if name.ends_with("_EXC") {
            *counts.get_mut("error").unwrap() += 1;
            let expected = errors
                .get(&name)
                .unwrap_or_else(|| panic!("{name}: no recording"));
            match result {
                Err(e) if e.to_string() == *expected => None,
                Err(e) => Some(format!("refused with {e:?}, AWS said {expected:?}")),
                Ok(_) => Some(format!("accepted, AWS said {expected:?}")),
            }
        } else {
            let want = !name.ends_with("_NEG");
            *counts
                .get_mut(if want { "match" } else { "no match" })
                .unwrap() += 1;
            match result {
                Ok(p) if p.matches(&case["Event"]) == want => None,
                Ok(_) => Some(format!("matched={}, AWS said {want}", !want)),
                Err(e) => Some(format!("refused: {e}")),
            }
        };
        if let Some(problem) = outcome {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases differ from AWS:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(files.len(), 104, "case count changed: {counts:?}");
    assert_eq!(
        counts["error"],
        errors.len(),
        "every recorded error has its case"
    );
}

/// This pair has no recorded answer: a path given twice keeps its last condition, as AWS's
/// parser does by default.
#[test]
fn the_unrecorded_duplicate_key_pair_keeps_the_last_condition() {
    let dir = data_dir().join("cases");
    let pattern = fs::read_to_string(dir.join("complex_multi_key_event_pattern.json")).unwrap();
    let event: Value = serde_json::from_str(
        &fs::read_to_string(dir.join("complex_multi_key_event.json")).unwrap(),
    )
    .unwrap();
    assert!(EventPattern::parse(&pattern).unwrap().matches(&event));
}

#[test]
fn json5_cleanup_keeps_strings_intact() {
    let cleaned =
        json5_to_json("{\n // c\n \"a\": \"x // y, }\", \"b\": [1, 2,], /* z */ \"c\": \"🚀\",\n}");
    let v: Value = serde_json::from_str(&cleaned).unwrap();
    assert_eq!(v["a"], "x // y, }");
    assert_eq!(v["b"], serde_json::json!([1, 2]));
    assert_eq!(v["c"], "🚀");
}

// ---- InputTransformer recordings (`input-transformer-snapshot.json`) ----

use bosun_core::events::transform::{RuleContext, TargetInput};

/// The recordings' event as the snapshot shows it (ids, region and time already replaced).
fn recorded_event(detail: Value) -> Value {
    serde_json::json!({
        "version": "0", "id": "<uuid:3>", "detail-type": "core.update-account-command",
        "source": "core.update-account-command", "account": "111111111111", "time": "date",
        "region": "<region>", "resources": [], "detail": detail,
    })
}

fn event_detail() -> Value {
    serde_json::json!({"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}})
}

/// The detail the nested-keys recordings used, and their paths map.
fn nested_detail() -> Value {
    serde_json::json!({"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"},
        "listsingle": ["HIGH"], "listmulti": ["ACTIVE", "INACTIVE"], "valid": true})
}

fn paths(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const RULE: RuleContext = RuleContext {
    rule_name: "<rule-name>",
    rule_arn: "arn:<partition>:events:<region>:111111111111:rule/<bus-name>/<rule-name>",
    ingestion_time: "date",
};

/// A recorded body equals ours: text for a string body, JSON value for an object body.
fn same_body(ours: &str, recorded: &Value) -> bool {
    match recorded {
        Value::String(text) => ours == text,
        _ => serde_json::from_str::<Value>(ours).ok().as_ref() == Some(recorded),
    }
}

fn check_messages(
    key: &str,
    label: &str,
    recorded: &Value,
    ours: Result<String, String>,
    problems: &mut Vec<String>,
) {
    let messages = &recorded[label];
    match (messages.as_array(), ours) {
        (Some(list), Ok(body)) if list.len() == 1 && same_body(&body, &list[0]["Body"]) => {}
        (None, Err(_)) => {}
        (expected, got) => problems.push(format!("{key} {label}: AWS {expected:?}, ours {got:?}")),
    }
}

fn render(input: Result<TargetInput, String>, event: &Value) -> Result<String, String> {
    input?.render(event, &RULE).map_err(|e| e.to_string())
}

fn transformer(map: &BTreeMap<String, String>, template: &str) -> Result<TargetInput, String> {
    TargetInput::new("<target-id>", None, None, Some((map, template))).map_err(|e| e.message)
}

#[test]
fn every_input_transformer_recording_is_reproduced() {
    let text = fs::read_to_string(data_dir().join("input-transformer-snapshot.json")).unwrap();
    let snapshot: BTreeMap<String, Value> = serde_json::from_str(&text).unwrap();
    let basic = paths(&[
        ("detail-type", "$.detail-type"),
        ("timestamp", "$.time"),
        ("command", "$.detail.command"),
    ]);
    let missing = paths(&[
        ("detail-type", "$.detail-type"),
        ("timestamp", "$.time"),
        ("command", "$.detail.notinmessage"),
    ]);
    let nested = paths(&[
        ("userId", "$.detail.payload.acc_id"),
        ("payload", "$.detail.payload"),
        ("listsingle", "$.detail.listsingle"),
        ("listmulti", "$.detail.listmulti"),
        ("systemstring", "$.detail.systemstring"),
        ("valid", "$.detail.valid"),
    ]);
    let mut problems = Vec::new();
    let mut checked = 0;
    for (key, entry) in &snapshot {
        let recorded = &entry["recorded-content"];
        let test = key.rsplit("::").next().unwrap();
        let (name, param) = match test.split_once('[') {
            Some((n, p)) => (n, Some(p.strip_suffix(']').unwrap().replace("\\n", "\n"))),
            None => (test, None),
        };
        let path_input =
            |p: &str| TargetInput::new("t", None, Some(p), None).map_err(|e| e.message);
        let base = recorded_event(event_detail());
        match (name, param.as_deref()) {
            ("test_put_events_with_input_path", None) => check_messages(
                key,
                "message",
                recorded,
                render(path_input("$.detail"), &base),
                &mut problems,
            ),
            ("test_put_events_with_input_path_nested", Some(which)) => {
                let detail = if which == "event_detail0" {
                    event_detail()
                } else {
                    serde_json::json!({"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "payload": {"message": "baz", "id": "123"}}})
                };
                let ours = render(path_input("$.detail.payload"), &recorded_event(detail));
                check_messages(key, "message", recorded, ours, &mut problems)
            }
            ("test_put_events_with_input_path_max_level_depth", None) => check_messages(
                key,
                "message",
                recorded,
                render(path_input("$.detail.payload.sf_id"), &base),
                &mut problems,
            ),
            ("test_put_events_with_input_path_multiple_targets", None) => {
                check_messages(
                    key,
                    "message-queue-1",
                    recorded,
                    render(path_input("$.detail"), &base),
                    &mut problems,
                );
                let whole = TargetInput::new("t", None, None, None).map_err(|e| e.message);
                check_messages(
                    key,
                    "message-queue-2",
                    recorded,
                    render(whole, &base),
                    &mut problems,
                );
            }
            ("test_put_events_with_input_transformer_input_template_string", template)
            | ("test_put_events_with_input_transformer_input_template_json", template) => {
                let template = template.unwrap_or(if name.ends_with("json") {
                    "{\"detailType\": <detail-type>,  \"time\": <timestamp>, \"command\": <command>}"
                } else {
                    "\"Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>\""
                });
                check_messages(
                    key,
                    "custom-variables-match-all",
                    recorded,
                    render(transformer(&basic, template), &base),
                    &mut problems,
                );
                check_messages(
                    key,
                    "custom-variables-not-match-all",
                    recorded,
                    render(transformer(&missing, template), &base),
                    &mut problems,
                );
            }
            ("test_put_events_with_input_transformer_missing_keys", None) => {
                let template =
                    "\"Event of <detail-type> type, with not defined key <notdefinedkey>\"";
                let ours = transformer(&basic, template).err();
                let aws = recorded["missing-key-exception-error"]["Error"]["Message"].as_str();
                if ours.as_deref() != aws {
                    problems.push(format!("{key}: AWS {aws:?}, ours {ours:?}"));
                }
            }
            ("test_put_event_input_path_and_input_transformer", None) => {
                let template = "{\"detailType\": <detail-type>,  \"time\": <timestamp>, \"command\": <command>}";
                let ours = TargetInput::new(
                    "<target-id>",
                    None,
                    Some("$.detail"),
                    Some((&basic, template)),
                )
                .err()
                .map(|e| e.message);
                let aws =
                    recorded["duplicated-input-operations-error"]["Error"]["Message"].as_str();
                if ours.as_deref() != aws {
                    problems.push(format!("{key}: AWS {aws:?}, ours {ours:?}"));
                }
            }
            ("test_input_transformer_predefined_variables", Some(template)) => {
                let mut ours = render(transformer(&paths(&[]), template), &base);
                // The recorder replaced this time with a placeholder; do the same to ours.
                if let Ok(body) = &ours {
                    if let Ok(mut v) = serde_json::from_str::<Value>(body) {
                        if v.get("originalEvent").is_some() {
                            v["originalEvent"]["time"] = "<ingestion-time>".into();
                            v["originalEvent"]["id"] = "<uuid:2>".into();
                            v["originalEventJson"]["id"] = "<uuid:2>".into();
                            ours = Ok(v.to_string());
                        }
                    }
                }
                check_messages(key, "messages", recorded, ours, &mut problems)
            }
            ("test_input_transformer_nested_keys_replacement", Some(template)) => {
                let ours = render(
                    transformer(&nested, template),
                    &recorded_event(nested_detail()),
                );
                check_messages(
                    key,
                    "input-transformed-messages",
                    recorded,
                    ours,
                    &mut problems,
                )
            }
            _ => problems.push(format!("{key}: recording not understood by this test")),
        }
        checked += 1;
    }
    assert!(
        problems.is_empty(),
        "{} differ from AWS:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(checked, snapshot.len());
    assert!(checked >= 25, "only {checked} recordings");
}
