//! Document parameter declarations and the checks applied to the values a caller passes.

use std::collections::BTreeMap;

use serde_json::Value;

/// The parameter types of Command documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterType {
    String,
    StringList,
    Boolean,
    Integer,
    StringMap,
    MapList,
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDecl {
    pub kind: ParameterType,
    pub default: Option<Value>,
    pub allowed_values: Option<Vec<String>>,
    pub allowed_pattern: Option<String>,
    pub min_items: Option<usize>,
    pub max_items: Option<usize>,
    pub min_chars: Option<usize>,
    pub max_chars: Option<usize>,
}

impl ParameterDecl {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let obj = v.as_object().ok_or("the declaration must be an object")?;
        let kind = match obj.get("type").and_then(Value::as_str) {
            Some("String") => ParameterType::String,
            Some("StringList") => ParameterType::StringList,
            Some("Boolean") => ParameterType::Boolean,
            Some("Integer") => ParameterType::Integer,
            Some("StringMap") => ParameterType::StringMap,
            Some("MapList") => ParameterType::MapList,
            Some(other) => return Err(format!("unknown type {other}")),
            None => return Err("type is required".into()),
        };
        let usize_of = |k: &str| obj.get(k).and_then(Value::as_u64).map(|n| n as usize);
        let allowed_pattern = obj
            .get("allowedPattern")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(p) = &allowed_pattern {
            regex::Regex::new(p)
                .map_err(|e| format!("allowedPattern is not a valid pattern: {e}"))?;
        }
        Ok(Self {
            kind,
            default: obj.get("default").cloned(),
            allowed_values: obj.get("allowedValues").and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect()
            }),
            allowed_pattern,
            min_items: usize_of("minItems"),
            max_items: usize_of("maxItems"),
            min_chars: usize_of("minChars"),
            max_chars: usize_of("maxChars"),
        })
    }
}

/// Resolved parameter values, each as the strings AWS passes (`Parameters` is
/// `map<string, list<string>>`).
pub type ResolvedParams = BTreeMap<String, Vec<String>>;

/// Why the caller's parameters were refused (maps to `InvalidParameters`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParamError(pub String);

fn default_values(decl: &ParameterDecl) -> Option<Vec<String>> {
    decl.default.as_ref().map(|d| match d {
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect(),
        Value::String(s) => vec![s.clone()],
        other => vec![other.to_string()],
    })
}

/// Check the passed values against the declarations and fill in defaults.
pub fn resolve_parameters(
    decls: &[(String, ParameterDecl)],
    passed: &BTreeMap<String, Vec<String>>,
) -> Result<ResolvedParams, ParamError> {
    if let Some(unknown) = passed.keys().find(|k| !decls.iter().any(|(n, _)| n == *k)) {
        return Err(ParamError(format!(
            "Parameter \"{unknown}\" is not declared by the document."
        )));
    }
    let mut out = ResolvedParams::new();
    for (name, decl) in decls {
        let values = match passed.get(name) {
            Some(v) => v.clone(),
            None => default_values(decl).ok_or_else(|| {
                ParamError(format!(
                    "Parameter \"{name}\" is required and has no default."
                ))
            })?,
        };
        check_values(name, decl, &values)?;
        out.insert(name.clone(), values);
    }
    Ok(out)
}

fn check_values(name: &str, decl: &ParameterDecl, values: &[String]) -> Result<(), ParamError> {
    let fail = |why: String| Err(ParamError(format!("Parameter \"{name}\" {why}")));
    match decl.kind {
        ParameterType::String | ParameterType::Boolean | ParameterType::Integer
            if values.len() > 1 =>
        {
            return fail("takes a single value.".into())
        }
        ParameterType::Boolean if !values.iter().all(|v| v == "true" || v == "false") => {
            return fail("must be true or false.".into())
        }
        ParameterType::Integer if !values.iter().all(|v| v.parse::<i64>().is_ok()) => {
            return fail("must be an integer.".into())
        }
        _ => {}
    }
    if decl.min_items.is_some_and(|m| values.len() < m) {
        return fail(format!(
            "needs at least {} items.",
            decl.min_items.unwrap_or(0)
        ));
    }
    if decl.max_items.is_some_and(|m| values.len() > m) {
        return fail(format!(
            "takes at most {} items.",
            decl.max_items.unwrap_or(0)
        ));
    }
    for v in values {
        let n = v.chars().count();
        if decl.min_chars.is_some_and(|m| n < m) || decl.max_chars.is_some_and(|m| n > m) {
            return fail("has a value of the wrong length.".into());
        }
        if let Some(allowed) = &decl.allowed_values {
            if !allowed.contains(v) {
                return fail(format!("must be one of: {}.", allowed.join(", ")));
            }
        }
        if let Some(pattern) = &decl.allowed_pattern {
            let re = regex::Regex::new(pattern).map_err(|e| ParamError(e.to_string()))?;
            if !re.is_match(v) {
                return fail(format!("does not match the allowed pattern {pattern}."));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls() -> Vec<(String, ParameterDecl)> {
        let d = |v: Value| ParameterDecl::from_json(&v).unwrap();
        vec![
            (
                "commands".into(),
                d(serde_json::json!({"type": "StringList", "minItems": 1})),
            ),
            (
                "timeout".into(),
                d(
                    serde_json::json!({"type": "String", "default": "3600", "allowedPattern": "^[0-9]+$"}),
                ),
            ),
            (
                "mode".into(),
                d(
                    serde_json::json!({"type": "String", "default": "a", "allowedValues": ["a", "b"]}),
                ),
            ),
        ]
    }

    fn passed(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn defaults_fill_in_and_values_are_checked() {
        let r = resolve_parameters(&decls(), &passed(&[("commands", &["echo hi"])])).unwrap();
        assert_eq!(r["timeout"], vec!["3600"]);
        assert_eq!(r["mode"], vec!["a"]);
        assert!(
            resolve_parameters(&decls(), &passed(&[])).is_err(),
            "commands is required"
        );
        assert!(
            resolve_parameters(&decls(), &passed(&[("commands", &[])])).is_err(),
            "minItems"
        );
        assert!(resolve_parameters(
            &decls(),
            &passed(&[("commands", &["x"]), ("timeout", &["1;rm"])])
        )
        .is_err());
        assert!(
            resolve_parameters(&decls(), &passed(&[("commands", &["x"]), ("mode", &["c"])]))
                .is_err()
        );
        let e = resolve_parameters(
            &decls(),
            &passed(&[("commands", &["x"]), ("bogus", &["1"])]),
        )
        .unwrap_err();
        assert!(e.0.contains("bogus"));
    }
}
