//! Document formats (`DocumentFormat`: JSON, YAML, TEXT): parsing content into one JSON value
//! and rendering a value back, as `GetDocument` does when asked for another format.
//!
//! YAML goes through `serde-saphyr` with a tight budget (depth, nodes, aliases, one document
//! per stream) so that a small hostile text cannot expand into a large tree, and with YAML 1.2
//! booleans (`yes`/`no`/`on`/`off` stay strings). The budget is Bosun's own rule (README,
//! "Bosun's own document rules"); real documents stay far inside it. A key repeated in one
//! mapping is refused because YAML itself requires keys to be unique (YAML 1.2, §3.2.1.1).

use serde_json::Value;

use super::limits::{check_content_size, MAX_DOCUMENT_SIZE_BYTES};
use super::DocumentError;

/// `DocumentFormat` of the SSM model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DocumentFormat {
    #[serde(rename = "JSON")]
    Json,
    #[serde(rename = "YAML")]
    Yaml,
    #[serde(rename = "TEXT")]
    Text,
}

impl DocumentFormat {
    /// The model's spelling (`JSON`, `YAML`, `TEXT`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Yaml => "YAML",
            Self::Text => "TEXT",
        }
    }

    /// Parse the model's spelling; `None` for anything else (callers report a
    /// `ValidationException` with the enum constraint).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "JSON" => Some(Self::Json),
            "YAML" => Some(Self::Yaml),
            "TEXT" => Some(Self::Text),
            _ => None,
        }
    }
}

/// Deepest nesting accepted in YAML content (real documents nest well under 20 levels).
pub const MAX_YAML_DEPTH: usize = 64;
/// Most YAML nodes accepted in one document (64 KB of text holds far fewer real nodes).
pub const MAX_YAML_NODES: usize = 50_000;
/// Most alias (`*ref`) uses accepted; each one replays its anchor, so keep the count small.
pub const MAX_YAML_ALIASES: usize = 256;

fn yaml_options() -> serde_saphyr::Options {
    let budget = serde_saphyr::budget! {
        max_reader_input_bytes: Some(MAX_DOCUMENT_SIZE_BYTES),
        max_events: 4 * MAX_YAML_NODES,
        max_aliases: MAX_YAML_ALIASES,
        max_anchors: MAX_YAML_ALIASES,
        max_recorded_anchor_events: MAX_YAML_NODES,
        max_recorded_anchor_bytes: 4 * MAX_DOCUMENT_SIZE_BYTES,
        max_depth: MAX_YAML_DEPTH,
        max_documents: 1,
        max_nodes: MAX_YAML_NODES,
        max_total_scalar_bytes: 4 * MAX_DOCUMENT_SIZE_BYTES,
        max_merge_keys: MAX_YAML_ALIASES,
    };
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = MAX_YAML_NODES;
    alias_limits.max_replay_stack_depth = 16;
    serde_saphyr::options! {
        budget: budget,
        alias_limits: alias_limits,
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    }
}

/// Parse document content in `format` into a JSON value. TEXT content (ChangeCalendar's
/// iCalendar) becomes a JSON string holding the text unchanged. Content over
/// [`MAX_DOCUMENT_SIZE_BYTES`] is refused before parsing.
pub fn parse_content(text: &str, format: DocumentFormat) -> Result<Value, DocumentError> {
    check_content_size(text)?;
    match format {
        DocumentFormat::Json => serde_json::from_str(text)
            .map_err(|e| DocumentError::content(format!("The content is not valid JSON: {e}."))),
        DocumentFormat::Yaml => {
            let value: Value =
                serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| {
                    DocumentError::content(format!(
                        "The content is not valid YAML: {}.",
                        first_line(&e.to_string())
                    ))
                })?;
            Ok(value)
        }
        DocumentFormat::Text => Ok(Value::String(text.to_string())),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim_end_matches('.')
}

/// Render a value in `format`: JSON pretty-printed, YAML block style, TEXT as the string itself
/// (a non-string value under TEXT is rendered as JSON).
pub fn render(value: &Value, format: DocumentFormat) -> String {
    match format {
        DocumentFormat::Json => {
            serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
        }
        DocumentFormat::Yaml => {
            serde_saphyr::to_string(value).unwrap_or_else(|_| value.to_string())
        }
        DocumentFormat::Text => match value {
            Value::String(s) => s.clone(),
            other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn yaml_and_json_agree() {
        let y = "schemaVersion: '2.2'\nmainSteps:\n  - name: a\n    action: aws:runShellScript\n    inputs:\n      runCommand: [echo hi]\n";
        let j = r#"{"schemaVersion":"2.2","mainSteps":[{"name":"a","action":"aws:runShellScript","inputs":{"runCommand":["echo hi"]}}]}"#;
        assert_eq!(
            parse_content(y, DocumentFormat::Yaml).unwrap(),
            parse_content(j, DocumentFormat::Json).unwrap()
        );
    }

    #[test]
    fn yaml_12_booleans_and_text() {
        let v = parse_content("a: yes\nb: true\nc: 'x'\n", DocumentFormat::Yaml).unwrap();
        assert_eq!(v, json!({"a": "yes", "b": true, "c": "x"}));
        let t = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
        assert_eq!(parse_content(t, DocumentFormat::Text).unwrap(), json!(t));
        assert_eq!(render(&json!(t), DocumentFormat::Text), t);
    }

    #[test]
    fn yaml_bombs_duplicates_and_streams_are_refused() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(parse_content(&bomb, DocumentFormat::Yaml).is_err());
        assert!(parse_content("a: 1\na: 2\n", DocumentFormat::Yaml).is_err());
        assert!(parse_content("a: 1\n---\nb: 2\n", DocumentFormat::Yaml).is_err());
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse_content(&deep, DocumentFormat::Yaml).is_err());
        let e = parse_content("{", DocumentFormat::Json).unwrap_err();
        assert_eq!(e.code(), "InvalidDocumentContent");
    }

    #[test]
    fn oversized_content_is_refused_before_parsing() {
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_DOCUMENT_SIZE_BYTES));
        let e = parse_content(&big, DocumentFormat::Json).unwrap_err();
        assert_eq!(e.code(), "MaxDocumentSizeExceeded");
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            // Exact binary fractions: serde_json's default float parsing (no `float_roundtrip`)
            // may be one ULP off for arbitrary decimals.
            (-1_000_000_000i64..1_000_000_000).prop_map(|n| json!(n as f64 / 64.0)),
            any::<String>().prop_map(Value::String),
            prop::sample::select(vec![
                "",
                "yes",
                "no",
                "null",
                "~",
                "123",
                "0x1F",
                "1e3",
                "- a",
                "a: b",
                "#x",
                "'q'",
                "\"d\"",
                "{{ p }}",
                " lead",
                "trail ",
                "multi\nline\n",
                "tab\tx",
                "*ref",
                "&a",
                "!tag",
                "%dir",
                "@at",
                "`b`",
                "true",
                "False",
                ".inf",
                "1_000",
                "0755",
            ])
            .prop_map(|s| Value::String(s.to_string())),
        ]
    }

    fn document() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z0-9_:. {}-]{0,12}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn json_round_trips(v in document()) {
            let text = render(&v, DocumentFormat::Json);
            prop_assert_eq!(parse_content(&text, DocumentFormat::Json).unwrap(), v);
        }

        #[test]
        fn yaml_round_trips(v in document()) {
            let text = render(&v, DocumentFormat::Yaml);
            let back = parse_content(&text, DocumentFormat::Yaml);
            prop_assert!(back.is_ok(), "{text:?}: {back:?}");
            prop_assert_eq!(back.unwrap(), v, "{}", text);
        }
    }
}
