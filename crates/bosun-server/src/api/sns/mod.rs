//! The Amazon SNS API subset on the same endpoint (query protocol: form-encoded `POST /` with
//! `Action=…`, XML answers; signing name `sns`): topics, http/https subscriptions with AWS's
//! confirmation flow, publish with durable delivery ([`crate::sns_delivery`]), tags. Every call
//! goes through the shared admission pipeline: signature, IAM policy (`sns:<Action>` on the
//! topic's ARN), SDK-retry replay, audit. Protocols Bosun cannot deliver to (email, sqs,
//! lambda, …) and attributes it cannot honour are refused by name, never accepted and ignored.

mod publish;
mod subscriptions;
mod tags;
mod topics;
pub(crate) mod urls;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bosun_core::arn::Scope;
use serde_json::Value;

use super::error::ApiError;
use super::ops::Operation;
use super::pipeline::{serve_with_id, Protocol, Request, Surface};
use super::query;
use super::Ctx;
use crate::state::AppState;

pub use urls::by_url;

/// The query protocol's namespace for SNS answers.
pub const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";
const VERSION: &str = "2010-03-31";

/// SNS in the admission pipeline.
pub static SURFACE: Surface = Surface {
    signing_name: "sns",
    action_prefix: "sns",
    signs_target: false,
    resource_arn,
    authorized_by_handler: |_| false,
    answers_in_change: |_| false,
    runs_inline: |_, _| false,
    check: |_, _, _| Ok(()),
    protocol: Protocol::Query { xmlns: XMLNS },
};

/// The operations served, by their `Action` name (also IAM's and the audit trail's).
pub const OPERATIONS: &[Operation] = &[
    op("CreateTopic", true, topics::create_topic),
    op("DeleteTopic", true, topics::delete_topic),
    op("ListTopics", false, topics::list_topics),
    op("GetTopicAttributes", false, topics::get_topic_attributes),
    op("SetTopicAttributes", true, topics::set_topic_attributes),
    op("Subscribe", true, subscriptions::subscribe),
    op(
        "ConfirmSubscription",
        true,
        subscriptions::confirm_subscription,
    ),
    op("Unsubscribe", true, subscriptions::unsubscribe),
    op(
        "ListSubscriptions",
        false,
        subscriptions::list_subscriptions,
    ),
    op(
        "ListSubscriptionsByTopic",
        false,
        subscriptions::list_subscriptions_by_topic,
    ),
    op(
        "GetSubscriptionAttributes",
        false,
        subscriptions::get_subscription_attributes,
    ),
    op(
        "SetSubscriptionAttributes",
        true,
        subscriptions::set_subscription_attributes,
    ),
    op("Publish", true, publish::publish),
    op("TagResource", true, tags::tag_resource),
    op("UntagResource", true, tags::untag_resource),
    op("ListTagsForResource", false, tags::list_tags_for_resource),
];

/// SNS actions of botocore's model that Bosun does not serve yet.
const NOT_SERVED: &[&str] = &[
    "AddPermission",
    "CheckIfPhoneNumberIsOptedOut",
    "CreatePlatformApplication",
    "CreatePlatformEndpoint",
    "CreateSMSSandboxPhoneNumber",
    "DeleteEndpoint",
    "DeletePlatformApplication",
    "DeleteSMSSandboxPhoneNumber",
    "GetDataProtectionPolicy",
    "GetEndpointAttributes",
    "GetPlatformApplicationAttributes",
    "GetSMSAttributes",
    "GetSMSSandboxAccountStatus",
    "ListEndpointsByPlatformApplication",
    "ListOriginationNumbers",
    "ListPhoneNumbersOptedOut",
    "ListPlatformApplications",
    "ListSMSSandboxPhoneNumbers",
    "OptInPhoneNumber",
    "PublishBatch",
    "PutDataProtectionPolicy",
    "RemovePermission",
    "SetEndpointAttributes",
    "SetPlatformApplicationAttributes",
    "SetSMSAttributes",
    "VerifySMSSandboxPhoneNumber",
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

/// Whether a request to `POST /` is a query-protocol call (a form body, no `X-Amz-Target`).
pub fn is_query_request(headers: &HeaderMap) -> bool {
    !headers.contains_key("x-amz-target")
        && headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

/// Serve one SNS call (`POST /` with a form body).
pub async fn handle(
    state: State<std::sync::Arc<AppState>>,
    peer: ConnectInfo<std::net::SocketAddr>,
    request: Request,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    serve_with_id(state, peer, request, body, &SURFACE, decode).await
}

/// The operation a form body names (`Action`) and its fields.
pub fn decode(_: &HeaderMap, body: &[u8]) -> Result<(&'static Operation, Value), ApiError> {
    let input = query::form_fields(body);
    let action = query::field(&input, "Action").unwrap_or("");
    let Some(op) = OPERATIONS.iter().find(|o| o.name == action) else {
        let message = if NOT_SERVED.contains(&action) {
            format!(
                "{action} is part of the SNS API but this Bosun server does not implement it yet"
            )
        } else {
            format!("The action {action} is not valid for this web service.")
        };
        return Err(ApiError::new("InvalidAction", message));
    };
    match query::field(&input, "Version") {
        Some(VERSION) => Ok((op, input)),
        Some(v) => Err(ApiError::new(
            "InvalidParameterValue",
            format!("Version {v} is not served; SNS's API version is {VERSION}."),
        )),
        None => Err(ApiError::new(
            "MissingParameter",
            "The request must contain the parameter Version.",
        )),
    }
}

/// The ARN a call acts on, for its policy check: the topic (subscriptions act on their
/// topic's ARN too), `*` for account-wide lists.
fn resource_arn(scope: &Scope, op: &str, input: &Value) -> String {
    let field = |name: &str| query::field(input, name).map(str::to_string);
    let named = match op {
        "CreateTopic" => field("Name").map(|n| topic_arn(&scope.region, &scope.account_id, &n)),
        "TagResource" | "UntagResource" | "ListTagsForResource" => field("ResourceArn"),
        "Unsubscribe" | "GetSubscriptionAttributes" | "SetSubscriptionAttributes" => {
            field("SubscriptionArn").map(|a| match a.rsplit_once(':') {
                Some((topic, _)) if a.matches(':').count() == 6 => topic.to_string(),
                _ => a,
            })
        }
        "ListTopics" | "ListSubscriptions" => None,
        _ => field("TopicArn"),
    };
    named.unwrap_or_else(|| "*".into())
}

/// `arn:aws:sns:REGION:ACCOUNT:NAME`.
pub fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

/// The subscription ARN: the topic's ARN and the subscription's id.
pub fn subscription_arn(region: &str, account: &str, topic: &str, id: &str) -> String {
    format!("{}:{id}", topic_arn(region, account, topic))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParameter", message)
}

fn topic_not_found() -> ApiError {
    ApiError::new("NotFound", "Topic does not exist").with_status(StatusCode::NOT_FOUND)
}

fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    query::field(input, name).ok_or_else(|| invalid(format!("Invalid parameter: {name}")))
}

/// The name of the topic an ARN names in this call's region and account; `Err` when the text
/// is not a topic ARN at all.
fn topic_name_of(ctx: &Ctx, arn: &str, what: &str) -> Result<String, ApiError> {
    let prefix = format!(
        "arn:aws:sns:{}:{}:",
        ctx.region, ctx.state.config.account_id
    );
    match arn.strip_prefix(&prefix) {
        Some(name) if topics::valid_name(name) => Ok(name.to_string()),
        _ if arn.starts_with("arn:aws:sns:") && arn.matches(':').count() == 5 => {
            Err(topic_not_found())
        }
        _ => Err(invalid(format!("Invalid parameter: {what}"))),
    }
}

/// The existing topic a `TopicArn` field names.
fn named_topic(ctx: &Ctx, input: &Value) -> Result<bosun_store::TopicRecord, ApiError> {
    let arn = required(input, "TopicArn")?;
    let name = topic_name_of(ctx, arn, "TopicArn")?;
    ctx.state
        .store
        .get_topic(&ctx.region, &name)?
        .ok_or_else(topic_not_found)
}

/// `ListTopics`/`ListSubscriptions` paging: 100 per page after the `NextToken` cursor.
fn page_start(input: &Value) -> Result<Option<String>, ApiError> {
    match query::field(input, "NextToken") {
        None | Some("") => Ok(None),
        Some(t) => bosun_core::paging::decode_token(t)
            .map(Some)
            .ok_or_else(|| invalid("Invalid parameter: NextToken")),
    }
}
