//! `RegisterTargetWithMaintenanceWindow`, `UpdateMaintenanceWindowTarget` (with `Replace`),
//! `DeregisterTargetFromMaintenanceWindow` (with `Safe`), `DescribeMaintenanceWindowTargets`.

use bosun_core::ids;
use bosun_core::resource_groups::NODE_TYPES;
use bosun_store::{Changed, Registered, StoreError, WindowTargetRecord};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::filters::{check_filters, matches, page, Filter};
use super::windows::window;
use super::{
    limit_exceeded, put_str, request_hash, targets_json, targets_value, token_mismatch,
    MAX_TARGETS_PER_WINDOW,
};
use crate::api::error::ApiError;
use crate::api::send_command::Target;
use crate::api::{parse, Ctx};
use crate::state::random_bytes;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TargetInput {
    window_id: Option<String>,
    window_target_id: Option<String>,
    resource_type: Option<String>,
    targets: Option<Vec<Target>>,
    owner_information: Option<String>,
    name: Option<String>,
    description: Option<String>,
    client_token: Option<String>,
    replace: Option<bool>,
    safe: Option<bool>,
}

fn invalid(message: String) -> ApiError {
    ApiError::validation(message)
}

/// A window target's `Targets`: nodes (`InstanceIds`, `tag:<key>`, `tag-key`) for `INSTANCE`,
/// one resource group (`resource-groups:Name`, optionally narrowed to node types by
/// `resource-groups:ResourceTypeFilters`) for `RESOURCE_GROUP`.
fn check_targets(resource_type: &str, targets: &[Target]) -> Result<(), ApiError> {
    if targets.is_empty() {
        return Err(invalid(
            "Targets must name at least one target (InstanceIds, tag:<key>, tag-key or \
             resource-groups:Name)."
                .into(),
        ));
    }
    let mut groups = 0;
    for t in targets {
        let key = t.key.as_deref().unwrap_or_default();
        let values = t.values.as_deref().unwrap_or_default();
        if values.is_empty() {
            return Err(invalid(format!("The target {key} has no values.")));
        }
        let node_key = key == "InstanceIds"
            || key == "tag-key"
            || key.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
        match (resource_type, key) {
            ("INSTANCE", _) if node_key => {
                if key == "InstanceIds" {
                    if let Some(bad) = values.iter().find(|id| !ids::is_instance_id(id)) {
                        return Err(invalid(format!(
                            "{bad} is not a managed node id (mi-… or i-…)."
                        )));
                    }
                }
            }
            ("RESOURCE_GROUP", "resource-groups:Name") => {
                groups += 1;
                if values.len() != 1 {
                    return Err(invalid(
                        "A resource-groups:Name target names exactly one resource group.".into(),
                    ));
                }
            }
            ("RESOURCE_GROUP", "resource-groups:ResourceTypeFilters") => {
                if let Some(bad) = values.iter().find(|v| !NODE_TYPES.contains(&v.as_str())) {
                    return Err(invalid(format!(
                        "Resource type {bad} cannot be a maintenance window target on this Bosun \
                         server: it runs tasks on managed nodes only ({}).",
                        NODE_TYPES.join(", ")
                    )));
                }
            }
            _ => {
                return Err(invalid(format!(
                    "The target key {key} is not valid for ResourceType {resource_type}: use \
                     InstanceIds, tag:<key> or tag-key with INSTANCE, and resource-groups:Name \
                     (with resource-groups:ResourceTypeFilters) with RESOURCE_GROUP."
                )))
            }
        }
    }
    if resource_type == "RESOURCE_GROUP" && groups != 1 {
        return Err(invalid(
            "A RESOURCE_GROUP target needs one resource-groups:Name entry.".into(),
        ));
    }
    Ok(())
}

/// The nodes a request names outright.
fn named_nodes(targets: &[Target]) -> impl Iterator<Item = &str> {
    targets
        .iter()
        .filter(|t| t.key.as_deref() == Some("InstanceIds"))
        .flat_map(|t| t.values.iter().flatten())
        .map(String::as_str)
}

pub fn register_target_with_maintenance_window(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let hash = request_hash(&body);
    let req: TargetInput = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let resource_type = req.resource_type.unwrap_or_default();
    let targets = req.targets.unwrap_or_default();
    check_targets(&resource_type, &targets)?;
    ctx.authorize_nodes(
        "ssm:RegisterTargetWithMaintenanceWindow",
        named_nodes(&targets),
    )?;
    let t = WindowTargetRecord {
        region: ctx.region.clone(),
        window_id: w.window_id.clone(),
        window_target_id: ids::uuid_v4(random_bytes()),
        resource_type,
        targets_json: targets_json(&targets),
        owner_information: req.owner_information.unwrap_or_default(),
        name: req.name.unwrap_or_default(),
        description: req.description.unwrap_or_default(),
        client_token: req.client_token.unwrap_or_default(),
        request_hash: hash,
        created_ms: ctx.now_ms,
    };
    match ctx.state.store.register_target(&t, MAX_TARGETS_PER_WINDOW) {
        Ok(Registered::Created) => Ok(json!({ "WindowTargetId": t.window_target_id })),
        Ok(Registered::Replayed(id)) => Ok(json!({ "WindowTargetId": id })),
        Ok(Registered::TokenMismatch) => Err(token_mismatch()),
        Ok(Registered::NoSuchWindow) => Err(super::no_such_window(&t.window_id)),
        Ok(other) => Err(ApiError::internal(format!(
            "target registration: {other:?}"
        ))),
        Err(StoreError::LimitExceeded(_)) => {
            Err(limit_exceeded("targets of a maintenance window (100)"))
        }
        Err(e) => Err(e.into()),
    }
}

fn no_such_target(window_id: &str, target_id: &str) -> ApiError {
    ApiError::new(
        "DoesNotExistException",
        format!("Maintenance window target {target_id} does not exist in window {window_id}"),
    )
}

fn shape(t: &WindowTargetRecord, with_type: bool) -> Value {
    let mut out = Map::new();
    out.insert("WindowId".into(), json!(t.window_id));
    out.insert("WindowTargetId".into(), json!(t.window_target_id));
    if with_type {
        out.insert("ResourceType".into(), json!(t.resource_type));
    }
    out.insert("Targets".into(), targets_value(&t.targets_json));
    put_str(&mut out, "OwnerInformation", &t.owner_information);
    put_str(&mut out, "Name", &t.name);
    put_str(&mut out, "Description", &t.description);
    Value::Object(out)
}

pub fn update_maintenance_window_target(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: TargetInput = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let target_id = req.window_target_id.unwrap_or_default();
    let mut t = ctx
        .state
        .store
        .list_targets(&ctx.region, &w.window_id)?
        .into_iter()
        .find(|t| t.window_target_id == target_id)
        .ok_or_else(|| no_such_target(&w.window_id, &target_id))?;
    if req.replace == Some(true) {
        if req.targets.is_none() {
            return Err(invalid(
                "With Replace set to true, Targets must be given (RegisterTargetWithMaintenanceWindow \
                 requires it)."
                    .into(),
            ));
        }
        t.owner_information.clear();
        t.name.clear();
        t.description.clear();
    }
    if let Some(targets) = &req.targets {
        check_targets(&t.resource_type, targets)?;
        ctx.authorize_nodes("ssm:UpdateMaintenanceWindowTarget", named_nodes(targets))?;
        t.targets_json = targets_json(targets);
    }
    for (slot, value) in [
        (&mut t.owner_information, req.owner_information),
        (&mut t.name, req.name),
        (&mut t.description, req.description),
    ] {
        if let Some(v) = value {
            *slot = v;
        }
    }
    match ctx.state.store.update_target(&t)? {
        Changed::Done => Ok(shape(&t, false)),
        _ => Err(no_such_target(&w.window_id, &target_id)),
    }
}

pub fn deregister_target_from_maintenance_window(
    ctx: &Ctx,
    body: Value,
) -> Result<Value, ApiError> {
    let req: TargetInput = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let target_id = req.window_target_id.unwrap_or_default();
    match ctx.state.store.deregister_target(
        &ctx.region,
        &w.window_id,
        &target_id,
        req.safe == Some(true),
    )? {
        Changed::Done => Ok(json!({ "WindowId": w.window_id, "WindowTargetId": target_id })),
        Changed::InUse(tasks) => Err(ApiError::new(
            "TargetInUseException",
            format!(
                "The target {target_id} is still referenced by the tasks {} of window {}; \
                 deregister or update them first, or deregister without Safe.",
                tasks.join(", "),
                w.window_id
            ),
        )),
        _ => Err(no_such_target(&w.window_id, &target_id)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeRequest {
    window_id: Option<String>,
    filters: Option<Vec<Filter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub fn describe_maintenance_window_targets(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DescribeRequest = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let filters = req.filters.unwrap_or_default();
    check_filters(&filters, &["Type", "WindowTargetId", "OwnerInformation"])?;
    let targets: Vec<WindowTargetRecord> = ctx
        .state
        .store
        .list_targets(&ctx.region, &w.window_id)?
        .into_iter()
        .filter(|t| {
            matches(&filters, |key| match key {
                "Type" => t.resource_type.clone(),
                "WindowTargetId" => t.window_target_id.clone(),
                _ => t.owner_information.clone(),
            })
        })
        .collect();
    let (items, next) = page(targets, &req.next_token, req.max_results, |t| {
        t.window_target_id.as_str()
    })?;
    let mut out = json!({ "Targets": items.iter().map(|t| shape(t, true)).collect::<Vec<_>>() });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
