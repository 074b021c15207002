//! The HTTP surface: the SSM and EventBridge APIs at `POST /` (by `X-Amz-Target`; SNS's
//! query-protocol calls there too, told apart by their form body), SNS's SubscribeURL/
//! UnsubscribeURL links at `GET /`, the Resource Groups API at its REST paths, the agent
//! channel, Session Manager's data channel (`GET /v1/data-channel/{id}`), package attachment files
//! (`/v1/document-attachments`, `package_files.rs`), the web console under `/console/` (`console`), `GET /healthz` (the process serves) and `GET /readyz` (its store answers).

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::agents::agent_channel;
use crate::api;
use crate::state::AppState;

pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/", post(api::handle).get(api::sns::by_url))
        .route(bosun_proto::AGENT_CHANNEL_PATH, get(agent_channel))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(crate::readiness::readyz))
        .route(
            "/v1/output/{command_id}/{instance_id}/{step}/{stream}",
            get(crate::outputs::get_output),
        )
        .route("/v1/commands/{command_id}/live", get(crate::outputs::live))
        .route(
            "/v1/agent-releases/{version}/{platform}/{arch}",
            get(api::agent_releases::download),
        )
        .route(
            "/v1/agent-releases",
            post(api::agent_releases::upload).layer(DefaultBodyLimit::max(
                // base64 in the pipeline's input is not the body: the body is the binary.
                bosun_core::agent_release::MAX_RELEASE_BYTES as usize + 1,
            )),
        )
        .route(
            "/v1/data-channel/{session_id}",
            get(crate::sessions::data_channel),
        )
        .route(
            "/v1/sessions/{session_id}/log",
            get(crate::sessions::get_log),
        )
        .route(
            "/v1/document-attachments",
            axum::routing::put(crate::package_files::upload).layer(DefaultBodyLimit::max(
                bosun_core::document::MAX_ATTACHMENT_BYTES as usize,
            )),
        )
        .route(
            "/v1/document-attachments/{region}/{name}/{version}/{file}",
            get(crate::package_files::download),
        )
        .merge(api::resource_groups::routes())
        .merge(crate::console::routes())
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
