//! Subscriptions: `Subscribe` (http/https, and email/email-json when the server has an SMTP
//! relay, with AWS's confirmation flow),
//! `ConfirmSubscription`, `Unsubscribe`, `ListSubscriptions(ByTopic)`,
//! `Get/SetSubscriptionAttributes` (`RawMessageDelivery`, and Bosun's templates of `email`
//! and `http`/`https` subscriptions: [`crate::delivery_template`]).
//!
//! A new subscription is pending: its confirmation request (a `SubscriptionConfirmation`
//! carrying a token and a SubscribeURL on this endpoint, posted or mailed) is queued in the
//! same transaction and sent by the delivery task. Nothing else is ever sent to it until
//! the token comes back (`ConfirmSubscription`, or a GET of the SubscribeURL).

use axum::http::StatusCode;
use bosun_store::{DeliveryRecord, SubscriptionRecord, TopicRecord, CONFIRMATION};
use serde_json::{json, Value};

use super::{
    invalid, named_topic, page_start, required, subscription_arn, topic_arn, topic_not_found,
};
use crate::api::error::ApiError;
use crate::api::query;
use crate::api::Ctx;
use crate::delivery_template::{self, DeliveryTemplate};
use crate::state::random_bytes;

/// Confirmation tokens are valid for two days, as on AWS.
pub const TOKEN_LIFETIME_MS: i64 = 2 * 24 * 3600 * 1000;
const PAGE: usize = 100;
/// What a pending subscription's ARN reads as when not asked for (`ReturnSubscriptionArn`).
const PENDING: &str = "pending confirmation";
/// Subscription attributes SNS has that Bosun cannot honour yet.
const NOT_HONOURED: &[&str] = &[
    "DeliveryPolicy",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];
/// Protocols SNS has that Bosun does not deliver to yet.
const NOT_DELIVERED: &[&str] = &["sms", "sqs", "application", "lambda", "firehose"];

fn sub_not_found() -> ApiError {
    ApiError::new("NotFound", "Subscription does not exist").with_status(StatusCode::NOT_FOUND)
}

fn raw_flag(value: &str) -> Result<bool, ApiError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(
            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [{value}]. Must be true or false.".replace("{value}", value),
        )),
    }
}

/// A settable subscription attribute: `RawMessageDelivery`, or one of Bosun's mail template
/// attributes ([`crate::delivery_template`]).
enum Setting {
    Raw(bool),
    Template,
    Filter,
}

fn check_attribute(name: &str, value: &str) -> Result<Setting, ApiError> {
    match name {
        "RawMessageDelivery" => raw_flag(value).map(Setting::Raw),
        "FilterPolicy" | "FilterPolicyScope" => Ok(Setting::Filter),
        n if delivery_template::ATTRIBUTES.contains(&n) => Ok(Setting::Template),
        n if NOT_HONOURED.contains(&n) => Err(invalid(format!(
            "Invalid parameter: Attributes Reason: Bosun does not support {n} yet"
        ))),
        n => Err(invalid(format!(
            "Invalid parameter: Attributes Reason: Unknown attribute name {n}"
        ))),
    }
}

/// Apply one template attribute to `template` for a subscription of `protocol`.
fn set_template_attribute(
    ctx: &Ctx,
    protocol: &str,
    template: &mut DeliveryTemplate,
    name: &str,
    value: &str,
) -> Result<(), ApiError> {
    if !delivery_template::attributes_of(protocol).contains(&name) {
        return Err(invalid(format!(
            "Invalid parameter: Attributes Reason: Delivery protocol [{protocol}] does not support {name}"
        )));
    }
    template
        .set(name, value, &ctx.principal)
        .map_err(|why| invalid(format!("Invalid parameter: Attributes Reason: {why}")))
}

/// `RawMessageDelivery=true` only on protocols that carry the bare message (AWS's words).
fn check_raw(protocol: &str, raw: bool) -> Result<(), ApiError> {
    if raw && !matches!(protocol, "http" | "https") {
        return Err(invalid(format!(
            "Invalid parameter: Attributes Reason: Delivery protocol [{protocol}] does not support raw message delivery."
        )));
    }
    Ok(())
}

/// The subscription a `SubscriptionArn` names, in this call's region and account.
fn named_subscription(ctx: &Ctx, input: &Value) -> Result<SubscriptionRecord, ApiError> {
    let arn = required(input, "SubscriptionArn")?;
    let prefix = format!(
        "arn:aws:sns:{}:{}:",
        ctx.region, ctx.state.config.account_id
    );
    let Some((topic, id)) = arn
        .strip_prefix(&prefix)
        .and_then(|rest| rest.split_once(':'))
    else {
        return Err(invalid("Invalid parameter: SubscriptionArn"));
    };
    match ctx.state.store.get_subscription(&ctx.region, id)? {
        Some(s) if s.topic_name == topic => Ok(s),
        _ => Err(sub_not_found()),
    }
}

fn arn_of(ctx: &Ctx, s: &SubscriptionRecord) -> String {
    subscription_arn(
        &s.region,
        &ctx.state.config.account_id,
        &s.topic_name,
        &s.subscription_id,
    )
}

pub fn subscribe(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let protocol = required(&input, "Protocol")?.to_string();
    let topic = named_topic(ctx, &input)?;
    let endpoint = query::field(&input, "Endpoint").unwrap_or("");
    match protocol.as_str() {
        "http" | "https" => {
            if !endpoint.starts_with(&format!("{protocol}://"))
                || endpoint.len() <= protocol.len() + 3
            {
                return Err(invalid(
                    "Invalid parameter: Endpoint must match the specified protocol",
                ));
            }
        }
        "email" | "email-json" => {
            if ctx.state.mailer.is_none() {
                return Err(invalid(format!(
                    "Invalid parameter: Protocol Reason: this Bosun server has no SMTP relay configured, so it cannot deliver {protocol} subscriptions (start it with --smtp-host and --smtp-from)"
                )));
            }
            if !bosun_core::sns_email::is_email_address(endpoint) {
                return Err(invalid("Invalid parameter: Email address"));
            }
        }
        p if NOT_DELIVERED.contains(&p) => {
            return Err(invalid(format!(
                "Invalid parameter: Protocol Reason: Bosun does not deliver to {p} subscriptions yet (only http, https, email and email-json)"
            )))
        }
        p => {
            return Err(invalid(format!(
                "Invalid parameter: Amazon SNS does not support this protocol string: {p}"
            )))
        }
    }
    let mut raw = false;
    let mut template = DeliveryTemplate::default();
    for (name, value) in query::map_field(&input, "Attributes") {
        match check_attribute(&name, &value)? {
            Setting::Raw(r) => raw = r,
            Setting::Template => {
                set_template_attribute(ctx, &protocol, &mut template, &name, &value)?
            }
            Setting::Filter => template
                .set_filter(&name, &value)
                .map_err(|why| invalid(format!("Invalid parameter: {why}")))?,
        }
    }
    check_raw(&protocol, raw)?;
    template
        .check_for(&protocol)
        .map_err(|why| invalid(format!("Invalid parameter: Attributes Reason: {why}")))?;
    let return_arn = query::field(&input, "ReturnSubscriptionArn")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    // The same endpoint on the same topic is the same subscription.
    let existing = same_endpoint(ctx, &topic.name, &protocol, endpoint)?;
    let sub = match existing {
        Some(s) if s.confirmed => s,
        // A pending endpoint asked again gets its confirmation request again (it may have
        // missed it, or its retries ran out).
        Some(s) => {
            if !ctx
                .state
                .store
                .queue_delivery(&confirmation_request(ctx, &topic, &s))?
            {
                return Err(topic_not_found());
            }
            crate::sns_delivery::wake();
            s
        }
        None => {
            let sub = SubscriptionRecord {
                region: ctx.region.clone(),
                subscription_id: bosun_core::ids::uuid_v4(random_bytes()),
                topic_name: topic.name.clone(),
                protocol,
                endpoint: endpoint.to_string(),
                confirmed: false,
                token: hex::encode(random_bytes::<64>()),
                raw_message_delivery: raw,
                delivery_template: template.to_stored(),
                base_url: ctx.base_url.clone(),
                created_ms: ctx.now_ms,
            };
            let confirmation = confirmation_request(ctx, &topic, &sub);
            match ctx.state.store.add_subscription(&sub, Some(&confirmation)) {
                Ok(()) => {
                    crate::sns_delivery::wake();
                    sub
                }
                Err(bosun_store::StoreError::NotFound(_)) => return Err(topic_not_found()),
                // A concurrent Subscribe of the same endpoint won; its subscription is this one.
                Err(bosun_store::StoreError::AlreadyExists(_)) => {
                    same_endpoint(ctx, &topic.name, &sub.protocol, endpoint)?
                        .ok_or_else(sub_not_found)?
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let arn = if sub.confirmed || return_arn {
        arn_of(ctx, &sub)
    } else {
        PENDING.to_string()
    };
    Ok(json!({ "SubscriptionArn": arn }))
}

/// The topic's subscription of `protocol` to `endpoint`, if any.
fn same_endpoint(
    ctx: &Ctx,
    topic: &str,
    protocol: &str,
    endpoint: &str,
) -> Result<Option<SubscriptionRecord>, ApiError> {
    Ok(ctx
        .state
        .store
        .list_subscriptions(&ctx.region, Some(topic))?
        .into_iter()
        .find(|s| s.protocol == protocol && s.endpoint == endpoint))
}

/// The `SubscriptionConfirmation` a new subscription's endpoint gets.
fn confirmation_request(
    ctx: &Ctx,
    topic: &TopicRecord,
    sub: &SubscriptionRecord,
) -> DeliveryRecord {
    let message_id = bosun_core::ids::uuid_v4(random_bytes());
    let arn = topic_arn(&topic.region, &ctx.state.config.account_id, &topic.name);
    DeliveryRecord {
        delivery_id: format!("{message_id}:{}", sub.subscription_id),
        region: sub.region.clone(),
        subscription_id: sub.subscription_id.clone(),
        topic_name: topic.name.clone(),
        kind: CONFIRMATION.into(),
        message_id,
        subject: None,
        message: format!(
            "You have chosen to subscribe to the topic {arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
        ),
        message_attributes: "{}".into(),
        created_ms: ctx.now_ms,
        attempts: 0,
        next_attempt_ms: ctx.now_ms,
        failed: false,
        last_error: String::new(),
    }
}

/// Confirm `token` on `topic`: the confirmed subscription's ARN.
pub fn confirm(ctx: &Ctx, topic: &TopicRecord, token: &str) -> Result<String, ApiError> {
    let bad_token = || invalid("Invalid token");
    let pending = ctx
        .state
        .store
        .list_subscriptions(&ctx.region, Some(&topic.name))?
        .into_iter()
        .find(|s| s.token == token)
        .ok_or_else(bad_token)?;
    if !pending.confirmed && ctx.now_ms - pending.created_ms > TOKEN_LIFETIME_MS {
        return Err(bad_token());
    }
    let sub = ctx
        .state
        .store
        .confirm_subscription(&ctx.region, &topic.name, token)?
        .ok_or_else(bad_token)?;
    Ok(arn_of(ctx, &sub))
}

pub fn confirm_subscription(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let token = required(&input, "Token")?.to_string();
    let topic = named_topic(ctx, &input)?;
    if query::field(&input, "AuthenticateOnUnsubscribe").is_some_and(|v| v == "true") {
        return Err(invalid(
            "Invalid parameter: AuthenticateOnUnsubscribe Reason: Bosun does not support it yet",
        ));
    }
    let arn = confirm(ctx, &topic, &token)?;
    Ok(json!({ "SubscriptionArn": arn }))
}

pub fn unsubscribe(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let sub = named_subscription(ctx, &input)?;
    ctx.state
        .store
        .delete_subscription(&ctx.region, &sub.subscription_id)?;
    Ok(Value::Null)
}

fn listed(ctx: &Ctx, subs: &[SubscriptionRecord]) -> Vec<Value> {
    let account = &ctx.state.config.account_id;
    subs.iter()
        .map(|s| {
            json!({
                "SubscriptionArn": if s.confirmed { arn_of(ctx, s) } else { "PendingConfirmation".into() },
                "Owner": account,
                "Protocol": s.protocol,
                "Endpoint": s.endpoint,
                "TopicArn": topic_arn(&s.region, account, &s.topic_name),
            })
        })
        .collect()
}

fn page_of(ctx: &Ctx, input: &Value, subs: Vec<SubscriptionRecord>) -> Result<Value, ApiError> {
    let after = page_start(input)?;
    let keyed: Vec<(String, SubscriptionRecord)> = subs
        .into_iter()
        .map(|s| {
            (
                format!(
                    "{}\u{1}{:020}\u{1}{}",
                    s.topic_name, s.created_ms, s.subscription_id
                ),
                s,
            )
        })
        .collect();
    let page = bosun_core::paging::page_after(keyed, after.as_deref(), PAGE, |(k, _)| k);
    let subs: Vec<SubscriptionRecord> = page.items.into_iter().map(|(_, s)| s).collect();
    Ok(json!({ "Subscriptions": listed(ctx, &subs), "NextToken": page.next_token }))
}

pub fn list_subscriptions(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let subs = ctx.state.store.list_subscriptions(&ctx.region, None)?;
    page_of(ctx, &input, subs)
}

pub fn list_subscriptions_by_topic(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let topic = named_topic(ctx, &input)?;
    let subs = ctx
        .state
        .store
        .list_subscriptions(&ctx.region, Some(&topic.name))?;
    page_of(ctx, &input, subs)
}

pub fn get_subscription_attributes(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let s = named_subscription(ctx, &input)?;
    let account = &ctx.state.config.account_id;
    let mut answer = json!({ "Attributes": {
        "SubscriptionArn": arn_of(ctx, &s),
        "TopicArn": topic_arn(&s.region, account, &s.topic_name),
        "Owner": account,
        "Protocol": s.protocol,
        "Endpoint": s.endpoint,
        "PendingConfirmation": (!s.confirmed).to_string(),
        "ConfirmationWasAuthenticated": "false",
        "RawMessageDelivery": s.raw_message_delivery.to_string(),
        "EffectiveDeliveryPolicy": super::topics::EFFECTIVE_DELIVERY_POLICY,
    }});
    if let Some(t) = DeliveryTemplate::parse(&s.delivery_template) {
        for (name, value) in t.attributes() {
            answer["Attributes"][name] = Value::String(value);
        }
    }
    Ok(answer)
}

pub fn set_subscription_attributes(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = required(&input, "AttributeName")?;
    let value = query::field(&input, "AttributeValue").unwrap_or("");
    let s = named_subscription(ctx, &input)?;
    let found = match check_attribute(name, value)? {
        Setting::Raw(raw) => {
            check_raw(&s.protocol, raw)?;
            ctx.state
                .store
                .set_raw_message_delivery(&ctx.region, &s.subscription_id, raw)?
        }
        Setting::Filter => {
            let mut template = DeliveryTemplate::parse(&s.delivery_template).unwrap_or_default();
            template
                .set_filter(name, value)
                .map_err(|why| invalid(format!("Invalid parameter: {why}")))?;
            ctx.state.store.set_delivery_template(
                &ctx.region,
                &s.subscription_id,
                &template.to_stored(),
            )?
        }
        Setting::Template => {
            let mut template = DeliveryTemplate::parse(&s.delivery_template).unwrap_or_default();
            set_template_attribute(ctx, &s.protocol, &mut template, name, value)?;
            template
                .check_for(&s.protocol)
                .map_err(|why| invalid(format!("Invalid parameter: Attributes Reason: {why}")))?;
            ctx.state.store.set_delivery_template(
                &ctx.region,
                &s.subscription_id,
                &template.to_stored(),
            )?
        }
    };
    if !found {
        return Err(sub_not_found());
    }
    Ok(Value::Null)
}
