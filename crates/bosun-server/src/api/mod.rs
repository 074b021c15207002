//! The AWS JSON 1.1 endpoint: `POST /` with `X-Amz-Target: AmazonSSM.<Operation>`.
//!
//! Every request goes through the same steps ([`pipeline`]): find the operation, verify the SigV4 signature,
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
mod pipeline;
pub(crate) mod references;
pub mod replay;
mod send_command;
mod tags;
mod unsupported;
mod wire;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bosun_core::arn::Scope;
use bosun_store::AuditRecord;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::state::AppState;
use error::ApiError;
use replay::CachedResponse;

pub use pipeline::handle;

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
    /// The call runs on an async thread ([`ops::runs_inline`]): it must not write.
    inline: bool,
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
        debug_assert!(!self.inline, "a change made on an async thread");
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
        self.audit_decision(action, resource, decision)
    }

    /// Check the call's action on each managed node it acts on (AWS authorizes `SendCommand`
    /// on the document *and* every instance). One denied node refuses the whole call; that
    /// denial is audited. Allowed nodes add no record: the call's own record covers them.
    pub fn authorize_nodes<'n>(
        &self,
        action: &str,
        node_ids: impl IntoIterator<Item = &'n str>,
    ) -> Result<(), ApiError> {
        let scope = self.scope();
        let arns: Vec<String> = node_ids
            .into_iter()
            .map(|id| scope.managed_instance_arn(id))
            .collect();
        match auth::authorize_each(
            self.state,
            &self.principal,
            action,
            arns.iter().map(String::as_str),
        )? {
            None => Ok(()),
            Some((resource, denial)) => self.audit_decision(action, &resource, Err(denial)),
        }
    }

    /// Write the audit record of an authorization decision and pass the decision on.
    fn audit_decision(
        &self,
        action: &str,
        resource: &str,
        decision: Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        debug_assert!(!self.inline, "{action} audited on an async thread");
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
