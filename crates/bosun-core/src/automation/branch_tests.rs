//! Tests of [`choose_branch`](super::choose_branch).

use serde_json::{json, Value};

use super::*;

fn choose(choices: Value) -> Result<Option<String>, InterpolateError> {
    choose_branch(&json!({"Choices": choices, "Default": "fallback"}))
}

fn one(variable: Value, op: &str, value: Value) -> bool {
    let c = json!([{"NextStep": "yes", "Variable": variable, op: value}]);
    match choose(c).unwrap().as_deref() {
        Some("yes") => true,
        Some("fallback") => false,
        other => panic!("{other:?}"),
    }
}

#[test]
fn string_operators() {
    assert!(one(json!("Linux"), "StringEquals", json!("Linux")));
    assert!(!one(json!("linux"), "StringEquals", json!("Linux")));
    assert!(one(json!("linux"), "EqualsIgnoreCase", json!("LINUX")));
    assert!(one(json!("ami-123"), "StartsWith", json!("ami-")));
    assert!(!one(json!("xami-123"), "StartsWith", json!("ami-")));
    assert!(one(json!("file.tar.gz"), "EndsWith", json!(".gz")));
    assert!(one(json!("a needle here"), "Contains", json!("needle")));
    assert!(!one(json!("a haystack"), "Contains", json!("needle")));
    assert!(one(json!(["i-1", "i-2"]), "Contains", json!("i-2")));
    assert!(!one(json!(["i-1", "i-22"]), "Contains", json!("i-2")));
    assert!(one(json!(3), "StringEquals", json!("3")));
}

#[test]
fn numeric_operators_take_numbers_or_numeric_strings() {
    assert!(one(json!(3), "NumericEquals", json!(3)));
    assert!(one(json!("3"), "NumericEquals", json!(3.0)));
    assert!(one(json!(5), "NumericGreater", json!("4")));
    assert!(!one(json!(4), "NumericGreater", json!(4)));
    assert!(one(json!(4), "NumericGreaterOrEquals", json!(4)));
    assert!(one(json!(-1), "NumericLesser", json!(0)));
    assert!(one(json!("0"), "NumericLesserOrEquals", json!(0)));
    assert!(!one(json!(1), "NumericLesserOrEquals", json!(0)));
}

#[test]
fn boolean_operator() {
    assert!(one(json!(true), "BooleanEquals", json!(true)));
    assert!(one(json!("true"), "BooleanEquals", json!(true)));
    assert!(one(json!("False"), "BooleanEquals", json!("false")));
    assert!(!one(json!(false), "BooleanEquals", json!(true)));
}

#[test]
fn combinators_nest_and_the_first_match_wins() {
    let c = json!([
        {"NextStep": "first", "And": [
            {"Variable": "Linux", "StringEquals": "Windows"},
            {"Variable": 1, "NumericEquals": 1}]},
        {"NextStep": "second", "Or": [
            {"Variable": "Linux", "StringEquals": "Windows"},
            {"Not": {"Variable": 1, "NumericGreater": 5}}]},
        {"NextStep": "third", "Variable": "x", "StringEquals": "x"},
    ]);
    assert_eq!(choose(c).unwrap().as_deref(), Some("second"));
    let c = json!([{"NextStep": "deep", "Not": {"And": [
        {"Variable": true, "BooleanEquals": true},
        {"Or": [{"Variable": "a", "StartsWith": "b"}, {"Not": {"Variable": "a", "EndsWith": "a"}}]},
    ]}}]);
    assert_eq!(choose(c).unwrap().as_deref(), Some("deep"));
}

#[test]
fn no_match_goes_to_default_or_nowhere() {
    let c = json!([{"NextStep": "x", "Variable": "a", "StringEquals": "b"}]);
    assert_eq!(choose(c.clone()).unwrap().as_deref(), Some("fallback"));
    assert_eq!(choose_branch(&json!({"Choices": c})).unwrap(), None);
}

#[test]
fn malformed_choices_are_errors_naming_them() {
    for (choices, want) in [
        (
            json!([{"NextStep": "x", "Variable": "a", "Equals": "a"}]),
            "Choices[0]: Equals is not an aws:branch operator",
        ),
        (
            json!([{"NextStep": "x", "Variable": "a"}]),
            "exactly one operator",
        ),
        (
            json!([{"NextStep": "x", "Variable": "a", "StringEquals": "a", "Contains": "a"}]),
            "exactly one operator",
        ),
        (
            json!([{"Variable": "a", "StringEquals": "a"}]),
            "Choices[0] needs NextStep",
        ),
        (
            json!([{"NextStep": "x", "StringEquals": "a"}]),
            "needs Variable",
        ),
        (
            json!([{"NextStep": "x", "And": []}]),
            "And needs a non-empty list",
        ),
        (
            json!([{"NextStep": "x", "Or": [{"NextStep": "y", "Variable": "a", "StringEquals": "a"}]}]),
            "Choices[0].Or[0]: a condition needs exactly one operator",
        ),
        (
            json!([{"NextStep": "x", "Not": "a"}]),
            "Choices[0].Not: a condition must be an object",
        ),
        (
            json!([{"NextStep": "x", "Variable": "abc", "NumericEquals": 1}]),
            "NumericEquals needs a number; Variable is \"abc\"",
        ),
        (
            json!([{"NextStep": "x", "Variable": "yes", "BooleanEquals": true}]),
            "BooleanEquals needs true or false",
        ),
        (
            json!([{"NextStep": "x", "Variable": {"a": 1}, "StringEquals": "a"}]),
            "StringEquals needs a string",
        ),
        (json!("nope"), "needs Choices"),
        (json!([1]), "Choices[0] must be an object"),
    ] {
        let e = choose(choices.clone()).unwrap_err().0;
        assert!(e.contains(want), "{choices}\n got: {e}\nwant: {want}");
    }
    let e = choose_branch(&json!({"Choices": [], "Default": 3}))
        .unwrap_err()
        .0;
    assert!(e.contains("Default 3"), "{e}");
}
