//! Creating, reading, changing, listing and deleting groups, and their queries.

use bosun_core::resource_groups as rg;
use bosun_store::{GroupRecord, StoreError};
use serde_json::{json, Map, Value};

use super::{bad, group_json, named_group, not_found, paging, query_json, refused};
use crate::api::error::ApiError;
use crate::api::Ctx;

/// The most tags a group may carry (the model's `Tags` map).
pub(super) const MAX_TAGS: usize = 50;

/// `ResourceQuery` of a request, checked: (type, query text).
fn resource_query(v: Option<&Value>) -> Result<Option<(String, String)>, ApiError> {
    let Some(q) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let t = q.get("Type").and_then(Value::as_str).unwrap_or_default();
    let text = q.get("Query").and_then(Value::as_str).unwrap_or_default();
    rg::parse_query(t, text).map_err(refused)?;
    Ok(Some((t.to_string(), text.to_string())))
}

/// A request's `Tags` map as sorted pairs, checked against the tag rules.
pub(super) fn tag_map(v: Option<&Value>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let map = v
        .as_object()
        .ok_or_else(|| bad("Tags must be a map of keys to values."))?;
    let mut out = Vec::new();
    for (k, v) in map {
        let value = v
            .as_str()
            .ok_or_else(|| bad(format!("The value of tag {k} must be a string.")))?;
        if k.is_empty() || k.chars().count() > 128 || value.chars().count() > 256 {
            return Err(bad(
                "Tag keys are 1 to 128 characters and values at most 256 characters long.",
            ));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(bad(format!(
                "Tag keys beginning with aws: are reserved: {k}"
            )));
        }
        out.push((k.clone(), value.to_string()));
    }
    if out.len() > MAX_TAGS {
        return Err(bad(format!("A group can have at most {MAX_TAGS} tags.")));
    }
    Ok(out)
}

/// A tag list as Resource Groups' `Tags` map.
pub(super) fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Object(
        tags.iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<Map<String, Value>>(),
    )
}

pub fn create_group(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = input
        .get("Name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Name is required."))?;
    rg::check_new_name(name).map_err(refused)?;
    let description = input
        .get("Description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    rg::check_description(description).map_err(refused)?;
    if input
        .get("Configuration")
        .is_some_and(|c| !c.is_null() && c.as_array().is_none_or(|a| !a.is_empty()))
    {
        return Err(bad(
            "Group configurations (service-linked groups) are not supported: this Bosun server serves tag-query groups only.",
        ));
    }
    for field in ["Criticality", "Owner", "DisplayName"] {
        if input.get(field).is_some_and(|v| !v.is_null()) {
            return Err(bad(format!(
                "{field} (application groups) is not supported by this Bosun server."
            )));
        }
    }
    let (query_type, query) = resource_query(input.get("ResourceQuery"))?.ok_or_else(|| {
        bad("ResourceQuery is required: this Bosun server serves tag-query groups.")
    })?;
    let tags = tag_map(input.get("Tags"))?;
    let g = GroupRecord {
        region: ctx.region.clone(),
        name: name.to_string(),
        description: description.to_string(),
        query_type,
        query,
        created_ms: ctx.now_ms,
    };
    match ctx.state.store.create_group(&g, &tags) {
        Ok(()) => {}
        Err(StoreError::AlreadyExists(_)) => {
            return Err(bad(format!("A group named {name} already exists.")))
        }
        Err(e) => return Err(e.into()),
    }
    // An association may target the group by name: its members may now be new targets.
    ctx.state.associations.targets_changed();
    Ok(json!({
        "Group": group_json(ctx, &g),
        "ResourceQuery": query_json(&g),
        "Tags": tags_json(&tags),
    }))
}

pub fn get_group(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let g = named_group(ctx, &input)?;
    Ok(json!({ "Group": group_json(ctx, &g) }))
}

pub fn update_group(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let g = named_group(ctx, &input)?;
    for field in ["Criticality", "Owner", "DisplayName"] {
        if input.get(field).is_some_and(|v| !v.is_null()) {
            return Err(bad(format!(
                "{field} (application groups) is not supported by this Bosun server."
            )));
        }
    }
    let description = input.get("Description").and_then(Value::as_str);
    if let Some(d) = description {
        rg::check_description(d).map_err(refused)?;
    }
    let updated = ctx
        .state
        .store
        .update_group(&ctx.region, &g.name, description, None)?
        .ok_or_else(|| not_found(&g.name))?;
    Ok(json!({ "Group": group_json(ctx, &updated) }))
}

pub fn delete_group(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let g = named_group(ctx, &input)?;
    let deleted = ctx
        .state
        .store
        .delete_group(&ctx.region, &g.name)?
        .ok_or_else(|| not_found(&g.name))?;
    ctx.state.associations.targets_changed();
    Ok(json!({ "Group": group_json(ctx, &deleted) }))
}

pub fn get_group_query(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let g = named_group(ctx, &input)?;
    Ok(json!({ "GroupQuery": { "GroupName": g.name, "ResourceQuery": query_json(&g) } }))
}

pub fn update_group_query(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let g = named_group(ctx, &input)?;
    let (t, q) = resource_query(input.get("ResourceQuery"))?
        .ok_or_else(|| bad("ResourceQuery is required."))?;
    let updated = ctx
        .state
        .store
        .update_group(&ctx.region, &g.name, None, Some((&t, &q)))?
        .ok_or_else(|| not_found(&g.name))?;
    // The group's members follow the new query: associations targeting it look again.
    ctx.state.associations.targets_changed();
    Ok(
        json!({ "GroupQuery": { "GroupName": updated.name, "ResourceQuery": query_json(&updated) } }),
    )
}

/// `ListGroups` with the `resource-type` filter (groups whose query selects one of the
/// types); the other filters (application and service groups) are refused by name.
pub fn list_groups(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let (max, after) = paging(&input)?;
    let mut types: Option<Vec<String>> = None;
    for f in input
        .get("Filters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = f.get("Name").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<String> = f
            .get("Values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        match name {
            "resource-type" => types = Some(values),
            other => {
                return Err(bad(format!(
                    "The group filter {other} is not supported by this Bosun server (it serves resource-type)."
                )))
            }
        }
    }
    let groups: Vec<GroupRecord> = ctx
        .state
        .store
        .list_groups(&ctx.region)?
        .into_iter()
        .filter(|g| {
            types.as_ref().is_none_or(|wanted| {
                rg::parse_query(&g.query_type, &g.query)
                    .is_ok_and(|q| q.types.iter().any(|t| wanted.contains(t)))
            })
        })
        .collect();
    let page = bosun_core::paging::page_after(groups, after.as_deref(), max, |g| &g.name);
    let mut out = json!({
        "GroupIdentifiers": page.items.iter().map(|g| json!({
            "GroupName": g.name,
            "GroupArn": rg::group_arn(&g.region, &ctx.state.config.account_id, &g.name),
        })).collect::<Vec<_>>(),
        "Groups": page.items.iter().map(|g| group_json(ctx, g)).collect::<Vec<_>>(),
    });
    if let Some(t) = page.next_token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
