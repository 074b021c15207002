//! `PutEvents`: custom events on the default bus. Each entry is checked as AWS checks it
//! (`bosun_core::events::custom`); a refused entry gets its `ErrorCode`/`ErrorMessage` in
//! place and counts in `FailedEntryCount`, the others get an `EventId`. The accepted entries'
//! events, the call's audit record and its answer for retries commit in one transaction, so an
//! SDK retry (same invocation id) gets the first answer and writes nothing.

use bosun_core::events::custom::{self, CustomEntry};
use bosun_core::events::envelope::Origin;
use bosun_core::events::rules as ev;
use bosun_store::new_event_id;
use serde_json::{json, Value};

use super::input::{self, Checks};
use crate::api::error::ApiError;
use crate::api::Ctx;

/// Members of an entry Bosun cannot honour: refused rather than dropped.
const UNSUPPORTED_ENTRY_MEMBERS: &[(&str, &str)] = &[(
    "TraceHeader",
    "TraceHeader is not supported by this Bosun server: it has no X-Ray tracing.",
)];

pub fn put_events(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    if input.get("EndpointId").is_some_and(|v| !v.is_null()) {
        return Err(ApiError::validation(
            "EndpointId is not supported by this Bosun server: it has no global endpoints.",
        ));
    }
    let Some(items) = input.get("Entries").filter(|v| !v.is_null()) else {
        return Err(ApiError::validation(
            "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
        ));
    };
    let items = items
        .as_array()
        .ok_or_else(|| ApiError::serialization("Entries must be a list"))?;
    let mut checks = Checks::new();
    checks.list_length("Entries", items.len(), 1, custom::MAX_ENTRIES);
    checks.finish()?;
    let entries = items
        .iter()
        .map(parse_entry)
        .collect::<Result<Vec<_>, _>>()?;
    let size: usize = entries.iter().map(|(e, _)| custom::entry_size(e)).sum();
    if size > custom::MAX_ENTRIES_SIZE {
        return Err(ApiError::validation(custom::OVER_SIZE_MESSAGE));
    }
    let account = ctx.state.config.account_id.clone();
    let mut results = Vec::with_capacity(entries.len());
    let mut events = Vec::new();
    for (entry, bus) in &entries {
        let checked = ev::check_bus(bus.as_deref(), &ctx.region, &account)
            .map_err(|e| custom::EntryRefusal {
                code: "ResourceNotFoundException",
                message: e.to_string(),
            })
            .and_then(|()| custom::check_entry(entry));
        match checked {
            Ok(detail) => {
                let id = new_event_id();
                let origin = Origin {
                    account: &account,
                    region: &ctx.region,
                    id: &id,
                    now_ms: ctx.now_ms,
                };
                events.push(custom::custom_event(origin, entry, detail));
                results.push(json!({ "EventId": id }));
            }
            Err(refusal) => results.push(json!({
                "ErrorCode": refusal.code,
                "ErrorMessage": refusal.message,
            })),
        }
    }
    let failed = entries.len() - events.len();
    let answer = json!({ "FailedEntryCount": failed, "Entries": results });
    ctx.record_in_change(&answer, |records| {
        ctx.state
            .store
            .append_events_recorded(&events, ctx.now_ms, records)
    })?;
    Ok(answer)
}

/// One request entry and its `EventBusName`; a member of the wrong JSON type is a
/// serialization error, as AWS's JSON protocol answers it.
fn parse_entry(item: &Value) -> Result<(CustomEntry, Option<String>), ApiError> {
    if !item.is_object() {
        return Err(ApiError::serialization("Entries members must be objects"));
    }
    for (member, message) in UNSUPPORTED_ENTRY_MEMBERS {
        if item.get(*member).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::validation(*message));
        }
    }
    let text = |member| input::text(item, member).map(|v| v.map(str::to_string));
    let time_ms = match item.get("Time") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64().map(|secs| (secs * 1000.0).round() as i64),
        Some(_) => {
            return Err(ApiError::serialization(
                "Time must be a timestamp in epoch seconds",
            ))
        }
    };
    let resources = match item.get("Resources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|r| {
                r.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::serialization("Resources members must be strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(ApiError::serialization("Resources must be a list")),
    };
    let entry = CustomEntry {
        time_ms,
        source: text("Source")?,
        detail_type: text("DetailType")?,
        detail: text("Detail")?,
        resources,
    };
    Ok((entry, text("EventBusName")?))
}
