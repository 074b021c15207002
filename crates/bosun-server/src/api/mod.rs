//! The AWS JSON 1.1 endpoint: `POST /` with `X-Amz-Target: AmazonSSM.<Operation>`.
//!
//! Every request goes through the same steps ([`pipeline`]): find the operation, verify the SigV4 signature,
//! check the caller's IAM policies, answer SDK retries of a mutating call with its first answer,
//! run the handler, and write an audit record for every mutating call and every denial.

mod activations;
pub(crate) mod agent_release_pins;
pub(crate) mod agent_release_targets;
pub(crate) mod agent_releases;
pub(crate) mod associations;
mod attachments;
pub(crate) mod auth;
pub(crate) mod automation;
pub mod aws_operations;
pub(crate) mod bosun_audit;
pub(crate) mod bosun_events;
mod bosun_rule_failures;
mod commands;
mod compliance;
mod document_writes;
mod documents;
pub mod error;
pub(crate) mod events;
pub mod idempotency;
pub(crate) mod instances;
mod inventory;
pub(crate) mod maintenance_windows;
mod notification_config;
pub mod ops;
pub(crate) mod package_attachments;
mod parameter_labels;
pub(crate) mod parameter_put;
mod parameter_search;
mod parameters;
pub(crate) mod pipeline;
pub(crate) mod power;
mod query;
pub(crate) mod references;
pub(crate) mod resource_groups;
pub(crate) mod send_command;
pub mod sessions;
pub(crate) mod sns;
mod tags;
mod unsupported;
mod wire;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bosun_core::arn::Scope;
use bosun_store::{AuditRecord, CallRecords};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::state::AppState;
use error::ApiError;
use idempotency::Reply;

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
    /// transaction as its change ([`Ctx::record_in_change`]).
    audit: Option<AuditRecord>,
    /// Set once the handler's transaction committed that record; the pipeline then writes none.
    audited: std::cell::Cell<bool>,
    /// The keys of a mutating call sent with an SDK invocation id, whose answer is stored for
    /// its retries ([`idempotency`]).
    call: Option<idempotency::PendingCall>,
    /// The answer the handler's transaction stored for retries; the pipeline then stores none.
    answered: std::cell::RefCell<Option<String>>,
    /// The call runs on an async thread ([`ops::runs_inline`]): it must not write.
    inline: bool,
    /// Work Bosun does on its own behalf ([`Ctx::internal`]): no caller to authorize.
    internal: bool,
    /// The id a command created in this context takes (an automation step records it before
    /// the command exists, so a resumed step finds its command instead of sending another).
    pub(crate) command_id: Option<String>,
    /// The execution whose `aws:executeAutomation` step starts an automation in this context:
    /// the started execution is its child, and takes `command_id` as its id.
    pub(crate) parent_execution: Option<String>,
}

impl<'a> Ctx<'a> {
    /// The context of work Bosun does by itself, with no API call (an association's scheduled
    /// run): its principal is `principal`, and the further checks callers get
    /// ([`Ctx::authorize_and_audit`], [`Ctx::authorize_arns`]) pass, since the user who
    /// created the work was authorized then.
    pub fn internal(state: &'a AppState, region: &str, principal: &str, now_ms: i64) -> Ctx<'a> {
        Ctx {
            state,
            region: region.to_string(),
            principal: principal.to_string(),
            now_ms,
            base_url: String::new(),
            request_id: String::new(),
            source: String::new(),
            audit: None,
            audited: std::cell::Cell::new(false),
            call: None,
            answered: std::cell::RefCell::new(None),
            inline: false,
            internal: true,
            command_id: None,
            parent_execution: None,
        }
    }
}

impl<'a> Ctx<'a> {
    /// The context of work Bosun does on behalf of `principal` (an automation's step sending a
    /// command as the user who started the execution): unlike [`Ctx::internal`], every
    /// authorization check is made against the user's policies, as for a call of theirs.
    pub fn acting_as(state: &'a AppState, region: &str, principal: &str, now_ms: i64) -> Ctx<'a> {
        let mut ctx = Ctx::internal(state, region, principal, now_ms);
        ctx.internal = false;
        ctx
    }
}

impl Ctx<'_> {
    /// Write this call's records inside the store transaction `change` commits (one disk sync
    /// instead of two): its audit record, and for a call sent with an invocation id its
    /// `answer`, which the handler must then return unchanged. A retry then finds the answer
    /// exactly when the change exists, even across a crash. `change` must write the records
    /// in its transaction; when it returns `Ok` the pipeline writes neither again, and when it
    /// fails the pipeline records the failure as usual.
    pub fn record_in_change<T>(
        &self,
        answer: &Value,
        change: impl FnOnce(CallRecords<'_>) -> bosun_store::Result<T>,
    ) -> bosun_store::Result<T> {
        debug_assert!(!self.inline, "a change made on an async thread");
        let body = answer.to_string();
        let stored = self.call.as_ref().map(|call| {
            call.answer(&Reply {
                status: StatusCode::OK.as_u16(),
                body: body.clone(),
                error_type: None,
            })
        });
        let out = change(CallRecords {
            audit: self.audit.as_ref(),
            answer: stored.as_ref(),
        })?;
        self.audited.set(self.audit.is_some());
        if stored.is_some() {
            *self.answered.borrow_mut() = Some(body);
        }
        Ok(out)
    }

    pub fn scope(&self) -> Scope {
        Scope::new(self.region.clone(), self.state.config.account_id.clone())
    }

    /// Check a further action (beyond the operation's own `ssm:` action) and audit the
    /// decision; a denial is `AccessDeniedException`.
    pub fn authorize_and_audit(&self, action: &str, resource: &str) -> Result<(), ApiError> {
        if self.internal {
            return Ok(());
        }
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
        self.authorize_arns(action, arns.iter().map(String::as_str))
    }

    /// Check the call's action on further resources it acts on (a document, nodes), reading
    /// the caller's policies once. One denial refuses the call and is audited; allowed
    /// resources add no record.
    pub fn authorize_arns<'r>(
        &self,
        action: &str,
        arns: impl IntoIterator<Item = &'r str>,
    ) -> Result<(), ApiError> {
        if self.internal {
            return Ok(());
        }
        match auth::authorize_each(self.state, &self.principal, action, arns)? {
            None => Ok(()),
            Some((resource, denial)) => self.audit_decision(action, &resource, Err(denial)),
        }
    }

    /// Write this mutating call's `Allowed` audit record now, naming the resource the call
    /// made and what it did; the pipeline then writes none for it.
    pub fn audit_allowed(&self, resource: &str, detail: String) -> Result<(), ApiError> {
        let Some(record) = &self.audit else {
            return Ok(());
        };
        self.state.store.append_audit(&AuditRecord {
            resource: resource.to_string(),
            detail,
            ..record.clone()
        })?;
        self.audited.set(true);
        Ok(())
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

/// Call operation `name` as `principal` from inside the server (an automation step): the same
/// checks as an API call of theirs — the operation's action on its resource (unless its
/// handler authorizes each resource itself), botocore's model, then the handler, whose further
/// checks run against the user's policies too ([`Ctx::acting_as`]). `command_id` fixes the id
/// of a command the call creates. A mutating call is audited as the user's, with its outcome.
pub(crate) fn call_as(
    state: &AppState,
    region: &str,
    principal: &str,
    name: &str,
    input: Value,
    command_id: Option<String>,
) -> Result<Value, ApiError> {
    call_as_with(state, region, principal, name, input, |ctx| {
        ctx.command_id = command_id
    })
}

/// [`call_as`], with `setup` preparing the context before the call (the ids of what it
/// creates, the execution starting a child automation).
pub(crate) fn call_as_with(
    state: &AppState,
    region: &str,
    principal: &str,
    name: &str,
    input: Value,
    setup: impl FnOnce(&mut Ctx),
) -> Result<Value, ApiError> {
    let op = ops::find(name)
        .ok_or_else(|| ApiError::validation(format!("Operation {name} is not served.")))?;
    let mut ctx = Ctx::acting_as(state, region, principal, crate::state::now_ms());
    setup(&mut ctx);
    let action = format!("ssm:{}", op.name);
    let resource = ops::resource_arn(&ctx.scope(), op.name, &input);
    if !ops::authorized_per_node(op.name) {
        ctx.authorize_arns(&action, [resource.as_str()])?;
    }
    pipeline::ssm_check(state, op, &input)?;
    let result = (op.handler)(&ctx, input);
    if op.mutating {
        // The change is the user's, made by Bosun on their behalf: audited as theirs.
        let record = AuditRecord {
            time_ms: ctx.now_ms,
            principal: principal.to_string(),
            action,
            region: region.to_string(),
            resource,
            request_id: bosun_core::ids::uuid_v4(crate::state::random_bytes()),
            source: "bosun (a runbook or maintenance window on the user's behalf)".into(),
            outcome: match &result {
                Ok(_) => "Allowed".into(),
                Err(e) => format!("Failed:{}", e.code),
            },
            detail: String::new(),
        };
        if let Err(e) = state.store.append_audit(&record) {
            tracing::error!(error = %e, "could not write an audit record");
        }
    }
    result
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

fn reply_response(r: Reply, protocol: pipeline::Protocol) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    if let pipeline::Protocol::Query { .. } = protocol {
        return (status, [("content-type", "text/xml")], r.body).into_response();
    }
    match r.error_type {
        Some(t) => (
            status,
            [
                ("content-type", "application/x-amz-json-1.1".to_string()),
                ("x-amzn-errortype", t),
            ],
            r.body,
        )
            .into_response(),
        None => json_response(status, r.body),
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
