//! `{{ name }}` interpolation with the SSM Agent's type rules:
//!
//! - a string that is exactly one reference (`"{{ commands }}"`, whitespace inside the braces
//!   allowed) becomes the parameter's typed value: a list for StringList/MapList, an object for
//!   StringMap, a JSON bool/number for Boolean/Integer, a string for String;
//! - a reference inside a larger string is replaced by the value's text: a String as itself,
//!   anything else as compact JSON (a StringList `["a","b"]` gives `["a","b"]`), as the agent's
//!   `agent/parameters` package marshals non-string values;
//! - a reference to an undeclared parameter is an error; `{{ssm:…}}`/`{{ssm-secure:…}}` stay in
//!   the plan for the server to resolve at delivery; other `{{ … }}` text (Go templates such as
//!   `{{.State}}`) stays as is;
//! - values are never scanned again, so a value holding `{{other}}` stays literal.
//!
//! In [`Mode::Script`] (the text of `runCommand`), a reference to an `ENV_VAR` parameter is
//! replaced by the shell reference `${SSM_<name>}` instead of the value; the value travels in
//! the step's environment ([`env_var_name`]).

use serde_json::Value;

use super::decl::{valid_parameter_name, Interpolation, ParameterDecl, ParameterType};
use super::plan::PlanError;
use super::ResolvedParams;

/// Where the text being interpolated ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Data handed to a plugin (paths, timeouts, preconditions): values are spliced.
    Data,
    /// Script text run by a shell: `ENV_VAR` parameters become `${SSM_<name>}`.
    Script,
}

/// The declarations and resolved values references are looked up in.
pub(crate) struct Scope<'a> {
    pub decls: &'a [(String, ParameterDecl)],
    pub values: &'a ResolvedParams,
}

/// The environment variable that carries an `ENV_VAR` parameter: `SSM_<name>`.
pub fn env_var_name(parameter: &str) -> String {
    format!("SSM_{parameter}")
}

/// A parameter's resolved values as the typed JSON value a whole-value reference yields.
pub fn typed_value(decl: &ParameterDecl, values: &[String]) -> Value {
    let first = values.first().cloned().unwrap_or_default();
    let object = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.into()));
    match decl.kind {
        ParameterType::String => Value::String(first),
        ParameterType::StringList => values.iter().cloned().map(Value::String).collect(),
        ParameterType::Boolean => Value::Bool(first == "true"),
        ParameterType::Integer => first
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(first)),
        ParameterType::StringMap => object(&first),
        ParameterType::MapList => values.iter().map(|s| object(s)).collect(),
    }
}

/// A typed value as text inside a larger string.
pub(crate) fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One `{{ … }}` occurrence: byte range in the text and the trimmed inner text.
pub(crate) struct Reference<'t> {
    pub start: usize,
    pub end: usize,
    pub inner: &'t str,
}

/// Every `{{ … }}` in `text`, left to right (an unclosed `{{` ends the scan).
pub(crate) fn references(text: &str) -> Vec<Reference<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        out.push(Reference {
            start: open,
            end: close + 2,
            inner: text[open + 2..close].trim(),
        });
        from = close + 2;
    }
    out
}

/// Whether the inner text of a reference is a Parameter Store reference.
pub(crate) fn is_store_inner(inner: &str) -> bool {
    inner.starts_with("ssm:") || inner.starts_with("ssm-secure:")
}

impl Scope<'_> {
    fn lookup(&self, name: &str) -> Result<Option<(&ParameterDecl, &[String])>, PlanError> {
        if is_store_inner(name) {
            // Parameter Store references stay in the plan; the server resolves them when it
            // delivers the command (see `references`).
            return Ok(None);
        }
        if !valid_parameter_name(name) {
            return Ok(None);
        }
        let decl = self.decls.iter().find(|(n, _)| n == name).map(|(_, d)| d);
        match (decl, self.values.get(name)) {
            (Some(d), Some(v)) => Ok(Some((d, v.as_slice()))),
            _ => Err(PlanError::InvalidDocument(format!(
                "The document references the undeclared parameter {name}."
            ))),
        }
    }

    /// Interpolate one string. A whole-value reference yields the typed value.
    pub fn string(&self, text: &str, mode: Mode) -> Result<Value, PlanError> {
        let refs = references(text);
        if let [only] = refs.as_slice() {
            if only.start == 0 && only.end == text.len() {
                if let Some((decl, values)) = self.lookup(only.inner)? {
                    if mode == Mode::Script && decl.interpolation == Interpolation::EnvVar {
                        return Ok(Value::String(format!("${{{}}}", env_var_name(only.inner))));
                    }
                    return Ok(typed_value(decl, values));
                }
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for r in refs {
            let Some((decl, values)) = self.lookup(r.inner)? else {
                continue;
            };
            out.push_str(&text[last..r.start]);
            if mode == Mode::Script && decl.interpolation == Interpolation::EnvVar {
                out.push_str(&format!("${{{}}}", env_var_name(r.inner)));
            } else {
                out.push_str(&text_of(&typed_value(decl, values)));
            }
            last = r.end;
        }
        out.push_str(&text[last..]);
        Ok(Value::String(out))
    }

    /// Interpolate every string inside a JSON value (keys are left alone).
    pub fn value(&self, v: &Value, mode: Mode) -> Result<Value, PlanError> {
        Ok(match v {
            Value::String(s) => self.string(s, mode)?,
            Value::Array(a) => a
                .iter()
                .map(|x| self.value(x, mode))
                .collect::<Result<_, _>>()?,
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), self.value(x, mode)?)))
                    .collect::<Result<_, PlanError>>()?,
            ),
            other => other.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decls() -> Vec<(String, ParameterDecl)> {
        [
            ("s", json!({"type": "String"})),
            ("l", json!({"type": "StringList"})),
            ("b", json!({"type": "Boolean"})),
            ("i", json!({"type": "Integer"})),
            ("m", json!({"type": "StringMap"})),
            ("ml", json!({"type": "MapList"})),
            (
                "e",
                json!({"type": "String", "interpolationType": "ENV_VAR"}),
            ),
        ]
        .into_iter()
        .map(|(n, d)| (n.to_string(), ParameterDecl::from_json(&d).unwrap()))
        .collect()
    }

    fn values() -> ResolvedParams {
        [
            ("s", vec!["hi {{l}}"]),
            ("l", vec!["a", "b"]),
            ("b", vec!["true"]),
            ("i", vec!["42"]),
            ("m", vec![r#"{"Env":"Prod"}"#]),
            ("ml", vec![r#"{"a":"1"}"#, r#"{"b":"2"}"#]),
            ("e", vec!["$(id)"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect()
    }

    #[test]
    fn whole_values_keep_their_type_and_embedded_ones_become_text() {
        let (d, v) = (decls(), values());
        let sc = Scope {
            decls: &d,
            values: &v,
        };
        let data = |t: &str| sc.string(t, Mode::Data).unwrap();
        assert_eq!(data("{{ l }}"), json!(["a", "b"]));
        assert_eq!(data("{{b}}"), json!(true));
        assert_eq!(data("{{  i  }}"), json!(42));
        assert_eq!(data("{{ m }}"), json!({"Env": "Prod"}));
        assert_eq!(data("{{ ml }}"), json!([{"a": "1"}, {"b": "2"}]));
        assert_eq!(
            data("x {{ l }} {{ i }} {{b}}"),
            json!(r#"x ["a","b"] 42 true"#)
        );
        // Values are not scanned again.
        assert_eq!(data("<{{ s }}>"), json!("<hi {{l}}>"));
        // Go templates and unclosed braces stay.
        assert_eq!(data("{{.State}} {{ s"), json!("{{.State}} {{ s"));
        let nested = sc
            .value(&json!({"k": ["{{ i }}", {"x": "{{ s }}"}]}), Mode::Data)
            .unwrap();
        assert_eq!(nested, json!({"k": [42, {"x": "hi {{l}}"}]}));
    }

    #[test]
    fn env_var_parameters_become_shell_references_in_scripts_only() {
        let (d, v) = (decls(), values());
        let sc = Scope {
            decls: &d,
            values: &v,
        };
        assert_eq!(
            sc.string("echo \"{{ e }}\"", Mode::Script).unwrap(),
            json!("echo \"${SSM_e}\"")
        );
        assert_eq!(sc.string("{{e}}", Mode::Script).unwrap(), json!("${SSM_e}"));
        assert_eq!(sc.string("{{e}}", Mode::Data).unwrap(), json!("$(id)"));
        assert_eq!(env_var_name("e"), "SSM_e");
    }

    #[test]
    fn undeclared_references_are_errors_and_store_references_stay() {
        let (d, v) = (decls(), values());
        let sc = Scope {
            decls: &d,
            values: &v,
        };
        assert!(
            matches!(sc.string("{{ nope }}", Mode::Data), Err(PlanError::InvalidDocument(m)) if m.contains("nope"))
        );
        assert_eq!(
            sc.string("a {{ssm:/x}}", Mode::Data).unwrap(),
            serde_json::json!("a {{ssm:/x}}")
        );
        assert_eq!(
            sc.string("{{ ssm-secure:k }}", Mode::Data).unwrap(),
            serde_json::json!("{{ ssm-secure:k }}")
        );
    }
}
