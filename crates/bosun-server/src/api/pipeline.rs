//! One API call from bytes to response: admit (signature, operation, body, policy), then run
//! (idempotent retries, handler, audit).
//!
//! Admitting never writes, so on a local store (SQLite) it runs on the request's own async thread. A call that only reads
//! a bounded part of the store ([`ops::runs_inline`]) then runs there too: reads use read-only connections that
//! never wait for the writer, and handing such a call to the blocking pool cost about a third of
//! its CPU in context switches. Everything that may write or wait (mutating calls, denials,
//! which are audited, decryption, which is audited) runs on the blocking pool, and so does every
//! call on a store across the network (PostgreSQL: `AppState::inline_reads` is false).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bosun_core::arn::Scope;
use bosun_core::idempotency::CallKeys;
use bosun_store::{AuditRecord, CallRecords};
use serde_json::Value;

use super::auth::{self, Caller};
use super::error::ApiError;
use super::idempotency::{Begun, Idempotency, Reply};
use super::ops::{self, Operation};
use super::{aws_operations, base_url, reply_response, unsupported, Ctx};
use crate::state::{now_ms, AppState};

const TARGET_PREFIX: &str = "AmazonSSM.";

/// The response header naming the request (boto3's `ResponseMetadata.RequestId`, the SDKs'
/// `request_id()`); the same id is in the call's audit record.
const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";

/// Axum handler for `POST /`: the SSM API, or EventBridge's when `X-Amz-Target` names
/// `AWSEvents.*` (both AWS JSON 1.1 on one path).
pub async fn handle(
    state: State<Arc<AppState>>,
    peer: ConnectInfo<std::net::SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let is_sns = super::sns::is_query_request(&headers);
    let request = Request {
        method,
        uri,
        headers,
    };
    let (surface, decode) = json_surface(&request.headers);
    if is_sns && std::ptr::eq(surface, &SSM) {
        return super::sns::handle(state, peer, request, body).await;
    }
    serve_with_id(state, peer, request, body, surface, decode).await
}

/// How a surface finds the operation a request names and parses its body.
pub type Decode = fn(&HeaderMap, &[u8]) -> Result<(&'static Operation, Value), ApiError>;

/// The AWS JSON surface `X-Amz-Target` names: EventBridge (`AWSEvents.*`), node power
/// (`BosunNodePower.*`), Bosun's events and failed deliveries (`BosunEvents.*`), the audit
/// trail (`BosunAudit.*`), agent releases (`BosunAgentRelease.*`), else SSM.
pub fn json_surface(headers: &HeaderMap) -> (&'static Surface, Decode) {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if target.starts_with(super::events::TARGET_PREFIX) {
        (&super::events::SURFACE, super::events::decode)
    } else if target.starts_with(super::power::TARGET_PREFIX) {
        (&super::power::SURFACE, super::power::decode)
    } else if target.starts_with(super::bosun_audit::TARGET_PREFIX) {
        (&super::bosun_audit::SURFACE, super::bosun_audit::decode)
    } else if target.starts_with(super::bosun_events::TARGET_PREFIX) {
        (&super::bosun_events::SURFACE, super::bosun_events::decode)
    } else if target.starts_with(super::agent_releases::TARGET_PREFIX) {
        (
            &super::agent_releases::SURFACE,
            super::agent_releases::decode,
        )
    } else {
        (&SSM, decode_ssm)
    }
}

/// How a call's caller is established: the only step that differs between the API and the
/// web console; everything after it (operation, policy, idempotency, handler, audit) is shared.
pub enum Identity {
    /// A SigV4-signed request.
    Signed,
    /// A web console session (its token from the cookie) calling in the region the page names.
    Console { token: String, region: String },
}

/// Serve one call of `surface` under a fresh request id: every answer, error or not, carries
/// it (boto3's `ResponseMetadata.RequestId`, the SDKs' `request_id()`).
pub async fn serve_with_id(
    state: State<Arc<AppState>>,
    peer: ConnectInfo<std::net::SocketAddr>,
    request: Request,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    surface: &'static Surface,
    decode: impl FnOnce(&HeaderMap, &[u8]) -> Result<(&'static Operation, Value), ApiError>
        + Send
        + 'static,
) -> Response {
    serve_as(
        state,
        peer,
        Identity::Signed,
        request,
        body,
        surface,
        decode,
    )
    .await
}

/// [`serve_with_id`] for a caller established as `identity`.
pub async fn serve_as(
    state: State<Arc<AppState>>,
    peer: ConnectInfo<std::net::SocketAddr>,
    identity: Identity,
    request: Request,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    surface: &'static Surface,
    decode: impl FnOnce(&HeaderMap, &[u8]) -> Result<(&'static Operation, Value), ApiError>
        + Send
        + 'static,
) -> Response {
    let request_id = bosun_core::ids::uuid_v4(crate::state::random_bytes());
    let header =
        axum::http::HeaderValue::from_str(&request_id).expect("a UUID is a valid header value");
    let mut response = serve(
        state, peer, identity, request_id, request, body, surface, decode,
    )
    .await;
    response.headers_mut().insert(REQUEST_ID_HEADER, header);
    response
}

/// An API surface served through this pipeline: how its calls are signed, named for IAM,
/// authorized and checked before their handler runs. SSM is [`SSM`]; the others live in their
/// own folders (`resource_groups`, `events`).
pub struct Surface {
    /// The SigV4 signing name its requests must be signed for.
    pub signing_name: &'static str,
    /// The IAM action prefix (`ssm`, `resource-groups`, `events`).
    pub action_prefix: &'static str,
    /// Whether requests must sign `X-Amz-Target` (the AWS JSON protocols).
    pub signs_target: bool,
    /// The ARN an operation's call acts on, for its policy check (`*` when none).
    pub resource_arn: fn(&Scope, &str, &Value) -> String,
    /// Operations whose handler authorizes each resource it touches instead of the pipeline.
    pub authorized_by_handler: fn(&str) -> bool,
    /// Mutating operations that store their answer with their change.
    pub answers_in_change: fn(&Operation) -> bool,
    /// Permitted reads cheap enough to run on the request's async thread (SQLite only).
    pub runs_inline: fn(&Operation, &Value) -> bool,
    /// Checks between admission and the handler (the model, fields Bosun cannot honour).
    pub check: fn(&AppState, &Operation, &Value) -> Result<(), ApiError>,
    /// How answers and errors are written.
    pub protocol: Protocol,
}

/// The wire shape of a surface's answers and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// JSON bodies, `{"__type", "message"}` errors (AWS JSON 1.1 and REST-JSON).
    Json,
    /// AWS's query protocol: XML answers in the namespace given, `<ErrorResponse>` errors.
    Query { xmlns: &'static str },
}

impl Protocol {
    /// The body of a successful answer of `op`.
    fn answer_body(self, op: &str, value: &Value, request_id: &str) -> String {
        match self {
            Protocol::Json => value.to_string(),
            Protocol::Query { xmlns } => super::query::answer_xml(xmlns, op, value, request_id),
        }
    }

    /// An error as this protocol's response.
    pub fn error_response(self, e: ApiError, request_id: &str) -> Response {
        match self {
            Protocol::Json => e.into_response(),
            Protocol::Query { xmlns } => e.query_response(xmlns, request_id),
        }
    }
}

/// The SSM API (`X-Amz-Target: AmazonSSM.*`, AWS JSON 1.1).
pub static SSM: Surface = Surface {
    signing_name: "ssm",
    action_prefix: "ssm",
    signs_target: true,
    resource_arn: ops::resource_arn,
    authorized_by_handler: ops::authorized_per_node,
    answers_in_change: ops::answers_in_change,
    runs_inline: ops::runs_inline,
    check: ssm_check,
    protocol: Protocol::Json,
};

/// The parts of a request admission reads besides its body.
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
}

/// Find the SSM operation a request names (`X-Amz-Target`) and parse its JSON body.
fn decode_ssm(headers: &HeaderMap, body: &[u8]) -> Result<(&'static Operation, Value), ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(op_name) = target.strip_prefix(TARGET_PREFIX) else {
        return Err(ApiError::new(
            "UnknownOperationException",
            format!("Unknown target: '{target}'"),
        ));
    };
    let Some(op) = ops::find(op_name) else {
        let message = if aws_operations::AWS_SSM_OPERATIONS.contains(&op_name) {
            format!(
                "{op_name} is part of the SSM API but this Bosun server does not implement it yet"
            )
        } else {
            format!("Unknown operation: {op_name}")
        };
        return Err(ApiError::new("UnknownOperationException", message));
    };
    Ok((op, json_object(body)?))
}

/// Find the operation of a Bosun surface (`operations`, named after `prefix` in
/// `X-Amz-Target`) a request names, and parse its JSON body.
pub fn decode_named(
    operations: &'static [Operation],
    prefix: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(&'static Operation, Value), ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = target.strip_prefix(prefix).unwrap_or(target);
    let op = operations.iter().find(|o| o.name == name).ok_or_else(|| {
        ApiError::new(
            "UnknownOperationException",
            format!("Unknown operation: {name}"),
        )
    })?;
    Ok((op, json_object(body)?))
}

/// A request body as a JSON object (an empty body is `{}`).
pub fn json_object(body: &[u8]) -> Result<Value, ApiError> {
    match serde_json::from_slice(if body.is_empty() { b"{}" } else { body }) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::serialization(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::serialization(format!("Malformed JSON: {e}"))),
    }
}

/// Serve one call of `surface`: decode it after authentication with `decode`, admit it, run it.
#[allow(clippy::too_many_arguments)]
async fn serve(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    identity: Identity,
    request_id: String,
    request: Request,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    surface: &'static Surface,
    decode: impl FnOnce(&HeaderMap, &[u8]) -> Result<(&'static Operation, Value), ApiError>
        + Send
        + 'static,
) -> Response {
    let Request {
        method,
        uri,
        headers,
    } = request;
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let e = ApiError::new(
                "RequestEntityTooLargeException",
                format!("The request body was refused: {e}"),
            )
            .with_status(e.status());
            return surface.protocol.error_response(e, &request_id);
        }
    };
    let source = peer.ip().to_string();
    if !state.inline_reads {
        // A store across the network (PostgreSQL) blocks for a round trip: the whole call,
        // admission included, runs on the blocking pool.
        return on_blocking_pool(move || {
            let request = Request {
                method,
                uri,
                headers,
            };
            match admit(
                &state,
                &identity,
                source,
                request_id.clone(),
                &request,
                &body,
                surface,
                decode,
            ) {
                Ok(call) => run(&state, call, false),
                Err(e) => surface.protocol.error_response(e, &request_id),
            }
        })
        .await;
    }
    let request = Request {
        method,
        uri,
        headers,
    };
    let call = match admit(
        &state,
        &identity,
        source,
        request_id.clone(),
        &request,
        &body,
        surface,
        decode,
    ) {
        Ok(call) => call,
        Err(e) => return surface.protocol.error_response(e, &request_id),
    };
    if call.decision.is_ok() && !call.op.mutating && (surface.runs_inline)(call.op, &call.input) {
        return run(&state, call, true);
    }
    on_blocking_pool(move || run(&state, call, false)).await
}

/// Run a call's work on tokio's blocking pool; a panic there is an internal error.
async fn on_blocking_pool(work: impl FnOnce() -> Response + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(work).await {
        Ok(r) => r,
        Err(e) => ApiError::internal(format!("handler panicked: {e}")).into_response(),
    }
}

/// An authenticated call to a known operation, with its policy decision taken.
struct Call {
    caller: Caller,
    surface: &'static Surface,
    op: &'static Operation,
    input: Value,
    action: String,
    resource: String,
    base_url: String,
    now_ms: i64,
    /// `Err(AccessDeniedException)` when the caller's policies do not allow the call.
    decision: Result<(), ApiError>,
    /// A mutating call sent with an SDK invocation id: its retries get its first answer.
    call_keys: Option<CallKeys>,
    source: String,
    request_id: String,
}

/// Everything that decides whether a call may run, without writing anything.
#[allow(clippy::too_many_arguments)]
fn admit(
    state: &AppState,
    identity: &Identity,
    source: String,
    request_id: String,
    request: &Request,
    body: &[u8],
    surface: &'static Surface,
    decode: impl FnOnce(&HeaderMap, &[u8]) -> Result<(&'static Operation, Value), ApiError>,
) -> Result<Call, ApiError> {
    let now = now_ms();
    let Request {
        method,
        uri,
        headers,
    } = request;
    let caller = match identity {
        Identity::Signed => auth::authenticate(
            state,
            method,
            uri,
            headers,
            body,
            now,
            auth::Expect {
                service: surface.signing_name,
                signed_target: surface.signs_target,
            },
        )?,
        Identity::Console { token, region } => {
            crate::console::session::caller(state, token, region, now)?
        }
    };
    let (op, input) = decode(headers, body)?;
    let scope = Scope::new(caller.region.clone(), state.config.account_id.clone());
    let resource = (surface.resource_arn)(&scope, op.name, &input);
    let action = format!("{}:{}", surface.action_prefix, op.name);
    let decision = if (surface.authorized_by_handler)(op.name) {
        Ok(())
    } else {
        auth::authorize(state, &caller, &action, &resource)
    };
    let call_keys = op
        .mutating
        .then(|| Idempotency::keys(&caller.access_key_id, &action, headers, body))
        .flatten();
    Ok(Call {
        caller,
        surface,
        op,
        input,
        action,
        resource,
        base_url: base_url(state, uri, headers),
        now_ms: now,
        decision,
        call_keys,
        source,
        request_id,
    })
}

/// Run an admitted call: audit a denial, answer a retry with its call's first answer, run the
/// handler, record the outcome of a mutating call (audit record, answer for retries). `inline`
/// is set when the call runs on an async thread, where it must not write (checked in debug
/// builds).
fn run(state: &AppState, call: Call, inline: bool) -> Response {
    let Call {
        caller,
        surface,
        op,
        input,
        action,
        resource,
        base_url,
        now_ms: now,
        decision,
        call_keys,
        source,
        request_id,
    } = call;
    let record = |outcome: String| AuditRecord {
        time_ms: now,
        principal: caller.user.clone(),
        action: action.clone(),
        region: caller.region.clone(),
        resource: resource.clone(),
        request_id: request_id.clone(),
        source: source.clone(),
        outcome,
        detail: String::new(),
    };
    if let Err(e) = decision {
        debug_assert!(!inline, "{} audited a denial on an async thread", op.name);
        if let Err(e) = state.store.append_audit(&record("Denied".into())) {
            tracing::error!(error = %e, "could not write an audit record");
        }
        return surface.protocol.error_response(e, &request_id);
    }
    let mut running = None;
    if let Some(keys) = call_keys {
        debug_assert!(!inline, "{} claimed a call on an async thread", op.name);
        let answers_with_change = (surface.answers_in_change)(op);
        match state.idempotency.begin(
            &*state.store,
            keys,
            answers_with_change,
            &state.replica.other_live_replicas(),
            now,
        ) {
            Ok(Begun::Execute(r)) => running = Some(r),
            Ok(Begun::Replay(reply)) => return reply_response(reply, surface.protocol),
            Err(e) => return surface.protocol.error_response(e, &request_id),
        }
    }
    let ctx = Ctx {
        state,
        region: caller.region.clone(),
        principal: caller.user.clone(),
        now_ms: now,
        base_url,
        request_id: request_id.clone(),
        source: source.clone(),
        audit: op.mutating.then(|| record("Allowed".into())),
        audited: std::cell::Cell::new(false),
        call: running.as_ref().map(|r| r.call().clone()),
        answered: std::cell::RefCell::new(None),
        inline,
        internal: false,
        command_id: None,
        parent_execution: None,
    };
    let result = (surface.check)(state, op, &input).and_then(|()| (op.handler)(&ctx, input));
    let reply = match &result {
        Ok(v) => Reply {
            status: StatusCode::OK.as_u16(),
            body: surface.protocol.answer_body(op.name, v, &request_id),
            error_type: None,
        },
        Err(e) => match surface.protocol {
            Protocol::Json => Reply {
                status: e.status.as_u16(),
                body: e.body(),
                error_type: Some(e.code.to_string()),
            },
            Protocol::Query { xmlns } => {
                let (status, code) = e.query_status_and_code();
                Reply {
                    status: status.as_u16(),
                    body: e.query_body(xmlns, &request_id),
                    error_type: Some(code.to_string()),
                }
            }
        },
    };
    if op.mutating {
        debug_assert!(!inline, "{} wrote records on an async thread", op.name);
        let audit = (!ctx.audited.get()).then(|| {
            record(match &result {
                Ok(_) => "Allowed".into(),
                Err(e) => format!("Failed:{}", e.code),
            })
        });
        let answered = ctx.answered.borrow_mut().take();
        if let Some(stored) = &answered {
            debug_assert_eq!(stored, &reply.body, "{} stored another answer", op.name);
        }
        let answer = running
            .as_ref()
            .filter(|_| answered.is_none())
            .map(|r| r.call().answer(&reply));
        let records = CallRecords {
            audit: audit.as_ref(),
            answer: answer.as_ref(),
        };
        match state.store.record_call(records) {
            Ok(()) => {
                if let Some(r) = running.as_mut() {
                    r.set_answered();
                }
            }
            Err(e) => tracing::error!(error = %e, "could not record a call's outcome"),
        }
    }
    // Retries waiting for this call go on now that its answer is stored.
    drop(running);
    tracing::debug!(op = op.name, principal = %caller.user, region = %caller.region, status = reply.status, inline, "api call");
    reply_response(reply, surface.protocol)
}

/// The request against its operation's input shape in botocore's model
/// (`bosun_core::model`, generated). It runs after authentication and authorization, as
/// Bosun always has: whether AWS validates before authorizing was not settled by any recorded
/// answer (an STS suite shows AssumeRole's session-name check before role and trust checks,
/// which are STS's own, not IAM's policy decision).
///
/// Botocore's model first (AWS's own ValidationException text), then the fields Bosun cannot
/// honour (here: S3 output needs an S3 blob store); the handler's rules come after.
pub(super) fn ssm_check(state: &AppState, op: &Operation, input: &Value) -> Result<(), ApiError> {
    model_check(op, input)?;
    let abilities = unsupported::Abilities {
        writes_s3_output: state.blobs.writes_buckets(),
    };
    unsupported::check(op.name, input, &abilities)
}

fn model_check(op: &Operation, input: &Value) -> Result<(), ApiError> {
    if let Some((code, message)) = bosun_core::model::service_error(op.name, input) {
        return Err(ApiError::new(code, message));
    }
    match bosun_core::model::validate_request(op.name, input) {
        Some(message) => Err(ApiError::validation(message)),
        None => Ok(()),
    }
}
