//! Bosun's own node power operations on the signed endpoint (`X-Amz-Target:
//! BosunNodePower.<Operation>`, signing name `ssm`), for `bosun node wake|stop|restart`: AWS
//! has no such operation (it powers EC2 instances through EC2's API), so Bosun adds these
//! beside SSM's rather than overloading one. They go through the shared admission pipeline
//! (signature, SDK-retry replay, audit as `bosun:<Operation>`); each handler authorizes the IAM
//! actions the power service documents ([`crate::power`]): `ssm:SendCommand` on the nodes and
//! documents it acts through, and for `CheckNodePower` `ssm:DescribeInstanceInformation` on
//! the node.
//!
//! `WakeNode`/`StopNode`/`RestartNode` take `{"InstanceId"}` and answer `{"Attempt": …}`;
//! `CheckNodePower` takes that `{"Attempt": …}` back and answers `{"State", "Reason"}` with
//! `State` one of `Pending`, `Done`, `Failed`.

use axum::http::HeaderMap;
use bosun_core::arn::Scope;
use serde_json::{json, Value};

use super::error::ApiError;
use super::ops::Operation;
use super::pipeline::{decode_named, Protocol, Surface};
use super::Ctx;
use crate::power::{self, PowerAttempt, PowerState};

/// The `X-Amz-Target` prefix of these calls.
pub const TARGET_PREFIX: &str = "BosunNodePower.";

/// Node power in the admission pipeline.
pub static SURFACE: Surface = Surface {
    signing_name: "ssm",
    action_prefix: "bosun",
    signs_target: true,
    resource_arn,
    authorized_by_handler: |_| true,
    answers_in_change: |_| false,
    runs_inline: |_, _| false,
    check: |_, _, _| Ok(()),
    protocol: Protocol::Json,
};

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "WakeNode",
        mutating: true,
        handler: wake_node,
    },
    Operation {
        name: "StopNode",
        mutating: true,
        handler: stop_node,
    },
    Operation {
        name: "RestartNode",
        mutating: true,
        handler: restart_node,
    },
    Operation {
        name: "CheckNodePower",
        mutating: false,
        handler: check_node_power,
    },
];

/// Find the operation a request names and parse its JSON body.
pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<(&'static Operation, Value), ApiError> {
    decode_named(OPERATIONS, TARGET_PREFIX, headers, body)
}

fn resource_arn(scope: &Scope, _op: &str, input: &Value) -> String {
    node_of(input)
        .map(|id| scope.managed_instance_arn(id))
        .unwrap_or_else(|| "*".into())
}

fn node_of(input: &Value) -> Option<&str> {
    input
        .get("InstanceId")
        .or_else(|| input.get("Attempt").and_then(|a| a.get("InstanceId")))
        .and_then(Value::as_str)
}

/// A managed node id as AWS's `InstanceId` pattern allows.
fn instance_id(input: &Value) -> Result<&str, ApiError> {
    let id = input
        .get("InstanceId")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::new("ValidationException", "InstanceId is required"))?;
    let word = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let ok = match (id.strip_prefix("mi-"), id.strip_prefix("i-")) {
        (Some(rest), _) => rest.len() == 17 && word(rest),
        (_, Some(rest)) => (rest.len() == 8 || rest.len() == 17) && word(rest),
        _ => false,
    };
    if !ok {
        return Err(ApiError::new(
            "InvalidInstanceId",
            format!("{id} is not a managed node id (mi- followed by 17 characters)"),
        ));
    }
    Ok(id)
}

fn attempt_answer(attempt: PowerAttempt) -> Result<Value, ApiError> {
    Ok(json!({ "Attempt": serde_json::to_value(attempt).map_err(ApiError::internal)? }))
}

fn wake_node(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    attempt_answer(power::start_wake(ctx, instance_id(&input)?)?)
}

fn stop_node(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    attempt_answer(power::start_stop(ctx, instance_id(&input)?)?)
}

fn restart_node(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    attempt_answer(power::start_restart(ctx, instance_id(&input)?)?)
}

fn check_node_power(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let attempt: PowerAttempt =
        serde_json::from_value(input.get("Attempt").cloned().unwrap_or_default()).map_err(|e| {
            ApiError::new(
                "ValidationException",
                format!("Attempt is not an answer of WakeNode, StopNode or RestartNode: {e}"),
            )
        })?;
    ctx.authorize_nodes("ssm:DescribeInstanceInformation", [attempt.node_id()])?;
    if let PowerAttempt::Controller { controller, .. } = &attempt {
        ctx.authorize_nodes("ssm:GetCommandInvocation", [controller.as_str()])?;
    }
    Ok(match power::check(ctx, &attempt)? {
        PowerState::Done => json!({ "State": "Done" }),
        PowerState::Pending(why) => json!({ "State": "Pending", "Reason": why }),
        PowerState::Failed(why) => json!({ "State": "Failed", "Reason": why }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_follow_aws_instance_id_pattern() {
        for ok in ["mi-0123456789abcdef0", "i-0123456789abcdef0", "i-01234567"] {
            assert_eq!(instance_id(&json!({ "InstanceId": ok })).unwrap(), ok);
        }
        for bad in [
            "",
            "mi-123",
            "mi-0123456789abcdef0x",
            "x-0123456789abcdef0",
            "mi-01234567-9abcdef0",
        ] {
            let e = instance_id(&json!({ "InstanceId": bad })).unwrap_err();
            assert_eq!(e.code, "InvalidInstanceId", "{bad}");
        }
        assert_eq!(
            instance_id(&json!({})).unwrap_err().code,
            "ValidationException"
        );
    }
}
