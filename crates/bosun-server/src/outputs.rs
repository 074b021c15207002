//! Bosun's own HTTP endpoints for command output, both SigV4-signed like the API and checked
//! against `ssm:GetCommandInvocation`:
//! - `GET /v1/output/<command>/<node>/<step>/<stdout|stderr>`: the full stream (the target of
//!   `StandardOutputUrl`/`StandardErrorUrl`), e.g. `curl --aws-sigv4 aws:amz:<region>:ssm`.
//! - `GET /v1/commands/<command>/live` (websocket): output chunks as agents send them.
//!
//! Session logs (`GET /v1/sessions/<id>/log`, `sessions/log_http.rs`) are answered the same way
//! ([`stream_stored`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::api::auth::{authenticate, authorize, Caller};
use crate::api::error::ApiError;
use crate::blobs::{stream_from_name, BlobError, StoredStream};
use crate::state::{now_ms, AppState};

fn check(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    command_id: &str,
) -> Result<Caller, ApiError> {
    let caller = authenticate(
        state,
        method,
        uri,
        headers,
        b"",
        now_ms(),
        crate::api::auth::Expect {
            service: "ssm",
            signed_target: false,
        },
    )?;
    authorize_output(state, &caller, command_id)?;
    Ok(caller)
}

/// [`check`] off the async threads (it reads the store).
async fn checked(
    state: &Arc<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    command_id: &str,
) -> Result<(), ApiError> {
    let (st, cid) = (state.clone(), command_id.to_string());
    match tokio::task::spawn_blocking(move || check(&st, &method, &uri, &headers, &cid)).await {
        Ok(r) => r.map(|_| ()),
        Err(e) => Err(ApiError::internal(e)),
    }
}

pub async fn get_output(
    State(state): State<Arc<AppState>>,
    Path((command_id, instance_id, step, stream)): Path<(String, String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = checked(&state, method, uri, headers, &command_id).await {
        return e.into_response();
    }
    stream_stored(state, "text/plain; charset=utf-8", move |st| {
        stored_output(st, &command_id, &instance_id, &step, &stream)
    })
    .await
}

/// One step's stored `stream_name` (`stdout`/`stderr`) of a command on a node, once the
/// caller was checked for the command (here, or by the web console's `POST /console/output`).
pub(crate) fn stored_output(
    st: &AppState,
    command_id: &str,
    instance_id: &str,
    step: &str,
    stream_name: &str,
) -> Result<StoredStream, ApiError> {
    let not_found = || {
        ApiError::new("InvocationDoesNotExist", "No such output.")
            .with_status(StatusCode::NOT_FOUND)
    };
    let stream = stream_from_name(stream_name).ok_or_else(not_found)?;
    let stored = match st.blobs.stored(command_id, instance_id, step, stream) {
        Ok(s) => s,
        Err(BlobError::BadLocation) => return Err(not_found()),
        Err(e) => return Err(ApiError::internal(e)),
    };
    // A step that printed nothing has no blob: an empty stream, if the invocation exists.
    if stored.is_empty() && st.store.invocation(command_id, instance_id)?.is_none() {
        return Err(not_found());
    }
    Ok(stored)
}

/// Whether `caller` may read the output of `command_id` (`ssm:GetCommandInvocation`, as the
/// signed endpoint checks) and the command exists in the caller's region.
pub(crate) fn authorize_output(
    state: &AppState,
    caller: &Caller,
    command_id: &str,
) -> Result<(), ApiError> {
    authorize(state, caller, "ssm:GetCommandInvocation", "*")?;
    if state
        .store
        .get_command(&caller.region, command_id)?
        .is_none()
    {
        return Err(ApiError::new(
            "InvalidCommandId",
            format!("Command {command_id} does not exist in this region."),
        )
        .with_status(StatusCode::NOT_FOUND));
    }
    Ok(())
}

/// Answer with a stored stream: `lookup` runs on a blocking thread and finds it (or the
/// error to answer), then its objects are read one at a time into the response.
pub(crate) async fn stream_stored(
    state: Arc<AppState>,
    content_type: &'static str,
    lookup: impl FnOnce(&AppState) -> Result<StoredStream, ApiError> + Send + 'static,
) -> Response {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, BlobError>>(4);
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<Result<(), ApiError>>();
    tokio::task::spawn_blocking(move || {
        let stored = match lookup(&state) {
            Ok(s) => s,
            Err(e) => {
                let _ = first_tx.send(Err(e));
                return;
            }
        };
        let _ = first_tx.send(Ok(()));
        for part in state.blobs.read(&stored, u64::MAX) {
            let failed = part.is_err();
            if tx.blocking_send(part).is_err() || failed {
                break;
            }
        }
    });
    match first_rx.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return e.into_response(),
        Err(e) => return ApiError::internal(e).into_response(),
    }
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    (StatusCode::OK, [("content-type", content_type)], body).into_response()
}

pub async fn live(
    State(state): State<Arc<AppState>>,
    Path(command_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(e) = checked(&state, method, uri, headers, &command_id).await {
        return e.into_response();
    }
    let mut feed = state.feed.subscribe(&command_id);
    ws.on_upgrade(move |mut socket| async move {
        // Output from agents connected to other replicas reaches this one while it says so.
        let announcer = state.doorbell.is_shared().then(|| {
            let doorbell = state.doorbell.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(crate::doorbell::WATCH_RENEW);
                loop {
                    every.tick().await;
                    doorbell.watch(&command_id);
                }
            })
        });
        loop {
            let msg = tokio::select! {
                item = feed.recv() => match item {
                    Ok(item) => serde_json::json!({
                        "instance_id": item.instance_id,
                        "stream": item.stream,
                        "offset": item.offset,
                        "data": B64.encode(&item.data),
                    }),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        serde_json::json!({ "lagged": n })
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                // The watcher went away (or said goodbye): stop following.
                incoming = socket.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(_)) => continue,
                },
            };
            if socket
                .send(Message::Text(msg.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
        }
        if let Some(announcer) = announcer {
            announcer.abort();
        }
    })
}
