//! Fuzz-style properties: arbitrary text and bytes through `parse_content` and `validate` (for
//! every format and type), and arbitrary parameter values through resolution and planning,
//! never panic and finish quickly.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::{
    parse_content, plan_steps, resolve_parameters, validate, CommandDocument, DocumentFormat,
    DocumentType,
};

const FORMATS: [DocumentFormat; 3] = [
    DocumentFormat::Json,
    DocumentFormat::Yaml,
    DocumentFormat::Text,
];

/// Text built from YAML/JSON punctuation and document words, to reach deep into the parsers.
fn document_like() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "-",
        " ",
        "\n",
        "  ",
        "\"",
        "'",
        "&a",
        "*a",
        "!!str",
        "<<",
        "---",
        "...",
        "#",
        "|",
        ">",
        "? ",
        "schemaVersion",
        "2.2",
        "0.3",
        "1.2",
        "1.0",
        "mainSteps",
        "runtimeConfig",
        "name",
        "action",
        "inputs",
        "aws:runShellScript",
        "runCommand",
        "parameters",
        "type",
        "String",
        "default",
        "{{ p }}",
        "precondition",
        "StringEquals",
        "platformType",
        "sessionType",
        "BEGIN:VCALENDAR",
        "null",
        "true",
        "1e999",
        "\\u0000",
    ]);
    prop::collection::vec(tokens, 0..120).prop_map(|t| t.concat())
}

fn check(text: &str) {
    for format in FORMATS {
        let started = Instant::now();
        if let Ok(value) = parse_content(text, format) {
            for t in DocumentType::ALL {
                let _ = validate(&value, t);
            }
        }
        let _ = CommandDocument::parse(text, format);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "slow on {text:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn document_like_text_never_panics(text in document_like()) {
        check(&text);
    }

    #[test]
    fn arbitrary_parameter_values_never_panic(values in prop::collection::vec(any::<String>(), 0..4), name in "[a-z]{1,3}") {
        let doc = CommandDocument::parse_json(r#"{"schemaVersion":"2.2","parameters":{
            "s":{"type":"String","default":"x","allowedPattern":"[a-z]*"},
            "l":{"type":"StringList","default":["a"],"maxItems":3},
            "i":{"type":"Integer","default":1},
            "m":{"type":"StringMap","default":{}},
            "e":{"type":"String","default":"","interpolationType":"ENV_VAR"}},
          "mainSteps":[{"name":"s","action":"aws:runShellScript","inputs":{
            "runCommand":["{{ l }}","echo {{ s }} {{ i }} {{ m }} {{ e }}"],"timeoutSeconds":"{{ i }}"}}]}"#).unwrap();
        for key in ["s", "l", "i", "m", "e", name.as_str()] {
            let passed = BTreeMap::from([(key.to_string(), values.clone())]);
            if let Ok(params) = resolve_parameters(&doc.parameters, &passed) {
                let _ = plan_steps(&doc, &params);
            }
        }
    }
}

#[test]
fn hostile_shapes_finish_quickly() {
    let cases = [
        "[".repeat(60_000),
        "{\"a\":".repeat(10_000),
        "- ".repeat(30_000),
        format!("a: &x {}\n", "[*x, ".repeat(1000)),
        "a:\n".to_string() + &"  ".repeat(10_000) + "b: c",
        "\"".to_string() + &"\\u0000".repeat(10_000) + "\"",
    ];
    for c in cases {
        check(&c);
    }
}
