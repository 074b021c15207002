//! Tests of session document plans, preferences and time limits.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;
use crate::document::{validate, DocumentType};

fn planned(doc: Value, params: &[(&str, &str)]) -> Result<SessionPlan, SessionDocError> {
    let v = validate(&doc, DocumentType::Session).unwrap();
    let params: BTreeMap<String, Vec<String>> = params
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
        .collect();
    plan(&doc, &v.parameters, &params)
}

fn port_doc() -> Value {
    json!({
        "schemaVersion": "1.0",
        "sessionType": "Port",
        "parameters": {
            "portNumber": {"type": "String", "default": "80", "allowedPattern": "^[0-9]+$"},
            "host": {"type": "String", "default": ""}
        },
        "properties": {"portNumber": "{{ portNumber }}", "host": "{{host}}", "type": "LocalPortForwarding"}
    })
}

#[test]
fn port_sessions_interpolate_and_check_the_port() {
    let p = planned(
        port_doc(),
        &[("portNumber", "8080"), ("host", "db.internal")],
    )
    .unwrap();
    assert_eq!(p.session_type, SessionType::Port);
    let port = p.port.unwrap();
    assert_eq!(port.port_number, 8080);
    assert_eq!(port.host.as_deref(), Some("db.internal"));
    assert_eq!(port.forwarding_type.as_deref(), Some("LocalPortForwarding"));
    let p = planned(port_doc(), &[]).unwrap().port.unwrap();
    assert_eq!(
        (p.port_number, p.host),
        (80, None),
        "defaults; an empty host is localhost"
    );
    assert!(matches!(
        planned(port_doc(), &[("portNumber", "70000")]),
        Err(SessionDocError::InvalidParameters(_))
    ));
    assert!(
        matches!(
            planned(port_doc(), &[("portNumber", "x")]),
            Err(SessionDocError::InvalidParameters(_))
        ),
        "allowedPattern"
    );
    assert!(matches!(
        planned(port_doc(), &[("nope", "1")]),
        Err(SessionDocError::InvalidParameters(_))
    ));
}

#[test]
fn command_sessions_need_a_command() {
    let doc = json!({
        "schemaVersion": "1.0",
        "sessionType": "NonInteractiveCommands",
        "parameters": {"command": {"type": "String"}},
        "properties": {"linux": {"commands": "{{ command }}", "runAsElevated": false}}
    });
    let p = planned(doc.clone(), &[("command", "uptime; id")]).unwrap();
    assert_eq!(p.command.as_deref(), Some("uptime; id"));
    assert!(!p.session_type.has_pty());
    assert!(planned(doc.clone(), &[]).is_err(), "command is required");
    assert!(matches!(
        planned(doc, &[("command", "  ")]),
        Err(SessionDocError::InvalidParameters(_))
    ));
    let shell = json!({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {}});
    let p = planned(shell, &[]).unwrap();
    assert_eq!(
        (p.session_type, p.command),
        (SessionType::StandardStream, None)
    );
}

#[test]
fn preferences_have_aws_defaults_and_bosun_seconds_take_precedence() {
    assert_eq!(preferences(&json!({})).unwrap(), Preferences::default());
    let p = preferences(&json!({"inputs": {
        "idleSessionTimeout": "5", "maxSessionDuration": "60", "runAsEnabled": true,
        "runAsDefaultUser": "ops", "shellProfile": {"linux": "cd /tmp", "windows": ""}
    }}))
    .unwrap();
    assert_eq!((p.idle_timeout_s, p.max_duration_s), (300, Some(3600)));
    assert!(p.run_as_enabled && p.idle_counts_input);
    assert_eq!(p.run_as_default_user.as_deref(), Some("ops"));
    assert_eq!(p.shell_profile_linux.as_deref(), Some("cd /tmp"));
    let p = preferences(&json!({"inputs": {
        "idleSessionTimeout": "5", "idleSessionTimeoutSeconds": "3",
        "maxSessionDuration": "", "maxSessionDurationSeconds": 7,
        "idleSessionTimeoutCountsInput": false
    }}))
    .unwrap();
    assert_eq!(
        (p.idle_timeout_s, p.max_duration_s, p.idle_counts_input),
        (3, Some(7), false)
    );
    for bad in [
        json!({"inputs": {"idleSessionTimeout": "61"}}),
        json!({"inputs": {"maxSessionDuration": "0"}}),
        json!({"inputs": {"idleSessionTimeoutSeconds": "x"}}),
    ] {
        assert!(
            matches!(preferences(&bad), Err(SessionDocError::InvalidDocument(_))),
            "{bad}"
        );
    }
    for unsupported in ["kmsKeyId", "s3BucketName", "cloudWatchLogGroupName"] {
        let doc = json!({"inputs": {unsupported: "something"}});
        let e = preferences(&doc).unwrap_err();
        assert!(
            matches!(e, SessionDocError::Unsupported(ref m) if m.contains(unsupported)),
            "{e}"
        );
    }
    assert!(
        preferences(&json!({"inputs": {"kmsKeyId": ""}})).is_ok(),
        "empty means unset"
    );
}

#[test]
fn time_limits_are_exact_to_the_second() {
    // Idle 10 s, maximum 60 s, started at 1_000.
    let at = |last, now| time_limit_reached(10, Some(60), 1_000, last, now);
    assert_eq!(at(1_000, 10_999), None);
    assert_eq!(at(1_000, 11_000), Some(TimeLimit::Idle));
    assert_eq!(at(55_000, 60_999), None);
    assert_eq!(
        at(60_000, 61_000),
        Some(TimeLimit::MaxDuration),
        "the maximum wins"
    );
    assert_eq!(time_limit_reached(10, None, 0, 1_000_000, 1_005_000), None);
    assert!(TimeLimit::Idle.message(1200).contains("20 minutes"));
    assert!(TimeLimit::MaxDuration.message(7).contains("7 seconds"));
}
