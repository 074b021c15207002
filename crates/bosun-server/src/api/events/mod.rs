//! The EventBridge API subset on the same endpoint (AWS JSON 1.1, `X-Amz-Target:
//! AWSEvents.<Operation>`, signing name `events`): rules on the default bus, their targets and
//! tags, `TestEventPattern`, and `PutEvents` (custom events into the event outbox). Every call goes through the shared admission pipeline
//! ([`crate::api::pipeline`]): signature, IAM policy (`events:<Operation>` on the rule's ARN),
//! SDK-retry replay, audit. The pattern language and target inputs are
//! `bosun_core::events`; the store is `bosun_store::EventRuleStore`.

mod input;
mod put_events;
mod rules;
mod tags;
mod targets;

pub(crate) use targets::target_input;

use axum::http::HeaderMap;
use bosun_core::arn::Scope;
use bosun_core::events::rules as ev;
use serde_json::Value;

use super::error::ApiError;
use super::ops::Operation;
use super::pipeline::{json_object, Protocol, Surface};
use super::Ctx;

/// The `X-Amz-Target` prefix of EventBridge calls.
pub const TARGET_PREFIX: &str = "AWSEvents.";

/// EventBridge in the admission pipeline.
pub static SURFACE: Surface = Surface {
    signing_name: "events",
    action_prefix: "events",
    signs_target: true,
    resource_arn,
    authorized_by_handler: |_| false,
    answers_in_change: |op| op.name == "PutEvents",
    runs_inline: |_, _| false,
    check: |_, _, _| Ok(()),
    protocol: Protocol::Json,
};

/// The operations served, by the name IAM and the audit trail use.
pub const OPERATIONS: &[Operation] = &[
    op("PutRule", true, rules::put_rule),
    op("DescribeRule", false, rules::describe_rule),
    op("ListRules", false, rules::list_rules),
    op("DeleteRule", true, rules::delete_rule),
    op("EnableRule", true, rules::enable_rule),
    op("DisableRule", true, rules::disable_rule),
    op("TestEventPattern", false, rules::test_event_pattern),
    op("PutTargets", true, targets::put_targets),
    op("RemoveTargets", true, targets::remove_targets),
    op("ListTargetsByRule", false, targets::list_targets_by_rule),
    op(
        "ListRuleNamesByTarget",
        false,
        targets::list_rule_names_by_target,
    ),
    op("TagResource", true, tags::tag_resource),
    op("UntagResource", true, tags::untag_resource),
    op("ListTagsForResource", false, tags::list_tags_for_resource),
    op("PutEvents", true, put_events::put_events),
];

/// Every operation of botocore's `events` model (2015-10-07), to tell a real EventBridge
/// operation Bosun lacks from a typo.
const AWS_EVENTS_OPERATIONS: &[&str] = &[
    "ActivateEventSource",
    "CancelReplay",
    "CreateApiDestination",
    "CreateArchive",
    "CreateConnection",
    "CreateEndpoint",
    "CreateEventBus",
    "CreatePartnerEventSource",
    "DeactivateEventSource",
    "DeauthorizeConnection",
    "DeleteApiDestination",
    "DeleteArchive",
    "DeleteConnection",
    "DeleteEndpoint",
    "DeleteEventBus",
    "DeletePartnerEventSource",
    "DeleteRule",
    "DescribeApiDestination",
    "DescribeArchive",
    "DescribeConnection",
    "DescribeEndpoint",
    "DescribeEventBus",
    "DescribeEventSource",
    "DescribePartnerEventSource",
    "DescribeReplay",
    "DescribeRule",
    "DisableRule",
    "EnableRule",
    "ListApiDestinations",
    "ListArchives",
    "ListConnections",
    "ListEndpoints",
    "ListEventBuses",
    "ListEventSources",
    "ListPartnerEventSourceAccounts",
    "ListPartnerEventSources",
    "ListReplays",
    "ListRuleNamesByTarget",
    "ListRules",
    "ListTagsForResource",
    "ListTargetsByRule",
    "PutEvents",
    "PutPartnerEvents",
    "PutPermission",
    "PutRule",
    "PutTargets",
    "RemovePermission",
    "RemoveTargets",
    "StartReplay",
    "TagResource",
    "TestEventPattern",
    "UntagResource",
    "UpdateApiDestination",
    "UpdateArchive",
    "UpdateConnection",
    "UpdateEndpoint",
    "UpdateEventBus",
];

const fn op(
    name: &'static str,
    mutating: bool,
    handler: fn(&Ctx, Value) -> Result<Value, ApiError>,
) -> Operation {
    Operation {
        name,
        mutating,
        handler,
    }
}

/// Find the EventBridge operation a request names (`X-Amz-Target`) and parse its JSON body.
pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<(&'static Operation, Value), ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    let Some(op) = OPERATIONS.iter().find(|o| o.name == name) else {
        let message = if AWS_EVENTS_OPERATIONS.contains(&name) {
            format!("{name} is part of the EventBridge API but this Bosun server does not implement it yet")
        } else {
            format!("Unknown operation: {name}")
        };
        return Err(ApiError::new("UnknownOperationException", message));
    };
    Ok((op, json_object(body)?))
}

/// The rule a call acts on, for its policy check (`*` for calls on no one rule; the default
/// bus for `PutEvents`).
fn resource_arn(scope: &Scope, op: &str, input: &Value) -> String {
    let named = match op {
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            return input
                .get("ResourceARN")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_string()
        }
        "PutEvents" => return ev::default_bus_arn(&scope.region, &scope.account_id),
        "PutTargets" | "RemoveTargets" | "ListTargetsByRule" => input.get("Rule"),
        "ListRules" | "ListRuleNamesByTarget" | "TestEventPattern" => None,
        _ => input.get("Name"),
    };
    match named.and_then(Value::as_str) {
        Some(name) => ev::rule_arn(&scope.region, &scope.account_id, name),
        None => "*".into(),
    }
}

/// AWS's answer for a rule that does not exist.
fn rule_not_found(name: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFoundException",
        format!(
            "Rule {name} does not exist on EventBus {}.",
            ev::DEFAULT_BUS
        ),
    )
}

/// AWS's `LimitExceededException` (rules per bus, targets per rule, tags per rule).
fn limit_exceeded() -> ApiError {
    ApiError::new(
        "LimitExceededException",
        "The requested resource exceeds the maximum number allowed.",
    )
}

/// The request's `EventBusName`, which must be the default bus.
fn check_bus(ctx: &Ctx, input: &Value) -> Result<(), ApiError> {
    let given = input.get("EventBusName").and_then(Value::as_str);
    ev::check_bus(given, &ctx.region, &ctx.state.config.account_id)
        .map_err(|e| ApiError::new("ResourceNotFoundException", e.to_string()))
}

fn rule_arn(ctx: &Ctx, name: &str) -> String {
    ev::rule_arn(&ctx.region, &ctx.state.config.account_id, name)
}
