//! `BosunEvents.ListFailedInvocations` and `RedriveFailedInvocations`: EventBridge rule
//! targets an event could not be delivered to (a body that could not be made — an
//! `InputTransformer` rendering non-JSON, an `InputPath` matching nothing), kept with the event
//! by the rules dispatcher. AWS only counts these (`FailedInvocations`) or sends them to the
//! target's SQS dead-letter queue; Bosun keeps them on the target, and a redrive makes the body
//! again with the target as it is now (fixed, say, with `PutTargets`): published once and
//! forgotten when it renders, counted and kept with the new reason when it does not. A redrive
//! is the operator's explicit request, so it delivers whether or not the rule is enabled now.
//!
//! Authorized as `bosun:<Operation>` on the rule's ARN (`rule/*` without `RuleName`).

use bosun_core::events::rules as ev;
use bosun_core::events::transform::RuleContext;
use bosun_store::RuleTargetFailure;
use serde_json::{json, Value};

use super::error::ApiError;
use super::Ctx;
use crate::event_dispatch::target_message;

/// The rule named by the request, if any.
pub fn rule_filter(input: &Value) -> Result<Option<String>, ApiError> {
    match input.get("RuleName") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) if !name.is_empty() => Ok(Some(name.clone())),
        Some(_) => Err(ApiError::new(
            "ValidationException",
            "RuleName must be a rule's name.",
        )),
    }
}

fn shape(ctx: &Ctx, f: &RuleTargetFailure) -> Value {
    let detail_type = serde_json::from_str::<Value>(&f.envelope)
        .ok()
        .and_then(|e| e["detail-type"].as_str().map(str::to_string));
    json!({
        "FailureId": f.failure_id,
        "RuleName": f.rule_name,
        "RuleArn": ev::rule_arn(&f.region, &ctx.state.config.account_id, &f.rule_name),
        "TargetId": f.target_id,
        "TargetArn": f.target_arn,
        "EventId": f.event_id,
        "DetailType": detail_type,
        "Event": f.envelope,
        "Error": f.error,
        "Attempts": f.attempts,
        "FailedTime": f.created_ms as f64 / 1000.0,
        "LastAttemptTime": f.updated_ms as f64 / 1000.0,
    })
}

pub fn list_failed_invocations(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let rule = rule_filter(&input)?;
    let failures = ctx
        .state
        .store
        .list_rule_target_failures(&ctx.region, rule.as_deref())?;
    Ok(json!({
        "Invocations": failures.iter().map(|f| shape(ctx, f)).collect::<Vec<_>>(),
    }))
}

pub fn redrive_failed_invocations(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let rule = rule_filter(&input)?;
    let store = &ctx.state.store;
    let account = &ctx.state.config.account_id;
    let (mut redriven, mut still_failing) = (0, 0);
    for f in store.list_rule_target_failures(&ctx.region, rule.as_deref())? {
        let outcome = if store.get_rule(&ctx.region, &f.rule_name)?.is_none() {
            Err("the rule no longer exists".to_string())
        } else {
            let targets = store.rule_targets(&ctx.region, &f.rule_name)?;
            match targets.iter().find(|t| t.target_id == f.target_id) {
                None => Err("the target no longer exists on the rule".to_string()),
                Some(target) => render(target, &f, account),
            }
        };
        match outcome {
            Ok(message) => {
                if store.redeliver_rule_target_failure(&f.failure_id, &message)? {
                    redriven += 1;
                }
            }
            Err(why) => {
                if store.note_rule_target_failure(&f.failure_id, &why, ctx.now_ms)? {
                    still_failing += 1;
                }
            }
        }
    }
    if redriven > 0 {
        crate::sns_delivery::wake();
    }
    Ok(json!({ "Redriven": redriven, "StillFailing": still_failing }))
}

/// The target's message for the failed event, made with the target as it is now.
fn render(
    target: &bosun_store::EventTargetRecord,
    f: &RuleTargetFailure,
    account: &str,
) -> Result<bosun_store::PublishedMessage, String> {
    let envelope: Value =
        serde_json::from_str(&f.envelope).map_err(|_| "the kept event is not JSON".to_string())?;
    let arn = ev::rule_arn(&f.region, account, &f.rule_name);
    let context = RuleContext {
        rule_name: &f.rule_name,
        rule_arn: &arn,
        ingestion_time: envelope["time"].as_str().unwrap_or_default(),
    };
    target_message(target, &envelope, &context, account, &f.event_id)
}
