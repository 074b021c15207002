//! The JSONPath subset EventBridge's `InputPath` and `InputPathsMap` use: `$`, `.name`,
//! `['name']`, `[0]`, and `*` / `[*]` (every member or element, delivered as a list).

use serde_json::Value;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Every,
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses a path; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let mut rest = text.strip_prefix('$')?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let name = &after[..end];
                let odd = |c: char| matches!(c, ']' | '\'' | '"') || c.is_whitespace();
                if name.is_empty() || name.contains(odd) {
                    return None;
                }
                steps.push(if name == "*" {
                    Step::Every
                } else {
                    Step::Key(name.to_string())
                });
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']')?;
                let inside = &after[..end];
                steps.push(bracket_step(inside)?);
                rest = &after[end + 1..];
            } else {
                return None;
            }
        }
        Some(JsonPath { steps })
    }

    /// The value at the path, `None` when nothing is there. A path with `*` gives the list of
    /// everything it reaches.
    pub fn select<'a>(&self, root: &'a Value) -> Option<Cow<'a, Value>> {
        if !self.steps.contains(&Step::Every) {
            let mut here = root;
            for step in &self.steps {
                here = match (step, here) {
                    (Step::Key(k), Value::Object(map)) => map.get(k)?,
                    (Step::Index(i), Value::Array(items)) => items.get(*i)?,
                    _ => return None,
                };
            }
            return Some(Cow::Borrowed(here));
        }
        let mut found = Vec::new();
        collect(&self.steps, root, &mut found);
        (!found.is_empty()).then_some(Cow::Owned(Value::Array(found)))
    }
}

fn bracket_step(inside: &str) -> Option<Step> {
    if inside == "*" {
        return Some(Step::Every);
    }
    for quote in ['\'', '"'] {
        if let Some(name) = inside
            .strip_prefix(quote)
            .and_then(|s| s.strip_suffix(quote))
        {
            return Some(Step::Key(name.to_string()));
        }
    }
    if !inside.is_empty() && inside.bytes().all(|b| b.is_ascii_digit()) {
        return inside.parse().ok().map(Step::Index);
    }
    None
}

fn collect(steps: &[Step], here: &Value, found: &mut Vec<Value>) {
    let Some((step, rest)) = steps.split_first() else {
        found.push(here.clone());
        return;
    };
    match (step, here) {
        (Step::Key(k), Value::Object(map)) => {
            if let Some(v) = map.get(k) {
                collect(rest, v, found);
            }
        }
        (Step::Index(i), Value::Array(items)) => {
            if let Some(v) = items.get(*i) {
                collect(rest, v, found);
            }
        }
        (Step::Every, Value::Object(map)) => map.values().for_each(|v| collect(rest, v, found)),
        (Step::Every, Value::Array(items)) => items.iter().for_each(|v| collect(rest, v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(path: &str, v: &Value) -> Option<Value> {
        JsonPath::parse(path)
            .unwrap()
            .select(v)
            .map(Cow::into_owned)
    }

    #[test]
    fn paths_select_members_elements_and_lists() {
        let v = json!({"detail-type": "t", "detail": {"a": {"b": 1}, "l": [{"x": 1}, {"x": 2}]}, "resources": ["r0"]});
        assert_eq!(at("$", &v), Some(v.clone()));
        assert_eq!(at("$.detail-type", &v), Some(json!("t")));
        assert_eq!(at("$.detail.a.b", &v), Some(json!(1)));
        assert_eq!(at("$.resources[0]", &v), Some(json!("r0")));
        assert_eq!(at("$['detail']['a']", &v), Some(json!({"b": 1})));
        assert_eq!(at("$.detail.l[*].x", &v), Some(json!([1, 2])));
        assert_eq!(at("$.detail.missing", &v), None);
        assert_eq!(at("$.resources[3]", &v), None);
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in ["", "detail", "$.", "$..a", "$[", "$[x]", "$.a]", "$a"] {
            assert_eq!(JsonPath::parse(bad), None, "{bad}");
        }
    }
}
