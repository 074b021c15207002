//! `InputTemplate` text with `<name>` placeholders, rendered the way EventBridge does:
//! - outside quotes a value goes in as JSON (`"text"`, `5`, `{"a":1}`; a missing one as `""`);
//! - inside quotes a string goes in as its raw text (not escaped), a number or boolean as its
//!   text, and an object or list is flattened with every quote removed (`{a:1}`) in a string
//!   template, or put in as JSON in a JSON template (which makes the body invalid);
//! - a missing value inside quotes is the empty string.
//!
//! A template whose trimmed text starts with `{` is a JSON template; any other is a string
//! template (a JSON string literal, quotes included, or several on separate lines).

use serde_json::Value;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Placeholder { name: String, quoted: bool },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    json: bool,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

impl Template {
    pub(crate) fn parse(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut pieces = Vec::new();
        let mut literal_start = 0;
        let (mut in_string, mut escaped) = (false, false);
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'<' {
                let name_len = bytes[i + 1..]
                    .iter()
                    .take_while(|&&c| is_name_byte(c))
                    .count();
                if name_len > 0 && bytes.get(i + 1 + name_len) == Some(&b'>') {
                    if literal_start < i {
                        pieces.push(Piece::Text(text[literal_start..i].to_string()));
                    }
                    pieces.push(Piece::Placeholder {
                        name: text[i + 1..i + 1 + name_len].to_string(),
                        quoted: in_string,
                    });
                    i += name_len + 2;
                    literal_start = i;
                    escaped = false;
                    continue;
                }
            }
            if in_string && escaped {
                escaped = false;
            } else if in_string && b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = !in_string;
            }
            i += 1;
        }
        if literal_start < bytes.len() {
            pieces.push(Piece::Text(text[literal_start..].to_string()));
        }
        Template {
            pieces,
            json: text.trim_start().starts_with('{'),
        }
    }

    /// Every placeholder: its name and whether it sits inside quotes.
    pub(crate) fn placeholders(&self) -> impl Iterator<Item = (&str, bool)> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Placeholder { name, quoted } => Some((name.as_str(), *quoted)),
            Piece::Text(_) => None,
        })
    }

    /// Fills the placeholders from `lookup` (`None`: nothing at that path).
    pub(crate) fn render<'v>(&self, lookup: impl Fn(&str) -> Option<Cow<'v, Value>>) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Placeholder { name, quoted } => {
                    let value = lookup(name);
                    match (value.as_deref(), *quoted) {
                        (None, true) => {}
                        (None, false) => out.push_str("\"\""),
                        (Some(v), false) => out.push_str(&v.to_string()),
                        (Some(Value::String(s)), true) => out.push_str(s),
                        (Some(v @ (Value::Object(_) | Value::Array(_))), true) => {
                            if self.json {
                                out.push_str(&v.to_string());
                            } else {
                                out.extend(v.to_string().chars().filter(|&c| c != '"'));
                            }
                        }
                        (Some(v), true) => out.push_str(&v.to_string()),
                    }
                }
            }
        }
        out
    }
}

/// Whether a rendered body is what a target can be sent: one or more JSON values separated by
/// whitespace (a string template may hold several quoted lines).
pub(crate) fn is_deliverable(body: &str) -> bool {
    let mut values = serde_json::Deserializer::from_str(body).into_iter::<serde::de::IgnoredAny>();
    let mut any = false;
    for value in values.by_ref() {
        if value.is_err() {
            return false;
        }
        any = true;
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(template: &str, vars: &Value) -> String {
        Template::parse(template).render(|name| vars.get(name).map(Cow::Borrowed))
    }

    #[test]
    fn placeholders_know_whether_they_are_quoted() {
        let t = Template::parse(r#"{"a": <x>, "b": "p/<y>/\"<z>", "c <w>": 1} < not > <a b>"#);
        let found: Vec<(&str, bool)> = t.placeholders().collect();
        assert_eq!(found, [("x", false), ("y", true), ("z", true), ("w", true)]);
    }

    #[test]
    fn values_render_by_type_and_position() {
        let vars = json!({"s": "t", "n": 5, "o": {"a": "b"}, "l": ["x", "y"], "q": "say \"hi\""});
        assert_eq!(
            render(r#"{"v": <s>, "w": <n>, "x": <o>}"#, &vars),
            r#"{"v": "t", "w": 5, "x": {"a":"b"}}"#
        );
        assert_eq!(
            render(r#""<s> <n> <o> <l>""#, &vars),
            r#""t 5 {a:b} [x,y]""#
        );
        assert_eq!(render(r#"{"v": "<o>"}"#, &vars), r#"{"v": "{"a":"b"}"}"#);
        assert_eq!(
            render(r#"{"v": <missing>, "w": "<missing>"}"#, &vars),
            r#"{"v": "", "w": ""}"#
        );
        // Values are not escaped inside quotes, so this body cannot be delivered.
        assert!(!is_deliverable(&render(r#""<q>""#, &vars)));
    }

    #[test]
    fn deliverable_bodies_are_json_values() {
        assert!(is_deliverable("\"a\"\n\"b\""));
        assert!(is_deliverable("{\"a\": 1}"));
        assert!(!is_deliverable("[HIGH] single list item"));
        assert!(!is_deliverable(""));
    }
}
