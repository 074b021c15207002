//! The links Bosun puts in the messages it posts, served without a signature as AWS serves
//! them: the SubscribeURL (`GET /?Action=ConfirmSubscription&TopicArn=…&Token=…`; the token is
//! the secret) and the UnsubscribeURL (`GET /?Action=Unsubscribe&SubscriptionArn=…`; the
//! subscription id is). Each use is audited with the principal `anonymous`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bosun_store::AuditRecord;
use serde_json::{json, Value};

use super::{subscriptions, XMLNS};
use crate::api::error::ApiError;
use crate::api::{query, Ctx};
use crate::state::{now_ms, AppState};

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The SubscribeURL of a pending subscription.
pub fn subscribe_url(base: &str, topic_arn: &str, token: &str) -> String {
    format!(
        "{base}/?Action=ConfirmSubscription&TopicArn={}&Token={}",
        encode(topic_arn),
        encode(token)
    )
}

/// The UnsubscribeURL of a subscription.
pub fn unsubscribe_url(base: &str, subscription_arn: &str) -> String {
    format!(
        "{base}/?Action=Unsubscribe&SubscriptionArn={}",
        encode(subscription_arn)
    )
}

/// The region an `arn:aws:sns:REGION:…` names.
fn region_of(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:aws:sns:")?
        .split(':')
        .next()
        .filter(|r| !r.is_empty())
}

/// Axum handler for `GET /` (the two links; anything else is refused).
pub async fn by_url(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let request_id = bosun_core::ids::uuid_v4(crate::state::random_bytes());
    let input = query::form_fields(raw.unwrap_or_default().as_bytes());
    let rid = request_id.clone();
    let outcome = tokio::task::spawn_blocking(move || follow(&state, &input, &rid)).await;
    let result = match outcome {
        Ok(r) => r,
        Err(e) => Err(ApiError::internal(format!("link handler panicked: {e}"))),
    };
    match result {
        Ok((op, value)) => (
            StatusCode::OK,
            [("content-type", "text/xml")],
            query::answer_xml(XMLNS, op, &value, &request_id),
        )
            .into_response(),
        Err(e) => e.query_response(XMLNS, &request_id),
    }
}

fn follow(
    state: &AppState,
    input: &Value,
    request_id: &str,
) -> Result<(&'static str, Value), ApiError> {
    let action = query::field(input, "Action").unwrap_or("");
    let (op, arn_field) = match action {
        "ConfirmSubscription" => ("ConfirmSubscription", "TopicArn"),
        "Unsubscribe" => ("Unsubscribe", "SubscriptionArn"),
        _ => {
            return Err(ApiError::new(
                "InvalidAction",
                format!("The action {action} is not valid for this web service."),
            ))
        }
    };
    let arn = query::field(input, arn_field)
        .ok_or_else(|| super::invalid(format!("Invalid parameter: {arn_field}")))?;
    let region =
        region_of(arn).ok_or_else(|| super::invalid(format!("Invalid parameter: {arn_field}")))?;
    let now = now_ms();
    let ctx = Ctx::internal(state, region, "anonymous", now);
    let result = match op {
        "ConfirmSubscription" => {
            let token = query::field(input, "Token")
                .ok_or_else(|| super::invalid("Invalid parameter: Token"))?;
            let topic = super::named_topic(&ctx, input)?;
            subscriptions::confirm(&ctx, &topic, token).map(|a| json!({ "SubscriptionArn": a }))
        }
        _ => subscriptions::unsubscribe(&ctx, input.clone()),
    };
    let record = AuditRecord {
        time_ms: now,
        principal: "anonymous".into(),
        action: format!("sns:{op}"),
        region: region.to_string(),
        resource: arn.to_string(),
        request_id: request_id.to_string(),
        source: String::new(),
        outcome: match &result {
            Ok(_) => "Allowed".into(),
            Err(e) => format!("Failed:{}", e.code),
        },
        detail: "followed a link Bosun sent".into(),
    };
    if let Err(e) = state.store.append_audit(&record) {
        tracing::error!(error = %e, "could not write an audit record");
    }
    result.map(|v| (op, v))
}
