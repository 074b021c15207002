//! Tags on groups (`Tag`, `Untag`, `GetTags`), addressed by the group's ARN.

use bosun_core::resource_groups as rg;
use bosun_store::GROUP_TAG_TYPE;
use serde_json::{json, Value};

use super::groups::{tag_map, tags_json, MAX_TAGS};
use super::{bad, not_found, refused};
use crate::api::error::ApiError;
use crate::api::Ctx;

/// The existing group an `Arn` names.
fn group_of(ctx: &Ctx, input: &Value) -> Result<String, ApiError> {
    let arn = input
        .get("Arn")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("The group ARN is required."))?;
    if !arn.starts_with("arn:") {
        return Err(bad(format!("{arn} is not a resource group ARN.")));
    }
    let name = rg::name_of(arn, &ctx.region, &ctx.state.config.account_id).map_err(refused)?;
    match ctx.state.store.get_group(&ctx.region, &name)? {
        Some(_) => Ok(name),
        None => Err(not_found(&name)),
    }
}

pub fn tag(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = group_of(ctx, &input)?;
    let tags = tag_map(input.get("Tags"))?;
    if tags.is_empty() {
        return Err(bad("Tags must name at least one tag."));
    }
    if !ctx
        .state
        .store
        .add_tags(&ctx.region, GROUP_TAG_TYPE, &name, &tags, MAX_TAGS)?
    {
        return Err(bad(format!("A group can have at most {MAX_TAGS} tags.")));
    }
    Ok(json!({ "Arn": input["Arn"], "Tags": tags_json(&tags) }))
}

pub fn untag(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = group_of(ctx, &input)?;
    let keys: Vec<String> = input
        .get("Keys")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("Keys is required."))?
        .iter()
        .map(|k| {
            k.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad("Keys must be strings."))
        })
        .collect::<Result<_, _>>()?;
    ctx.state
        .store
        .remove_tags(&ctx.region, GROUP_TAG_TYPE, &name, &keys)?;
    Ok(json!({ "Arn": input["Arn"], "Keys": keys }))
}

pub fn get_tags(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = group_of(ctx, &input)?;
    let tags = ctx.state.store.tags(&ctx.region, GROUP_TAG_TYPE, &name)?;
    Ok(json!({ "Arn": input["Arn"], "Tags": tags_json(&tags) }))
}
