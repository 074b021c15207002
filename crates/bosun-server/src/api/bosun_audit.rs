//! Bosun's audit trail over the API (`X-Amz-Target: BosunAudit.ListAuditRecords`, signing name
//! `ssm`, IAM action `bosun:ListAuditRecords` on `arn:aws:ssm:<region>:<account>:audit-trail`),
//! for the console's audit view: the hash-chained records every mutating call and every denial
//! writes, newest first, paged back by `BeforeSeq`, optionally only one principal's, actions
//! starting with a prefix, or one outcome. AWS's equivalent is CloudTrail, which Bosun does not
//! serve. `bosun admin verify-audit` still checks the chain on the store.

use axum::http::HeaderMap;
use bosun_core::arn::Scope;
use serde_json::{json, Value};

use super::error::ApiError;
use super::ops::Operation;
use super::pipeline::{decode_named, Protocol, Surface};
use super::Ctx;

/// The `X-Amz-Target` prefix of these calls.
pub const TARGET_PREFIX: &str = "BosunAudit.";

/// The audit trail in the admission pipeline.
pub static SURFACE: Surface = Surface {
    signing_name: "ssm",
    action_prefix: "bosun",
    signs_target: true,
    resource_arn: |scope: &Scope, _, _| scope.ssm_arn("audit-trail"),
    authorized_by_handler: |_| false,
    answers_in_change: |_| false,
    runs_inline: |_, _| false,
    check: |_, _, _| Ok(()),
    protocol: Protocol::Json,
};

pub const OPERATIONS: &[Operation] = &[Operation {
    name: "ListAuditRecords",
    mutating: false,
    handler: list_audit_records,
}];

const PAGE: usize = 500;
const PAGES_PER_CALL: usize = 10;
const MAX_RESULTS: i64 = 200;
const DEFAULT_RESULTS: i64 = 50;

/// Find the operation a request names and parse its JSON body.
pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<(&'static Operation, Value), ApiError> {
    decode_named(OPERATIONS, TARGET_PREFIX, headers, body)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", message)
}

fn text_filter<'a>(input: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{key} must be a non-empty string."))),
    }
}

fn list_audit_records(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let max = match input.get("MaxResults") {
        None | Some(Value::Null) => DEFAULT_RESULTS,
        Some(v) => v.as_i64().unwrap_or(0),
    };
    if !(1..=MAX_RESULTS).contains(&max) {
        return Err(invalid(format!(
            "MaxResults must be between 1 and {MAX_RESULTS}."
        )));
    }
    let mut before = match input.get("BeforeSeq") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("BeforeSeq must be a record's sequence number."))?,
        ),
    };
    let principal = text_filter(&input, "Principal")?;
    let action = text_filter(&input, "ActionPrefix")?;
    let outcome = text_filter(&input, "OutcomePrefix")?;
    let wanted = |r: &bosun_store::AuditRecord| {
        principal.is_none_or(|p| r.principal == p)
            && action.is_none_or(|a| r.action.starts_with(a))
            && outcome.is_none_or(|o| r.outcome.starts_with(o))
    };
    let mut found = Vec::new();
    let mut more = false;
    for _ in 0..PAGES_PER_CALL {
        let page = ctx.state.store.audit_records_before(before, PAGE)?;
        let full = page.len() == PAGE;
        for (seq, r) in page {
            before = Some(seq);
            if wanted(&r) {
                found.push(json!({
                    "Seq": seq,
                    "Time": r.time_ms as f64 / 1000.0,
                    "Principal": r.principal,
                    "Action": r.action,
                    "Region": r.region,
                    "Resource": r.resource,
                    "RequestId": r.request_id,
                    "Source": r.source,
                    "Outcome": r.outcome,
                    "Detail": r.detail,
                }));
                if found.len() == max as usize {
                    break;
                }
            }
        }
        more = full || found.len() == max as usize;
        if !full || found.len() == max as usize {
            break;
        }
    }
    let mut out = json!({ "Records": found });
    if more && before.is_some_and(|b| b > 1) {
        out["NextBeforeSeq"] = json!(before);
    }
    Ok(out)
}
