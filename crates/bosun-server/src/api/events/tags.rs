//! Tags on rules (`TagResource`, `UntagResource`, `ListTagsForResource`), addressed by the
//! rule's ARN.

use bosun_core::events::rules as ev;
use bosun_store::RULE_TAG_TYPE;
use serde_json::{json, Value};

use super::input::{self, Checks};
use super::{limit_exceeded, rule_not_found};
use crate::api::error::ApiError;
use crate::api::Ctx;

/// The existing rule a `ResourceARN` names.
fn rule_of(ctx: &Ctx, input: &Value) -> Result<String, ApiError> {
    let arn = input::required(input, "ResourceARN")?;
    let mut checks = Checks::new();
    checks.length("ResourceARN", Some(arn), 1, 1600);
    checks.finish()?;
    let account = &ctx.state.config.account_id;
    let Some(name) = ev::rule_name_of_arn(arn, &ctx.region, account) else {
        if arn.starts_with(&format!("arn:aws:events:{}:{account}:rule/", ctx.region)) {
            // A rule on another bus: only the default bus exists here.
            let name = arn.rsplit('/').next().unwrap_or(arn);
            return Err(rule_not_found(name));
        }
        return Err(ApiError::validation(format!(
            "Parameter ResourceARN is not valid: {arn} is not the ARN of a rule on this region's default event bus."
        )));
    };
    match ctx.state.store.get_rule(&ctx.region, name)? {
        Some(_) => Ok(name.to_string()),
        None => Err(rule_not_found(name)),
    }
}

pub fn tag_resource(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = rule_of(ctx, &input)?;
    let tags = input::tag_list(input.get("Tags"), "Tags")?;
    if input.get("Tags").is_none_or(Value::is_null) {
        input::required(&input, "Tags")?;
    }
    if !ctx.state.store.add_tags(
        &ctx.region,
        RULE_TAG_TYPE,
        &name,
        &tags,
        ev::MAX_TAGS_PER_RULE,
    )? {
        return Err(limit_exceeded());
    }
    Ok(json!({}))
}

pub fn untag_resource(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = rule_of(ctx, &input)?;
    let keys: Vec<String> = match input.get("TagKeys") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|k| {
                k.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::serialization("TagKeys must be strings"))
            })
            .collect::<Result<_, _>>()?,
        None | Some(Value::Null) => {
            input::required(&input, "TagKeys")?;
            Vec::new()
        }
        Some(_) => return Err(ApiError::serialization("TagKeys must be a list")),
    };
    ctx.state
        .store
        .remove_tags(&ctx.region, RULE_TAG_TYPE, &name, &keys)?;
    Ok(json!({}))
}

pub fn list_tags_for_resource(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = rule_of(ctx, &input)?;
    let tags = ctx.state.store.tags(&ctx.region, RULE_TAG_TYPE, &name)?;
    let tags: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    Ok(json!({ "Tags": tags }))
}
