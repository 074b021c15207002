//! Custom events sent with EventBridge's `PutEvents`: AWS's per-entry checks (the
//! `ErrorCode`/`ErrorMessage` a refused entry gets in `FailedEntries`), the entry size AWS
//! counts against its 256 KB limit, and the envelope an accepted entry is stored in.
//!
//! Pure: the event id and the receive time are given by the caller.

use serde_json::{json, Map, Value};

use super::envelope::{envelope_time, Event, Origin};

/// The most entries one `PutEvents` call takes.
pub const MAX_ENTRIES: usize = 10;
/// The limit on the request's entries, in bytes as AWS counts them ([`entry_size`]).
pub const MAX_ENTRIES_SIZE: usize = 256 * 1024;
/// AWS's message when the entries are over [`MAX_ENTRIES_SIZE`] (a `ValidationException`).
pub const OVER_SIZE_MESSAGE: &str = "Total size of the entries in the request is over the limit.";

/// One `PutEventsRequestEntry`, as the request gave it (`Time` in epoch milliseconds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomEntry {
    pub time_ms: Option<i64>,
    pub source: Option<String>,
    pub detail_type: Option<String>,
    pub detail: Option<String>,
    pub resources: Vec<String>,
}

/// Why an entry is refused: its result entry's `ErrorCode` and `ErrorMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRefusal {
    pub code: &'static str,
    pub message: String,
}

impl EntryRefusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// An entry's size as AWS documents it ("Calculating PutEvents event entry size"): 14 bytes
/// for a `Time`, plus the UTF-8 bytes of `Source`, `DetailType`, `Detail` and each resource.
pub fn entry_size(entry: &CustomEntry) -> usize {
    let text = |s: &Option<String>| s.as_deref().map_or(0, str::len);
    let time = if entry.time_ms.is_some() { 14 } else { 0 };
    time + text(&entry.source)
        + text(&entry.detail_type)
        + text(&entry.detail)
        + entry.resources.iter().map(String::len).sum::<usize>()
}

/// Whether the entries together are over AWS's limit (the whole call is then refused).
pub fn entries_over_limit(entries: &[CustomEntry]) -> bool {
    entries.iter().map(entry_size).sum::<usize>() > MAX_ENTRIES_SIZE
}

/// Check one entry as AWS does, in its order: `Source`, `DetailType` and `Detail` are required
/// (empty counts as missing), `Detail` must be a JSON object, and sources beginning with `aws.`
/// are reserved for AWS's services. Returns the parsed detail.
pub fn check_entry(entry: &CustomEntry) -> Result<Map<String, Value>, EntryRefusal> {
    for (member, value) in [
        ("Source", &entry.source),
        ("DetailType", &entry.detail_type),
        ("Detail", &entry.detail),
    ] {
        if value.as_deref().is_none_or(str::is_empty) {
            return Err(EntryRefusal::new(
                "InvalidArgument",
                format!(
                    "Parameter {member} is not valid. Reason: {member} is a required argument."
                ),
            ));
        }
    }
    let detail = match serde_json::from_str::<Value>(entry.detail.as_deref().unwrap_or_default()) {
        Ok(Value::Object(map)) => map,
        _ => return Err(EntryRefusal::new("MalformedDetail", "Detail is malformed.")),
    };
    if entry
        .source
        .as_deref()
        .unwrap_or_default()
        .starts_with("aws.")
    {
        return Err(EntryRefusal::new(
            "NotAuthorizedForSourceException",
            "Not authorized for the source.",
        ));
    }
    Ok(detail)
}

/// The envelope of an accepted entry: its own `source`, `detail-type`, `resources` and
/// `detail`, and its `Time` (the receive time `origin.now_ms` when it gave none).
pub fn custom_event(origin: Origin<'_>, entry: &CustomEntry, detail: Map<String, Value>) -> Event {
    let detail_type = entry.detail_type.clone().unwrap_or_default();
    let envelope = json!({
        "version": "0",
        "id": origin.id,
        "detail-type": detail_type,
        "source": entry.source.clone().unwrap_or_default(),
        "account": origin.account,
        "time": envelope_time(entry.time_ms.unwrap_or(origin.now_ms)),
        "region": origin.region,
        "resources": entry.resources,
        "detail": Value::Object(detail),
    });
    Event {
        id: origin.id.to_string(),
        detail_type,
        region: origin.region.to_string(),
        envelope,
    }
}

#[cfg(test)]
#[path = "custom_tests.rs"]
mod tests;
