//! The AWS JSON 1.1 endpoint: `POST /` with `X-Amz-Target: AmazonSSM.<Operation>`.
//!
//! Every request goes through the same steps: find the operation, verify the SigV4 signature,
//! check the caller's IAM policies, refuse replays of mutating calls, run the handler, and write
//! an audit record for every mutating call and every denial.

mod activations;
mod attachments;
pub(crate) mod auth;
pub mod aws_operations;
mod commands;
mod document_writes;
mod documents;
pub mod error;
mod instances;
pub mod ops;
mod parameter_labels;
mod parameter_put;
mod parameter_search;
mod parameters;
pub(crate) mod references;
pub mod replay;
mod send_command;
mod tags;
mod wire;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bosun_core::arn::Scope;
use bosun_store::AuditRecord;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::state::{now_ms, AppState};
use error::ApiError;
use replay::{CachedResponse, Claim};

const TARGET_PREFIX: &str = "AmazonSSM.";

/// What a handler knows about the request it serves.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    /// Region from the signature's credential scope.
    pub region: String,
    /// The calling user's name.
    pub principal: String,
    pub now_ms: i64,
    /// `scheme://host` as the caller reached the server (for output URLs).
    pub base_url: String,
    pub request_id: String,
    /// The caller's address (for audit records written by handlers).
    pub source: String,
    /// The `Allowed` audit record of a mutating call, for a handler that writes it in the same
    /// transaction as its change ([`Ctx::audit_in_change`]).
    audit: Option<AuditRecord>,
    /// Set once the handler's transaction committed that record; the pipeline then writes none.
    audited: std::cell::Cell<bool>,
}

impl Ctx<'_> {
    /// Write this call's audit record inside the store transaction `change` commits (one disk
    /// sync instead of two). `change` gets the record (`None` for calls that are not audited)
    /// and must append it in its transaction; when it returns `Ok` the pipeline writes no
    /// second record, and when it fails the pipeline audits the failure as usual.
    pub fn audit_in_change<T>(
        &self,
        change: impl FnOnce(Option<&AuditRecord>) -> bosun_store::Result<T>,
    ) -> bosun_store::Result<T> {
        let out = change(self.audit.as_ref())?;
        self.audited.set(self.audit.is_some());
        Ok(out)
    }

    pub fn scope(&self) -> Scope {
        Scope::new(self.region.clone(), self.state.config.account_id.clone())
    }

    /// Check a further action (beyond the operation's own `ssm:` action) and audit the
    /// decision; a denial is `AccessDeniedException`.
    pub fn authorize_and_audit(&self, action: &str, resource: &str) -> Result<(), ApiError> {
        let decision = auth::authorize_user(self.state, &self.principal, action, resource);
        let record = AuditRecord {
            time_ms: self.now_ms,
            principal: self.principal.clone(),
            action: action.to_string(),
            region: self.region.clone(),
            resource: resource.to_string(),
            request_id: self.request_id.clone(),
            source: self.source.clone(),
            outcome: if decision.is_ok() {
                "Allowed"
            } else {
                "Denied"
            }
            .into(),
            detail: String::new(),
        };
        if let Err(e) = self.state.store.append_audit(&record) {
            tracing::error!(error = %e, "could not write an audit record");
        }
        decision
    }
}

/// Decode a request body into its typed shape (`SerializationException` when it does not fit).
pub fn parse<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(|e| ApiError::serialization(e.to_string()))
}

/// Encode a typed response.
pub fn reply<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [("content-type", "application/x-amz-json-1.1")],
        body,
    )
        .into_response()
}

fn cached_response(c: CachedResponse) -> Response {
    let status = StatusCode::from_u16(c.status).unwrap_or(StatusCode::OK);
    match c.error_type {
        Some(t) => (
            status,
            [
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amzn-errortype", t),
            ],
            c.body,
        )
            .into_response(),
        None => json_response(status, c.body),
    }
}

/// `scheme://host` of this request.
pub fn base_url(state: &AppState, uri: &Uri, headers: &HeaderMap) -> String {
    let scheme = if state.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| state.config.listen.to_string());
    format!("{scheme}://{host}")
}

/// Axum handler for `POST /`.
pub async fn handle(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(
                "RequestEntityTooLargeException",
                format!("The request body was refused: {e}"),
            )
            .with_status(e.status())
            .into_response()
        }
    };
    let request_id = bosun_core::ids::uuid_v4(crate::state::random_bytes());
    let work = tokio::task::spawn_blocking(move || {
        serve(
            &state,
            &peer.ip().to_string(),
            &method,
            &uri,
            &headers,
            &body,
            &request_id,
        )
    });
    match work.await {
        Ok(r) => r,
        Err(e) => ApiError::internal(format!("handler panicked: {e}")).into_response(),
    }
}

fn serve(
    state: &AppState,
    source: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
) -> Response {
    let now = now_ms();
    let caller = match auth::authenticate(state, method, uri, headers, body, now, true) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(op_name) = target.strip_prefix(TARGET_PREFIX) else {
        return ApiError::new(
            "UnknownOperationException",
            format!("Unknown target: '{target}'"),
        )
        .into_response();
    };
    let Some(op) = ops::find(op_name) else {
        let message = if aws_operations::AWS_SSM_OPERATIONS.contains(&op_name) {
            format!(
                "{op_name} is part of the SSM API but this Bosun server does not implement it yet"
            )
        } else {
            format!("Unknown operation: {op_name}")
        };
        return ApiError::new("UnknownOperationException", message).into_response();
    };
    let input: Value = match serde_json::from_slice(if body.is_empty() { b"{}" } else { body }) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return ApiError::serialization("The request body must be a JSON object")
                .into_response()
        }
        Err(e) => return ApiError::serialization(format!("Malformed JSON: {e}")).into_response(),
    };
    let scope = Scope::new(caller.region.clone(), state.config.account_id.clone());
    let resource = ops::resource_arn(&scope, op.name, &input);
    let action = format!("ssm:{}", op.name);
    let record = |outcome: String| AuditRecord {
        time_ms: now,
        principal: caller.user.clone(),
        action: action.clone(),
        region: caller.region.clone(),
        resource: resource.clone(),
        request_id: request_id.to_string(),
        source: source.to_string(),
        outcome,
        detail: String::new(),
    };
    let audit = |outcome: String| {
        if let Err(e) = state.store.append_audit(&record(outcome)) {
            tracing::error!(error = %e, "could not write an audit record");
        }
    };
    let ctx = Ctx {
        state,
        region: caller.region.clone(),
        principal: caller.user.clone(),
        now_ms: now,
        base_url: base_url(state, uri, headers),
        request_id: request_id.to_string(),
        source: source.to_string(),
        audit: op.mutating.then(|| record("Allowed".into())),
        audited: std::cell::Cell::new(false),
    };
    if let Err(e) = auth::authorize(state, &caller, &action, &resource) {
        audit("Denied".into());
        return e.into_response();
    }
    if op.mutating {
        match state.replay.claim(&caller.signature, now) {
            Claim::New => {}
            Claim::Done(cached) => return cached_response(cached),
            Claim::InFlight => {
                return ApiError::new(
                    "ThrottlingException",
                    "An identical request is still being processed",
                )
                .into_response()
            }
            Claim::Full => {
                return ApiError::new(
                    "ThrottlingException",
                    "Too many mutating requests; retry shortly",
                )
                .into_response()
            }
        }
    }
    let result = (op.handler)(&ctx, input);
    let (status, body, error_type) = match &result {
        Ok(v) => (StatusCode::OK, v.to_string(), None),
        Err(e) => (e.status, e.body(), Some(e.code)),
    };
    if op.mutating {
        if !ctx.audited.get() {
            audit(match &result {
                Ok(_) => "Allowed".into(),
                Err(e) => format!("Failed:{}", e.code),
            });
        }
        state.replay.complete(
            &caller.signature,
            CachedResponse {
                status: status.as_u16(),
                body: body.clone(),
                error_type,
            },
        );
    }
    tracing::debug!(op = op.name, principal = %caller.user, region = %caller.region, status = status.as_u16(), "api call");
    cached_response(CachedResponse {
        status: status.as_u16(),
        body,
        error_type,
    })
}
