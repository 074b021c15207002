//! When windows run: `NextExecutionTime`, `DescribeMaintenanceWindowSchedule` (a window's, or
//! those of the windows a target belongs to), and `DescribeMaintenanceWindowsForTarget`.

use bosun_core::maintenance_window::input::check_timing;
use bosun_core::maintenance_window::upcoming::{fire_times, render};
use bosun_core::paging;
use bosun_store::{WindowRecord, WindowTargetRecord};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};

use super::windows::{timing, window};
use crate::api::documents::decode;
use crate::api::error::ApiError;
use crate::api::send_command::{nodes_matching, Target};
use crate::api::{parse, Ctx};

/// A window's next run after `now_ms` as AWS writes it; `None` when disabled or never again.
pub(super) fn next_execution(w: &WindowRecord, now_ms: i64) -> Option<String> {
    upcoming(w, now_ms, 1).first().map(|(_, text)| text.clone())
}

/// Up to `limit` runs of an enabled window strictly after `after_ms`, as (ms, text).
pub(crate) fn upcoming(w: &WindowRecord, after_ms: i64, limit: usize) -> Vec<(i64, String)> {
    if !w.enabled {
        return Vec::new();
    }
    let Ok(checked) = check_timing(&timing(w)) else {
        return Vec::new();
    };
    let (Ok(anchor), Ok(after)) = (
        Timestamp::from_millisecond(w.modified_ms),
        Timestamp::from_millisecond(after_ms),
    ) else {
        return Vec::new();
    };
    fire_times(&checked, anchor, after, limit)
        .into_iter()
        .map(|t| (t.as_millisecond(), render(&checked, t)))
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduleRequest {
    window_id: Option<String>,
    targets: Option<Vec<Target>>,
    resource_type: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// A schedule entry's paging key: the time (zero-padded, so text order is time order), then
/// the window.
fn key(ms: i64, window_id: &str) -> String {
    format!("{ms:020}|{window_id}")
}

pub fn describe_maintenance_window_schedule(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ScheduleRequest = parse(body)?;
    let windows = match (&req.window_id, &req.targets) {
        (Some(id), None) => vec![window(ctx, Some(id))?],
        (None, Some(targets)) if !targets.is_empty() => {
            let resource_type = req
                .resource_type
                .as_deref()
                .ok_or_else(|| ApiError::validation("ResourceType is required with Targets."))?;
            windows_for(ctx, targets, resource_type)?
        }
        _ => {
            return Err(ApiError::validation(
                "Give either WindowId or Targets (with ResourceType), not both.",
            ))
        }
    };
    let max = req.max_results.unwrap_or(50).clamp(1, 1000) as usize;
    let after = decode(&req.next_token)?;
    // Times at or after the cursor's time (ties are cut by the window id below).
    let from_ms = after
        .as_deref()
        .and_then(|k| k.split('|').next())
        .and_then(|ms| ms.parse::<i64>().ok())
        .map_or(ctx.now_ms, |ms| ms - 1);
    let mut entries: Vec<(String, Value)> = windows
        .iter()
        .flat_map(|w| {
            // A window has at most one run at the cursor's time, so max + 2 from there leaves
            // max + 1 after it: enough to fill the page and tell whether another follows.
            upcoming(w, from_ms, max + 2).into_iter().map(|(ms, text)| {
                (
                    key(ms, &w.window_id),
                    json!({"WindowId": w.window_id, "Name": w.name, "ExecutionTime": text}),
                )
            })
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let page = paging::page_after(entries, after.as_deref(), max, |(k, _)| k.as_str());
    let mut out = json!({
        "ScheduledWindowExecutions": page.items.into_iter().map(|(_, v)| v).collect::<Vec<_>>()
    });
    if let Some(t) = page.next_token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

/// The `Targets` stored as JSON.
fn stored_targets(targets_json: &str) -> Vec<Target> {
    serde_json::from_str::<Vec<Value>>(targets_json)
        .unwrap_or_default()
        .iter()
        .map(|t| Target {
            key: t["Key"].as_str().map(str::to_string),
            values: serde_json::from_value(t["Values"].clone()).ok(),
        })
        .collect()
}

/// Whether stored targets name what `query` names: an entry with the same key sharing a value.
fn names(registered: &[Target], query: &[Target]) -> bool {
    query.iter().any(|q| {
        registered.iter().any(|r| {
            r.key == q.key
                && r.values
                    .iter()
                    .flatten()
                    .any(|v| q.values.iter().flatten().any(|x| x == v))
        })
    })
}

/// Whether a registered target selects what `query` names: it names it, or (for an
/// `InstanceIds` query) a node its tags or ids select now is one of those asked for.
fn selects(
    ctx: &Ctx,
    nodes: &[bosun_store::InstanceRecord],
    target: &WindowTargetRecord,
    query: &[Target],
) -> Result<bool, ApiError> {
    let registered = stored_targets(&target.targets_json);
    if names(&registered, query) {
        return Ok(true);
    }
    let asked: Vec<&String> = query
        .iter()
        .filter(|q| q.key.as_deref() == Some("InstanceIds"))
        .flat_map(|q| q.values.iter().flatten())
        .collect();
    if asked.is_empty() || target.resource_type != "INSTANCE" {
        return Ok(false);
    }
    let matched = nodes_matching(ctx, nodes, &registered)?;
    Ok(matched.iter().any(|(id, _)| asked.contains(&id)))
}

/// The windows with a registered target of `resource_type` that selects `query`, by id.
fn windows_for(
    ctx: &Ctx,
    query: &[Target],
    resource_type: &str,
) -> Result<Vec<WindowRecord>, ApiError> {
    let nodes = ctx.state.store.list_instances(&ctx.region)?;
    let mut ids = Vec::new();
    for t in ctx.state.store.list_region_targets(&ctx.region)? {
        if t.resource_type == resource_type
            && !ids.contains(&t.window_id)
            && selects(ctx, &nodes, &t, query)?
        {
            ids.push(t.window_id.clone());
        }
    }
    // Tasks aimed at nodes directly (windows that allow unregistered targets).
    if resource_type == "INSTANCE" {
        for task in ctx.state.store.list_region_tasks(&ctx.region)? {
            if !ids.contains(&task.window_id) && names(&stored_targets(&task.targets_json), query) {
                ids.push(task.window_id);
            }
        }
    }
    let mut windows: Vec<WindowRecord> = ctx
        .state
        .store
        .list_windows(&ctx.region)?
        .into_iter()
        .filter(|w| ids.contains(&w.window_id))
        .collect();
    windows.sort_by(|a, b| a.window_id.cmp(&b.window_id));
    Ok(windows)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ForTargetRequest {
    targets: Option<Vec<Target>>,
    resource_type: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub fn describe_maintenance_windows_for_target(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ForTargetRequest = parse(body)?;
    let windows = windows_for(
        ctx,
        req.targets.as_deref().unwrap_or_default(),
        req.resource_type.as_deref().unwrap_or_default(),
    )?;
    let after = decode(&req.next_token)?;
    let max = req.max_results.unwrap_or(50).max(1) as usize;
    let page = paging::page_after(windows, after.as_deref(), max, |w| w.window_id.as_str());
    let identities: Vec<Value> = page
        .items
        .iter()
        .map(|w| json!({"WindowId": w.window_id, "Name": w.name}))
        .collect();
    let mut out = json!({ "WindowIdentities": identities });
    if let Some(t) = page.next_token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
