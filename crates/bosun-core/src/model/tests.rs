//! Tests of the generated model validation: the file is current, every pattern is usable, every
//! constraint of every implemented operation is enforced with AWS's exact words.

use serde_json::{json, Map, Value};

use super::ssm_shapes::{OPERATIONS, SHAPES, SKIPPED_PATTERNS};
use super::*;

#[test]
fn generated_file_is_current() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = std::process::Command::new("python3")
        .arg("tools/gen-ssm-model.py")
        .arg("--check")
        .current_dir(root)
        .output()
        .expect("python3 runs (CI installs botocore with boto3)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_pattern_compiles_and_none_is_skipped() {
    for (i, shape) in SHAPES.iter().enumerate() {
        if let Kind::String {
            pattern: Some(p), ..
        } = &shape.kind
        {
            match p.rust {
                Some(re) => {
                    regex::Regex::new(re).unwrap_or_else(|e| panic!("{}: {e}", shape.name));
                    assert!(pattern_regex(i).is_some());
                }
                None => assert!(p.skipped.is_some(), "{} has no reason", shape.name),
            }
        }
    }
    // Every pattern of the implemented operations translates today; a new one that cannot must
    // be listed here with the generator's reason (and its check then happens nowhere).
    let skipped: Vec<_> = SKIPPED_PATTERNS.iter().map(|(shape, ..)| *shape).collect();
    assert_eq!(skipped, Vec::<&str>::new());
}

fn shape_of(op: &str) -> usize {
    input_shape(op).unwrap_or_else(|| panic!("{op} is in the model"))
}

fn errors(op: &str, input: Value) -> Vec<String> {
    violations(shape_of(op), &input)
}

#[test]
fn java_pattern_semantics_are_kept() {
    // Whole-value match: a value that merely contains a match fails (aws/amazon-ssm-agent#60).
    let e = errors(
        "DeleteActivation",
        json!({"ActivationId": "x-12345678-1234-1234-1234-123456789012"}),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    // Java's `\w` is ASCII: an accented letter is not a word character.
    let e = errors(
        "DescribeDocument",
        json!({"Name": "doc", "DocumentVersion": "1", "VersionName": "v"}),
    );
    assert!(e.is_empty(), "{e:?}");
    let e = errors(
        "UpdateDocument",
        json!({"Name": "doc", "Content": "{}", "TargetType": "/AWS::é"}),
    );
    assert!(e[0].contains("at 'targetType'"), "{e:?}");
    // `^(?!\s*$).+` (not blank, one line), translated by hand.
    let shape = SHAPES
        .iter()
        .position(|s| s.name == "RegistrationMetadataKey")
        .unwrap();
    for (value, ok) in [
        ("a", true),
        (" a ", true),
        ("", false),
        ("   ", false),
        ("\t", false),
        ("a\nb", false),
        ("a\u{2028}", false),
    ] {
        let failed = scalar_failures(shape, &json!(value))
            .iter()
            .any(|f| f.contains("regular expression"));
        assert_eq!(!failed, ok, "{value:?}");
    }
}

#[test]
fn messages_read_like_aws() {
    // aws/aws-sdk-js#2748 shows the shape of a single entry for CreateActivation.
    assert_eq!(
        validate_request("GetParameter", &json!({"Name": "x".repeat(2049)})).unwrap(),
        format!("1 validation error detected: Value '{}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048", "x".repeat(2049))
    );
    // A sensitive shape's value is left out (ministryofjustice/modernisation-platform#8116:
    // "Value at 'value' … length greater than or equal to 1"; botocore's model no longer
    // carries that length, which AWS enforces beyond the model).
    let value = SHAPES
        .iter()
        .find(|s| s.name == "PSParameterValue")
        .unwrap();
    assert!(value.sensitive);
    assert_eq!(
        entry(value, Some(&json!("")), "value", "Member must have length greater than or equal to 1"),
        "Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(
        validate_request("PutParameter", &json!({"Name": "/a"})).unwrap(),
        "1 validation error detected: Value null at 'value' failed to satisfy constraint: Member must not be null"
    );
    // Several, joined by "; ", members in model order; null for a missing member.
    assert_eq!(
        validate_request("ListCommands", &json!({"MaxResults": 0, "Filters": [{}]}))
            .unwrap(),
        "3 validation errors detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1; Value null at 'filters.1.member.key' failed to satisfy constraint: Member must not be null; Value null at 'filters.1.member.value' failed to satisfy constraint: Member must not be null"
    );
    // A list of strings whose member breaks its shape: one entry for the list, listing every
    // constraint of the member (CodeGenieApp/serverless-express#59).
    let e = errors(
        "RemoveTagsFromResource",
        json!({"ResourceType": "Parameter", "ResourceId": "p", "TagKeys": ["ok", ""]}),
    );
    assert_eq!(e, vec![
        r"Value '[ok, ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$]".to_string()
    ]);
    // Enum, model order of values.
    let e = errors(
        "DescribeParameters",
        json!({"ParameterFilters": [{"Key": "Name", "Option": "x".repeat(11)}]}),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("Value 'xxxxxxxxxxx' at 'parameterFilters.1.member.option'"));
    assert_eq!(
        validate_request("GetParameter", &json!({"Name": "/ok"})),
        None
    );
}

#[test]
fn every_implemented_operation_has_a_model() {
    // The generated file holds exactly the operations `ops.rs` serves (the generator reads
    // that list; `generated_file_is_current` keeps them in step).
    assert_eq!(OPERATIONS.len(), 86);
}

/// A violating request and the exact entry AWS reports for it.
struct Case {
    request: Value,
    expected: String,
}

type Wrap<'a> = &'a dyn Fn(Value) -> Value;

fn expected_entry(sensitive: bool, value: Option<&Value>, path: &str, constraint: &str) -> String {
    let shown = match value {
        None => "Value null".to_string(),
        Some(_) if sensitive => "Value".to_string(),
        Some(v) => format!("Value '{}'", show(v)),
    };
    format!("{shown} at '{path}' failed to satisfy constraint: {constraint}")
}

/// A value the shape's pattern refuses (the first candidate that fails the whole-value match).
fn off_pattern(shape: usize) -> Value {
    let re = pattern_regex(shape).expect("pattern");
    let candidates = ["", " ", "!", "#", "x", "\n", "é", "-1", "1.5.7"];
    let bad = candidates
        .iter()
        .find(|c| !re.is_match(c))
        .unwrap_or_else(|| panic!("no candidate breaks {}", SHAPES[shape].name));
    json!(bad)
}

/// One violating value per constraint of a scalar shape, with its constraint text.
fn scalar_cases(shape: usize) -> Vec<(Value, String)> {
    let mut cases = Vec::new();
    match &SHAPES[shape].kind {
        Kind::String {
            min,
            max,
            pattern,
            enumeration,
        } => {
            if let Some(min) = min.filter(|m| *m > 0) {
                cases.push((
                    json!("x".repeat(min as usize - 1)),
                    format!("Member must have length greater than or equal to {min}"),
                ));
            }
            if let Some(max) = max {
                cases.push((
                    json!("x".repeat(*max as usize + 1)),
                    format!("Member must have length less than or equal to {max}"),
                ));
            }
            if let Some(p) = pattern {
                cases.push((
                    off_pattern(shape),
                    format!("Member must satisfy regular expression pattern: {}", p.aws),
                ));
            }
            if !enumeration.is_empty() {
                cases.push((
                    json!("NotInTheEnumeration"),
                    format!(
                        "Member must satisfy enum value set: [{}]",
                        enumeration.join(", ")
                    ),
                ));
            }
        }
        Kind::Number { min, max } => {
            if let Some(min) = min {
                cases.push((
                    json!(min - 1),
                    format!("Member must have value greater than or equal to {min}"),
                ));
            }
            if let Some(max) = max {
                cases.push((
                    json!(max + 1),
                    format!("Member must have value less than or equal to {max}"),
                ));
            }
        }
        _ => {}
    }
    cases
}

/// An element for a list built only to break the list's length.
fn filler(shape: usize) -> Value {
    match &SHAPES[shape].kind {
        Kind::Structure { .. } | Kind::Map { .. } => json!({}),
        Kind::List { .. } => json!([]),
        Kind::Number { min, .. } => json!(min.unwrap_or(1)),
        Kind::Boolean => json!(true),
        _ => json!("x"),
    }
}

fn collect(shape: usize, path: &str, wrap: Wrap, depth: usize, out: &mut Vec<Case>) {
    assert!(depth < 10, "shapes nest too deep at {path}");
    let sensitive = SHAPES[shape].sensitive;
    match &SHAPES[shape].kind {
        Kind::Structure { members } => {
            for m in *members {
                let member_path = if path.is_empty() {
                    path_name(m.name)
                } else {
                    format!("{path}.{}", path_name(m.name))
                };
                if m.required {
                    out.push(Case {
                        request: wrap(json!({})),
                        expected: expected_entry(
                            SHAPES[m.shape].sensitive,
                            None,
                            &member_path,
                            "Member must not be null",
                        ),
                    });
                }
                let name = m.name;
                let inner = move |v: Value| {
                    let mut obj = Map::new();
                    obj.insert(name.to_string(), v);
                    wrap(Value::Object(obj))
                };
                collect(m.shape, &member_path, &inner, depth + 1, out);
            }
        }
        Kind::List { member, min, max } => {
            let mut lengths = Vec::new();
            if let Some(min) = min.filter(|m| *m > 0) {
                lengths.push((
                    min - 1,
                    format!("Member must have length greater than or equal to {min}"),
                ));
            }
            if let Some(max) = max {
                lengths.push((
                    max + 1,
                    format!("Member must have length less than or equal to {max}"),
                ));
            }
            for (n, constraint) in lengths {
                let list = Value::Array(vec![filler(*member); n as usize]);
                out.push(Case {
                    expected: expected_entry(sensitive, Some(&list), path, &constraint),
                    request: wrap(list),
                });
            }
            let scalar = scalar_cases(*member);
            if !scalar.is_empty() {
                let all: Vec<String> = all_constraints(*member);
                for (bad, _) in scalar {
                    let list = json!([bad]);
                    out.push(Case {
                        expected: expected_entry(
                            sensitive,
                            Some(&list),
                            path,
                            &format!("Member must satisfy constraint: [{}]", all.join(", ")),
                        ),
                        request: wrap(list),
                    });
                }
            } else {
                let item_path = format!("{path}.1.member");
                let inner = |v: Value| wrap(json!([v]));
                collect(*member, &item_path, &inner, depth + 1, out);
            }
        }
        Kind::Map {
            key,
            value,
            min,
            max,
        } => {
            let mut lengths = Vec::new();
            if let Some(min) = min.filter(|m| *m > 0) {
                lengths.push((
                    min - 1,
                    format!("Member must have length greater than or equal to {min}"),
                ));
            }
            if let Some(max) = max {
                lengths.push((
                    max + 1,
                    format!("Member must have length less than or equal to {max}"),
                ));
            }
            for (n, constraint) in lengths {
                // Distinct keys that break nothing themselves (`k0`, `k1`, …).
                let map: Map<String, Value> =
                    (0..n).map(|i| (format!("k{i}"), filler(*value))).collect();
                let map = Value::Object(map);
                out.push(Case {
                    expected: expected_entry(sensitive, Some(&map), path, &constraint),
                    request: wrap(map),
                });
            }
            let key_constraint = format!(
                "Map keys must satisfy constraint: [{}]",
                all_constraints(*key).join(", ")
            );
            for (bad, _) in scalar_cases(*key) {
                let Some(bad_key) = bad.as_str() else {
                    continue;
                };
                let map = json!({ bad_key: filler(*value) });
                out.push(Case {
                    expected: expected_entry(sensitive, Some(&map), path, &key_constraint),
                    request: wrap(map),
                });
            }
            let good_key = filler(*key).as_str().unwrap_or("k").to_string();
            if super::is_scalar(*value) {
                let value_constraint = format!(
                    "Map value must satisfy constraint: [{}]",
                    all_constraints(*value).join(", ")
                );
                for (bad, _) in scalar_cases(*value) {
                    let map = json!({ good_key.clone(): bad });
                    out.push(Case {
                        expected: expected_entry(sensitive, Some(&map), path, &value_constraint),
                        request: wrap(map),
                    });
                }
            } else {
                let value_path = format!("{path}.{good_key}");
                let key_for = good_key.clone();
                let inner = move |v: Value| wrap(json!({ key_for.clone(): v }));
                collect(*value, &value_path, &inner, depth + 1, out);
            }
        }
        _ => {
            for (bad, constraint) in scalar_cases(shape) {
                out.push(Case {
                    expected: expected_entry(sensitive, Some(&bad), path, &constraint),
                    request: wrap(bad),
                });
            }
        }
    }
}

/// The test that fails if a constraint of the model is not enforced: for every constraint of
/// every implemented operation's input, a request breaking it gets AWS's exact entry.
#[test]
fn every_constraint_of_every_operation_is_enforced() {
    let mut total = 0;
    for (op, shape) in OPERATIONS {
        let mut cases = Vec::new();
        collect(*shape, "", &|v| v, 0, &mut cases);
        for case in &cases {
            let found = violations(*shape, &case.request);
            assert!(
                found.contains(&case.expected),
                "{op}: {}\nexpected entry: {}\ngot: {found:#?}",
                case.request,
                case.expected
            );
            let msg = message(&found).unwrap();
            let count = found.len();
            let head = if count == 1 {
                "1 validation error detected: ".to_string()
            } else {
                format!("{count} validation errors detected: ")
            };
            assert!(msg.starts_with(&head) && msg.contains(&case.expected));
        }
        total += cases.len();
    }
    // Guards against the walk silently finding nothing.
    assert!(total > 150, "only {total} constraints found");
}
