//! Tests of `aws:executeAutomation`'s request, nesting limit and response.

use std::collections::BTreeMap;

use serde_json::json;

use super::nested::{may_nest, nested_response, nested_start_request, MAX_NESTING_DEPTH};

#[test]
fn inputs_become_a_start_request_with_runtime_parameters_as_lists() {
    let inputs = json!({
        "DocumentName": "Child",
        "DocumentVersion": "2",
        "RuntimeParameters": {"Name": "x", "Many": ["a", 1], "Count": 3},
        "Targets": [{"Key": "ParameterValues", "Values": ["a"]}],
        "TargetParameterName": "Name",
        "MaxConcurrency": "1"
    });
    assert_eq!(
        nested_start_request(&inputs).unwrap(),
        json!({
            "DocumentName": "Child",
            "DocumentVersion": "2",
            "Parameters": {"Name": ["x"], "Many": ["a", "1"], "Count": ["3"]},
            "Targets": [{"Key": "ParameterValues", "Values": ["a"]}],
            "TargetParameterName": "Name",
            "MaxConcurrency": "1"
        })
    );
}

#[test]
fn bad_inputs_fail_the_step() {
    let err = nested_start_request(&json!({"DocumentName": "C", "Bogus": 1})).unwrap_err();
    assert!(err.0.contains("Bogus"), "{err}");
    assert!(nested_start_request(&json!({"RuntimeParameters": {}})).is_err());
    assert!(nested_start_request(&json!({"DocumentName": ""})).is_err());
    assert!(nested_start_request(&json!({"DocumentName": 3})).is_err());
    assert!(nested_start_request(&json!({"DocumentName": "C", "RuntimeParameters": [1]})).is_err());
    assert!(nested_start_request(&json!({"DocumentName": "C", "DocumentVersion": 2})).is_err());
    assert!(nested_start_request(&json!("C")).is_err());
}

#[test]
fn nesting_stops_at_the_limit() {
    for depth in 0..MAX_NESTING_DEPTH {
        assert!(may_nest(depth).is_ok(), "{depth}");
    }
    let err = may_nest(MAX_NESTING_DEPTH).unwrap_err();
    assert!(err.0.contains("at most 5"), "{err}");
    assert!(may_nest(MAX_NESTING_DEPTH + 3).is_err());
}

#[test]
fn the_response_carries_the_id_status_and_outputs() {
    let mut outputs = BTreeMap::new();
    outputs.insert("b.Out".to_string(), vec!["x".to_string(), "y".to_string()]);
    outputs.insert("a.Id".to_string(), vec!["1".to_string()]);
    assert_eq!(
        nested_response("id-1", "Success", &outputs),
        json!({"ExecutionId": "id-1", "Status": "Success", "Output": ["a.Id=1", "b.Out=x,y"]})
    );
    assert_eq!(
        nested_response("id-2", "Failed", &BTreeMap::new()),
        json!({"ExecutionId": "id-2", "Status": "Failed", "Output": []})
    );
}
