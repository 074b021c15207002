//! `GET /v1/sessions/<session-id>/log`: a session's log as an asciinema v2 cast (the target of
//! `DescribeSessions` `OutputUrl.S3OutputUrl`), SigV4-signed like the API and allowed to callers
//! with `ssm:DescribeSessions` on the session's ARN. While the session runs, the log holds what
//! was stored so far (pieces land about every second). The web console reads the same log
//! through `POST /console/session-log` with its session's caller ([`session_log`]).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

use crate::api::auth::{authenticate, authorize, Caller, Expect};
use crate::api::error::ApiError;
use crate::blobs::BlobError;
use crate::blobs::StoredStream;
use crate::outputs::stream_stored;
use crate::state::{now_ms, AppState};

fn no_such_session(session_id: &str) -> ApiError {
    ApiError::new(
        "DoesNotExistException",
        format!("Session {session_id} does not exist."),
    )
    .with_status(StatusCode::NOT_FOUND)
}

pub async fn get_log(
    State(state): State<Arc<AppState>>,
    Path(session_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    stream_stored(state, "application/x-asciicast", move |st| {
        let expect = Expect {
            service: "ssm",
            signed_target: false,
        };
        let caller = authenticate(st, &method, &uri, &headers, b"", now_ms(), expect)?;
        session_log(st, &caller, &session_id)
    })
    .await
}

/// The stored log of `session_id` for `caller` (a SigV4 caller, or the web console's session),
/// who needs `ssm:DescribeSessions` on the session; a session of another region, or one that
/// keeps no log (port forwarding), does not exist for this purpose.
pub fn session_log(
    st: &AppState,
    caller: &Caller,
    session_id: &str,
) -> Result<StoredStream, ApiError> {
    let resource = crate::api::sessions::session_arn(st, &caller.region, session_id);
    authorize(st, caller, "ssm:DescribeSessions", &resource)?;
    let record = st.store.get_session(session_id)?;
    if !record.is_some_and(|r| r.region == caller.region && !r.output_url.is_empty()) {
        return Err(no_such_session(session_id));
    }
    match st.blobs.session_log(session_id) {
        Ok(stored) => Ok(stored),
        Err(BlobError::BadLocation) => Err(no_such_session(session_id)),
        Err(e) => Err(ApiError::internal(e)),
    }
}
