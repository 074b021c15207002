//! Tests of the loop runtime's rule over step rows ([`decide`]), which row the flow goes on
//! from ([`current`]) and AWS's `ParentStepDetails` ([`parent_details`]).

use std::collections::BTreeMap;

use bosun_core::automation::{plan, Context, Runbook};
use bosun_store::AutomationStepRecord;
use serde_json::{json, Value};

use super::*;

fn runbook(loop_inputs: Value) -> Runbook {
    let mut inputs = loop_inputs;
    inputs["Steps"] = json!([
        {"name": "one", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}},
        {"name": "two", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}},
    ]);
    plan(&json!({"mainSteps": [
        {"name": "each", "action": "aws:loop", "inputs": inputs},
        {"name": "after", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}},
    ]}))
    .unwrap()
}

fn row(seq: i64, r: &Runbook, name: &str, status: &str) -> AutomationStepRecord {
    let index = r.step_index(name).unwrap();
    AutomationStepRecord {
        execution_id: "e".into(),
        seq,
        step_execution_id: format!("s{seq}"),
        step_index: index as i64,
        step_name: name.into(),
        action: r.steps[index].action.as_str().into(),
        status: status.into(),
        attempt: 1,
        inputs_json: "{}".into(),
        outputs_json: "{}".into(),
        response_json: "null".into(),
        failure_message: String::new(),
        start_ms: Some(0),
        end_ms: None,
        wake_ms: None,
        command_id: String::new(),
        signal_base: 0,
    }
}

/// The loop row at seq 0 with its resolved inputs and the iterations begun so far.
fn loop_row(
    r: &Runbook,
    inputs: Value,
    begun: &[(u32, Option<&str>, i64)],
) -> AutomationStepRecord {
    let mut l = row(0, r, "each", "InProgress");
    l.inputs_json = inputs.to_string();
    let marks: Vec<Value> = begun
        .iter()
        .map(|(n, v, seq)| json!({"Iteration": n, "IteratorValue": v, "FirstSeq": seq}))
        .collect();
    if !marks.is_empty() {
        l.response_json = json!({ "Iterations": marks }).to_string();
    }
    l
}

fn ctx(outputs: &[(&str, Value)]) -> Context {
    Context {
        execution_id: "e".into(),
        account_id: "1".into(),
        region: "r".into(),
        partition: "aws".into(),
        now: jiff::Timestamp::UNIX_EPOCH,
        parameters: BTreeMap::new(),
        step_outputs: outputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

fn begin(n: u32, value: Option<&str>, seq: i64) -> Decision {
    Decision::Begin {
        n,
        value: value.map(|v| json!(v)),
        seq,
    }
}

#[test]
fn a_for_each_loop_walks_its_items_and_inner_steps() {
    let inputs = json!({"Iterators": ["a", "b"]});
    let r = runbook(inputs.clone());
    let (one, two) = (r.step_index("one").unwrap(), r.step_index("two").unwrap());
    let c = ctx(&[]);
    // Just started: iteration 1 begins, its first step as run 1.
    let l = loop_row(&r, inputs.clone(), &[]);
    assert_eq!(decide(&r, &[l], &c), begin(1, Some("a"), 1));
    // The loop row says iteration 1 began, but the server died before its first step was
    // written: that step starts now, at the recorded run number.
    let l = loop_row(&r, inputs.clone(), &[(1, Some("a"), 1)]);
    assert_eq!(
        decide(&r, std::slice::from_ref(&l), &c),
        Decision::Start { index: one, seq: 1 }
    );
    // A running inner step is driven as any step.
    let rows = [l.clone(), row(1, &r, "one", "InProgress")];
    assert_eq!(decide(&r, &rows, &c), Decision::NotMine);
    // Ended: the next inner step; then the next iteration; then the end.
    let rows = [l.clone(), row(1, &r, "one", "Success")];
    assert_eq!(
        decide(&r, &rows, &c),
        Decision::Start { index: two, seq: 2 }
    );
    let rows = [
        l,
        row(1, &r, "one", "Success"),
        row(2, &r, "two", "Success"),
    ];
    assert_eq!(decide(&r, &rows, &c), begin(2, Some("b"), 3));
    // Iteration 2 began after run 2 and the crash came before its first step: run 3 is it.
    let l = loop_row(&r, inputs.clone(), &[(1, Some("a"), 1), (2, Some("b"), 3)]);
    let mut rows = vec![
        l,
        row(1, &r, "one", "Success"),
        row(2, &r, "two", "Success"),
    ];
    assert_eq!(
        decide(&r, &rows, &c),
        Decision::Start { index: one, seq: 3 }
    );
    rows.push(row(3, &r, "one", "Success"));
    rows.push(row(4, &r, "two", "Success"));
    let done = Decision::End {
        status: "Success".into(),
        why: String::new(),
    };
    assert_eq!(decide(&r, &rows, &c), done);
    // Once the loop row has ended, the flow goes on from it.
    assert_eq!(current(&r, &rows).unwrap().seq, 4);
    rows[0].status = "Success".into();
    assert_eq!(decide(&r, &rows, &c), Decision::NotMine);
    assert_eq!(current(&r, &rows).unwrap().step_name, "each");
    // Each inner row names its loop and iteration.
    let p = parent_details(&r, &rows, &rows[3]).unwrap();
    assert_eq!(
        p,
        json!({"StepExecutionId": "s0", "StepName": "each", "Action": "aws:loop",
               "Iteration": 2, "IteratorValue": "b"})
    );
    assert_eq!(parent_details(&r, &rows, &rows[1]).unwrap()["Iteration"], 1);
    assert_eq!(parent_details(&r, &rows, &rows[0]), None);
    // An empty list runs no iteration.
    let empty = json!({"Iterators": []});
    let l = loop_row(&r, empty, &[]);
    assert_eq!(decide(&r, &[l], &c), done);
}

#[test]
fn an_inner_failure_ends_the_loop_with_its_message() {
    let inputs = json!({"Iterators": ["a", "b"]});
    let r = runbook(inputs.clone());
    let l = loop_row(&r, inputs, &[(1, Some("a"), 1)]);
    let mut failed = row(1, &r, "one", "Failed");
    failed.failure_message = "boom".into();
    assert_eq!(
        decide(&r, &[l, failed], &ctx(&[])),
        Decision::Inherit {
            status: "Failed".into(),
            why: "Step one failed: boom".into()
        }
    );
}

#[test]
fn a_do_while_loop_asks_its_condition_after_each_iteration() {
    let cond = json!({"Variable": "{{ two.Again }}", "BooleanEquals": true});
    let inputs = json!({"LoopCondition": cond, "MaxIterations": 2});
    let r = runbook(inputs.clone());
    let l = loop_row(&r, inputs.clone(), &[(1, None, 1)]);
    let rows = [
        l,
        row(1, &r, "one", "Success"),
        row(2, &r, "two", "Success"),
    ];
    assert_eq!(
        decide(&r, &rows, &ctx(&[("two.Again", json!(true))])),
        begin(2, None, 3)
    );
    let done = Decision::End {
        status: "Success".into(),
        why: String::new(),
    };
    assert_eq!(
        decide(&r, &rows, &ctx(&[("two.Again", json!(false))])),
        done
    );
    // MaxIterations: after the second iteration the loop ends even while the condition holds.
    let l = loop_row(&r, inputs, &[(1, None, 1), (2, None, 3)]);
    let rows = [
        l,
        row(3, &r, "one", "Success"),
        row(4, &r, "two", "Success"),
    ];
    assert_eq!(decide(&r, &rows, &ctx(&[("two.Again", json!(true))])), done);
    // A condition that cannot be resolved fails the loop.
    match decide(&r, &rows[..1], &ctx(&[])) {
        Decision::Start { seq: 3, .. } => {}
        other => panic!("{other:?}"),
    }
    let l = loop_row(&r, json!({"LoopCondition": cond}), &[(1, None, 1)]);
    let rows = [
        l,
        row(1, &r, "one", "Success"),
        row(2, &r, "two", "Success"),
    ];
    match decide(&r, &rows, &ctx(&[])) {
        Decision::End { status, why } => {
            assert_eq!(status, "Failed");
            assert!(why.contains("two.Again"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}
