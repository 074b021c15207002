//! Automation's API: `StartAutomationExecution` ([`start`]), `GetAutomationExecution`,
//! `DescribeAutomationExecutions` and `DescribeAutomationStepExecutions` ([`describe`]),
//! `StopAutomationExecution` and `SendAutomationSignal` ([`control`]); rate control over
//! targets ([`targets`]). Executions are stored
//! through `bosun_store::AutomationStore` and run by `crate::automation`; the runbook rules are
//! `bosun_core::automation`.

pub mod control;
pub mod describe;
pub mod start;
pub mod targets;

use bosun_core::arn::Scope;
use bosun_store::AutomationExecutionRecord;
use serde_json::{Map, Value};

use crate::api::error::ApiError;
use crate::api::Ctx;

/// `arn:aws:ssm:<region>:<account>:automation-execution/<id>`.
pub fn execution_arn(scope: &Scope, id: &str) -> String {
    scope.ssm_arn(&format!("automation-execution/{id}"))
}

/// `arn:aws:ssm:<region>:<account>:automation-definition/<name>:<version>` (`$DEFAULT` when
/// the request names no version).
pub fn definition_arn(scope: &Scope, name: &str, version: Option<&str>) -> String {
    let name = crate::documents::bare_name(name);
    scope.ssm_arn(&format!(
        "automation-definition/{name}:{}",
        version.unwrap_or("$DEFAULT")
    ))
}

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::new(
        "AutomationExecutionNotFoundException",
        format!("Automation Execution with Id {id} does not exist."),
    )
}

/// The execution a request names, in the caller's region.
pub(crate) fn execution(ctx: &Ctx, id: &str) -> Result<AutomationExecutionRecord, ApiError> {
    match ctx.state.store.get_automation_execution(id)? {
        Some(e) if e.region == ctx.region => Ok(e),
        _ => Err(not_found(id)),
    }
}

/// A value as AWS's `AutomationParamMap` shows it: a list of strings (a string is one, a
/// list's members are each one, anything else is its JSON text).
pub fn as_strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        other => vec![other.to_string()],
    }
}

/// Stored typed values (`{name: value}` JSON) as an `AutomationParamMap`.
pub fn param_map(stored: &str) -> Value {
    let parsed: Map<String, Value> = serde_json::from_str(stored).unwrap_or_default();
    Value::Object(
        parsed
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(as_strings(v))))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn typed_values_show_as_lists_of_strings() {
        assert_eq!(super::as_strings(&json!("a")), ["a"]);
        assert_eq!(
            super::as_strings(&json!(["a", 2, true])),
            ["a", "2", "true"]
        );
        assert_eq!(super::as_strings(&json!(7)), ["7"]);
        assert_eq!(super::as_strings(&json!({"k": "v"})), ["{\"k\":\"v\"}"]);
        assert_eq!(
            super::param_map(r#"{"A":"x","B":["y","z"],"C":3}"#),
            json!({"A": ["x"], "B": ["y", "z"], "C": ["3"]})
        );
    }

    #[test]
    fn approvers_match_by_user_name_or_arn() {
        let arn = "arn:aws:iam::123456789012:user/bob";
        assert!(super::control::is_approver(&json!(["bob"]), "bob", arn));
        assert!(super::control::is_approver(&json!([arn]), "bob", arn));
        assert!(super::control::is_approver(&json!("bob"), "bob", arn));
        assert!(!super::control::is_approver(&json!(["alice"]), "bob", arn));
        assert!(!super::control::is_approver(&json!(null), "bob", arn));
    }
}
