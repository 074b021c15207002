//! Tests of [`resolve_parameters`](super::resolve_parameters).

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn runbook() -> Runbook {
    plan(&json!({"schemaVersion": "0.3",
        "parameters": {
            "Name": {"type": "String", "default": "web", "allowedPattern": "^[a-z]+$"},
            "Ids": {"type": "StringList"},
            "Count": {"type": "Integer", "default": 2},
            "Flag": {"type": "Boolean", "default": false},
            "Tags": {"type": "StringMap", "default": {"Env": "Dev"}},
            "Maps": {"type": "MapList", "default": [{"a": "1"}]},
        },
        "mainSteps": [{"name": "a", "action": "aws:pause"}]}))
    .unwrap()
}

fn passed(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

#[test]
fn values_are_typed_and_defaults_fill_in() {
    let r = resolve_parameters(&runbook(), &passed(&[("Ids", &["i-1", "i-2"])])).unwrap();
    assert_eq!(r["Name"], json!("web"));
    assert_eq!(r["Ids"], json!(["i-1", "i-2"]));
    assert_eq!(r["Count"], json!(2));
    assert_eq!(r["Flag"], json!(false));
    assert_eq!(r["Tags"], json!({"Env": "Dev"}));
    assert_eq!(r["Maps"], json!([{"a": "1"}]));
    let r = resolve_parameters(
        &runbook(),
        &passed(&[
            ("Ids", &[]),
            ("Count", &["7"]),
            ("Flag", &["true"]),
            ("Tags", &[r#"{"Env":"Prod"}"#]),
        ]),
    )
    .unwrap();
    assert_eq!(r["Ids"], json!([]));
    assert_eq!(r["Count"], json!(7));
    assert_eq!(r["Flag"], json!(true));
    assert_eq!(r["Tags"], json!({"Env": "Prod"}));
}

#[test]
fn refusals_name_the_parameter() {
    for (p, want) in [
        (passed(&[]), "\"Ids\" is required"),
        (
            passed(&[("Ids", &["x"]), ("Bogus", &["1"])]),
            "\"Bogus\" is not declared",
        ),
        (
            passed(&[("Ids", &["x"]), ("Count", &["3.5"])]),
            "\"Count\" must be an integer",
        ),
        (
            passed(&[("Ids", &["x"]), ("Flag", &["yes"])]),
            "\"Flag\" must be true or false",
        ),
        (
            passed(&[("Ids", &["x"]), ("Name", &["Web1"])]),
            "\"Name\" does not match",
        ),
        (
            passed(&[("Ids", &["x"]), ("Name", &["a", "b"])]),
            "exactly one value",
        ),
    ] {
        let e = resolve_parameters(&runbook(), &p).unwrap_err().0;
        assert!(e.contains(want), "{p:?}: {e}");
    }
}
