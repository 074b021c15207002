//! JSONPath selectors over step responses (output `Selector`s and `PropertySelector`), and the
//! comparison of a selected property with `DesiredValues`.
//!
//! The JSONPath subset AWS's runbooks use (user guide, "Running automations with outputs" and
//! the AWS-owned runbooks): `$`, `.name`, `['name']`/`["name"]`, `[n]` (negative counts from
//! the end), and the wildcards `[*]`/`.*` (every element of a list or value of a map). A path
//! with a wildcard selects a list of every match (possibly empty), as Jayway JsonPath (the Java
//! library whose syntax AWS's examples follow) returns for indefinite paths; a path without
//! one selects a single value or nothing. Other JSONPath syntax (`..`, filters, slices) is not
//! supported: [`check_selector`] says so, and [`select`] selects nothing for it.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(i64),
    Wildcard,
}

fn parse(selector: &str) -> Result<Vec<Segment>, String> {
    let rest = selector
        .trim()
        .strip_prefix('$')
        .ok_or_else(|| format!("The selector {selector:?} must start with $."))?;
    let bad = |why: &str| Err(format!("The selector {selector:?} {why}."));
    let chars: Vec<char> = rest.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                if chars.get(i) == Some(&'*') {
                    out.push(Segment::Wildcard);
                    i += 1;
                    continue;
                }
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                if start == i {
                    return bad("has an empty name (recursive descent `..` is not supported)");
                }
                out.push(Segment::Key(chars[start..i].iter().collect()));
            }
            '[' => {
                let close = (i + 1..chars.len()).find(|&j| chars[j] == ']');
                let Some(close) = close else {
                    return bad("has an unclosed [");
                };
                let inner: String = chars[i + 1..close].iter().collect();
                let inner = inner.trim();
                let quoted = inner.len() >= 2
                    && ((inner.starts_with('\'') && inner.ends_with('\''))
                        || (inner.starts_with('"') && inner.ends_with('"')));
                if inner == "*" {
                    out.push(Segment::Wildcard);
                } else if quoted {
                    out.push(Segment::Key(inner[1..inner.len() - 1].to_string()));
                } else if let Ok(n) = inner.parse::<i64>() {
                    out.push(Segment::Index(n));
                } else {
                    return bad(&format!(
                        "uses [{inner}], which Bosun does not support (only [n], [*] and ['name'])"
                    ));
                }
                i = close + 1;
            }
            c => return bad(&format!("has {c:?} where . or [ should be")),
        }
    }
    Ok(out)
}

/// Whether Bosun can evaluate `selector`; the error says what it does not support.
pub fn check_selector(selector: &str) -> Result<(), String> {
    parse(selector).map(|_| ())
}

/// Evaluate a JSONPath selector (`$.a.b[0].c`, `$.a[*].b`, as AWS's outputs and
/// `PropertySelector` use) over a response.
pub fn select(value: &Value, selector: &str) -> Option<Value> {
    let segments = parse(selector).ok()?;
    let mut nodes = vec![value];
    let mut many = false;
    for seg in &segments {
        let mut next = Vec::new();
        for node in nodes {
            match (seg, node) {
                (Segment::Key(k), Value::Object(m)) => next.extend(m.get(k)),
                (Segment::Index(n), Value::Array(a)) => {
                    let at = if *n < 0 { a.len() as i64 + n } else { *n };
                    next.extend(usize::try_from(at).ok().and_then(|i| a.get(i)));
                }
                (Segment::Wildcard, Value::Array(a)) => next.extend(a),
                (Segment::Wildcard, Value::Object(m)) => next.extend(m.values()),
                _ => {}
            }
        }
        many |= *seg == Segment::Wildcard;
        nodes = next;
    }
    if many {
        Some(Value::Array(nodes.into_iter().cloned().collect()))
    } else {
        nodes.first().map(|v| (*v).clone())
    }
}

/// Whether a `PropertySelector`'s value matches one of `DesiredValues` (as
/// `aws:assertAwsResourceProperty`/`aws:waitForAwsResourceProperty` compare them).
///
/// A string, number or boolean matches when its text (numbers and booleans as JSON text,
/// `true`, `42`) equals one of the desired values exactly. A list (a wildcard selector)
/// matches when it is not empty and every element matches: the AWS pages say nothing about
/// lists, and "wait until every instance is running" is the reading that cannot end a wait
/// early. Null, maps and nothing selected never match.
pub fn property_matches(selected: &Value, desired: &[String]) -> bool {
    match selected {
        Value::String(s) => desired.iter().any(|d| d == s),
        Value::Number(_) | Value::Bool(_) => {
            let text = selected.to_string();
            desired.contains(&text)
        }
        Value::Array(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|v| !v.is_array() && property_matches(v, desired))
        }
        Value::Null | Value::Object(_) => false,
    }
}
