//! SNS subscription filter policies (`FilterPolicy`, `FilterPolicyScope`): which published
//! messages a subscription receives.
//!
//! The policy language is EventBridge's pattern language (SNS's filter policies share it:
//! exact values, `prefix`, `suffix`, `anything-but`, `numeric`, `exists`, `equals-ignore-case`,
//! `cidr`, `$or`), so a policy is compiled and matched by [`crate::events::pattern`]. With the
//! default scope `MessageAttributes` the policy is matched against the message's attributes —
//! `String` values as strings, `Number` as numbers, `String.Array` as the list it holds (any
//! element may match), `Binary` never; with `MessageBody`, against the message parsed as a JSON
//! object (a message that is not one matches nothing). SNS's limits: at most 5 keys, at most 150
//! value combinations.

use serde_json::{Map, Value};

use crate::events::pattern::EventPattern;

/// Most keys (attribute names, or leaf paths in a body policy) in one policy.
pub const MAX_KEYS: usize = 5;
/// Most value combinations (the product of each key's value count, summed over `$or`).
pub const MAX_COMBINATIONS: usize = 150;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    MessageAttributes,
    MessageBody,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "MessageAttributes" => Some(Scope::MessageAttributes),
            "MessageBody" => Some(Scope::MessageBody),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::MessageAttributes => "MessageAttributes",
            Scope::MessageBody => "MessageBody",
        }
    }
}

/// A checked, compiled filter policy.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPolicy {
    pattern: EventPattern,
    scope: Scope,
}

/// Leaf keys and value combinations of a policy object.
fn measure(policy: &Map<String, Value>) -> (usize, usize) {
    let mut keys = 0;
    let mut combinations = 1usize;
    let mut alternatives = 0usize;
    for (k, v) in policy {
        match (k.as_str(), v) {
            ("$or", Value::Array(branches)) => {
                for b in branches.iter().filter_map(Value::as_object) {
                    let (k2, c2) = measure(b);
                    keys += k2;
                    alternatives = alternatives.saturating_add(c2);
                }
            }
            (_, Value::Object(inner)) => {
                let (k2, c2) = measure(inner);
                keys += k2;
                combinations = combinations.saturating_mul(c2.max(1));
            }
            (_, Value::Array(values)) => {
                keys += 1;
                combinations = combinations.saturating_mul(values.len().max(1));
            }
            _ => keys += 1,
        }
    }
    if alternatives > 0 {
        combinations = combinations.saturating_mul(alternatives);
    }
    (keys, combinations)
}

impl FilterPolicy {
    /// Check and compile `policy`; `Err` is the reason SNS's `InvalidParameter` gives after
    /// `Invalid parameter: FilterPolicy: `.
    pub fn parse(policy: &str, scope: Scope) -> Result<FilterPolicy, String> {
        let value: Value =
            serde_json::from_str(policy).map_err(|e| format!("failed to parse JSON. {e}"))?;
        let Value::Object(object) = &value else {
            return Err("Filter policy must be a JSON object".into());
        };
        if object.is_empty() {
            return Err("Filter policy can not be empty".into());
        }
        let (keys, combinations) = measure(object);
        if keys > MAX_KEYS {
            return Err(format!(
                "Filter policy can not have more than {MAX_KEYS} keys"
            ));
        }
        if combinations > MAX_COMBINATIONS {
            return Err("Filter policy is too complex".into());
        }
        let pattern = EventPattern::parse(policy).map_err(|e| e.reason)?;
        Ok(FilterPolicy { pattern, scope })
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Whether a message with these attributes (`{"name": {"Type": …, "Value": …}}`) passes.
    pub fn matches(&self, message: &str, attributes: &Value) -> bool {
        match self.scope {
            Scope::MessageBody => serde_json::from_str::<Value>(message)
                .ok()
                .filter(Value::is_object)
                .is_some_and(|body| self.pattern.matches(&body)),
            Scope::MessageAttributes => self.pattern.matches(&attributes_object(attributes)),
        }
    }
}

/// Message attributes as the object a policy is matched against.
pub fn attributes_object(attributes: &Value) -> Value {
    let mut out = Map::new();
    for (name, a) in attributes.as_object().into_iter().flatten() {
        let value = a.get("Value").and_then(Value::as_str).unwrap_or_default();
        let typed = match a.get("Type").and_then(Value::as_str).unwrap_or_default() {
            t if t.starts_with("String.Array") => serde_json::from_str::<Value>(value)
                .ok()
                .filter(Value::is_array),
            t if t.starts_with("Number") => value
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
            t if t.starts_with("String") => Some(Value::String(value.to_string())),
            _ => None,
        };
        if let Some(v) = typed {
            out.insert(name.clone(), v);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(pairs: &[(&str, &str, &str)]) -> Value {
        let mut m = Map::new();
        for (n, t, v) in pairs {
            m.insert(n.to_string(), json!({"Type": t, "Value": v}));
        }
        Value::Object(m)
    }

    #[test]
    fn attribute_policies_match_typed_values() {
        let p = FilterPolicy::parse(
            r#"{"severity": ["critical", {"prefix": "sev1"}], "load": [{"numeric": [">=", 90]}]}"#,
            Scope::MessageAttributes,
        )
        .unwrap();
        let m = |a: &Value| p.matches("text", a);
        assert!(m(&attrs(&[
            ("severity", "String", "critical"),
            ("load", "Number", "95")
        ])));
        assert!(m(&attrs(&[
            ("severity", "String", "sev1-db"),
            ("load", "Number", "90")
        ])));
        assert!(!m(&attrs(&[
            ("severity", "String", "low"),
            ("load", "Number", "95")
        ])));
        assert!(!m(&attrs(&[
            ("severity", "String", "critical"),
            ("load", "Number", "10")
        ])));
        assert!(
            !m(&attrs(&[("severity", "String", "critical")])),
            "every key must match"
        );
        assert!(!m(&json!({})), "no attributes, no match");
        let arr = FilterPolicy::parse(r#"{"teams": ["db"]}"#, Scope::MessageAttributes).unwrap();
        assert!(arr.matches("", &attrs(&[("teams", "String.Array", r#"["web","db"]"#)])));
        assert!(!arr.matches("", &attrs(&[("teams", "Binary", "ZGI=")])));
    }

    #[test]
    fn body_policies_match_the_json_message() {
        let p = FilterPolicy::parse(r#"{"detail": {"status": ["Failed"]}}"#, Scope::MessageBody)
            .unwrap();
        assert!(p.matches(r#"{"detail": {"status": "Failed"}}"#, &json!({})));
        assert!(!p.matches(r#"{"detail": {"status": "Success"}}"#, &json!({})));
        assert!(
            !p.matches("Failed", &json!({})),
            "not JSON: nothing matches"
        );
    }

    #[test]
    fn bad_policies_are_refused_with_a_reason() {
        let bad = |p: &str| FilterPolicy::parse(p, Scope::MessageAttributes).unwrap_err();
        assert!(bad("[1]").contains("JSON object"));
        assert!(bad("{").contains("parse"));
        assert!(bad("{}").contains("empty"));
        assert!(
            bad(r#"{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}"#)
                .contains("more than 5 keys")
        );
        let many: Vec<String> = (0..13).map(|i| format!("\"v{i}\"")).collect();
        let list = many.join(",");
        assert!(bad(&format!(r#"{{"a":[{list}],"b":[{list}]}}"#)).contains("too complex"));
        assert!(
            bad(r#"{"a": "not-a-list"}"#).len() > 5,
            "EventBridge's own reason"
        );
    }
}
