//! `aws:executeAwsApi`, `aws:assertAwsResourceProperty`, `aws:waitForAwsResourceProperty` for
//! Bosun's own `ssm` service: the server's own operation handlers, called as the user who
//! started the execution (authorized as their API call would be), limited to read-only
//! operations. Any other `Api` fails the step saying so.

use bosun_core::automation::{property_matches, select};
use bosun_store::AutomationExecutionRecord;
use serde_json::{Map, Value};

use super::run_command::starter;
use crate::api::call_as;
use crate::state::AppState;

/// The operations a runbook may call (they read, never change, anything).
pub const READ_ONLY: &[&str] = &[
    "DescribeInstanceInformation",
    "GetParameter",
    "GetParameters",
    "GetCommandInvocation",
    "ListCommands",
    "ListCommandInvocations",
    "DescribeDocument",
    "GetDocument",
    "GetAutomationExecution",
];

/// Members of the step's inputs that are not the operation's.
const STEP_MEMBERS: &[&str] = &["Service", "Api", "PropertySelector", "DesiredValues"];

/// Call the step's `Api` with the rest of its inputs; the response, or why it failed.
pub(super) fn call(
    state: &AppState,
    e: &AutomationExecutionRecord,
    inputs: &Value,
    now: i64,
) -> Result<Value, String> {
    let _ = now;
    let service = inputs
        .get("Service")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !service.eq_ignore_ascii_case("ssm") {
        return Err(format!(
            "Service {service} is not one this Bosun server serves (ssm)."
        ));
    }
    let api = inputs
        .get("Api")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // AWS accepts the operation's name in either case of its first letter.
    let mut chars = api.chars();
    let api: String = match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    };
    if !READ_ONLY.contains(&api.as_str()) {
        return Err(format!(
            "Api {api} of service ssm cannot be called from a runbook on this Bosun server \
             (read-only operations only: {}).",
            READ_ONLY.join(", ")
        ));
    }
    let mut body = Map::new();
    if let Value::Object(m) = inputs {
        for (k, v) in m {
            if !STEP_MEMBERS.contains(&k.as_str()) {
                body.insert(k.clone(), v.clone());
            }
        }
    }
    call_as(
        state,
        &e.region,
        starter(e),
        &api,
        Value::Object(body),
        None,
    )
    .map_err(|err| format!("{api} failed: {}: {}", err.code, err.message))
}

/// Call the step's `Api` and compare its `PropertySelector` with `DesiredValues`.
pub(super) fn property(
    state: &AppState,
    e: &AutomationExecutionRecord,
    inputs: &Value,
    now: i64,
) -> Result<(bool, Value), String> {
    let selector = inputs
        .get("PropertySelector")
        .and_then(Value::as_str)
        .ok_or("PropertySelector is required.")?;
    let desired: Vec<String> = crate::api::automation::as_strings(
        inputs
            .get("DesiredValues")
            .ok_or("DesiredValues is required.")?,
    );
    let response = call(state, e, inputs, now)?;
    let matched = select(&response, selector).is_some_and(|v| property_matches(&v, &desired));
    Ok((matched, response))
}
