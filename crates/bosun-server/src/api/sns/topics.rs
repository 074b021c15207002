//! Topics: `CreateTopic` (idempotent on name and attributes), `DeleteTopic`, `ListTopics`,
//! `GetTopicAttributes`, `SetTopicAttributes`. Bosun stores `DisplayName` and `Policy`; the
//! policy is returned as set but Bosun's IAM policies decide access (a topic policy grants
//! nothing more). Attributes Bosun cannot honour (FIFO, KMS, delivery policies, feedback roles,
//! tracing, signature version, archive) are refused by name.

use bosun_store::{StoreError, TopicAttribute, TopicRecord, TOPIC_TAG_TYPE};
use serde_json::{json, Map, Value};

use super::tags::request_tags;
use super::{
    invalid, named_topic, page_start, required, topic_arn, topic_name_of, topic_not_found,
};
use crate::api::error::ApiError;
use crate::api::query;
use crate::api::Ctx;

/// Topics per `ListTopics` page (AWS's page size).
const PAGE: usize = 100;

/// AWS's default delivery policy for http/https endpoints: 3 retries, 20 s apart.
pub const EFFECTIVE_DELIVERY_POLICY: &str = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#;

/// Topic attributes that exist in SNS but that Bosun cannot honour yet.
const NOT_HONOURED: &[&str] = &[
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "ContentBasedDeduplication",
    "FifoThroughputScope",
    "ArchivePolicy",
    "DataProtectionPolicy",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "HTTPFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
    "LambdaFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
    "SQSFailureFeedbackRoleArn",
    "ApplicationSuccessFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate",
    "ApplicationFailureFeedbackRoleArn",
    "FirehoseSuccessFeedbackRoleArn",
    "FirehoseSuccessFeedbackSampleRate",
    "FirehoseFailureFeedbackRoleArn",
];

/// `^[0-9A-Za-z_-]{1,256}$` (standard topics).
pub fn valid_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The attribute an `AttributeName` may set, with its checked value.
fn settable(name: &str, value: &str) -> Result<TopicAttribute, ApiError> {
    match name {
        "DisplayName" => {
            if value.chars().count() > 100 {
                return Err(invalid(
                    "Invalid parameter: DisplayName Reason: must be at most 100 characters",
                ));
            }
            Ok(TopicAttribute::DisplayName)
        }
        "Policy" => {
            if !value.is_empty() && serde_json::from_str::<Map<String, Value>>(value).is_err() {
                return Err(invalid(
                    "Invalid parameter: Policy Error: the policy is not a JSON object",
                ));
            }
            Ok(TopicAttribute::Policy)
        }
        "FifoTopic" => Err(fifo_refused()),
        n if NOT_HONOURED.contains(&n) => Err(invalid(format!(
            "Invalid parameter: AttributeName Reason: Bosun does not support {n} yet"
        ))),
        _ => Err(invalid("Invalid parameter: AttributeName")),
    }
}

fn fifo_refused() -> ApiError {
    invalid("Invalid parameter: FifoTopic Reason: Bosun does not support FIFO topics yet")
}

pub fn create_topic(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = required(&input, "Name")?;
    if name.ends_with(".fifo") {
        return Err(fifo_refused());
    }
    if !valid_name(name) {
        return Err(invalid("Invalid parameter: Topic Name"));
    }
    let mut topic = TopicRecord {
        region: ctx.region.clone(),
        name: name.to_string(),
        display_name: String::new(),
        policy: String::new(),
        delivery_policy: String::new(),
        created_ms: ctx.now_ms,
    };
    for (key, value) in query::map_field(&input, "Attributes") {
        if key == "FifoTopic" && value.eq_ignore_ascii_case("false") {
            continue;
        }
        match settable(&key, &value)? {
            TopicAttribute::DisplayName => topic.display_name = value,
            TopicAttribute::Policy => topic.policy = value,
            TopicAttribute::DeliveryPolicy => unreachable!("refused by settable"),
        }
    }
    let tags = request_tags(&input)?;
    let arn = topic_arn(&ctx.region, &ctx.state.config.account_id, name);
    let answer = json!({ "TopicArn": arn });
    match ctx.state.store.create_topic(&topic, &tags) {
        Ok(()) => Ok(answer),
        Err(StoreError::AlreadyExists(_)) => {
            // Idempotent: the same name with the same attributes (and tags) is the same topic.
            let existing = ctx
                .state
                .store
                .get_topic(&ctx.region, name)?
                .ok_or_else(topic_not_found)?;
            if existing.display_name != topic.display_name || existing.policy != topic.policy {
                return Err(invalid(
                    "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
                ));
            }
            if !tags.is_empty() {
                let mut held = ctx.state.store.tags(&ctx.region, TOPIC_TAG_TYPE, name)?;
                let mut asked = tags.clone();
                held.sort();
                asked.sort();
                if held != asked {
                    return Err(invalid(
                        "Invalid parameter: Tags Reason: Topic already exists with different tags",
                    ));
                }
            }
            Ok(answer)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn delete_topic(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let arn = required(&input, "TopicArn")?;
    let name = match topic_name_of(ctx, arn, "TopicArn") {
        Ok(name) => name,
        Err(e) if e.code == "NotFound" => return Ok(Value::Null),
        Err(e) => return Err(e),
    };
    // Deleting a topic that does not exist succeeds, as on AWS.
    ctx.state.store.delete_topic(&ctx.region, &name)?;
    Ok(Value::Null)
}

pub fn list_topics(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let after = page_start(&input)?;
    let topics = ctx.state.store.list_topics(&ctx.region)?;
    let page = bosun_core::paging::page_after(topics, after.as_deref(), PAGE, |t| &t.name);
    let account = &ctx.state.config.account_id;
    let listed: Vec<Value> = page
        .items
        .iter()
        .map(|t| json!({ "TopicArn": topic_arn(&t.region, account, &t.name) }))
        .collect();
    Ok(json!({ "Topics": listed, "NextToken": page.next_token }))
}

/// AWS's default topic policy: the owning account may use the topic.
fn default_policy(arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": arn,
            "Condition": { "StringEquals": { "AWS:SourceOwner": account } }
        }]
    })
    .to_string()
}

pub fn get_topic_attributes(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let topic = named_topic(ctx, &input)?;
    let account = &ctx.state.config.account_id;
    let arn = topic_arn(&topic.region, account, &topic.name);
    let subs = ctx
        .state
        .store
        .list_subscriptions(&ctx.region, Some(&topic.name))?;
    let confirmed = subs.iter().filter(|s| s.confirmed).count();
    let policy = if topic.policy.is_empty() {
        default_policy(&arn, account)
    } else {
        topic.policy.clone()
    };
    Ok(json!({ "Attributes": {
        "TopicArn": arn,
        "Owner": account,
        "Policy": policy,
        "DisplayName": topic.display_name,
        "SubscriptionsPending": (subs.len() - confirmed).to_string(),
        "SubscriptionsConfirmed": confirmed.to_string(),
        "SubscriptionsDeleted": "0",
        "EffectiveDeliveryPolicy": EFFECTIVE_DELIVERY_POLICY,
    }}))
}

pub fn set_topic_attributes(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = required(&input, "AttributeName")?;
    let value = query::field(&input, "AttributeValue").unwrap_or("");
    let topic = named_topic(ctx, &input)?;
    let attribute = settable(name, value)?;
    if !ctx
        .state
        .store
        .set_topic_attribute(&ctx.region, &topic.name, attribute, value)?
    {
        return Err(topic_not_found());
    }
    Ok(Value::Null)
}
