//! Tests of [`step_outputs`](super::step_outputs) and
//! [`execution_outputs`](super::execution_outputs).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

fn step(outputs: &[(&str, &str, &str)]) -> Step {
    let r = plan(
        &json!({"mainSteps": [{"name": "call", "action": "aws:executeAwsApi",
        "inputs": {"Service": "ssm", "Api": "DescribeInstanceInformation"},
        "outputs": outputs.iter().map(|(n, s, t)| json!({"Name": n, "Selector": s, "Type": t}))
            .collect::<Vec<_>>()}]}),
    )
    .unwrap();
    r.steps[0].clone()
}

fn response() -> Value {
    json!({"Payload": {"n": 3, "f": 2.0, "s": "7", "b": "TRUE", "t": true, "m": {"k": "v"}},
        "List": [{"Id": "i-1", "N": 1}, {"Id": "i-2", "N": 2}],
        "Strings": ["a", "b"]})
}

#[test]
fn outputs_take_their_type() {
    let s = step(&[
        ("S", "$.Payload.s", "String"),
        ("SN", "$.Payload.n", "String"),
        ("SB", "$.Payload.t", "String"),
        ("I", "$.Payload.n", "Integer"),
        ("IF", "$.Payload.f", "Integer"),
        ("IS", "$.Payload.s", "Integer"),
        ("B", "$.Payload.b", "Boolean"),
        ("BT", "$.Payload.t", "Boolean"),
        ("L", "$.List[*].Id", "StringList"),
        ("LN", "$.List[*].N", "StringList"),
        ("M", "$.Payload.m", "StringMap"),
        ("ML", "$.List", "MapList"),
        ("Missing", "$.Payload.nope", "String"),
    ]);
    let o = step_outputs(&s, &response()).unwrap();
    let want: BTreeMap<String, Value> = [
        ("S", json!("7")),
        ("SN", json!("3")),
        ("SB", json!("true")),
        ("I", json!(3)),
        ("IF", json!(2)),
        ("IS", json!(7)),
        ("B", json!(true)),
        ("BT", json!(true)),
        ("L", json!(["i-1", "i-2"])),
        ("LN", json!(["1", "2"])),
        ("M", json!({"k": "v"})),
        ("ML", json!([{"Id": "i-1", "N": 1}, {"Id": "i-2", "N": 2}])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(o, want, "a selector matching nothing leaves its output out");
}

#[test]
fn values_of_the_wrong_type_fail_naming_the_output() {
    for (sel, ty) in [
        ("$.Payload.m", "String"),
        ("$.Payload.b", "Integer"),
        ("$.Payload.n", "Boolean"),
        ("$.Payload.s", "StringList"),
        ("$.List", "StringList"),
        ("$.Strings", "StringMap"),
        ("$.Strings", "MapList"),
    ] {
        let e = step_outputs(&step(&[("Out", sel, ty)]), &response())
            .unwrap_err()
            .0;
        assert!(e.starts_with("Output call.Out: the value "), "{e}");
        assert!(e.contains(&format!("is not a {ty}")), "{e}");
    }
}

#[test]
fn execution_outputs_are_lists_of_strings() {
    let r = plan(&json!({"mainSteps": [{"name": "a", "action": "aws:pause"}],
        "outputs": ["a.L", "a.S", "a.I", "a.M", "a.ML", "a.Never"]}))
    .unwrap();
    let produced: BTreeMap<String, Value> = [
        ("a.L", json!(["x", "y"])),
        ("a.S", json!("text")),
        ("a.I", json!(5)),
        ("a.M", json!({"k": "v"})),
        ("a.ML", json!([{"k": "v"}])),
        ("b.Other", json!("not listed")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let o = execution_outputs(&r, &produced);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(o.len(), 6);
    assert_eq!(o["a.L"], s(&["x", "y"]));
    assert_eq!(o["a.S"], s(&["text"]));
    assert_eq!(o["a.I"], s(&["5"]));
    assert_eq!(o["a.M"], s(&[r#"{"k":"v"}"#]));
    assert_eq!(o["a.ML"], s(&[r#"[{"k":"v"}]"#]));
    assert_eq!(o["a.Never"], s(&[NO_OUTPUT]));
    assert_eq!(
        NO_OUTPUT,
        "No output available yet because the step is not successfully executed"
    );
}
