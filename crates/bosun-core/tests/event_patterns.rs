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
        let name = key.rsplit_once('[').unwrap().1.trim_end_matches(']').to_string();
        if let Some(message) = entry["recorded-content"][&name]["exception_message"]["Error"]
            ["Message"]
            .as_str()
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
            let expected = errors.get(&name).unwrap_or_else(|| panic!("{name}: no recording"));
            match result {
                Err(e) if e.to_string() == *expected => None,
                Err(e) => Some(format!("refused with {e:?}, AWS said {expected:?}")),
                Ok(_) => Some(format!("accepted, AWS said {expected:?}")),
            }
        } else {
            let want = !name.ends_with("_NEG");
            *counts.get_mut(if want { "match" } else { "no match" }).unwrap() += 1;
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
    assert!(failures.is_empty(), "{} cases differ from AWS:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(files.len(), 104, "case count changed: {counts:?}");
    assert_eq!(counts["error"], errors.len(), "every recorded error has its case");
}

/// This pair has no recorded answer: a path given twice keeps its last condition, as AWS's
/// parser does by default.
#[test]
fn the_unrecorded_duplicate_key_pair_keeps_the_last_condition() {
    let dir = data_dir().join("cases");
    let pattern = fs::read_to_string(dir.join("complex_multi_key_event_pattern.json")).unwrap();
    let event: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("complex_multi_key_event.json")).unwrap())
            .unwrap();
    assert!(EventPattern::parse(&pattern).unwrap().matches(&event));
}

#[test]
fn json5_cleanup_keeps_strings_intact() {
    let cleaned = json5_to_json("{\n // c\n \"a\": \"x // y, }\", \"b\": [1, 2,], /* z */ \"c\": \"🚀\",\n}");
    let v: Value = serde_json::from_str(&cleaned).unwrap();
    assert_eq!(v["a"], "x // y, }");
    assert_eq!(v["b"], serde_json::json!([1, 2]));
    assert_eq!(v["c"], "🚀");
}
