//! `aws:runCommand`: a real Run Command command, sent as the user who started the execution
//! (authorized on the document and every node as their `SendCommand` would be), with the id
//! the step recorded before sending it — so a resumed step finds its command and sends one
//! only if none exists. The step waits for the command to end; its outputs are `CommandId`,
//! `Status`, and for a single node `ResponseCode` and `Output`.

use bosun_store::AutomationExecutionRecord;
use bosun_store::AutomationStepRecord;
use serde_json::{json, Map, Value};

use super::actions::Attempt;
use crate::api::call_as;
use crate::state::AppState;

/// The step inputs passed to `SendCommand` as they are.
const PASSED: &[&str] = &[
    "DocumentName",
    "DocumentVersion",
    "DocumentHash",
    "DocumentHashType",
    "InstanceIds",
    "Targets",
    "Comment",
    "TimeoutSeconds",
    "MaxConcurrency",
    "MaxErrors",
    "OutputS3BucketName",
    "OutputS3KeyPrefix",
    "ServiceRoleArn",
    "NotificationConfig",
    "CloudWatchOutputConfig",
];

/// The `SendCommand` request of a step's inputs (`Parameters` values become lists of strings,
/// as `SendCommand` takes them).
fn send_command_body(inputs: &Value) -> Result<Value, String> {
    let mut body = Map::new();
    if let Value::Object(m) = inputs {
        for (k, v) in m {
            if PASSED.contains(&k.as_str()) {
                body.insert(k.clone(), v.clone());
            } else if k == "Parameters" {
                let Value::Object(params) = v else {
                    return Err("Parameters must be a map.".into());
                };
                let typed: Map<String, Value> = params
                    .iter()
                    .map(|(name, v)| {
                        (
                            name.clone(),
                            Value::from(crate::api::automation::as_strings(v)),
                        )
                    })
                    .collect();
                body.insert(k.clone(), Value::Object(typed));
            } else {
                return Err(format!("aws:runCommand does not take input {k}."));
            }
        }
    }
    if let Some(Value::Number(n)) = body.get("TimeoutSeconds") {
        body.insert("TimeoutSeconds".into(), json!(n.as_i64().unwrap_or(3600)));
    }
    Ok(Value::Object(body))
}

/// The user name in the starter's ARN.
pub(super) fn starter(e: &AutomationExecutionRecord) -> &str {
    e.executed_by
        .rsplit_once(":user/")
        .map(|(_, n)| n)
        .unwrap_or(&e.executed_by)
}

pub(super) fn advance(
    state: &AppState,
    e: &AutomationExecutionRecord,
    row: &AutomationStepRecord,
    inputs: &Value,
    now: i64,
) -> anyhow::Result<Attempt> {
    let _ = now;
    let Some(command) = state.store.get_command(&e.region, &row.command_id)? else {
        let body = match send_command_body(inputs) {
            Ok(b) => b,
            Err(why) => return Ok(Attempt::Failed(why, json!(null))),
        };
        return Ok(
            match call_as(
                state,
                &e.region,
                starter(e),
                "SendCommand",
                body,
                Some(row.command_id.clone()),
            ) {
                Ok(_) => {
                    tracing::info!(execution = %e.execution_id, step = %row.step_name, command = %row.command_id, "automation step sent its command");
                    Attempt::Running(None)
                }
                Err(err) => Attempt::Failed(
                    format!("SendCommand failed: {}: {}", err.code, err.message),
                    json!(null),
                ),
            },
        );
    };
    if matches!(
        command.status.as_str(),
        "Pending" | "InProgress" | "Cancelling"
    ) {
        return Ok(Attempt::Running(None));
    }
    let mut response = json!({
        "CommandId": command.command_id,
        "Status": command.status,
    });
    let invocations = state.store.invocations(&command.command_id)?;
    if let [only] = invocations.as_slice() {
        let plugins = state
            .store
            .plugins(&command.command_id, &only.instance_id)?;
        let output: String = plugins.iter().map(|p| p.stdout.as_str()).collect();
        response["ResponseCode"] = json!(only.response_code);
        response["Output"] = json!(output);
    }
    Ok(if command.status == "Success" {
        Attempt::Success(response)
    } else {
        Attempt::Failed(
            format!(
                "Command {} ended {} ({}).",
                command.command_id, command.status, command.status_details
            ),
            response,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_inputs_become_a_send_command_request() {
        let inputs = json!({
            "DocumentName": "AWS-RunShellScript",
            "InstanceIds": ["mi-0123456789abcdef0"],
            "Parameters": {"commands": ["echo hi"], "executionTimeout": 60, "workingDirectory": "/tmp"},
            "TimeoutSeconds": 120
        });
        assert_eq!(
            send_command_body(&inputs).unwrap(),
            json!({
                "DocumentName": "AWS-RunShellScript",
                "InstanceIds": ["mi-0123456789abcdef0"],
                "Parameters": {"commands": ["echo hi"], "executionTimeout": ["60"],
                    "workingDirectory": ["/tmp"]},
                "TimeoutSeconds": 120
            })
        );
        let err = send_command_body(&json!({"DocumentName": "D", "Bogus": 1})).unwrap_err();
        assert!(err.contains("Bogus"), "{err}");
        assert!(send_command_body(&json!({"Parameters": "x"})).is_err());
    }

    #[test]
    fn the_starter_is_the_user_of_the_executed_by_arn() {
        let e = AutomationExecutionRecord {
            executed_by: "arn:aws:iam::123456789012:user/alice".into(),
            ..crate::automation::tests::execution()
        };
        assert_eq!(starter(&e), "alice");
    }
}
