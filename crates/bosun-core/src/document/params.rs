//! The checks applied to the parameter values a caller passes (`SendCommand.Parameters`),
//! defaults filled in from the declarations.
//!
//! This is where a declaration's constraints bite (user guide, "Data elements and
//! parameters": `allowedValues`/`allowedPattern` validate the input and "the execution fails
//! to start"; the pattern is compiled "at the API level when you use a document"): a value,
//! or a default a command relies on, outside them is refused with `InvalidParameters`, as is a
//! pattern Bosun cannot compile.

use std::collections::BTreeMap;

use serde_json::Value;

use super::decl::{compile_pattern, Interpolation, ParameterDecl, ParameterType};

/// Resolved parameter values, each as the strings AWS passes (`Parameters` is
/// `map<string, list<string>>`).
pub type ResolvedParams = BTreeMap<String, Vec<String>>;

/// Why the caller's parameters were refused (maps to `InvalidParameters`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParamError(pub String);

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
            None => decl.default_values().ok_or_else(|| {
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

/// Check one parameter's values against its declaration (also used for defaults).
pub(crate) fn check_values(
    name: &str,
    decl: &ParameterDecl,
    values: &[String],
) -> Result<(), ParamError> {
    let fail = |why: String| Err(ParamError(format!("Parameter \"{name}\" {why}")));
    let single = matches!(
        decl.kind,
        ParameterType::String
            | ParameterType::Boolean
            | ParameterType::Integer
            | ParameterType::StringMap
    );
    if single && values.len() != 1 {
        return fail("takes exactly one value.".into());
    }
    for v in values {
        let ok = match decl.kind {
            ParameterType::Boolean => v == "true" || v == "false",
            ParameterType::Integer => v.parse::<i64>().is_ok(),
            ParameterType::StringMap | ParameterType::MapList => {
                serde_json::from_str::<Value>(v).is_ok_and(|m| m.is_object())
            }
            ParameterType::String | ParameterType::StringList => true,
        };
        if !ok {
            let want = match decl.kind {
                ParameterType::Boolean => "true or false",
                ParameterType::Integer => "an integer",
                _ => "a JSON object (a map of strings)",
            };
            return fail(format!("must be {want}."));
        }
    }
    if let Some(m) = decl.min_items.filter(|m| values.len() < *m) {
        return fail(format!("needs at least {m} items."));
    }
    if let Some(m) = decl.max_items.filter(|m| values.len() > *m) {
        return fail(format!("takes at most {m} items."));
    }
    let pattern = match &decl.allowed_pattern {
        Some(p) => Some(compile_pattern(p).map_err(ParamError)?),
        None => None,
    };
    for v in values {
        if decl.interpolation == Interpolation::EnvVar && v.contains('\0') {
            return fail(
                "has a value with a NUL character, which an environment variable cannot hold."
                    .into(),
            );
        }
        let n = v.chars().count();
        if let Some(m) = decl.min_chars.filter(|m| n < *m) {
            return fail(format!("has a value shorter than {m} characters."));
        }
        if let Some(m) = decl.max_chars.filter(|m| n > *m) {
            return fail(format!("has a value longer than {m} characters."));
        }
        if let Some(allowed) = &decl.allowed_values {
            if !allowed.contains(v) {
                return fail(format!("must be one of: {}.", allowed.join(", ")));
            }
        }
        if let (Some(re), Some(p)) = (&pattern, &decl.allowed_pattern) {
            if !re.is_match(v) {
                return fail(format!("does not match the allowed pattern {p}."));
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

    /// Declarations are not checked against their own constraints when the document is
    /// created; a default or a pattern that cannot work is refused when a command needs it.
    #[test]
    fn broken_defaults_and_patterns_fail_when_used() {
        let d = |v: Value| ParameterDecl::from_json(&v).unwrap();
        let id = vec![(
            "InstanceId".to_string(),
            d(
                serde_json::json!({"type": "String", "default": "", "allowedPattern": "^i-[a-z0-9]{8,17}$"}),
            ),
        )];
        let e = resolve_parameters(&id, &passed(&[])).unwrap_err();
        assert!(e.0.contains("does not match the allowed pattern"), "{e}");
        let r = resolve_parameters(&id, &passed(&[("InstanceId", &["i-0123456789abcdef0"])]));
        assert_eq!(r.unwrap()["InstanceId"], vec!["i-0123456789abcdef0"]);
        let look = vec![(
            "p".to_string(),
            d(serde_json::json!({"type": "String", "allowedPattern": "(?=a)a"})),
        )];
        let e = resolve_parameters(&look, &passed(&[("p", &["a"])])).unwrap_err();
        assert!(e.0.contains("look-around"), "{e}");
    }
}
