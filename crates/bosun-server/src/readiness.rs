//! `GET /readyz`: 200 when the store answers a read and the blob store answers a probe, each
//! within a few seconds, else 503 saying which does not (never its URL), for load balancers
//! and orchestrators. `/healthz` only says the process serves.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;

/// How long each readiness check may take before the server counts as not ready.
const CHECK_LIMIT: Duration = Duration::from_secs(5);

pub async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, &'static str) {
    let store = state.store.clone();
    // Any bounded read proves the database answers; a node id that cannot exist reads nothing.
    let read = tokio::task::spawn_blocking(move || store.get_instance("mi-readiness-probe"));
    match tokio::time::timeout(CHECK_LIMIT, read).await {
        Ok(Ok(Ok(_))) => {}
        Ok(Ok(Err(e))) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer",
            );
        }
        Ok(Err(_)) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the readiness check failed",
            )
        }
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database did not answer within 5 s",
            )
        }
    }
    let st = state.clone();
    let probe = tokio::task::spawn_blocking(move || st.blobs.probe());
    match tokio::time::timeout(CHECK_LIMIT, probe).await {
        Ok(Ok(Ok(()))) => (StatusCode::OK, "ready"),
        Ok(Ok(Err(e))) => {
            tracing::warn!(error = %e, "readiness: the blob store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the blob store does not answer",
            )
        }
        Ok(Err(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the readiness check failed",
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the blob store did not answer within 5 s",
        ),
    }
}
