//! `AddTagsToResource`, `RemoveTagsFromResource`, `ListTagsForResource` for every taggable
//! resource type; [`resource_exists`] is where each resource type plugs in.

use bosun_core::tags::{check_tags, TagError, MAX_TAGS_PER_RESOURCE};
use bosun_core::validate::Validation;
use serde::Deserialize;
use serde_json::Value;

use super::wire::{pairs_to_tags, tags_to_pairs, Tag};
use super::{parse, reply, Ctx};
use crate::api::error::ApiError;

const RESOURCE_TYPES: &[&str] = &[
    "Document",
    "ManagedInstance",
    "MaintenanceWindow",
    "Parameter",
    "PatchBaseline",
    "OpsItem",
    "OpsMetadata",
    "Automation",
    "Association",
];

/// True when a resource of this type and id exists in the caller's region. Resource types
/// Bosun does not manage yet are refused with `InvalidResourceType`.
fn resource_exists(ctx: &Ctx, resource_type: &str, id: &str) -> Result<bool, ApiError> {
    match resource_type {
        "ManagedInstance" => Ok(ctx
            .state
            .store
            .get_instance(id)?
            .is_some_and(|n| n.region == ctx.region && !n.deregistered)),
        "Document" => Ok(ctx.state.store.get_document(&ctx.region, id)?.is_some()),
        "Parameter" => Ok(ctx.state.store.parameter(&ctx.region, id)?.is_some()),
        "Association" => Ok(ctx.state.store.get_association(&ctx.region, id)?.is_some()),
        "MaintenanceWindow" => Ok(ctx.state.store.get_window(&ctx.region, id)?.is_some()),
        other => Err(ApiError::new(
            "InvalidResourceType",
            format!("Tagging {other} resources is not supported by this Bosun server yet."),
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagRequest {
    resource_type: Option<String>,
    resource_id: Option<String>,
    tags: Option<Vec<Tag>>,
    tag_keys: Option<Vec<String>>,
}

/// Validate the common members and resolve the resource; returns (type, id).
fn target(ctx: &Ctx, req: &TagRequest, v: &mut Validation) -> Result<(String, String), ApiError> {
    v.required("resourceType", req.resource_type.as_ref());
    v.one_of("resourceType", req.resource_type.as_deref(), RESOURCE_TYPES);
    v.required("resourceId", req.resource_id.as_ref());
    let (t, mut id) = (
        req.resource_type.clone().unwrap_or_default(),
        req.resource_id.clone().unwrap_or_default(),
    );
    if t == "Parameter" {
        // `/name` and `name` are one parameter; tags are kept under the store key.
        id = bosun_core::parameters::name::key(&id);
    }
    let taken = std::mem::take(v);
    taken.finish().map_err(ApiError::validation)?;
    if !resource_exists(ctx, &t, &id)? {
        return Err(ApiError::new(
            "InvalidResourceId",
            format!("The resource ID {id} is not valid."),
        ));
    }
    Ok((t, id))
}

/// Tags that make one node power another on (issue 16): changing them on a node needs the
/// tag action on the controller nodes too (every node named by `bosun:wake-via` before or after
/// the change), so nobody enlists or releases a controller they may not tag. A deny on either
/// node refuses the call.
fn authorize_power_controllers(
    ctx: &Ctx,
    action: &str,
    resource_type: &str,
    node_id: &str,
    touched_keys: &[&str],
    new_controller: Option<&str>,
) -> Result<(), ApiError> {
    use bosun_core::power::{TAG_WAKE_DOCUMENT, TAG_WAKE_VIA};
    if resource_type != "ManagedInstance"
        || !touched_keys
            .iter()
            .any(|k| *k == TAG_WAKE_VIA || *k == TAG_WAKE_DOCUMENT)
    {
        return Ok(());
    }
    let existing = ctx.state.store.tags(&ctx.region, resource_type, node_id)?;
    let old_controller = existing
        .iter()
        .find(|(k, _)| k == TAG_WAKE_VIA)
        .map(|(_, v)| v.as_str());
    let mut controllers: Vec<&str> = old_controller.into_iter().chain(new_controller).collect();
    controllers.retain(|c| !c.is_empty() && *c != node_id);
    controllers.dedup();
    ctx.authorize_nodes(action, controllers)
}

/// A node's tags decide which associations target it: let the scheduler look.
fn node_tags_changed(ctx: &Ctx, resource_type: &str) {
    if resource_type == "ManagedInstance" {
        ctx.state.associations.targets_changed();
    }
}

pub fn add_tags_to_resource(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: TagRequest = parse(body)?;
    let mut v = Validation::new();
    v.required("tags", req.tags.as_ref());
    v.list_length("tags", req.tags.as_ref().map(Vec::len), 0, 1000);
    let (t, id) = target(ctx, &req, &mut v)?;
    let tags = tags_to_pairs(req.tags.as_deref().unwrap_or_default());
    check_tags(&tags, "tags").map_err(|e| match e {
        TagError::Validation(m) => ApiError::validation(m),
        TagError::Reserved(m) => ApiError::new("InvalidParameters", m),
    })?;
    let keys: Vec<&str> = tags.iter().map(|(k, _)| k.as_str()).collect();
    let new_controller = tags
        .iter()
        .find(|(k, _)| k == bosun_core::power::TAG_WAKE_VIA)
        .map(|(_, v)| v.as_str());
    authorize_power_controllers(ctx, "ssm:AddTagsToResource", &t, &id, &keys, new_controller)?;
    if !ctx
        .state
        .store
        .add_tags(&ctx.region, &t, &id, &tags, MAX_TAGS_PER_RESOURCE)?
    {
        return Err(ApiError::new(
            "TooManyTagsError",
            format!("The resource {id} would have more than {MAX_TAGS_PER_RESOURCE} tags."),
        ));
    }
    node_tags_changed(ctx, &t);
    reply(&serde_json::json!({}))
}

pub fn remove_tags_from_resource(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: TagRequest = parse(body)?;
    let mut v = Validation::new();
    v.required("tagKeys", req.tag_keys.as_ref());
    let (t, id) = target(ctx, &req, &mut v)?;
    let keys: Vec<&str> = req.tag_keys.iter().flatten().map(String::as_str).collect();
    authorize_power_controllers(ctx, "ssm:RemoveTagsFromResource", &t, &id, &keys, None)?;
    ctx.state.store.remove_tags(
        &ctx.region,
        &t,
        &id,
        req.tag_keys.as_deref().unwrap_or_default(),
    )?;
    node_tags_changed(ctx, &t);
    reply(&serde_json::json!({}))
}

pub fn list_tags_for_resource(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: TagRequest = parse(body)?;
    let mut v = Validation::new();
    let (t, id) = target(ctx, &req, &mut v)?;
    let tags = ctx.state.store.tags(&ctx.region, &t, &id)?;
    reply(&serde_json::json!({ "TagList": pairs_to_tags(&tags) }))
}
