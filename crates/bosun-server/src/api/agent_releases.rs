//! Bosun's agent release operations (`X-Amz-Target: BosunAgentRelease.<Operation>`, signing
//! name `ssm`, IAM actions `bosun:<Operation>` on `agent-release/<version>`), for
//! `bosun agent-release publish|list|default|pin|unpin|pins` (pins in `agent_release_pins.rs`;
//! which release a node gets in `agent_release_targets.rs`). AWS has no such operation (it
//! publishes its own agent), so Bosun adds them beside SSM's, through the same admission
//! pipeline.
//!
//! `PublishAgentRelease` is also served at `POST /v1/agent-releases?Version=…&Arch=…[&Platform=…]
//! [&Default=true]` with the binary as the (SigV4-signed) body, since a binary does not fit the
//! JSON endpoint's body limit; on `POST /` it takes the same fields with `Content` in base64.
//! The binary is hashed, signed with the release key, stored in the blob store, then its row is
//! written; a version already published with other content is refused.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_core::agent_release::{
    check_arch, check_platform, release_payload, ReleaseVersion, MAX_RELEASE_BYTES, PLATFORM_LINUX,
};
use bosun_core::arn::Scope;
use bosun_store::{AgentReleaseRecord, PublishOutcome};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::ops::Operation;
use super::pipeline::{json_object, Protocol, Request, Surface};
use super::Ctx;
use crate::state::AppState;

/// The `X-Amz-Target` prefix of these calls.
pub const TARGET_PREFIX: &str = "BosunAgentRelease.";

/// Agent releases in the admission pipeline.
pub static SURFACE: Surface = Surface {
    signing_name: "ssm",
    action_prefix: "bosun",
    signs_target: true,
    resource_arn,
    authorized_by_handler: |_| false,
    answers_in_change: |_| false,
    runs_inline: |_, _| false,
    check: |_, _, _| Ok(()),
    protocol: Protocol::Json,
};

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "PublishAgentRelease",
        mutating: true,
        handler: publish,
    },
    Operation {
        name: "ListAgentReleases",
        mutating: false,
        handler: list,
    },
    Operation {
        name: "SetDefaultAgentRelease",
        mutating: true,
        handler: set_default,
    },
    Operation {
        name: "PinAgentRelease",
        mutating: true,
        handler: super::agent_release_pins::pin,
    },
    Operation {
        name: "UnpinAgentRelease",
        mutating: true,
        handler: super::agent_release_pins::unpin,
    },
    Operation {
        name: "ListAgentReleasePins",
        mutating: false,
        handler: super::agent_release_pins::list,
    },
];

fn operation(name: &str) -> Result<&'static Operation, ApiError> {
    OPERATIONS.iter().find(|o| o.name == name).ok_or_else(|| {
        ApiError::new(
            "UnknownOperationException",
            format!("Unknown operation: {name}"),
        )
    })
}

/// Find the operation a request names and parse its JSON body.
pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<(&'static Operation, Value), ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let op = operation(target.strip_prefix(TARGET_PREFIX).unwrap_or(target))?;
    Ok((op, json_object(body)?))
}

fn resource_arn(scope: &Scope, _op: &str, input: &Value) -> String {
    match input.get("Version").and_then(Value::as_str) {
        Some(v) => scope.ssm_arn(&format!("agent-release/{v}")),
        None => scope.ssm_arn("agent-release/*"),
    }
}

pub(super) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", message)
}

/// Version, platform and arch of a request, checked.
fn coordinates(input: &Value) -> Result<(String, String, String), ApiError> {
    let text = |k: &str| input.get(k).and_then(Value::as_str);
    let version = text("Version").ok_or_else(|| invalid("Version is required"))?;
    ReleaseVersion::parse(version).map_err(invalid)?;
    let platform = text("Platform").unwrap_or(PLATFORM_LINUX);
    check_platform(platform).map_err(invalid)?;
    let arch = text("Arch").unwrap_or("amd64");
    check_arch(arch).map_err(invalid)?;
    Ok((version.into(), platform.into(), arch.into()))
}

fn shape(r: &AgentReleaseRecord) -> Value {
    json!({
        "Version": r.version,
        "Platform": r.platform,
        "Arch": r.arch,
        "Sha256": r.sha256,
        "Size": r.size,
        "Signature": r.signature,
        "PublishedTime": r.published_ms as f64 / 1000.0,
        "Default": r.is_default,
    })
}

fn publish(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let (version, platform, arch) = coordinates(&input)?;
    let make_default = input
        .get("Default")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let content = input
        .get("Content")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("Content (the agent binary, base64) is required"))?;
    let bytes = B64
        .decode(content)
        .map_err(|_| invalid("Content is not base64"))?;
    if bytes.is_empty() {
        return Err(invalid("the agent binary is empty"));
    }
    if bytes.len() as u64 > MAX_RELEASE_BYTES {
        return Err(invalid(format!(
            "the agent binary is {} bytes, more than the {} MiB a release may hold",
            bytes.len(),
            MAX_RELEASE_BYTES >> 20
        )));
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let size = bytes.len() as u64;
    let conflict = |existing: &str| {
        ApiError::new(
            "AlreadyExistsException",
            format!(
                "agent release {version} for {platform}/{arch} is already published with other \
                 content (sha256 {existing}); publish it under a new version"
            ),
        )
    };
    let store = &ctx.state.store;
    same_key_as_published(ctx)?;
    if let Some(existing) = store.get_agent_release(&version, &platform, &arch)? {
        if existing.sha256 != sha256 {
            return Err(conflict(&existing.sha256));
        }
    } else {
        ctx.state
            .blobs
            .put_release(&version, &platform, &arch, &sha256, bytes.into())
            .map_err(ApiError::internal)?;
    }
    let signature = ctx
        .state
        .release_key
        .sign(&release_payload(&version, &platform, &arch, &sha256, size));
    let record = AgentReleaseRecord {
        version: version.clone(),
        platform: platform.clone(),
        arch: arch.clone(),
        sha256,
        size,
        signature,
        published_ms: ctx.now_ms,
        is_default: make_default,
    };
    let created = match store.publish_agent_release(&record)? {
        PublishOutcome::Created => true,
        PublishOutcome::AlreadyPublished => false,
        PublishOutcome::Conflict { existing_sha256 } => return Err(conflict(&existing_sha256)),
    };
    let stored = store
        .get_agent_release(&version, &platform, &arch)?
        .ok_or_else(|| ApiError::internal("a published release vanished"))?;
    Ok(json!({ "Release": shape(&stored), "Created": created }))
}

/// Refuse to sign with a key other than the one the published releases carry: replicas of one
/// database must share `release-signing.key`, or agents pinned to one replica's key would
/// refuse releases published through another.
fn same_key_as_published(ctx: &Ctx) -> Result<(), ApiError> {
    let Some(r) = ctx.state.store.list_agent_releases()?.into_iter().next() else {
        return Ok(());
    };
    let payload = release_payload(&r.version, &r.platform, &r.arch, &r.sha256, r.size);
    let mine = ctx.state.release_key.public_b64();
    if crate::agents::node_auth::verify_signature(&mine, &payload, &r.signature) {
        return Ok(());
    }
    Err(ApiError::new(
        "ReleaseKeyMismatchException",
        format!(
            "this server's release key ({mine}) did not sign the published releases (agent \
             release {} is signed by another key): every server replica needs the same \
             release-signing.key in its data dir; copy it from the replica that published them",
            r.version
        ),
    ))
}

fn list(ctx: &Ctx, _input: Value) -> Result<Value, ApiError> {
    let releases: Vec<Value> = ctx
        .state
        .store
        .list_agent_releases()?
        .iter()
        .map(shape)
        .collect();
    Ok(json!({
        "Releases": releases,
        "ReleaseKey": ctx.state.release_key.public_b64(),
    }))
}

fn set_default(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let (version, platform, arch) = coordinates(&input)?;
    let store = &ctx.state.store;
    if !store.set_default_agent_release(&version, &platform, &arch)? {
        return Err(ApiError::new(
            "ResourceNotFoundException",
            format!("agent release {version} for {platform}/{arch} was never published"),
        ));
    }
    let stored = store
        .get_agent_release(&version, &platform, &arch)?
        .ok_or_else(|| ApiError::internal("a published release vanished"))?;
    Ok(json!({ "Release": shape(&stored) }))
}

/// `POST /v1/agent-releases?Version=…`: publish with the binary as the body.
pub async fn upload(
    state: State<Arc<AppState>>,
    peer: ConnectInfo<std::net::SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let query: HashMap<String, String> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let request = Request {
        method,
        uri,
        headers,
    };
    let decode = move |_: &HeaderMap, body: &[u8]| {
        let mut input = json!({ "Content": B64.encode(body) });
        for k in ["Version", "Platform", "Arch"] {
            if let Some(v) = query.get(k) {
                input[k] = json!(v);
            }
        }
        if let Some(d) = query.get("Default") {
            input["Default"] = json!(d == "true");
        }
        Ok((operation("PublishAgentRelease")?, input))
    };
    super::pipeline::serve_with_id(state, peer, request, body, &SURFACE, decode).await
}

/// `GET /v1/agent-releases/{version}/{platform}/{arch}`: a release's bytes, for registered
/// nodes only (the request signed with the node's key, see `agents::node_auth`).
pub async fn download(
    State(state): State<Arc<AppState>>,
    Path((version, platform, arch)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let now = crate::state::now_ms() / 1000;
    if let Err(e) =
        crate::agents::node_auth::authenticate_node(&state, &method, &uri, &headers, now).await
    {
        return e.into_response();
    }
    let s = state.clone();
    let found = tokio::task::spawn_blocking(move || {
        let Some(r) = s.store.get_agent_release(&version, &platform, &arch)? else {
            return Ok::<_, anyhow::Error>(None);
        };
        Ok(s.blobs
            .get_release(&r.version, &r.platform, &r.arch, &r.sha256)?)
    })
    .await;
    match found {
        Ok(Ok(Some(bytes))) => (
            StatusCode::OK,
            [("content-type", "application/octet-stream")],
            bytes,
        )
            .into_response(),
        Ok(Ok(None)) => (StatusCode::NOT_FOUND, "no such agent release").into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "reading an agent release failed");
            (StatusCode::SERVICE_UNAVAILABLE, "server error; try again").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "server error; try again").into_response(),
    }
}
