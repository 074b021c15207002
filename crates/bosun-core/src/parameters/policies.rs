//! Parameter policies (`Expiration`, `ExpirationNotification`, `NoChangeNotification`):
//! parsing the `Policies` JSON and deciding, for a given `now`, which ones are due.

use serde_json::Value;

use super::Rejection;

pub const MAX_POLICIES: usize = 10;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyKind {
    /// Delete the parameter at this time.
    Expiration { at_ms: i64 },
    /// Notify this long before the expiration.
    ExpirationNotification { before_ms: i64 },
    /// Notify when the parameter has not changed for this long.
    NoChangeNotification { after_ms: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub kind: PolicyKind,
    /// The policy's JSON text as returned in `PolicyText`.
    pub text: String,
}

impl Policy {
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            PolicyKind::Expiration { .. } => "Expiration",
            PolicyKind::ExpirationNotification { .. } => "ExpirationNotification",
            PolicyKind::NoChangeNotification { .. } => "NoChangeNotification",
        }
    }
}

fn attribute_error(message: impl Into<String>) -> Rejection {
    Rejection::new("InvalidPolicyAttributeException", message)
}

fn attr_string(attrs: &Value, name: &str) -> Option<String> {
    match attrs.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn duration(attrs: &Value, amount_key: &str, policy: &str) -> Result<i64, Rejection> {
    let amount: i64 = attr_string(attrs, amount_key)
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0 && *n <= 100_000)
        .ok_or_else(|| {
            attribute_error(format!(
                "{policy} needs Attributes.{amount_key}: a positive whole number."
            ))
        })?;
    let unit = match attr_string(attrs, "Unit").as_deref() {
        Some("Days") => DAY_MS,
        Some("Hours") => HOUR_MS,
        _ => {
            return Err(attribute_error(format!(
                "{policy} needs Attributes.Unit: Days or Hours."
            )))
        }
    };
    Ok(amount * unit)
}

/// Parse a `Policies` string. `Ok(vec![])` means "no policies" (`[]` or `[{}]`).
/// An `Expiration` time must be in the future (after `now_ms`).
pub fn parse(text: &str, now_ms: i64) -> Result<Vec<Policy>, Rejection> {
    let items: Vec<Value> = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .ok_or_else(|| attribute_error("Policies must be a JSON array of policy objects."))?;
    if items.len() > MAX_POLICIES {
        return Err(Rejection::new(
            "PoliciesLimitExceededException",
            format!("A parameter can have at most {MAX_POLICIES} policies."),
        ));
    }
    let mut out: Vec<Policy> = Vec::new();
    for item in items {
        let Some(obj) = item.as_object() else {
            return Err(attribute_error("Each policy must be a JSON object."));
        };
        if obj.is_empty() {
            continue;
        }
        let ty = obj.get("Type").and_then(Value::as_str).unwrap_or("");
        if obj.get("Version").and_then(Value::as_str) != Some("1.0") {
            return Err(attribute_error("Each policy needs \"Version\": \"1.0\"."));
        }
        let attrs = obj.get("Attributes").cloned().unwrap_or(Value::Null);
        let kind = match ty {
            "Expiration" => {
                let ts = attr_string(&attrs, "Timestamp").unwrap_or_default();
                let at = ts
                    .parse::<jiff::Timestamp>()
                    .map_err(|_| {
                        attribute_error(
                            "Expiration needs Attributes.Timestamp in ISO 8601 form with a time zone, e.g. 2030-01-31T00:00:00.000Z.",
                        )
                    })?
                    .as_millisecond();
                if at <= now_ms {
                    return Err(attribute_error(
                        "The Expiration timestamp must be in the future.",
                    ));
                }
                PolicyKind::Expiration { at_ms: at }
            }
            "ExpirationNotification" => PolicyKind::ExpirationNotification {
                before_ms: duration(&attrs, "Before", ty)?,
            },
            "NoChangeNotification" => PolicyKind::NoChangeNotification {
                after_ms: duration(&attrs, "After", ty)?,
            },
            other => {
                return Err(Rejection::new(
                    "InvalidPolicyTypeException",
                    format!("The policy type {other} is not supported. Supported types: Expiration, ExpirationNotification, NoChangeNotification."),
                ))
            }
        };
        let policy = Policy {
            kind,
            text: Value::Object(obj.clone()).to_string(),
        };
        if out.iter().any(|p| p.type_name() == policy.type_name()) {
            return Err(Rejection::new(
                "IncompatiblePolicyException",
                format!(
                    "A parameter can have only one {} policy.",
                    policy.type_name()
                ),
            ));
        }
        out.push(policy);
    }
    let has_expiration = out
        .iter()
        .any(|p| matches!(p.kind, PolicyKind::Expiration { .. }));
    if !has_expiration
        && out
            .iter()
            .any(|p| matches!(p.kind, PolicyKind::ExpirationNotification { .. }))
    {
        return Err(Rejection::new(
            "IncompatiblePolicyException",
            "An ExpirationNotification policy needs an Expiration policy on the same parameter.",
        ));
    }
    Ok(out)
}

/// The moment a policy takes effect for a version last modified at `modified_ms`.
pub fn due_at(policies: &[Policy], policy: &Policy, modified_ms: i64) -> Option<i64> {
    let expiration = policies.iter().find_map(|p| match p.kind {
        PolicyKind::Expiration { at_ms } => Some(at_ms),
        _ => None,
    });
    match policy.kind {
        PolicyKind::Expiration { at_ms } => Some(at_ms),
        PolicyKind::ExpirationNotification { before_ms } => expiration.map(|e| e - before_ms),
        PolicyKind::NoChangeNotification { after_ms } => Some(modified_ms + after_ms),
    }
}

/// Policies due at `now_ms` that have not fired yet (`fired` holds type names already done
/// for this version), in the order they should run: notifications before the expiration.
pub fn due<'a>(
    policies: &'a [Policy],
    modified_ms: i64,
    now_ms: i64,
    fired: &[String],
) -> Vec<&'a Policy> {
    let mut out: Vec<&Policy> = policies
        .iter()
        .filter(|p| !fired.iter().any(|f| f == p.type_name()))
        .filter(|p| due_at(policies, p, modified_ms).is_some_and(|t| t <= now_ms))
        .collect();
    out.sort_by_key(|p| matches!(p.kind, PolicyKind::Expiration { .. }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn parses_the_three_policy_types() {
        let text = r#"[
            {"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00.000Z"}},
            {"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"15","Unit":"Days"}},
            {"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"2","Unit":"Hours"}}
        ]"#;
        let p = parse(text, NOW).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[1].kind,
            PolicyKind::ExpirationNotification {
                before_ms: 15 * DAY_MS
            }
        );
        assert_eq!(p[2].type_name(), "NoChangeNotification");
        assert!(p[0].text.contains("\"Expiration\""));
        assert_eq!(parse("[{}]", NOW).unwrap(), vec![]);
    }

    #[test]
    fn rejects_bad_policies_with_aws_exceptions() {
        let code = |t: &str| parse(t, NOW).unwrap_err().code;
        assert_eq!(
            code(r#"[{"Type":"Rotate","Version":"1.0"}]"#),
            "InvalidPolicyTypeException"
        );
        assert_eq!(
            code(
                r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"tomorrow"}}]"#
            ),
            "InvalidPolicyAttributeException"
        );
        assert_eq!(
            code(
                r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2001-01-01T00:00:00Z"}}]"#
            ),
            "InvalidPolicyAttributeException"
        );
        assert_eq!(
            code(
                r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"2","Unit":"Weeks"}}]"#
            ),
            "InvalidPolicyAttributeException"
        );
        let exp = r#"{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00Z"}}"#;
        assert_eq!(
            code(&format!("[{exp},{exp}]")),
            "IncompatiblePolicyException"
        );
        assert_eq!(
            code(
                r#"[{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"1","Unit":"Days"}}]"#
            ),
            "IncompatiblePolicyException"
        );
        let many = [r#"{}"#; 11].join(",");
        assert_eq!(code(&format!("[{many}]")), "PoliciesLimitExceededException");
        assert_eq!(code("not json"), "InvalidPolicyAttributeException");
    }

    #[test]
    fn due_decisions_follow_now() {
        let at = jiff::Timestamp::from_millisecond(NOW + 10 * DAY_MS).unwrap();
        let text = format!(
            r#"[{{"Type":"Expiration","Version":"1.0","Attributes":{{"Timestamp":"{at}"}}}},
               {{"Type":"ExpirationNotification","Version":"1.0","Attributes":{{"Before":"1","Unit":"Days"}}}},
               {{"Type":"NoChangeNotification","Version":"1.0","Attributes":{{"After":"1","Unit":"Hours"}}}}]"#
        );
        let p = parse(&text, NOW).unwrap();
        assert!(due(&p, NOW, NOW, &[]).is_empty());
        let names = |v: Vec<&Policy>| v.iter().map(|p| p.type_name()).collect::<Vec<_>>();
        assert_eq!(
            names(due(&p, NOW, NOW + 2 * HOUR_MS, &[])),
            ["NoChangeNotification"]
        );
        assert!(due(&p, NOW, NOW + 2 * HOUR_MS, &["NoChangeNotification".into()]).is_empty());
        let all = names(due(&p, NOW, NOW + 11 * DAY_MS, &[]));
        assert_eq!(all.last(), Some(&"Expiration"));
        assert_eq!(all.len(), 3);
        assert_eq!(
            names(due(
                &p,
                NOW,
                NOW + 9 * DAY_MS + HOUR_MS,
                &["NoChangeNotification".into()]
            )),
            ["ExpirationNotification"]
        );
    }
}
