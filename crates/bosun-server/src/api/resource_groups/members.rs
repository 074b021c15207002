//! Which managed nodes a group's query (or a search's query) selects.

use bosun_core::resource_groups::{self as rg, TagQuery};
use serde_json::{json, Value};

use super::{bad, named_group, paging, refused};
use crate::api::error::ApiError;
use crate::api::Ctx;

/// The live managed nodes `query` selects, sorted by id.
pub(crate) fn member_nodes(ctx: &Ctx, query: &TagQuery) -> Result<Vec<String>, ApiError> {
    if !query.selects_nodes() {
        return Ok(Vec::new());
    }
    let tags = crate::api::instances::node_tags(ctx)?;
    let none = Vec::new();
    let mut ids: Vec<String> = ctx
        .state
        .store
        .list_instances(&ctx.region)?
        .into_iter()
        .filter(|n| !n.deregistered)
        .filter(|n| query.matches_node(tags.get(&n.instance_id).unwrap_or(&none)))
        .map(|n| n.instance_id)
        .collect();
    ids.sort();
    Ok(ids)
}

/// The nodes of the group called `name`, for targets (`resource-groups:Name`); `None` when
/// there is no such group.
pub(crate) fn group_nodes(ctx: &Ctx, name: &str) -> Result<Option<Vec<String>>, ApiError> {
    let Some(g) = ctx.state.store.get_group(&ctx.region, name)? else {
        return Ok(None);
    };
    let query = rg::parse_query(&g.query_type, &g.query).map_err(refused)?;
    member_nodes(ctx, &query).map(Some)
}

fn identifiers(ctx: &Ctx, ids: &[String]) -> Vec<Value> {
    let scope = ctx.scope();
    ids.iter()
        .map(|id| json!({ "ResourceArn": scope.managed_instance_arn(id), "ResourceType": rg::NODE_TYPE }))
        .collect()
}

fn paged(
    ctx: &Ctx,
    ids: Vec<String>,
    input: &Value,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let (max, after) = paging(input)?;
    let page = bosun_core::paging::page_after(ids, after.as_deref(), max, |id| id.as_str());
    Ok((identifiers(ctx, &page.items), page.next_token))
}

/// `ListGroupResources`, with the `resource-type` filter.
pub fn list_group_resources(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let g = named_group(ctx, &input)?;
    let query = rg::parse_query(&g.query_type, &g.query).map_err(refused)?;
    let mut ids = member_nodes(ctx, &query)?;
    for f in input
        .get("Filters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = f.get("Name").and_then(Value::as_str).unwrap_or_default();
        if name != "resource-type" {
            return Err(bad(format!(
                "The resource filter {name} is not valid: use resource-type."
            )));
        }
        let wanted: Vec<String> = f
            .get("Values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if !wanted
            .iter()
            .any(|t| t == rg::NODE_TYPE || rg::NODE_TYPES.contains(&t.as_str()))
        {
            ids.clear();
        }
    }
    let (items, next) = paged(ctx, ids, &input)?;
    let mut out = json!({
        "Resources": items.iter().map(|i| json!({ "Identifier": i })).collect::<Vec<_>>(),
        "ResourceIdentifiers": items,
        "QueryErrors": [],
    });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

/// `SearchResources`: the nodes a query would select, without a group.
pub fn search_resources(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let q = input
        .get("ResourceQuery")
        .filter(|v| !v.is_null())
        .ok_or_else(|| bad("ResourceQuery is required."))?;
    let query = rg::parse_query(
        q.get("Type").and_then(Value::as_str).unwrap_or_default(),
        q.get("Query").and_then(Value::as_str).unwrap_or_default(),
    )
    .map_err(refused)?;
    let ids = member_nodes(ctx, &query)?;
    let (items, next) = paged(ctx, ids, &input)?;
    let mut out = json!({ "ResourceIdentifiers": items, "QueryErrors": [] });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
