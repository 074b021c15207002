//! The web console at `/console/` (issue 20): a page embedded in the binary and its endpoints.
//! It adds no new way in: signing in checks an access key as SigV4 would, the session it makes
//! lives in the store (any replica serves it), and every call the page makes goes through the
//! API's own pipeline (`api::pipeline::serve_as` with [`Identity::Console`]), so operation,
//! IAM, idempotency, handler and audit are the same as for a signed call.
//!
//! Without a live session, everything here answers the login page (HTML) or 401 (the calls).

mod assets;
mod can;
pub mod session;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bosun_store::AuditRecord;
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::api::pipeline::{self, json_object, Identity, Request};
use crate::state::{now_ms, AppState};

/// The console's routes (merged into the server's router).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(assets::index))
        .route("/console/", get(assets::index))
        .route("/console/assets/{file}", get(asset))
        // Opening an endpoint in the browser shows the page, like any other console path.
        .route("/console/login", post(login).get(assets::index))
        .route("/console/logout", post(logout).get(assets::index))
        .route("/console/session", post(whoami).get(assets::index))
        .route("/console/api", post(api).get(assets::index))
        .route("/console/can", post(can).get(assets::index))
        .route("/console/session-log", post(session_log).get(assets::index))
        .route("/console/output", post(command_output).get(assets::index))
        // Any other page under /console/ is the login page (the app routes in the browser);
        // any other call is unauthenticated.
        .route(
            "/console/{*rest}",
            get(assets::index).post(|| async { error_response(session::ended()) }),
        )
}

async fn asset(Path(file): Path<String>) -> Response {
    assets::file(&file)
}

/// An error answer with a fresh request id, as every API answer carries one.
fn error_response(e: ApiError) -> Response {
    let mut r = e.into_response();
    with_request_id(&mut r);
    r
}

fn with_request_id(r: &mut Response) {
    let id = bosun_core::ids::uuid_v4(crate::state::random_bytes());
    r.headers_mut().insert(
        "x-amzn-RequestId",
        HeaderValue::from_str(&id).expect("a UUID is a valid header value"),
    );
}

fn json_response(value: Value, cookie: Option<String>) -> Response {
    let mut r = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response();
    if let Some(c) = cookie {
        r.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&c).expect("cookie is ASCII"),
        );
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    with_request_id(&mut r);
    r
}

/// Work that reads or writes the store, on the blocking pool.
async fn blocking(work: impl FnOnce() -> Response + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(work).await {
        Ok(r) => r,
        Err(e) => error_response(ApiError::internal(format!("console handler panicked: {e}"))),
    }
}

/// What the page needs to know about its server and caller.
fn about(state: &AppState, user: &str, csrf: &str) -> Value {
    json!({
        "user": user,
        "csrf": csrf,
        "accountId": state.config.account_id,
        "regions": state.regions.list(),
    })
}

fn cookie(state: &AppState, token: &str, max_age_s: i64) -> String {
    let secure = if state.config.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={token}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={max_age_s}{secure}",
        session::COOKIE
    )
}

/// `POST /console/login` `{accessKeyId, secretAccessKey}`: a session cookie and the CSRF token.
/// Every attempt with both fields is audited as `signin:ConsoleLogin` (AWS's CloudTrail name),
/// under the key's user when it succeeds; the secret never is.
async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    body: Bytes,
) -> Response {
    blocking(move || {
        let input = match json_object(&body) {
            Ok(v) => v,
            Err(e) => return error_response(e),
        };
        let field = |name: &str| input.get(name).and_then(Value::as_str).unwrap_or("");
        let (id, secret) = (field("accessKeyId"), field("secretAccessKey"));
        if id.is_empty() || secret.is_empty() {
            return error_response(ApiError::validation(
                "accessKeyId and secretAccessKey are required.",
            ));
        }
        let now = now_ms();
        let address = peer.ip().to_string();
        let (response, principal, outcome) = match session::login(&state, id, secret, &address, now)
        {
            Ok(s) => (
                json_response(
                    about(&state, &s.user, &s.csrf),
                    Some(cookie(&state, &s.token, session::SESSION_MS / 1000)),
                ),
                s.user,
                "Allowed".to_string(),
            ),
            Err(e) => {
                let outcome = format!("Failed:{}", e.code);
                (error_response(e), String::new(), outcome)
            }
        };
        let request_id = response
            .headers()
            .get("x-amzn-RequestId")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        // Only a key id that looks like one is kept (never, say, a secret typed in its field).
        let looks_like_key = id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric());
        let record = AuditRecord {
            time_ms: now,
            principal,
            action: "signin:ConsoleLogin".into(),
            region: String::new(),
            resource: "*".into(),
            request_id,
            source: peer.ip().to_string(),
            outcome,
            detail: if looks_like_key {
                format!("accessKeyId={id}")
            } else {
                String::new()
            },
        };
        if let Err(e) = state.store.append_audit(&record) {
            tracing::error!(error = %e, "could not write an audit record");
        }
        response
    })
    .await
}

/// `POST /console/logout`: the session ends (its row is deleted) and the cookie is cleared.
async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let token = match session::token_with_csrf(&headers) {
        Ok(t) => t,
        Err(e) => return error_response(e),
    };
    blocking(move || {
        match state
            .store
            .delete_console_session(&session::token_hash(&token))
        {
            Ok(_) => json_response(json!({}), Some(cookie(&state, "", 0))),
            Err(e) => error_response(e.into()),
        }
    })
    .await
}

/// `POST /console/session`: who the live session is (for a page reloaded with its CSRF token).
async fn whoami(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let token = match session::token_with_csrf(&headers) {
        Ok(t) => t,
        Err(e) => return error_response(e),
    };
    blocking(move || {
        let region = state.regions.list().first().cloned().unwrap_or_default();
        match session::caller(&state, &token, &region, now_ms()) {
            Ok(c) => json_response(about(&state, &c.user, &session::csrf_for(&token)), None),
            Err(e) => error_response(e),
        }
    })
    .await
}

/// The region a console call names (`X-Bosun-Region`).
fn region(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get("x-bosun-region")
        .and_then(|v| v.to_str().ok())
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::validation("The X-Bosun-Region header is required."))
}

/// A console call's session token (its CSRF header checked) and the region the page names.
fn session_in_region(headers: &HeaderMap) -> Result<(String, String), ApiError> {
    Ok((session::token_with_csrf(headers)?, region(headers)?))
}

/// `POST /console/api`: one API call, as an SDK sends it (`X-Amz-Target` and JSON body, or
/// SNS's form body), made by the session's access key through the API's pipeline.
async fn api(
    state: State<Arc<AppState>>,
    peer: ConnectInfo<std::net::SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let (token, region) = match session_in_region(&headers) {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    let (surface, decode) = surface_for(&headers);
    let request = Request {
        method,
        uri,
        headers,
    };
    pipeline::serve_as(
        state,
        peer,
        Identity::Console { token, region },
        request,
        body,
        surface,
        decode,
    )
    .await
}

/// The surface a console call is for: SNS's query protocol (a form body naming its `Action`,
/// answered in XML), Resource Groups (`X-Amz-Target: ResourceGroups.<Operation>` with the
/// REST operation's JSON input, the tag operations' `Arn` in the body), or an AWS JSON surface
/// named by `X-Amz-Target`.
pub(crate) fn surface_for(headers: &HeaderMap) -> (&'static pipeline::Surface, pipeline::Decode) {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if crate::api::sns::is_query_request(headers) {
        (&crate::api::sns::SURFACE, crate::api::sns::decode)
    } else if target.starts_with(RESOURCE_GROUPS_PREFIX) {
        (&crate::api::resource_groups::SURFACE, |h, body| {
            pipeline::decode_named(
                crate::api::resource_groups::OPERATIONS,
                RESOURCE_GROUPS_PREFIX,
                h,
                body,
            )
        })
    } else {
        pipeline::json_surface(headers)
    }
}

/// How the console names a Resource Groups operation (the API names them by REST path).
const RESOURCE_GROUPS_PREFIX: &str = "ResourceGroups.";

/// `POST /console/can` `{checks: [{target, input}]}`: whether the caller's policies allow each
/// call (the action and resource the pipeline would check for it, by the same evaluator;
/// explicit deny wins), with the refusal's message as the reason. Bosun-only.
async fn can(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let (token, region) = match session_in_region(&headers) {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    blocking(move || match can::checks(&state, &token, &region, &body) {
        Ok(v) => json_response(v, None),
        Err(e) => error_response(e),
    })
    .await
}

/// `POST /console/session-log` `{SessionId}`: a session's recorded log (asciinema v2), as
/// `GET /v1/sessions/<id>/log` gives it to a SigV4 caller, for a session caller allowed
/// `ssm:DescribeSessions` on it (the log's URL needs a signature the page cannot make).
async fn session_log(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (token, region) = match session_in_region(&headers) {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    let session_id = match json_object(&body).map(|v| v.get("SessionId").cloned()) {
        Ok(Some(Value::String(id))) if !id.is_empty() => id,
        Ok(_) => return error_response(ApiError::validation("SessionId is required.")),
        Err(e) => return error_response(e),
    };
    let mut r = crate::outputs::stream_stored(state, "application/x-asciicast", move |st| {
        let caller = session::caller(st, &token, &region, now_ms())?;
        crate::sessions::session_log(st, &caller, &session_id)
    })
    .await;
    with_request_id(&mut r);
    r
}

/// `POST /console/output` `{CommandId, InstanceId, Step, Stream}` (`Step` as
/// `CommandPlugins[].Name` gives it): one step's whole stdout or
/// stderr, as `GET /v1/output/…` (`StandardOutputUrl`) gives it to a SigV4 caller, for a session
/// caller allowed `ssm:GetCommandInvocation` (the API's answers carry only the first 2,500
/// characters).
async fn command_output(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (token, region) = match session_in_region(&headers) {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    let input = match json_object(&body) {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    let field = |name: &str| {
        input
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (command, node, step, stream) = (
        field("CommandId"),
        field("InstanceId"),
        field("Step"),
        field("Stream"),
    );
    if [&command, &node, &step, &stream]
        .iter()
        .any(|f| f.is_empty())
    {
        return error_response(ApiError::validation(
            "CommandId, InstanceId, Step and Stream are required.",
        ));
    }
    let mut r = crate::outputs::stream_stored(state, "text/plain; charset=utf-8", move |st| {
        let caller = session::caller(st, &token, &region, now_ms())?;
        crate::outputs::authorize_output(st, &caller, &command)?;
        // The step as the API names it (`CommandPlugins[].Name`), stored under its folder name.
        let folder = crate::blobs::step_dir_name(&step);
        crate::outputs::stored_output(st, &command, &node, &folder, &stream)
    })
    .await;
    with_request_id(&mut r);
    r
}
