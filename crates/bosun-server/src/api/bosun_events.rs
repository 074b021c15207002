//! Bosun's event and delivery operations (`X-Amz-Target: BosunEvents.<Operation>`, signing
//! name `ssm`, IAM actions `bosun:<Operation>`), for `bosun events tail`, `bosun notify
//! failed|redrive` and the console's Events view without access to the server's store. AWS has
//! no such operations (its events go to CloudWatch, its dead letters to an SQS queue), so Bosun
//! adds them beside SSM's, through the same admission pipeline.
//!
//! - `ListEvents` (on the region's default event bus): the events Bosun emitted in the caller's
//!   region, matching an optional `EventPattern` (EventBridge's pattern language). With
//!   `AfterSeq`, the ones stored after it, oldest first (a tail polls with the answer's
//!   `LastSeq`); without, the latest `MaxResults`, oldest first.
//! - `ListFailedDeliveries`, `RedriveFailedDeliveries` (on the topic named by `TopicName`, or
//!   every topic of the region: `arn:aws:sns:<region>:<account>:*`): SNS deliveries whose
//!   retries ran out, kept as failed records, listed with why the last attempt failed, and made
//!   due again.
//! - `ListFailedInvocations`, `RedriveFailedInvocations` (on the rule named by `RuleName`, or
//!   every rule of the region: `rule/*`): rule targets an event could not be delivered to
//!   (`bosun_rule_failures.rs`).

use axum::http::HeaderMap;
use bosun_core::arn::Scope;
use bosun_core::events::pattern::EventPattern;
use bosun_core::events::rules as ev;
use serde_json::{json, Value};

use super::error::ApiError;
use super::ops::Operation;
use super::pipeline::{decode_named, Protocol, Surface};
use super::sns::topic_arn;
use super::Ctx;

/// The `X-Amz-Target` prefix of these calls.
pub const TARGET_PREFIX: &str = "BosunEvents.";

/// Events and failed deliveries in the admission pipeline.
pub static SURFACE: Surface = Surface {
    signing_name: "ssm",
    action_prefix: "bosun",
    signs_target: true,
    resource_arn,
    authorized_by_handler: |_| false,
    answers_in_change: |_| false,
    runs_inline: |_, _| false,
    check: |_, _, _| Ok(()),
    protocol: Protocol::Json,
};

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "ListEvents",
        mutating: false,
        handler: list_events,
    },
    Operation {
        name: "ListFailedDeliveries",
        mutating: false,
        handler: list_failed,
    },
    Operation {
        name: "RedriveFailedDeliveries",
        mutating: true,
        handler: redrive,
    },
    Operation {
        name: "ListFailedInvocations",
        mutating: false,
        handler: super::bosun_rule_failures::list_failed_invocations,
    },
    Operation {
        name: "RedriveFailedInvocations",
        mutating: true,
        handler: super::bosun_rule_failures::redrive_failed_invocations,
    },
];

/// Events read per store call, and at most this many pages per call (a pattern that matches
/// rarely answers with what it found and the `LastSeq` to go on from).
const PAGE: usize = 500;
const PAGES_PER_CALL: usize = 10;
const MAX_RESULTS: i64 = 500;
const DEFAULT_RESULTS: i64 = 100;
/// A message's first characters shown with a failed delivery.
const EXCERPT_CHARS: usize = 200;

/// Find the operation a request names and parse its JSON body.
pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<(&'static Operation, Value), ApiError> {
    decode_named(OPERATIONS, TARGET_PREFIX, headers, body)
}

fn resource_arn(scope: &Scope, op: &str, input: &Value) -> String {
    if op == "ListEvents" {
        return ev::default_bus_arn(&scope.region, &scope.account_id);
    }
    if op.ends_with("FailedInvocations") {
        let rule = input.get("RuleName").and_then(Value::as_str).unwrap_or("*");
        return ev::rule_arn(&scope.region, &scope.account_id, rule);
    }
    let topic = input
        .get("TopicName")
        .and_then(Value::as_str)
        .unwrap_or("*");
    topic_arn(&scope.region, &scope.account_id, topic)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", message)
}

fn optional_i64(input: &Value, key: &str) -> Result<Option<i64>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| invalid(format!("{key} must be a whole number of at least 0."))),
    }
}

fn event_shape(e: &bosun_store::OutboxEvent) -> Value {
    json!({
        "Seq": e.seq,
        "Region": e.region,
        "EventId": e.event_id,
        "DetailType": e.detail_type,
        "Time": e.created_ms as f64 / 1000.0,
        "Event": e.envelope,
    })
}

fn list_events(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let max = optional_i64(&input, "MaxResults")?.unwrap_or(DEFAULT_RESULTS);
    if !(1..=MAX_RESULTS).contains(&max) {
        return Err(invalid(format!(
            "MaxResults must be between 1 and {MAX_RESULTS}."
        )));
    }
    let max = max as usize;
    let pattern = match input.get("EventPattern") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.parse::<EventPattern>().map_err(|e| {
            ApiError::new(
                "InvalidEventPatternException",
                format!("Event pattern is not valid. Reason: {e}"),
            )
        })?),
        Some(_) => return Err(invalid("EventPattern must be a string (JSON text).")),
    };
    let wanted = |e: &bosun_store::OutboxEvent| {
        e.region == ctx.region
            && pattern.as_ref().is_none_or(|p| {
                serde_json::from_str::<Value>(&e.envelope)
                    .is_ok_and(|envelope| p.matches(&envelope))
            })
    };
    let store = &ctx.state.store;
    let mut found = Vec::new();
    let last_seq;
    if let Some(after) = optional_i64(&input, "AfterSeq")? {
        // Forward from the caller's place, every region's events read, the caller's kept.
        let mut at = after;
        for _ in 0..PAGES_PER_CALL {
            let page = store.events_after(at, PAGE)?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            for e in page {
                if found.len() == max {
                    break;
                }
                at = e.seq;
                if wanted(&e) {
                    found.push(e);
                }
            }
            if found.len() == max || at < last {
                break;
            }
        }
        last_seq = at;
    } else {
        // The latest: backwards through the region's events, then shown oldest first.
        let mut before = None;
        let mut newest = None;
        for _ in 0..PAGES_PER_CALL {
            let page = store.region_events_before(&ctx.region, before, PAGE)?;
            let Some(oldest) = page.last().map(|e| e.seq) else {
                break;
            };
            newest = newest.or(page.first().map(|e| e.seq));
            found.extend(
                page.into_iter()
                    .filter(|e| wanted(e))
                    .take(max - found.len()),
            );
            if found.len() == max {
                break;
            }
            before = Some(oldest);
        }
        found.reverse();
        last_seq = newest.unwrap_or(0);
    }
    Ok(json!({
        "Events": found.iter().map(event_shape).collect::<Vec<_>>(),
        "LastSeq": last_seq,
    }))
}

fn topic_filter(input: &Value) -> Result<Option<String>, ApiError> {
    match input.get("TopicName") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) if !name.is_empty() => Ok(Some(name.clone())),
        Some(_) => Err(invalid("TopicName must be a topic's name.")),
    }
}

fn list_failed(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let topic = topic_filter(&input)?;
    let store = &ctx.state.store;
    let account = &ctx.state.config.account_id;
    let mut out = Vec::new();
    for d in store.list_deliveries(&ctx.region)? {
        if !d.failed || topic.as_ref().is_some_and(|t| *t != d.topic_name) {
            continue;
        }
        let subscription = store.get_subscription(&ctx.region, &d.subscription_id)?;
        let mut excerpt: String = d.message.chars().take(EXCERPT_CHARS).collect();
        if d.message.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        out.push(json!({
            "DeliveryId": d.delivery_id,
            "TopicArn": topic_arn(&ctx.region, account, &d.topic_name),
            "SubscriptionId": d.subscription_id,
            "Protocol": subscription.as_ref().map(|s| s.protocol.clone()),
            "Endpoint": subscription
                .as_ref()
                .map(|s| bosun_core::redact::mask_url_credentials(&s.endpoint)),
            "Kind": d.kind,
            "MessageId": d.message_id,
            "Subject": d.subject,
            "Message": excerpt,
            "Attempts": d.attempts,
            "LastError": d.last_error,
            "PublishedTime": d.created_ms as f64 / 1000.0,
        }));
    }
    Ok(json!({ "Deliveries": out }))
}

fn redrive(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let topic = topic_filter(&input)?;
    let n = ctx
        .state
        .store
        .redrive_deliveries(&ctx.region, topic.as_deref(), ctx.now_ms)?;
    if n > 0 {
        crate::sns_delivery::wake();
    }
    Ok(json!({ "Redriven": n }))
}
