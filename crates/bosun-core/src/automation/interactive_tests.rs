//! Tests of the interactive-mode signal rules.

use serde_json::json;

use super::interactive::{pending_start, stop_step_requested};

#[test]
fn the_first_unconsumed_start_step_is_pending() {
    let signals = vec![
        json!({"Type": "Resume", "StepName": "x"}),
        json!({"Type": "StartStep", "StepName": "one"}),
        json!({"Type": "Approve"}),
        json!({"Type": "StartStep", "StepName": "two"}),
    ];
    assert_eq!(pending_start(&signals, 0), Some((1, "one".to_string())));
    // The step started by signal 1 has base 2: the next one is pending.
    assert_eq!(pending_start(&signals, 2), Some((3, "two".to_string())));
    assert_eq!(pending_start(&signals, 4), None);
    assert_eq!(pending_start(&[], 0), None);
}

#[test]
fn a_stop_step_counts_only_for_its_step_and_after_its_start() {
    let signals = vec![
        json!({"Type": "StopStep", "StepExecutionId": "a"}),
        json!({"Type": "StartStep", "StepName": "one"}),
        json!({"Type": "StopStep", "StepExecutionId": "b"}),
    ];
    assert!(stop_step_requested(&signals, 2, "b"));
    assert!(!stop_step_requested(&signals, 2, "a"));
    assert!(stop_step_requested(&signals, 0, "a"));
    assert!(!stop_step_requested(&signals, 3, "b"));
}
