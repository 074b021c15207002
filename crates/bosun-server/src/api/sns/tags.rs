//! Tags on topics (`TagResource`, `UntagResource`, `ListTagsForResource`), by the topic's
//! ARN; at most 50 per topic, keys 1–128 and values 0–256 characters.

use axum::http::StatusCode;
use bosun_store::TOPIC_TAG_TYPE;
use serde_json::{json, Value};

use super::{invalid, required, topic_name_of};
use crate::api::error::ApiError;
use crate::api::query;
use crate::api::Ctx;

const MAX_TAGS: usize = 50;

/// The `Tags` of a request (`Tags.member.N.Key`/`.Value`), checked.
pub fn request_tags(input: &Value) -> Result<Vec<(String, String)>, ApiError> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for mut member in query::struct_list_field(input, "Tags") {
        let key = member.remove("Key").unwrap_or_default();
        let value = member.remove("Value").unwrap_or_default();
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(invalid(
                "Invalid parameter: Tags Reason: keys must have 1 to 128 characters and values at most 256",
            ));
        }
        tags.retain(|(k, _)| *k != key);
        tags.push((key, value));
    }
    if tags.len() > MAX_TAGS {
        return Err(too_many());
    }
    Ok(tags)
}

fn too_many() -> ApiError {
    ApiError::new(
        "TagLimitExceeded",
        format!(
            "Could not complete request: tag quota of per resource exceeded (at most {MAX_TAGS})"
        ),
    )
}

/// The existing topic a `ResourceArn` names.
fn tagged_topic(ctx: &Ctx, input: &Value) -> Result<String, ApiError> {
    let arn = required(input, "ResourceArn")?;
    let not_found = || {
        ApiError::new("ResourceNotFound", "Resource does not exist")
            .with_status(StatusCode::NOT_FOUND)
    };
    let name = topic_name_of(ctx, arn, "ResourceArn").map_err(|e| {
        if e.code == "NotFound" {
            not_found()
        } else {
            e
        }
    })?;
    match ctx.state.store.get_topic(&ctx.region, &name)? {
        Some(_) => Ok(name),
        None => Err(not_found()),
    }
}

pub fn tag_resource(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = tagged_topic(ctx, &input)?;
    let tags = request_tags(&input)?;
    if tags.is_empty() {
        return Err(invalid("Invalid parameter: Tags"));
    }
    if !ctx
        .state
        .store
        .add_tags(&ctx.region, TOPIC_TAG_TYPE, &name, &tags, MAX_TAGS)?
    {
        return Err(too_many());
    }
    Ok(json!({}))
}

pub fn untag_resource(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = tagged_topic(ctx, &input)?;
    let keys = query::list_field(&input, "TagKeys");
    if keys.is_empty() {
        return Err(invalid("Invalid parameter: TagKeys"));
    }
    ctx.state
        .store
        .remove_tags(&ctx.region, TOPIC_TAG_TYPE, &name, &keys)?;
    Ok(json!({}))
}

pub fn list_tags_for_resource(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = tagged_topic(ctx, &input)?;
    let tags = ctx.state.store.tags(&ctx.region, TOPIC_TAG_TYPE, &name)?;
    let listed: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    Ok(json!({ "Tags": listed }))
}
