//! `ListInventoryEntries` for `AWS:Application`: the Distributor packages a node reports
//! installed by `aws:configurePackage` (with its host facts, refreshed on every heartbeat), so
//! the fleet's package versions are visible. Bosun gathers no other software inventory, so
//! that is all a node's `AWS:Application` holds; other inventory types and `Filters` are
//! refused by name.

use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::{parse, Ctx};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    instance_id: Option<String>,
    type_name: Option<String>,
    #[serde(default)]
    filters: Vec<Value>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

pub fn list_inventory_entries(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let id = req.instance_id.unwrap_or_default();
    let type_name = req.type_name.unwrap_or_default();
    if type_name != "AWS:Application" {
        return Err(ApiError::new(
            "InvalidTypeNameException",
            format!(
                "TypeName {type_name}: this Bosun server keeps only AWS:Application inventory \
                 (the Distributor packages its agents installed)."
            ),
        ));
    }
    if !req.filters.is_empty() {
        return Err(ApiError::new(
            "InvalidFilter",
            "Filters: this Bosun server does not filter inventory entries yet.",
        ));
    }
    let node = ctx
        .state
        .store
        .get_instance(&id)?
        .filter(|n| n.region == ctx.region && !n.deregistered)
        .ok_or_else(|| {
            ApiError::new(
                "InvalidInstanceId",
                format!("Instances [[{id}]] not in a valid state for account"),
            )
        })?;
    let start = match req.next_token.as_deref() {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= node.info.packages.len())
            .ok_or_else(|| ApiError::new("InvalidNextToken", "The specified token isn't valid."))?,
    };
    let max = req.max_results.unwrap_or(50).clamp(1, 50);
    let entries: Vec<Value> = node
        .info
        .packages
        .iter()
        .skip(start)
        .take(max)
        .map(|p| json!({"Name": p.name, "Version": p.version}))
        .collect();
    let capture = jiff::Timestamp::from_millisecond(node.last_ping_ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let mut out = json!({
        "TypeName": type_name,
        "InstanceId": node.instance_id,
        "SchemaVersion": "1.1",
        "CaptureTime": capture,
        "Entries": entries,
    });
    if start + max < node.info.packages.len() {
        out["NextToken"] = json!((start + max).to_string());
    }
    Ok(out)
}
