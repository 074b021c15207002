//! Tests of [`interpolate`](super::interpolate).

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

fn ctx() -> Context {
    let map = |pairs: Vec<(&str, Value)>| -> BTreeMap<String, Value> {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    };
    Context {
        execution_id: "8d2c2b3e-0000-4000-8000-000000000001".into(),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        partition: "aws".into(),
        now: "2026-03-04T05:06:07.891Z".parse().unwrap(),
        parameters: map(vec![
            ("Name", json!("web")),
            ("Ids", json!(["i-1", "i-2"])),
            ("Count", json!(3)),
            ("Flag", json!(true)),
            ("Tags", json!({"Env": "Prod"})),
            ("Tricky", json!("{{ Name }}")),
        ]),
        step_outputs: map(vec![
            ("first.Id", json!("cmd-1")),
            ("first.List", json!(["a", "b"])),
        ]),
    }
}

fn run(v: Value) -> Result<Value, InterpolateError> {
    interpolate(&v, &ctx())
}

#[test]
fn whole_references_keep_their_type() {
    assert_eq!(run(json!("{{ Ids }}")).unwrap(), json!(["i-1", "i-2"]));
    assert_eq!(run(json!("{{Count}}")).unwrap(), json!(3));
    assert_eq!(run(json!("{{  Flag  }}")).unwrap(), json!(true));
    assert_eq!(run(json!("{{ Tags }}")).unwrap(), json!({"Env": "Prod"}));
    assert_eq!(run(json!("{{ first.Id }}")).unwrap(), json!("cmd-1"));
    assert_eq!(run(json!("{{ first.List }}")).unwrap(), json!(["a", "b"]));
}

#[test]
fn references_inside_text_render_as_text() {
    assert_eq!(
        run(json!("{{Name}}-{{ Count }}-{{Flag}}")).unwrap(),
        json!("web-3-true")
    );
    assert_eq!(
        run(json!("ids {{ Ids }}")).unwrap(),
        json!(r#"ids ["i-1","i-2"]"#)
    );
    assert_eq!(
        run(json!("t={{ Tags }}")).unwrap(),
        json!(r#"t={"Env":"Prod"}"#)
    );
    assert_eq!(run(json!(" {{ Count }}")).unwrap(), json!(" 3"));
}

#[test]
fn globals_and_the_execution_id() {
    assert_eq!(
        run(json!(
            "{{global:ACCOUNT_ID}}/{{ global:REGION }}/{{global:AWS_PARTITION}}"
        ))
        .unwrap(),
        json!("123456789012/eu-west-1/aws")
    );
    assert_eq!(run(json!("{{global:DATE}}")).unwrap(), json!("2026-03-04"));
    assert_eq!(
        run(json!("{{global:DATE_TIME}}")).unwrap(),
        json!("2026-03-04_05.06.07")
    );
    assert_eq!(
        run(json!("{{automation:EXECUTION_ID}}")).unwrap(),
        json!("8d2c2b3e-0000-4000-8000-000000000001")
    );
}

#[test]
fn unknown_references_are_errors_naming_them() {
    for (text, name) in [
        ("{{ Nope }}", "Nope"),
        ("x {{ second.Id }}", "second.Id"),
        ("{{global:TIME}}", "global:TIME"),
        ("{{automation:ID}}", "automation:ID"),
        ("{{ variable:Count }}", "variable:Count"),
    ] {
        let e = run(json!({"k": [text]})).unwrap_err().0;
        assert!(e.contains(&format!("{{{{ {name} }}}}")), "{text}: {e}");
    }
}

#[test]
fn store_references_go_templates_and_values_stay() {
    assert_eq!(
        run(json!("{{ssm:/a/b}} {{ ssm-secure:k }}")).unwrap(),
        json!("{{ssm:/a/b}} {{ ssm-secure:k }}")
    );
    assert_eq!(run(json!("{{ssm:/a}}")).unwrap(), json!("{{ssm:/a}}"));
    assert_eq!(
        run(json!("{{.State}} {{ a b }}")).unwrap(),
        json!("{{.State}} {{ a b }}")
    );
    assert_eq!(
        run(json!("unclosed {{ Name")).unwrap(),
        json!("unclosed {{ Name")
    );
    // A value holding braces is not scanned again.
    assert_eq!(run(json!("<{{ Tricky }}>")).unwrap(), json!("<{{ Name }}>"));
}

#[test]
fn objects_and_arrays_recurse_keys_stay_and_lists_splice() {
    let v = run(json!({
        "{{ Name }}": {"n": "{{ Count }}", "deep": [{"x": "{{Name}}"}, 1, null, false]},
        "InstanceIds": ["{{ Ids }}", "i-3", "{{ Name }}"],
        "Nested": [["{{ Ids }}"]],
    }))
    .unwrap();
    assert_eq!(
        v,
        json!({
            "{{ Name }}": {"n": 3, "deep": [{"x": "web"}, 1, null, false]},
            "InstanceIds": ["i-1", "i-2", "i-3", "web"],
            "Nested": [["i-1", "i-2"]],
        })
    );
}

proptest! {
    #[test]
    fn text_without_braces_is_unchanged(s in "[^{}]*") {
        prop_assert_eq!(run(json!(s.clone())).unwrap(), json!(s));
    }

    #[test]
    fn every_string_parameter_round_trips(v in "[a-zA-Z0-9 {}.:_-]{0,20}") {
        let mut c = ctx();
        c.parameters.insert("P".into(), json!(v.clone()));
        prop_assert_eq!(interpolate(&json!("{{ P }}"), &c).unwrap(), json!(v.clone()));
        prop_assert_eq!(interpolate(&json!("<{{P}}>"), &c).unwrap(), json!(format!("<{v}>")));
    }
}
