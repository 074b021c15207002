//! The easy-to-get-wrong cases of the pattern language, one assertion each.

use super::*;
use serde_json::json;

fn pattern(text: &str) -> EventPattern {
    EventPattern::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn hit(p: &str, event: Value) -> bool {
    pattern(p).matches(&event)
}

fn reason(p: &str) -> String {
    EventPattern::parse(p).unwrap_err().reason
}

#[test]
fn dotted_and_nested_keys_are_the_same_path() {
    let nested = r#"{"detail":{"state":{"status":["running"]}}}"#;
    let dotted = r#"{"detail":{"state.status":["running"]}}"#;
    assert!(hit(nested, json!({"detail":{"state.status":"running"}})));
    assert!(hit(
        dotted,
        json!({"detail":{"state":{"status":"running"}}})
    ));
    assert!(!hit(
        nested,
        json!({"detail":{"state.status":{"status":"running"}}})
    ));
}

#[test]
fn numbers_compare_by_value_and_never_match_strings() {
    assert!(hit(r#"{"n":[300]}"#, json!({"n": 300.0})));
    assert!(hit(r#"{"n":[3.0e2]}"#, json!({"n": 300})));
    assert!(!hit(r#"{"n":[300]}"#, json!({"n": "300"})));
    assert!(!hit(
        r#"{"n":[{"numeric":[">",100]}]}"#,
        json!({"n": "300"})
    ));
    assert!(!hit(r#"{"n":[{"numeric":[">",100]}]}"#, json!({"n": null})));
    assert!(hit(r#"{"n":[{"numeric":[">",100]}]}"#, json!({"n": 101.0})));
    assert!(hit(
        r#"{"n":[123456789012]}"#,
        json!({"n": 123456789012u64})
    ));
}

#[test]
fn numeric_ranges_respect_open_and_closed_bounds() {
    let p = pattern(r#"{"n":[{"numeric":[">",0,"<=",5]}]}"#);
    assert!(!p.matches(&json!({"n": 0})));
    assert!(p.matches(&json!({"n": 5})));
    assert!(!p.matches(&json!({"n": 5.000001})));
    assert!(hit(
        r#"{"n":[{"numeric":["=",3.018e2]}]}"#,
        json!({"n": 301.8})
    ));
    assert!(hit(r#"{"n":[{"numeric":["<",0]}]}"#, json!({"n": -1e300})));
}

#[test]
fn anything_but_needs_the_field_but_accepts_null_and_other_types() {
    let p = r#"{"s":[{"anything-but":"x"}]}"#;
    assert!(!hit(p, json!({})));
    assert!(hit(p, json!({"s": null})));
    assert!(!hit(p, json!({"s": "x"})));
    assert!(hit(p, json!({"s": 5})));
    assert!(hit(
        r#"{"s":[{"anything-but":{"prefix":"init"}}]}"#,
        json!({"s": 12})
    ));
    assert!(!hit(
        r#"{"s":[{"anything-but":{"prefix":"init"}}]}"#,
        json!({"s": "initial"})
    ));
    assert!(!hit(
        r#"{"s":[{"anything-but":{"equals-ignore-case":["a","Stopped"]}}]}"#,
        json!({"s": "STOPPED"})
    ));
    assert!(!hit(
        r#"{"n":[{"anything-but":[100,200]}]}"#,
        json!({"n": 200.0})
    ));
}

#[test]
fn exists_looks_only_at_leaves() {
    let p = r#"{"resources":[{"exists":true}]}"#;
    assert!(!hit(p, json!({"resources": []})));
    assert!(hit(p, json!({"resources": ["a"]})));
    assert!(!hit(r#"{"d":[{"exists":true}]}"#, json!({"d": {"k": 1}})));
    assert!(hit(r#"{"d":[{"exists":false}]}"#, json!({"d": {"k": 1}})));
    assert!(hit(
        r#"{"a":{"b":[{"exists":true}]}}"#,
        json!({"a": [{"c": 1}, {"b": 2}]})
    ));
    assert!(!hit(r#"{"r":[null]}"#, json!({"r": []})));
    assert!(hit(r#"{"r":[null]}"#, json!({"r": null})));
}

#[test]
fn one_value_list_is_an_or_of_its_entries() {
    let p = r#"{"k":[{"anything-but":["roses"]},{"exists":false}]}"#;
    assert!(hit(p, json!({})));
    assert!(!hit(p, json!({"k": "roses"})));
    assert!(hit(p, json!({"k": "tulips"})));
}

#[test]
fn empty_strings_follow_each_operator() {
    assert!(hit(r#"{"s":[{"prefix":""}]}"#, json!({"s": "abc"})));
    assert!(!hit(r#"{"s":[{"prefix":""}]}"#, json!({"s": 1})));
    assert!(!hit(r#"{"s":[{"wildcard":""}]}"#, json!({"s": "abc"})));
    assert!(hit(r#"{"s":[{"wildcard":""}]}"#, json!({"s": ""})));
    assert!(!hit(
        r#"{"s":[{"equals-ignore-case":""}]}"#,
        json!({"s": "a"})
    ));
    assert_eq!(
        reason(r#"{"s":[{"anything-but":{"suffix":""}}]}"#),
        "Null prefix/suffix not allowed"
    );
}

#[test]
fn keys_operators_and_json_in_strings_are_taken_literally() {
    assert!(!hit(r#"{"MY_KEY":["v"]}"#, json!({"my_key": "v"})));
    assert_eq!(
        reason(r#"{"k":[{"EXISTS":true}]}"#),
        "Unrecognized match type EXISTS"
    );
    assert!(!hit(
        r#"{"detail":{"k":["v"]}}"#,
        json!({"detail": "{\"k\": \"v\"}"})
    ));
    assert!(!hit(r#"{"b":[false]}"#, json!({"b": true})));
    assert!(!hit(r#"{"b":["true"]}"#, json!({"b": true})));
}

#[test]
fn case_insensitive_forms() {
    assert!(hit(
        r#"{"s":[{"equals-ignore-case":"EventB"}]}"#,
        json!({"s": "eventb"})
    ));
    assert!(hit(
        r#"{"s":[{"prefix":{"equals-ignore-case":"EventB"}}]}"#,
        json!({"s": "EVENTBRIDGE"})
    ));
    assert!(hit(
        r#"{"s":[{"suffix":{"equals-ignore-case":".png"}}]}"#,
        json!({"s": "a.PNG"})
    ));
    assert!(!hit(
        r#"{"s":[{"suffix":{"equals-ignore-case":".png"}}]}"#,
        json!({"s": "a.jpg"})
    ));
}

#[test]
fn cidr_and_ip_values() {
    assert!(hit(
        r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
        json!({"ip": "10.0.0.255"})
    ));
    assert!(!hit(
        r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
        json!({"ip": "10.0.0.256"})
    ));
    assert!(!hit(
        r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
        json!({"ip": 123})
    ));
    assert!(hit(
        r#"{"ip":["2001:db8::1"]}"#,
        json!({"ip": "2001:0db8:0:0:0:0:0:1"})
    ));
}

#[test]
fn or_branches_and_their_rules() {
    let p = r#"{"source":["a"],"$or":[{"x":[1]},{"y":[2]}]}"#;
    assert!(hit(p, json!({"source":"a","y":2})));
    assert!(!hit(p, json!({"source":"b","y":2})));
    assert!(!hit(p, json!({"source":"a","y":3})));
    assert_eq!(
        reason(r#"{"$or":[{"x":[1]}]}"#),
        "There must have at least 2 Objects in $or relationship."
    );
    assert_eq!(
        reason(r#"{"$or":{"x":[1]}}"#),
        "It must be an Array followed with $or."
    );
    assert_eq!(
        reason(r#"{"$or":[{"x":[1]}, 3]}"#),
        "Only JSON object is allowed in array of $or relationship."
    );
    assert_eq!(
        reason(r#"{"$or":[{"prefix":[1]},{"x":[2]}]}"#),
        "prefix is Ruler reserved fieldName which cannot be used inside $or."
    );
}

#[test]
fn array_fields_must_come_from_the_same_element() {
    let p = r#"{"a":{"x":[1],"y":[4]}}"#;
    assert!(!hit(p, json!({"a":[{"x":1,"y":2},{"x":3,"y":4}]})));
    assert!(hit(p, json!({"a":[{"x":1,"y":2},{"x":1,"y":4}]})));
    // Different arrays do not constrain each other.
    assert!(hit(
        r#"{"a":{"x":[1]},"b":{"y":[4]}}"#,
        json!({"a":[{"x":1}],"b":[{"y":0},{"y":4}]})
    ));
}

#[test]
fn a_repeated_path_keeps_the_last_condition() {
    let p = r#"{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}"#;
    assert!(hit(p, json!({"detail":{"location":"eu-central-1"}})));
}

#[test]
fn structural_errors_give_aws_reasons() {
    assert_eq!(
        reason(r#"{"int": 42}"#),
        "\"int\" must be an object or an array"
    );
    assert_eq!(
        reason(r#"{"resources": []}"#),
        "Empty arrays are not allowed"
    );
    assert_eq!(reason(r#"{"d": {}}"#), "Empty objects are not allowed");
    assert_eq!(reason(r#"["a"]"#), "Filter is not an object");
    assert_eq!(
        reason(r#"{"k":[["a"]]}"#),
        "Match value must be String, number, true, false, or null"
    );
    assert_eq!(reason(r#"{"k":[{}]}"#), "Match expression name not found");
    assert_eq!(
        reason(r#"{"k":[{"prefix":"a","suffix":"b"}]}"#),
        "Only one key allowed in match expression"
    );
}

#[test]
fn operator_errors_give_aws_reasons() {
    let cases = [
        (r#"{"k":[{"numeric":[">",0,">",0]}]}"#, "Bad numeric range operator: >"),
        (r#"{"k":[{"numeric":[">",0,"<"]}]}"#, "Value of < must be numeric"),
        (r#"{"k":[{"numeric":10}]}"#, "Value of numeric must be an array."),
        (r#"{"k":[{"numeric":["=",1,"<",2]}]}"#, "Too many elements in numeric expression"),
        (r#"{"k":[{"numeric":[">",1,"<",2,3]}]}"#, "Too many terms in numeric range expression"),
        (r#"{"k":[{"numeric":["!",1]}]}"#, "Unrecognized numeric range operator: !"),
        (r#"{"k":[{"numeric":["=","a"]}]}"#, "Value of equals must be numeric"),
        (r#"{"k":[{"exists":"yes"}]}"#, "exists match pattern must be either true or false."),
        (r#"{"k":[{"equals-ignore-case":{"prefix":"ec2"}}]}"#, "equals-ignore-case match pattern must be a string"),
        (r#"{"k":[{"prefix":{"suffix":"a"}}]}"#, "Unsupported prefix pattern: suffix"),
        (r#"{"k":[{"anything-but":["stopped",null]}]}"#, "Inside anything but list, start|null|boolean is not supported."),
        (r#"{"k":[{"anything-but":["a",1]}]}"#, "Inside anything but list, either all values are number or string, mixed type is not supported"),
        (r#"{"k":[{"anything-but":{"equals-ignore-case":[123,456]}}]}"#, "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."),
        (r#"{"k":[{"anything-but":{"exists":true}}]}"#, "Unsupported anything-but pattern: exists"),
        (r#"{"k":[{"anything-but":true}]}"#, "Value of anything-but must be an array or single string/number value."),
        (r#"{"k":[{"anything-but":{"wildcard":1}}]}"#, "wildcard match pattern must be a string"),
        (r#"{"k":[{"cidr":["bad-type"]}]}"#, "prefix match pattern must be a string"),
    ];
    for (p, expected) in cases {
        assert_eq!(reason(p), expected, "{p}");
    }
}

#[test]
fn whitespace_around_the_pattern_is_accepted() {
    assert!(hit(
        "\n {\"source\": [\"aws.ssm\"]}\n",
        json!({"source": "aws.ssm"})
    ));
    assert_eq!(
        InvalidEventPattern::new("x").to_string(),
        "Event pattern is not valid. Reason: x"
    );
}

#[test]
fn the_seed_rule_matches_a_failed_invocation() {
    let p = pattern(
        r#"{"detail-type":["EC2 Command Invocation Status-change Notification"],"source":["aws.ssm"],"detail":{"document-name":["AWS-UpdateSSMAgent","AWS-ConfigureAWSPackage"],"status":["Failed"]}}"#,
    );
    let mut event = json!({"version":"0","id":"1","detail-type":"EC2 Command Invocation Status-change Notification","source":"aws.ssm","account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-1"],"detail":{"command-id":"c","document-name":"AWS-UpdateSSMAgent","instance-id":"i-1","requested-date-time":"x","status":"Failed"}});
    assert!(p.matches(&event));
    event["detail"]["status"] = json!("Success");
    assert!(!p.matches(&event));
}
