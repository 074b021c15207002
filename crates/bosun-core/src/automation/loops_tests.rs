//! Tests of `aws:loop`: planning ([`plan`](super::plan)), [`loop_spec`](super::loop_spec),
//! [`next_iteration`](super::next_iteration), the flow inside a loop and interpolation of the
//! loop's outputs.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::document::{validate, DocumentType};

fn planned(steps: Value) -> Result<Runbook, RunbookError> {
    let doc = json!({"schemaVersion": "0.3",
        "parameters": {"Names": {"type": "StringList", "default": ["a"]}},
        "mainSteps": steps});
    validate(&doc, DocumentType::Automation).expect("the test document is valid");
    plan(&doc)
}

fn each(inputs: Value) -> Value {
    let mut inputs = inputs;
    inputs["Steps"] = json!([
        {"name": "echo", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}},
        {"name": "after", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}},
    ]);
    json!([
        {"name": "first", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}},
        {"name": "each", "action": "aws:loop", "inputs": inputs},
        {"name": "last", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}},
    ])
}

#[test]
fn a_loop_plans_its_inner_steps_after_the_main_steps() {
    let r = planned(each(json!({"Iterators": "{{ Names }}"}))).unwrap();
    let names: Vec<&str> = r.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["first", "each", "last", "echo", "after"]);
    assert_eq!(r.main_len(), 3);
    assert_eq!(r.steps[1].action, Action::Loop);
    assert_eq!(r.steps[1].body, 3..5);
    assert!(r.steps[1].inputs.get("Steps").is_none());
    assert_eq!(r.steps[3].parent, Some(1));
    assert_eq!(r.scope(4), 3..5);
    assert_eq!(r.scope(0), 0..3);
    // The flow: main steps never run into the inner steps; the last inner step ends the
    // iteration.
    assert_eq!(
        next_after(&r, 2, &StepOutcome::Success, false),
        Next::End(ExecStatus::Success)
    );
    assert_eq!(
        next_after(&r, 3, &StepOutcome::Success, false),
        Next::Step(4)
    );
    assert_eq!(
        next_after(&r, 4, &StepOutcome::Success, false),
        Next::End(ExecStatus::Success)
    );
    assert_eq!(
        next_after(&r, 4, &StepOutcome::Failed, false),
        Next::End(ExecStatus::Failed)
    );
}

#[test]
fn bad_loop_inputs_are_refused_as_aws_words_them() {
    for (inputs, want) in [
        (
            json!({"Iterators": ["a"], "LoopCondition": {"Variable": "x", "StringEquals": "y"}}),
            "Specify either Iterators or LoopCondition for aws:loop, not both.",
        ),
        (
            json!({}),
            "aws:loop needs either Iterators or LoopCondition.",
        ),
        (
            json!({"Iterators": ["a"], "MaxIterations": 0}),
            "MaxIterations 0 must be an integer from 1 to 100.",
        ),
        (
            json!({"Iterators": ["a"], "MaxIterations": 101}),
            "MaxIterations 101",
        ),
        (
            json!({"Iterators": ["a"], "IteratorDataType": "Float"}),
            "IteratorDataType \"Float\"",
        ),
        (
            json!({"Iterators": ["x"], "IteratorDataType": "Integer"}),
            "Iterators item \"x\" is not of type Integer.",
        ),
        (
            json!({"Iterators": (0..101).collect::<Vec<_>>()}),
            "Iterators has 101 items",
        ),
        (json!({"Iterators": "a"}), "Iterators \"a\" must be a list."),
        (
            json!({"LoopCondition": {"Variable": "x"}}),
            "LoopCondition needs Variable and one operator",
        ),
        (
            json!({"LoopCondition": {"Variable": "x", "StringEquals": "y"}, "IteratorDataType": "String"}),
            "IteratorDataType goes with Iterators",
        ),
    ] {
        let e = planned(each(inputs.clone())).unwrap_err().0;
        assert!(e.starts_with("Step \"each\": "), "{inputs}: {e}");
        assert!(e.contains(want), "{inputs}: {e}");
    }
}

#[test]
fn loop_structure_rules() {
    // The plan's own checks (CreateDocument's come first on a stored document; see below).
    let planned = |steps: Value| plan(&json!({"mainSteps": steps}));
    let inner = |steps: Value| {
        json!([{"name": "each", "action": "aws:loop",
                "inputs": {"Iterators": ["a"], "Steps": steps}},
               {"name": "out", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}])
    };
    let sleep = |name: &str, extra: Value| {
        let mut s = json!({"name": name, "action": "aws:sleep", "inputs": {"Duration": "PT0S"}});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        s
    };
    for (steps, want) in [
        (json!([sleep("out", json!({}))]), "Step name \"out\" is used more than once"),
        (json!([sleep("a", json!({"nextStep": "out"}))]),
            "Step \"a\": nextStep names the step \"out\", which is not inside the aws:loop \"each\""),
        (json!([sleep("a", json!({"onFailure": "step:out"}))]), "which is not inside the aws:loop"),
        (json!([{"name": "b", "action": "aws:branch",
                 "inputs": {"Choices": [{"NextStep": "out", "Variable": "x", "StringEquals": "x"}]}}]),
            "Step \"b\": Choices[0].NextStep names the step \"out\", which is not inside"),
        (json!([{"name": "n", "action": "aws:loop",
                 "inputs": {"Iterators": ["a"], "Steps": [sleep("z", json!({}))]}}]),
            "Bosun does not nest loops"),
        (json!([sleep("a", json!({"onCancel": "step:out"}))]), "no cancel flow inside a loop"),
        (json!([]), "Steps must be a non-empty list of steps."),
    ] {
        let e = planned(inner(steps.clone())).unwrap_err().0;
        assert!(e.contains(want), "{steps}: {e}");
    }
    // A main step may not jump into a loop (the document check refuses it first; the plan
    // refuses it on its own too).
    let e = plan(&json!({"mainSteps": [
        {"name": "go", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}, "nextStep": "a"},
        {"name": "each", "action": "aws:loop",
         "inputs": {"Iterators": ["a"], "Steps": [sleep("a", json!({}))]}}]}))
    .unwrap_err()
    .0;
    assert!(
        e.contains("which is inside the aws:loop \"each\"; only that loop's steps"),
        "{e}"
    );
    // The loop step itself: no onCancel (AWS), no maxAttempts/timeoutSeconds (Bosun).
    for (k, v) in [
        ("onCancel", json!("step:out")),
        ("maxAttempts", json!(2)),
        ("timeoutSeconds", json!(5)),
    ] {
        let mut doc = inner(json!([sleep("a", json!({}))]));
        doc[0][k] = v;
        assert!(planned(doc).is_err(), "{k}");
    }
    // Jumps inside the loop are fine.
    planned(inner(json!([
        sleep("a", json!({"nextStep": "c"})),
        sleep("b", json!({})),
        sleep("c", json!({"onFailure": "step:a"}))
    ])))
    .unwrap();
}

#[test]
fn loop_spec_types_items_and_defaults_max_iterations() {
    let s = loop_spec(&json!({"Iterators": ["1", 2], "IteratorDataType": "Integer"})).unwrap();
    assert_eq!(s.kind, LoopKind::Iterators(vec![json!(1), json!(2)]));
    assert_eq!(s.max_iterations, MAX_ITERATIONS);
    let s = loop_spec(&json!({"Iterators": ["a", 3, true]})).unwrap();
    assert_eq!(
        s.kind,
        LoopKind::Iterators(vec![json!("a"), json!("3"), json!("true")])
    );
    let s = loop_spec(
        &json!({"LoopCondition": {"Variable": "{{ x.y }}", "BooleanEquals": true},
        "MaxIterations": "3"}),
    )
    .unwrap();
    assert_eq!(s.max_iterations, 3);
    assert!(matches!(s.kind, LoopKind::Condition(_)));
    assert_eq!(iteration_value(&json!({"k": "v"})), "{\"k\":\"v\"}");
    assert_eq!(iteration_value(&json!("a")), "a");
}

#[test]
fn do_while_runs_once_then_while_the_condition_holds() {
    let s = loop_spec(
        &json!({"LoopCondition": {"Variable": "x", "StringEquals": "x"},
        "MaxIterations": 2}),
    )
    .unwrap();
    assert_eq!(next_iteration(&s, 0, false), Some((1, None)));
    assert_eq!(next_iteration(&s, 1, false), None);
    assert_eq!(next_iteration(&s, 1, true), Some((2, None)));
    assert_eq!(next_iteration(&s, 2, true), None, "MaxIterations stops it");
    assert!(loop_condition_holds(&json!({"Variable": true, "BooleanEquals": true})).unwrap());
    assert!(
        !loop_condition_holds(&json!({"Not": {"Variable": "a", "StringEquals": "a"}})).unwrap()
    );
    assert!(loop_condition_holds(&json!({"Variable": "a", "Bogus": "a"})).is_err());
}

#[test]
fn inner_steps_see_the_loop_outputs() {
    let ctx = Context {
        execution_id: "e".into(),
        account_id: "1".into(),
        region: "r".into(),
        partition: "aws".into(),
        now: jiff::Timestamp::UNIX_EPOCH,
        parameters: BTreeMap::new(),
        step_outputs: BTreeMap::from([
            ("each.CurrentIteration".to_string(), json!(2)),
            ("each.CurrentIteratorValue".to_string(), json!("b")),
        ]),
    };
    let v = interpolate(
        &json!({"Line": "{{ each.CurrentIteration }}:{{each.CurrentIteratorValue}}",
                "N": "{{ each.CurrentIteration }}"}),
        &ctx,
    )
    .unwrap();
    assert_eq!(v, json!({"Line": "2:b", "N": 2}));
}

proptest! {
    /// A `for each` loop runs min(items, MaxIterations) iterations, numbered from 1, over the
    /// items in order; then it is done.
    #[test]
    fn for_each_visits_items_in_order(items in proptest::collection::vec("[a-z]{0,3}", 0..12),
                                      max in 1u32..15) {
        let spec = loop_spec(&json!({"Iterators": items, "MaxIterations": max})).unwrap();
        let mut done = 0;
        let mut seen = Vec::new();
        while let Some((n, v)) = next_iteration(&spec, done, true) {
            prop_assert_eq!(n, done + 1);
            seen.push(v.unwrap());
            done = n;
        }
        let want: Vec<Value> = items.iter().take(max as usize).map(|s| json!(s)).collect();
        prop_assert_eq!(seen, want);
    }
}

#[test]
fn documents_check_inner_steps_when_created() {
    let doc = |inner: Value| {
        json!({"schemaVersion": "0.3", "mainSteps": [
            {"name": "each", "action": "aws:loop", "inputs": {"Iterators": ["a"], "Steps": inner}},
            {"name": "out", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}]})
    };
    for (inner, want) in [
        (
            json!([{"name": "out", "action": "aws:sleep"}]),
            "Steps[0] (step \"out\"): the step name is used by another step",
        ),
        (
            json!([{"name": "a", "action": "aws:sleep", "nextStep": "out"}]),
            "mainSteps[0] (step \"each\"): inputs.Steps[0] (step \"a\"): nextStep \"out\"",
        ),
        (
            json!([{"name": "a", "action": "aws:runCommand", "inputs": {}}]),
            "inputs.DocumentName is required",
        ),
        (
            json!([{"name": "a-b", "action": "aws:sleep"}]),
            "must be letters, digits and underscores",
        ),
        (json!([]), "inputs.Steps must be a non-empty list of steps."),
    ] {
        let e = validate(&doc(inner.clone()), DocumentType::Automation).unwrap_err();
        assert!(e.to_string().contains(want), "{inner}: {e:?}");
    }
    let ok = json!([{"name": "a", "action": "aws:sleep", "nextStep": "b", "onFailure": "step:b"},
                    {"name": "b", "action": "aws:sleep"}]);
    validate(&doc(ok), DocumentType::Automation).unwrap();
}
