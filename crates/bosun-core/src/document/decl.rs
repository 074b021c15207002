//! Parameter declarations (`parameters` of a document): the six types, their constraints, and
//! the checks a declaration must pass when the document is created.
//!
//! Each check names its source. AWS's are from the user guide's "Data elements and parameters"
//! page (`type` required and one of six; `description`, `default`, `allowedValues` (an array),
//! `allowedPattern`, `displayType` (`textfield`/`textarea`), `minItems/maxItems/minChars/
//! maxChars` optional; the value forms of each type; `interpolationType: ENV_VAR`). A property
//! written with no value (`description:` in YAML, `null` in JSON) counts as absent, as AWS
//! accepts such documents. The constraints themselves (`allowedValues`, `allowedPattern`,
//! min/max) are applied to values when the document is used (that page: "If the user input
//! doesn't match the allowed pattern, the execution fails to start"; the pattern is compiled
//! "at the API level when you use a document"), defaults included, so a default that breaks
//! its own constraints is accepted here (the page's own `InstanceId` example has `default: ''`
//! with `allowedPattern: "^i-[a-z0-9]{8,17}$"`) and refused only if a command relies on it.
//!
//! Bosun's own rules (README, "Bosun's own document rules"): parameter names are
//! `^[a-zA-Z0-9_]{1,64}$` (the S5 injection requirements; it also makes `SSM_<name>` a valid
//! environment variable name), and a property Bosun does not know is refused (a misspelt
//! `allowedPatern` must not silently drop a safety check).

use regex::{Regex, RegexBuilder};
use serde_json::Value;

/// The parameter types of documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterType {
    String,
    StringList,
    Boolean,
    Integer,
    StringMap,
    MapList,
}

impl ParameterType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::StringList => "StringList",
            Self::Boolean => "Boolean",
            Self::Integer => "Integer",
            Self::StringMap => "StringMap",
            Self::MapList => "MapList",
        }
    }
}

/// How a parameter's value reaches a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interpolation {
    /// `{{ name }}` is replaced by the value's text.
    #[default]
    Text,
    /// `"interpolationType": "ENV_VAR"`: the value travels as the environment variable
    /// `SSM_<name>`, and `{{ name }}` in script text becomes `${SSM_<name>}`.
    EnvVar,
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDecl {
    pub kind: ParameterType,
    pub description: String,
    pub default: Option<Value>,
    pub allowed_values: Option<Vec<String>>,
    pub allowed_pattern: Option<String>,
    pub min_items: Option<usize>,
    pub max_items: Option<usize>,
    pub min_chars: Option<usize>,
    pub max_chars: Option<usize>,
    pub display_type: Option<String>,
    pub interpolation: Interpolation,
}

/// The longest `allowedPattern` Bosun applies (characters). Bosun's own limit, part of keeping
/// pattern matching cheap; like every pattern check it applies when the document is used.
pub const MAX_PATTERN_CHARS: usize = 1024;

const KNOWN_PROPERTIES: &[&str] = &[
    "type",
    "description",
    "default",
    "allowedValues",
    "allowedPattern",
    "displayType",
    "minItems",
    "maxItems",
    "minChars",
    "maxChars",
    "interpolationType",
];

/// Compile an `allowedPattern` so that it must match the whole value (as Java's
/// `String.matches` does on the AWS side: `AWS-RunShellScript`'s unanchored
/// `executionTimeout` pattern only makes sense that way). Linear time; size-limited. The syntax
/// is RE2's, as the AWS agent's Go `regexp` applies it (no look-around, no back-references).
pub fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!(
            "allowedPattern is longer than {MAX_PATTERN_CHARS} characters"
        ));
    }
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let why = e.to_string();
            let last = why.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            format!("allowedPattern {pattern:?} is not a pattern Bosun can use (linear-time regular expressions only: no look-around or back-references): {}", last.trim())
        })
}

/// Whether a parameter name is acceptable: `^[a-zA-Z0-9_]{1,64}$`.
pub fn valid_parameter_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A `{{ssm:…}}` / `{{ssm-secure:…}}` reference used as a whole value.
pub fn is_store_reference(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let t = s.trim();
        t.starts_with("{{") && {
            let inner = t.trim_start_matches("{{").trim_start();
            inner.starts_with("ssm:") || inner.starts_with("ssm-secure:")
        }
    })
}

impl ParameterDecl {
    /// Parse and check one declaration. The error says what is wrong, without the name (the
    /// caller prefixes it).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let obj = v.as_object().ok_or("the declaration must be an object")?;
        // Bosun's rule: unknown properties are refused (see the module comment).
        if let Some(k) = obj.keys().find(|k| !KNOWN_PROPERTIES.contains(&k.as_str())) {
            return Err(format!(
                "{k} is not a parameter property (known: {})",
                KNOWN_PROPERTIES.join(", ")
            ));
        }
        // A property with no value (`description:` in YAML) is as good as absent.
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        // AWS: `type` is required and one of the six types.
        let kind = match get("type") {
            Some(Value::String(t)) => match t.as_str() {
                "String" => ParameterType::String,
                "StringList" => ParameterType::StringList,
                "Boolean" => ParameterType::Boolean,
                "Integer" => ParameterType::Integer,
                "StringMap" => ParameterType::StringMap,
                "MapList" => ParameterType::MapList,
                other => {
                    return Err(format!(
                    "type {other} is not one of String, StringList, Boolean, Integer, StringMap, MapList"
                ))
                }
            },
            Some(_) => return Err("type must be a string".into()),
            None => return Err("type is required".into()),
        };
        let string_of = |k: &str| -> Result<Option<String>, String> {
            match get(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("{k} must be a string")),
            }
        };
        // AWS: minItems/maxItems/minChars/maxChars are numbers of items or characters.
        let count_of = |k: &str| -> Result<Option<usize>, String> {
            match get(k) {
                None => Ok(None),
                Some(v) => v
                    .as_u64()
                    .map(|n| Some(n.min(usize::MAX as u64) as usize))
                    .ok_or_else(|| format!("{k} must be a non-negative integer")),
            }
        };
        // AWS: allowedPattern is a string; it is compiled when the document is used
        // (`params::check_values`), not here.
        let allowed_pattern = string_of("allowedPattern")?;
        // AWS: allowedValues is an array.
        let allowed_values = match get("allowedValues") {
            None => None,
            Some(Value::Array(a)) => Some(a.iter().map(value_text).collect()),
            Some(_) => return Err("allowedValues must be a list".into()),
        };
        // AWS: displayType is textfield or textarea.
        let display_type = string_of("displayType")?;
        if let Some(d) = &display_type {
            if d != "textfield" && d != "textarea" {
                return Err(format!("displayType {d} is not textfield or textarea"));
            }
        }
        // AWS: interpolationType's one value is ENV_VAR.
        let interpolation = match string_of("interpolationType")?.as_deref() {
            None => Interpolation::Text,
            Some("ENV_VAR") => Interpolation::EnvVar,
            Some(other) => {
                return Err(format!(
                    "interpolationType {other} is not supported (the only value is ENV_VAR)"
                ))
            }
        };
        let decl = Self {
            kind,
            // AWS: description is an optional string.
            description: string_of("description")?.unwrap_or_default(),
            default: get("default").cloned(),
            allowed_values,
            allowed_pattern,
            min_items: count_of("minItems")?,
            max_items: count_of("maxItems")?,
            min_chars: count_of("minChars")?,
            max_chars: count_of("maxChars")?,
            display_type,
            interpolation,
        };
        // AWS: a default is a value of the declared type (the page's type examples: Boolean
        // "Accepts only true or false", Integer "Doesn't accept decimal numbers ... or numbers
        // wrapped in quotation marks"), or a `{{ssm:…}}` reference, checked when resolved.
        if let Some(d) = &decl.default {
            if !is_store_reference(d) {
                check_default_type(kind, d)?;
            }
        }
        Ok(decl)
    }

    /// The default as the strings the API carries (`map<string, list<string>>`): a list gives
    /// its items, a map or list of maps gives JSON text per item, a scalar gives its text.
    pub fn default_values(&self) -> Option<Vec<String>> {
        self.default.as_ref().map(|d| match (self.kind, d) {
            (_, Value::Array(items)) => items.iter().map(value_text).collect(),
            (_, other) => vec![value_text(other)],
        })
    }
}

/// A JSON value as text: strings as themselves, anything else as compact JSON.
pub fn value_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn check_default_type(kind: ParameterType, d: &Value) -> Result<(), String> {
    let ok = match kind {
        ParameterType::String => d.is_string(),
        ParameterType::StringList => {
            d.is_string() || d.as_array().is_some_and(|a| a.iter().all(Value::is_string))
        }
        ParameterType::Boolean => d.is_boolean(),
        ParameterType::Integer => d.is_i64() || d.is_u64(),
        ParameterType::StringMap => d.is_object(),
        ParameterType::MapList => d.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the default {d} is not a value of type {}",
            kind.as_str()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decl(v: Value) -> Result<ParameterDecl, String> {
        ParameterDecl::from_json(&v)
    }

    #[test]
    fn declarations_parse_with_every_property() {
        let d = decl(
            json!({"type": "String", "description": "d", "default": "abc",
            "allowedValues": ["abc", "def"], "allowedPattern": "[a-z]+", "displayType": "textarea",
            "minChars": 1, "maxChars": 8, "interpolationType": "ENV_VAR"}),
        )
        .unwrap();
        assert_eq!(d.interpolation, Interpolation::EnvVar);
        assert_eq!(d.display_type.as_deref(), Some("textarea"));
        assert_eq!(d.default_values(), Some(vec!["abc".to_string()]));
        let m = decl(json!({"type": "StringMap", "default": {"Env": "Prod"}})).unwrap();
        assert_eq!(
            m.default_values(),
            Some(vec![r#"{"Env":"Prod"}"#.to_string()])
        );
        let l = decl(json!({"type": "MapList", "default": [{"a": "b"}, {"c": "d"}]})).unwrap();
        assert_eq!(l.default_values().unwrap().len(), 2);
        assert!(decl(json!({"type": "Boolean", "default": true})).is_ok());
        assert!(decl(json!({"type": "Integer", "default": 100})).is_ok());
        assert!(decl(json!({"type": "StringList", "default": "{{ ssm:cmds }}"})).is_ok());
    }

    #[test]
    fn bad_declarations_say_what_is_wrong() {
        let cases = [
            (json!({"default": "x"}), "type is required"),
            (json!({"type": null}), "type is required"),
            (json!({"type": "Float"}), "not one of"),
            (
                json!({"type": "String", "allowedPatern": "x"}),
                "allowedPatern is not a parameter property",
            ),
            (
                json!({"type": "String", "displayType": "big"}),
                "displayType",
            ),
            (
                json!({"type": "String", "interpolationType": "SHELL"}),
                "ENV_VAR",
            ),
            (json!({"type": "String", "minChars": -1}), "non-negative"),
            (
                json!({"type": "String", "description": 7}),
                "description must be a string",
            ),
            (
                json!({"type": "String", "allowedPattern": 7}),
                "allowedPattern must be a string",
            ),
            (
                json!({"type": "String", "allowedValues": "a"}),
                "allowedValues must be a list",
            ),
            (
                json!({"type": "Boolean", "default": "true"}),
                "not a value of type Boolean",
            ),
            (
                json!({"type": "Integer", "default": 2.5}),
                "not a value of type Integer",
            ),
            (
                json!({"type": "Integer", "default": "3"}),
                "not a value of type Integer",
            ),
        ];
        for (v, want) in cases {
            let e = decl(v.clone()).unwrap_err();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    /// AWS accepts a property written with no value (YAML `description:`): it is absent.
    #[test]
    fn properties_without_a_value_are_absent() {
        let d = decl(
            json!({"type": "String", "description": null, "default": null,
            "allowedValues": null, "allowedPattern": null, "displayType": null,
            "minItems": null, "maxItems": null, "minChars": null, "maxChars": null,
            "interpolationType": null}),
        )
        .unwrap();
        assert_eq!(d.description, "");
        assert_eq!(d.default, None, "no default: the parameter is required");
        assert_eq!(d.allowed_values, None);
        assert_eq!(d.allowed_pattern, None);
        assert_eq!(d.display_type, None);
        assert_eq!((d.min_items, d.max_chars), (None, None));
        assert_eq!(d.interpolation, Interpolation::Text);
    }

    /// Constraints apply to values when the document is used, defaults included; a declaration
    /// whose default breaks them is still a declaration AWS accepts (the user guide's own
    /// `InstanceId` example: `default: ''` with `allowedPattern: "^i-[a-z0-9]{8,17}$"`).
    #[test]
    fn constraints_are_not_applied_to_the_declaration_itself() {
        for v in [
            json!({"type": "String", "default": "", "allowedPattern": "^i-[a-z0-9]{8,17}$"}),
            json!({"type": "String", "default": "def", "allowedPattern": "r\"^[a-z]{3,128}$\""}),
            json!({"type": "String", "default": "abc", "allowedValues": ["x"]}),
            json!({"type": "String", "default": "abcdef", "maxChars": 3}),
            json!({"type": "StringList", "default": ["a"], "minItems": 2}),
            json!({"type": "StringList", "minItems": 3, "maxItems": 2}),
            json!({"type": "String", "allowedPattern": "(?=a)b"}),
            json!({"type": "String", "allowedPattern": "(a"}),
        ] {
            assert!(decl(v.clone()).is_ok(), "{v}");
        }
    }

    #[test]
    fn patterns_match_whole_values_and_names_are_checked() {
        let re = compile_pattern("([1-9][0-9]{0,3})|(28800)").unwrap();
        assert!(re.is_match("3600"));
        assert!(!re.is_match("1;rm -rf /"));
        assert!(compile_pattern(&"a".repeat(MAX_PATTERN_CHARS + 1)).is_err());
        assert!(valid_parameter_name("commands"));
        assert!(valid_parameter_name("Snake_Case_9"));
        for bad in ["", "a-b", "a b", "a=b", "é", &"x".repeat(65)] {
            assert!(!valid_parameter_name(bad), "{bad}");
        }
    }
}
