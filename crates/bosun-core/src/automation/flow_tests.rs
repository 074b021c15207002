//! Tests of [`next_after`](super::next_after).

use serde_json::{json, Value};

use super::*;

fn rb(steps: Value) -> Runbook {
    plan(&json!({"mainSteps": steps})).unwrap()
}

fn pause(name: &str, extra: Value) -> Value {
    let mut s = json!({"name": name, "action": "aws:pause"});
    s.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    s
}

use ExecStatus::{Cancelled as C, Failed as F, Success as S, TimedOut as T};
use StepOutcome::{Cancelled, Failed, Success, TimedOut};

#[test]
fn success_follows_next_step_then_is_end_then_order() {
    let r = rb(json!([
        pause("a", json!({})),
        pause("b", json!({"nextStep": "d", "isEnd": true})),
        pause("c", json!({"isEnd": true})),
        pause("d", json!({})),
    ]));
    assert_eq!(next_after(&r, 0, &Success, false), Next::Step(1));
    assert_eq!(
        next_after(&r, 1, &Success, false),
        Next::Step(3),
        "nextStep beats isEnd"
    );
    assert_eq!(next_after(&r, 2, &Success, false), Next::End(S));
    assert_eq!(
        next_after(&r, 3, &Success, false),
        Next::End(S),
        "the last step ends"
    );
    assert_eq!(
        next_after(&r, 3, &Success, true),
        Next::End(F),
        "an earlier critical failure"
    );
    assert_eq!(next_after(&r, 2, &Success, true), Next::End(F));
    assert_eq!(next_after(&r, 9, &Success, false), Next::End(F));
}

#[test]
fn branches_go_where_they_chose() {
    let r = rb(json!([pause("a", json!({})), pause("b", json!({}))]));
    let to = |n: &str| StepOutcome::Branched(n.into());
    assert_eq!(next_after(&r, 1, &to("a"), false), Next::Step(0));
    assert_eq!(next_after(&r, 0, &to("b"), false), Next::Step(1));
    assert_eq!(next_after(&r, 0, &to("zz"), false), Next::End(F));
}

#[test]
fn failures_follow_on_failure() {
    let r = rb(json!([
        pause("abort", json!({})),
        pause("cont", json!({"onFailure": "Continue"})),
        pause("crit", json!({"onFailure": "Continue", "isCritical": true})),
        pause("jump", json!({"onFailure": "step:last", "isEnd": true})),
        pause(
            "soft",
            json!({"onFailure": "step:last", "isCritical": false})
        ),
        pause("last", json!({"onFailure": "Continue"})),
    ]));
    assert_eq!(next_after(&r, 0, &Failed, false), Next::End(F));
    assert_eq!(next_after(&r, 0, &TimedOut, false), Next::End(T));
    assert_eq!(next_after(&r, 1, &Failed, false), Next::Step(2));
    assert_eq!(next_after(&r, 2, &TimedOut, false), Next::Step(3));
    assert_eq!(
        next_after(&r, 3, &Failed, false),
        Next::Step(5),
        "step:<name> beats isEnd"
    );
    assert_eq!(next_after(&r, 4, &Failed, false), Next::Step(5));
    // A non-critical failure on the last step ends in success; a critical one in failure.
    assert_eq!(next_after(&r, 5, &Failed, false), Next::End(S));
    assert_eq!(next_after(&r, 5, &Failed, true), Next::End(F));
}

#[test]
fn critical_failures_are_those_of_critical_steps() {
    let r = rb(json!([
        pause("a", json!({})),
        pause("b", json!({"onFailure": "Continue"})),
        pause("c", json!({"onFailure": "step:a", "isCritical": "false"})),
    ]));
    assert!(is_critical_failure(&r.steps[0], &Failed));
    assert!(is_critical_failure(&r.steps[0], &TimedOut));
    assert!(!is_critical_failure(&r.steps[0], &Success));
    assert!(!is_critical_failure(&r.steps[0], &Cancelled));
    assert!(!is_critical_failure(&r.steps[1], &Failed));
    assert!(!is_critical_failure(&r.steps[2], &TimedOut));
    // The last step's own critical failure counts when the flow continues past it.
    let r = rb(json!([pause(
        "a",
        json!({"onFailure": "Continue", "isCritical": true})
    )]));
    assert_eq!(next_after(&r, 0, &Failed, false), Next::End(F));
}

#[test]
fn cancels_follow_on_cancel() {
    let r = rb(json!([
        pause("a", json!({"onCancel": "step:cleanup"})),
        pause("b", json!({})),
        {"name": "cleanup", "action": "aws:runCommand", "inputs": {"DocumentName": "d"}},
    ]));
    assert_eq!(next_after(&r, 0, &Cancelled, false), Next::Step(2));
    assert_eq!(next_after(&r, 1, &Cancelled, false), Next::End(C));
}
