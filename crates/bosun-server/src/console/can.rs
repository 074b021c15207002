//! `POST /console/can`: what the page may offer. For each `{target, input}` check, the action
//! and resource the pipeline would authorize and the caller's policies' verdict (same evaluator,
//! explicit deny wins). A `GetParameter` with `WithDecryption` on a SecureString also needs
//! `kms:Decrypt` on the key that sealed it, as the handler checks: the verdict covers both, so the
//! page offers "reveal" only when the real call would open the value.

use bosun_core::arn::Scope;
use bosun_core::parameters::name;
use serde_json::{json, Value};

use super::session;
use crate::api::auth::{self, Caller};
use crate::api::error::ApiError;
use crate::api::pipeline::json_object;
use crate::state::{now_ms, AppState};
use axum::http::{HeaderMap, HeaderValue};

/// Most checks one `/console/can` call may ask for.
const MAX_CHECKS: usize = 100;

pub fn checks(state: &AppState, token: &str, region: &str, body: &[u8]) -> Result<Value, ApiError> {
    let caller = session::caller(state, token, region, now_ms())?;
    let input = json_object(body)?;
    let list = input
        .get("checks")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::validation("checks must be a list."))?;
    if list.len() > MAX_CHECKS {
        return Err(ApiError::validation(format!(
            "At most {MAX_CHECKS} checks per call."
        )));
    }
    let scope = Scope::new(region, state.config.account_id.clone());
    let mut results = Vec::with_capacity(list.len());
    for check in list {
        let target = check.get("target").and_then(Value::as_str).unwrap_or("");
        let call_input = check.get("input").cloned().unwrap_or_else(|| json!({}));
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(target) {
            headers.insert("x-amz-target", v);
        }
        let (surface, decode) = super::surface_for(&headers);
        let (op, call_input) = decode(&headers, call_input.to_string().as_bytes())?;
        let action = format!("{}:{}", surface.action_prefix, op.name);
        let resource = (surface.resource_arn)(&scope, op.name, &call_input);
        let mut decision = auth::authorize(state, &caller, &action, &resource);
        let mut also = Vec::new();
        if decision.is_ok() && op.name == "GetParameter" {
            if let Some(key) = decrypt_check(state, &caller, &scope, &call_input)? {
                also.push(json!({"action": "kms:Decrypt", "resource": key.arn,
                                 "allowed": key.verdict.is_ok()}));
                decision = key.verdict;
            }
        }
        results.push(json!({
            "target": target,
            "action": action,
            "resource": resource,
            "also": also,
            "allowed": decision.is_ok(),
            "reason": decision.err().map(|e| e.message),
        }));
    }
    Ok(json!({ "results": results }))
}

/// The `kms:Decrypt` a reveal also needs: on which key, and the caller's verdict.
struct KeyCheck {
    arn: String,
    verdict: Result<(), ApiError>,
}

/// For `GetParameter` `WithDecryption` on a SecureString the caller may read: `kms:Decrypt` on
/// the key its (selected) version is sealed with. `None` when no decryption would happen.
fn decrypt_check(
    state: &AppState,
    caller: &Caller,
    scope: &Scope,
    input: &Value,
) -> Result<Option<KeyCheck>, ApiError> {
    if input.get("WithDecryption").and_then(Value::as_bool) != Some(true) {
        return Ok(None);
    }
    let Some(reference) = input
        .get("Name")
        .and_then(Value::as_str)
        .and_then(|n| name::parse_reference(n, &scope.ssm_arn("parameter/")))
    else {
        return Ok(None);
    };
    let key = name::key(&reference.name);
    let store = &state.store;
    let version = match reference.selector {
        None => store.parameter(&scope.region, &key)?,
        Some(name::Selector::Version(n)) => store.parameter_version(&scope.region, &key, n)?,
        Some(name::Selector::Label(l)) => store.parameter_by_label(&scope.region, &key, &l)?,
    };
    let Some(v) = version.filter(|v| v.param_type == "SecureString") else {
        return Ok(None);
    };
    let Ok(key_id) = crate::kms::envelope::key_id_of(&v.value) else {
        return Ok(None);
    };
    let arn = format!(
        "arn:aws:kms:{}:{}:key/{key_id}",
        scope.region, scope.account_id
    );
    let verdict = auth::authorize(state, caller, "kms:Decrypt", &arn);
    Ok(Some(KeyCheck { arn, verdict }))
}
