//! `CreateMaintenanceWindow`, `UpdateMaintenanceWindow` (with `Replace`), `GetMaintenanceWindow`,
//! `DeleteMaintenanceWindow`, `DescribeMaintenanceWindows`.

use bosun_core::ids;
use bosun_core::maintenance_window::input::{check_timing, WindowTiming};
use bosun_core::tags::{check_tags, TagError};
use bosun_store::{Registered, StoreError, WindowRecord};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::filters::{check_filters, matches, page, Filter};
use super::schedule::next_execution;
use super::{limit_exceeded, no_such_window, put_str, request_hash, seconds, token_mismatch};
use super::{WindowRef, MAX_WINDOWS};
use crate::api::error::ApiError;
use crate::api::wire::{tags_to_pairs, Tag};
use crate::api::{parse, Ctx};
use crate::state::random_bytes;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WindowInput {
    window_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    schedule: Option<String>,
    schedule_timezone: Option<String>,
    schedule_offset: Option<i64>,
    duration: Option<i64>,
    cutoff: Option<i64>,
    allow_unassociated_targets: Option<bool>,
    enabled: Option<bool>,
    replace: Option<bool>,
    client_token: Option<String>,
    tags: Option<Vec<Tag>>,
}

/// The timing rules of a window as it would be stored.
fn check(w: &WindowRecord) -> Result<(), ApiError> {
    check_timing(&timing(w)).map_err(ApiError::validation)?;
    Ok(())
}

pub(super) fn timing(w: &WindowRecord) -> WindowTiming {
    WindowTiming {
        schedule: w.schedule.clone(),
        timezone: w.schedule_timezone.clone(),
        offset_days: w.schedule_offset,
        start_date: w.start_date.clone(),
        end_date: w.end_date.clone(),
        duration_hours: w.duration_hours,
        cutoff_hours: w.cutoff_hours,
    }
}

pub fn create_maintenance_window(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let hash = request_hash(&body);
    let req: WindowInput = parse(body)?;
    let w = WindowRecord {
        region: ctx.region.clone(),
        window_id: ids::maintenance_window_id(random_bytes()),
        name: req.name.unwrap_or_default(),
        description: req.description.unwrap_or_default(),
        schedule: req.schedule.unwrap_or_default(),
        schedule_timezone: req.schedule_timezone.unwrap_or_default(),
        schedule_offset: req.schedule_offset.unwrap_or(0),
        start_date: req.start_date.unwrap_or_default(),
        end_date: req.end_date.unwrap_or_default(),
        duration_hours: req.duration.unwrap_or_default(),
        cutoff_hours: req.cutoff.unwrap_or_default(),
        allow_unassociated_targets: req.allow_unassociated_targets.unwrap_or(false),
        enabled: true,
        client_token: req.client_token.unwrap_or_default(),
        request_hash: hash,
        created_ms: ctx.now_ms,
        modified_ms: ctx.now_ms,
    };
    check(&w)?;
    let tags = tags_to_pairs(req.tags.as_deref().unwrap_or_default());
    check_tags(&tags, "tags").map_err(|e| match e {
        TagError::Validation(m) => ApiError::validation(m),
        TagError::Reserved(m) => ApiError::validation(m),
    })?;
    match ctx.state.store.create_window(&w, &tags, MAX_WINDOWS) {
        Ok(Registered::Created) => {
            ctx.state.windows.kick();
            Ok(json!({ "WindowId": w.window_id }))
        }
        Ok(Registered::Replayed(id)) => Ok(json!({ "WindowId": id })),
        Ok(Registered::TokenMismatch) => Err(token_mismatch()),
        Ok(other) => Err(ApiError::internal(format!("window creation: {other:?}"))),
        Err(StoreError::LimitExceeded(_)) => Err(limit_exceeded("maintenance windows")),
        Err(e) => Err(e.into()),
    }
}

/// The window a request names.
pub(super) fn window(ctx: &Ctx, id: Option<&str>) -> Result<WindowRecord, ApiError> {
    let id = id.unwrap_or_default();
    ctx.state
        .store
        .get_window(&ctx.region, id)?
        .ok_or_else(|| no_such_window(id))
}

/// The members every window answer shares (`UpdateMaintenanceWindow`'s result).
fn common(w: &WindowRecord) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("WindowId".into(), json!(w.window_id));
    out.insert("Name".into(), json!(w.name));
    put_str(&mut out, "Description", &w.description);
    put_str(&mut out, "StartDate", &w.start_date);
    put_str(&mut out, "EndDate", &w.end_date);
    out.insert("Schedule".into(), json!(w.schedule));
    put_str(&mut out, "ScheduleTimezone", &w.schedule_timezone);
    if w.schedule_offset != 0 {
        out.insert("ScheduleOffset".into(), json!(w.schedule_offset));
    }
    out.insert("Duration".into(), json!(w.duration_hours));
    out.insert("Cutoff".into(), json!(w.cutoff_hours));
    out.insert(
        "AllowUnassociatedTargets".into(),
        json!(w.allow_unassociated_targets),
    );
    out.insert("Enabled".into(), json!(w.enabled));
    out
}

pub fn get_maintenance_window(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: WindowRef = parse(body)?;
    let w = window(ctx, req.window_id.as_deref())?;
    let mut out = common(&w);
    if let Some(next) = next_execution(&w, ctx.now_ms) {
        out.insert("NextExecutionTime".into(), json!(next));
    }
    out.insert("CreatedDate".into(), json!(seconds(w.created_ms)));
    out.insert("ModifiedDate".into(), json!(seconds(w.modified_ms)));
    Ok(Value::Object(out))
}

pub fn update_maintenance_window(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: WindowInput = parse(body)?;
    let mut w = window(ctx, req.window_id.as_deref())?;
    if req.replace == Some(true) {
        // Every member CreateMaintenanceWindow requires is required; the others not given
        // are cleared.
        let missing: Vec<&str> = [
            ("Name", req.name.is_none()),
            ("Schedule", req.schedule.is_none()),
            ("Duration", req.duration.is_none()),
            ("Cutoff", req.cutoff.is_none()),
            (
                "AllowUnassociatedTargets",
                req.allow_unassociated_targets.is_none(),
            ),
        ]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
        if !missing.is_empty() {
            return Err(ApiError::validation(format!(
                "With Replace set to true, every member CreateMaintenanceWindow requires must be \
                 given; missing: {}",
                missing.join(", ")
            )));
        }
        w.description.clear();
        w.start_date.clear();
        w.end_date.clear();
        w.schedule_timezone.clear();
        w.schedule_offset = 0;
    }
    let set = |slot: &mut String, value: Option<String>| {
        if let Some(v) = value {
            *slot = v;
        }
    };
    set(&mut w.name, req.name);
    set(&mut w.description, req.description);
    set(&mut w.start_date, req.start_date);
    set(&mut w.end_date, req.end_date);
    set(&mut w.schedule, req.schedule);
    set(&mut w.schedule_timezone, req.schedule_timezone);
    if let Some(o) = req.schedule_offset {
        w.schedule_offset = o;
    }
    if let Some(d) = req.duration {
        w.duration_hours = d;
    }
    if let Some(c) = req.cutoff {
        w.cutoff_hours = c;
    }
    if let Some(a) = req.allow_unassociated_targets {
        w.allow_unassociated_targets = a;
    }
    if let Some(e) = req.enabled {
        w.enabled = e;
    }
    check(&w)?;
    w.modified_ms = ctx.now_ms;
    if !ctx.state.store.update_window(&w)? {
        return Err(no_such_window(&w.window_id));
    }
    ctx.state.windows.kick();
    Ok(Value::Object(common(&w)))
}

pub fn delete_maintenance_window(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: WindowRef = parse(body)?;
    let id = req.window_id.unwrap_or_default();
    // AWS models no error for a window that does not exist: the answer names it either way.
    ctx.state.store.delete_window(&ctx.region, &id)?;
    Ok(json!({ "WindowId": id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeRequest {
    filters: Option<Vec<Filter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub fn describe_maintenance_windows(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DescribeRequest = parse(body)?;
    let filters = req.filters.unwrap_or_default();
    check_filters(&filters, &["Name", "Enabled"])?;
    let windows: Vec<WindowRecord> = ctx
        .state
        .store
        .list_windows(&ctx.region)?
        .into_iter()
        .filter(|w| {
            matches(&filters, |key| match key {
                "Name" => w.name.clone(),
                _ => if w.enabled { "true" } else { "false" }.into(),
            })
        })
        .collect();
    let (items, next) = page(windows, &req.next_token, req.max_results, |w| {
        w.window_id.as_str()
    })?;
    let identities: Vec<Value> = items
        .iter()
        .map(|w| {
            let mut out = common(w);
            out.remove("AllowUnassociatedTargets");
            if let Some(next) = next_execution(w, ctx.now_ms) {
                out.insert("NextExecutionTime".into(), json!(next));
            }
            Value::Object(out)
        })
        .collect();
    let mut out = json!({ "WindowIdentities": identities });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
