//! `DescribeSessions`: active sessions or the history, with AWS's filters and paging (newest
//! first).

use bosun_core::paging::{decode_token, encode_token};
use bosun_store::{SessionQuery, SessionRecord};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::api::wire::epoch_seconds;
use crate::api::{parse, Ctx};

const DEFAULT_MAX_RESULTS: usize = 20;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    state: String,
    max_results: Option<usize>,
    next_token: Option<String>,
    filters: Option<Vec<Filter>>,
}

#[derive(Deserialize)]
struct Filter {
    key: String,
    value: String,
}

fn date_ms(value: &str) -> Result<i64, ApiError> {
    value
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| {
            ApiError::validation(format!(
                "The filter value {value} is not a date such as 2018-08-29T00:00:00Z."
            ))
        })
}

/// One session as AWS's `Session` shape.
pub fn session_json(s: &SessionRecord) -> Value {
    let mut out = json!({
        "SessionId": s.session_id,
        "Target": s.target,
        "Status": s.status,
        "StartDate": epoch_seconds(s.start_ms),
        "DocumentName": s.document_name,
        "Owner": s.owner,
        "AccessType": "Standard",
    });
    if let Some(end) = s.end_ms {
        out["EndDate"] = json!(epoch_seconds(end));
    }
    if !s.reason.is_empty() {
        out["Reason"] = json!(s.reason);
    }
    if !s.details.is_empty() {
        out["Details"] = json!(s.details);
    }
    if !s.output_url.is_empty() {
        out["OutputUrl"] = json!({"S3OutputUrl": s.output_url});
    }
    if let Some(max) = s.max_duration_s {
        // Whole minutes, as AWS reports it (a Bosun seconds limit rounds up).
        out["MaxSessionDuration"] = json!(((max + 59) / 60).to_string());
    }
    out
}

pub fn describe_sessions(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let active = match req.state.as_str() {
        "Active" => true,
        "History" => false,
        other => {
            return Err(ApiError::validation(format!(
                "State {other} is not one of Active, History."
            )))
        }
    };
    let limit = req.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
    let mut q = SessionQuery {
        region: ctx.region.clone(),
        active,
        limit: limit + 1,
        ..SessionQuery::default()
    };
    for f in req.filters.unwrap_or_default() {
        match f.key.as_str() {
            "InvokedAfter" => q.started_from_ms = Some(date_ms(&f.value)?),
            "InvokedBefore" => q.started_until_ms = Some(date_ms(&f.value)?),
            "Target" => q.target = Some(f.value),
            "Owner" => q.owner = Some(f.value),
            "Status" => q.status = Some(f.value),
            "SessionId" => q.session_id = Some(f.value),
            // Every Bosun session is a Standard one.
            "AccessType" if f.value == "Standard" => {}
            "AccessType" => q.session_id = Some(String::new()),
            other => {
                return Err(ApiError::new(
                    "InvalidFilterKey",
                    format!("The filter key {other} is not valid."),
                ))
            }
        }
    }
    if let Some(token) = &req.next_token {
        let bad = || ApiError::new("InvalidNextToken", "The specified token is not valid.");
        let cursor = decode_token(token).ok_or_else(bad)?;
        let (ms, id) = cursor.split_once(':').ok_or_else(bad)?;
        q.after = Some((ms.parse().map_err(|_| bad())?, id.to_string()));
    }
    let mut sessions = ctx.state.store.list_sessions(&q)?;
    let next = if sessions.len() > limit {
        sessions.truncate(limit);
        sessions
            .last()
            .map(|s| encode_token(&format!("{}:{}", s.start_ms, s.session_id)))
    } else {
        None
    };
    let mut out = json!({ "Sessions": sessions.iter().map(session_json).collect::<Vec<_>>() });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
