//! Model-level request validation, generated from botocore's SSM model: every length, range,
//! pattern, enum and required-member constraint of an operation's input shape
//! (`ssm_shapes.rs`, written by `tools/gen-ssm-model.py`), reported in AWS's words.
//!
//! AWS's format, and where each detail comes from (responses quoted in public issues and test
//! suites that record real AWS answers):
//!
//! | detail | Bosun | source |
//! |---|---|---|
//! | one / several | `1 validation error detected: <e>` / `N validation errors detected: <e>; <e>` | aws/amazon-ssm-agent#60 (SSM); flynn/flynn#3951 (CloudFormation, 2 errors joined by `; `) |
//! | entry | `Value '<v>' at '<path>' failed to satisfy constraint: <c>` | aws/amazon-ssm-agent#60; aws/aws-sdk-js#2748 (SSM CreateActivation `iamRole`) |
//! | missing member | `Value null at '<path>' … Member must not be null` | serverless/serverless#2036 (`tags.1.member.value`) |
//! | sensitive shape | value left out: `Value at 'value' …` | ministryofjustice/modernisation-platform#8116 and cloud-platform-infrastructure#3906 (SSM PutParameter `value`) |
//! | length | `Member must have length greater than or equal to N` / `less than or equal to N` | ministryofjustice/modernisation-platform#8116 (SSM `value` ≥ 1), cloud-platform-infrastructure#3906 (SSM `value` ≤ 32768), youyo/awslogin#20 |
//! | length unit | code points, not UTF-16 units | an STS conformance suite recording that one emoji (two UTF-16 units) fails a minimum length of 2 |
//! | pattern | `Member must satisfy regular expression pattern: <model text>`, whole-value match | aws/amazon-ssm-agent#60 (a value containing a matching UUID still fails) |
//! | range | `Member must have value greater than or equal to N`, value printed `'0'`, `'-1'` | DynamoDB `limit` / `recoveryPeriodInDays` answers recorded by an ACK controller's quirk catalogue |
//! | enum | `Member must satisfy enum value set: [A, B]` (model order) | same catalogue (`billingMode`, `streamViewType`) |
//! | list value | Java's list text `'[a, b]'`, `'[]'` | same catalogue (`keySchema` `'[]'`); CodeGenieApp/serverless-express#59 (`capabilities`) |
//! | list member constraint | one entry for the list: `Member must satisfy constraint: [<all the member's constraints>]` | CodeGenieApp/serverless-express#59 |
//! | map keys / values | `Map keys must satisfy constraint: [...]`, `Map value must satisfy constraint: [...]`, value `'{k=v, k2=v2}'`, constraints listed max, min, pattern | boto/boto3#2601 (QuickSight), SWO-GS/auto-tag#77 (tags) |
//! | nested path | `<list>.<n>.member.<member>`, `<structure>.<member>`, first letter of each name lowercased (`sSESpecification.kMSMasterKeyId`) | serverless/serverless#2036; the DynamoDB catalogue |
//! | order | members in model order; for one string, pattern before length | most recorded answers (STS, Cognito, CloudFront, CloudFormation, DynamoDB CreateBackup) list pattern first; DynamoDB DescribeTable lists length first and some structures in reverse model order, so AWS's order is not fully reproducible |
//!
//! Not reproduced: AWS prints a structure inside a value with Java's object text
//! (`com.amazonaws…@cdda30d`); Bosun prints `{Key=a, Value=b}`. No cap on the number of
//! entries was found in any recorded answer, so every failure is listed.

mod service_checked;
mod shapes;
pub mod ssm_shapes;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

pub use service_checked::service_error;
pub use shapes::{Kind, Member, Pattern, Shape};
use ssm_shapes::{OPERATIONS, SHAPES};

/// The index in `SHAPES` of an operation's input shape, if the model has the operation.
pub fn input_shape(operation: &str) -> Option<usize> {
    OPERATIONS
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, shape)| *shape)
}

/// AWS's `ValidationException` message for a request that breaks its operation's model, or
/// `None` when it keeps every constraint (or the operation is not in the model).
pub fn validate_request(operation: &str, input: &Value) -> Option<String> {
    let shape = input_shape(operation)?;
    message(&violations(shape, input))
}

/// Every constraint of shape `shape` that `input` breaks, one AWS-worded entry each.
pub fn violations(shape: usize, input: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check_value(shape, input, "", &mut found);
    found
}

/// AWS's combined message for a request's violations (`None` when there are none).
pub fn message(violations: &[String]) -> Option<String> {
    match violations.len() {
        0 => None,
        1 => Some(format!("1 validation error detected: {}", violations[0])),
        n => Some(format!(
            "{n} validation errors detected: {}",
            violations.join("; ")
        )),
    }
}

/// A member's name in AWS's paths: the wire name with its first letter lowercased.
pub fn path_name(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A value as AWS prints it in a message (Java's text for strings, numbers, lists and maps).
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k}={}", show(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// The regex of shape `shape`'s pattern, compiled once (`None` if it has none or it was
/// skipped).
fn pattern_regex(shape: usize) -> Option<&'static Regex> {
    static COMPILED: OnceLock<Vec<Option<Regex>>> = OnceLock::new();
    COMPILED
        .get_or_init(|| {
            SHAPES
                .iter()
                .map(|s| match &s.kind {
                    Kind::String {
                        pattern: Some(Pattern { rust: Some(re), .. }),
                        ..
                    } => Some(Regex::new(re).expect("generated patterns compile (tested)")),
                    _ => None,
                })
                .collect()
        })
        .get(shape)?
        .as_ref()
}

fn entry(shape: &Shape, value: Option<&Value>, path: &str, constraint: &str) -> String {
    let shown = match value {
        None | Some(Value::Null) => "Value null".to_string(),
        Some(_) if shape.sensitive => "Value".to_string(),
        Some(v) => format!("Value '{}'", show(v)),
    };
    format!("{shown} at '{path}' failed to satisfy constraint: {constraint}")
}

fn child_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

fn length_failures(n: u64, min: Option<u64>, max: Option<u64>, out: &mut Vec<String>) {
    if let Some(min) = min.filter(|m| n < *m) {
        out.push(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if let Some(max) = max.filter(|m| n > *m) {
        out.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
}

/// The constraints of a scalar shape that `value` breaks, in AWS's order (pattern first).
/// Values of another JSON type are left to the request's parsing.
fn scalar_failures(shape: usize, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match (&SHAPES[shape].kind, value) {
        (
            Kind::String {
                min,
                max,
                pattern,
                enumeration,
            },
            Value::String(s),
        ) => {
            if let (Some(p), Some(re)) = (pattern, pattern_regex(shape)) {
                if !re.is_match(s) {
                    out.push(format!(
                        "Member must satisfy regular expression pattern: {}",
                        p.aws
                    ));
                }
            }
            length_failures(s.chars().count() as u64, *min, *max, &mut out);
            if !enumeration.is_empty() && !enumeration.contains(&s.as_str()) {
                out.push(enum_constraint(enumeration));
            }
        }
        (Kind::Number { min, max }, Value::Number(n)) => {
            let v = n.as_f64().unwrap_or(0.0);
            if let Some(min) = min.filter(|m| v < *m as f64) {
                out.push(format!(
                    "Member must have value greater than or equal to {min}"
                ));
            }
            if let Some(max) = max.filter(|m| v > *m as f64) {
                out.push(format!(
                    "Member must have value less than or equal to {max}"
                ));
            }
        }
        _ => {}
    }
    out
}

fn enum_constraint(values: &[&str]) -> String {
    format!(
        "Member must satisfy enum value set: [{}]",
        values.join(", ")
    )
}

/// Every constraint of a scalar shape, as AWS lists them inside `Member must satisfy
/// constraint: [...]` (max, min, pattern, enum); empty when the shape has none.
pub fn all_constraints(shape: usize) -> Vec<String> {
    let mut out = Vec::new();
    match &SHAPES[shape].kind {
        Kind::String {
            min,
            max,
            pattern,
            enumeration,
        } => {
            if let Some(max) = max {
                out.push(format!(
                    "Member must have length less than or equal to {max}"
                ));
            }
            if let Some(min) = min {
                out.push(format!(
                    "Member must have length greater than or equal to {min}"
                ));
            }
            if let Some(p) = pattern {
                out.push(format!(
                    "Member must satisfy regular expression pattern: {}",
                    p.aws
                ));
            }
            if !enumeration.is_empty() {
                out.push(enum_constraint(enumeration));
            }
        }
        Kind::Number { min, max } => {
            if let Some(max) = max {
                out.push(format!(
                    "Member must have value less than or equal to {max}"
                ));
            }
            if let Some(min) = min {
                out.push(format!(
                    "Member must have value greater than or equal to {min}"
                ));
            }
        }
        _ => {}
    }
    out
}

fn is_scalar(shape: usize) -> bool {
    matches!(
        SHAPES[shape].kind,
        Kind::String { .. } | Kind::Number { .. }
    )
}

fn check_value(shape_index: usize, value: &Value, path: &str, out: &mut Vec<String>) {
    let shape = &SHAPES[shape_index];
    match (&shape.kind, value) {
        (Kind::Structure { members }, Value::Object(fields)) => {
            for member in *members {
                let member_path = child_path(path, &path_name(member.name));
                match fields.get(member.name) {
                    None | Some(Value::Null) => {
                        if member.required {
                            out.push(entry(
                                &SHAPES[member.shape],
                                None,
                                &member_path,
                                "Member must not be null",
                            ));
                        }
                    }
                    Some(v) => check_value(member.shape, v, &member_path, out),
                }
            }
        }
        (Kind::List { member, min, max }, Value::Array(items)) => {
            let mut failures = Vec::new();
            length_failures(items.len() as u64, *min, *max, &mut failures);
            if is_scalar(*member)
                && items
                    .iter()
                    .any(|i| !scalar_failures(*member, i).is_empty())
            {
                failures.push(format!(
                    "Member must satisfy constraint: [{}]",
                    all_constraints(*member).join(", ")
                ));
            }
            for f in failures {
                out.push(entry(shape, Some(value), path, &f));
            }
            if !is_scalar(*member) {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_null() {
                        let item_path = format!("{path}.{}.member", i + 1);
                        check_value(*member, item, &item_path, out);
                    }
                }
            }
        }
        (
            Kind::Map {
                key,
                value: value_shape,
                min,
                max,
            },
            Value::Object(entries),
        ) => {
            let mut failures = Vec::new();
            length_failures(entries.len() as u64, *min, *max, &mut failures);
            let key_text = |k: &String| Value::String(k.clone());
            if entries
                .keys()
                .any(|k| !scalar_failures(*key, &key_text(k)).is_empty())
            {
                failures.push(format!(
                    "Map keys must satisfy constraint: [{}]",
                    all_constraints(*key).join(", ")
                ));
            }
            if is_scalar(*value_shape)
                && entries
                    .values()
                    .any(|v| !scalar_failures(*value_shape, v).is_empty())
            {
                failures.push(format!(
                    "Map value must satisfy constraint: [{}]",
                    all_constraints(*value_shape).join(", ")
                ));
            }
            for f in failures {
                out.push(entry(shape, Some(value), path, &f));
            }
            if !is_scalar(*value_shape) {
                for (k, v) in entries {
                    if !v.is_null() {
                        check_value(*value_shape, v, &format!("{path}.{k}"), out);
                    }
                }
            }
        }
        _ => {
            for f in scalar_failures(shape_index, value) {
                out.push(entry(shape, Some(value), path, &f));
            }
        }
    }
}
