//! Package attachment files over HTTP, Bosun's own endpoints:
//! - `PUT /v1/document-attachments` (SigV4-signed over the body, `ssm:CreateDocument` on
//!   `document/*`): stores the body (at most [`MAX_ATTACHMENT_BYTES`]) under its SHA-256 and
//!   answers `{"SourceUrl": "bosun://attachments/<sha256>", "Hash", "HashType", "Size"}`, the
//!   `SourceUrl` a `CreateDocument`/`UpdateDocument` `Attachments` entry names; audited as
//!   `bosun:UploadDocumentAttachment`.
//! - `GET /v1/document-attachments/<region>/<document>/<version>/<file>` (the `Url` of
//!   `GetDocument`'s `AttachmentsContent`): one file of a package version, for a request
//!   signed by a registered node of that region (`authenticate_node`) or SigV4-signed by a
//!   caller allowed `ssm:GetDocument` on the document. Anything else gets 401/403.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bosun_core::arn::Scope;
use bosun_core::document::MAX_ATTACHMENT_BYTES;
use bosun_store::AttachmentBlobRecord;
use sha2::{Digest, Sha256};

use crate::agents::node_auth::authenticate_node;
use crate::api::auth::{authenticate, authorize, Expect};
use crate::api::error::ApiError;
use crate::api::package_attachments::{manifest_of, UPLOAD_PREFIX};
use crate::documents::{resolve, Selector};
use crate::state::{now_ms, AppState};

const SSM: Expect = Expect {
    service: "ssm",
    signed_target: false,
};

fn too_large() -> Response {
    ApiError::new(
        "InvalidDocumentContent",
        format!(
            "An attachment file may be at most {} MiB.",
            MAX_ATTACHMENT_BYTES >> 20
        ),
    )
    .with_status(StatusCode::PAYLOAD_TOO_LARGE)
    .into_response()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(ApiError::internal(e)))
}

/// `PUT /v1/document-attachments`.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_ATTACHMENT_BYTES) {
        return too_large();
    }
    let Ok(data) = axum::body::to_bytes(body, MAX_ATTACHMENT_BYTES as usize).await else {
        return too_large();
    };
    let st = state.clone();
    let answer = blocking(move || {
        let caller = authenticate(&st, &method, &uri, &headers, &data, now_ms(), SSM)?;
        let scope = Scope::new(caller.region.clone(), st.config.account_id.clone());
        authorize(
            &st,
            &caller,
            "ssm:CreateDocument",
            &scope.ssm_arn("document/*"),
        )?;
        let sha256 = hex::encode(Sha256::digest(&data));
        let size = data.len() as i64;
        st.blobs
            .put_attachment(&sha256, data)
            .map_err(ApiError::internal)?;
        let row = st.store.record_attachment_blob(&AttachmentBlobRecord {
            region: caller.region.clone(),
            sha256: sha256.clone(),
            size,
            uploaded_ms: now_ms(),
        })?;
        st.store.append_audit(&bosun_store::AuditRecord {
            time_ms: now_ms(),
            principal: caller.user.clone(),
            action: "bosun:UploadDocumentAttachment".into(),
            region: caller.region.clone(),
            resource: scope.ssm_arn("document/*"),
            request_id: String::new(),
            source: String::new(),
            outcome: "Allowed".into(),
            detail: serde_json::json!({"Hash": sha256, "Size": size}).to_string(),
        })?;
        tracing::info!(user = %caller.user, sha256 = %sha256, size, "attachment file uploaded");
        Ok(serde_json::json!({
            "SourceUrl": format!("{UPLOAD_PREFIX}{sha256}"),
            "Hash": row.sha256,
            "HashType": "Sha256",
            "Size": row.size,
        }))
    })
    .await;
    match answer {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/document-attachments/<region>/<document>/<version>/<file>`.
pub async fn download(
    State(state): State<Arc<AppState>>,
    Path((region, name, version, file)): Path<(String, String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let not_found = || {
        ApiError::new("InvalidDocument", "No such attachment.").with_status(StatusCode::NOT_FOUND)
    };
    if headers.contains_key(bosun_proto::NODE_ID_HEADER) {
        match authenticate_node(&state, &method, &uri, &headers, now_ms() / 1000).await {
            Ok(node) if node.region == region => {}
            Ok(_) => return not_found().into_response(),
            Err(e) => return e.into_response(),
        }
    } else if headers.contains_key("authorization") {
        let (st, r, n) = (state.clone(), region.clone(), name.clone());
        let checked = blocking(move || {
            let caller = authenticate(&st, &method, &uri, &headers, b"", now_ms(), SSM)?;
            let scope = Scope::new(r.clone(), st.config.account_id.clone());
            authorize(
                &st,
                &caller,
                "ssm:GetDocument",
                &scope.ssm_arn(&format!("document/{n}")),
            )?;
            if caller.region != r {
                return Err(not_found());
            }
            Ok(())
        })
        .await;
        if let Err(e) = checked {
            return e.into_response();
        }
    } else {
        return (
            StatusCode::UNAUTHORIZED,
            "the request is neither SigV4-signed nor signed by a registered managed node",
        )
            .into_response();
    }
    let Ok(number) = version.parse::<i64>() else {
        return not_found().into_response();
    };
    let st = state.clone();
    let bytes = blocking(move || {
        let d = match resolve(&*st.store, &region, &name, Selector::Number(number)) {
            Ok(d) if d.document_type == "Package" => d,
            _ => return Err(not_found()),
        };
        let manifest = manifest_of(&d)?;
        let sha256 = manifest.files.get(&file).ok_or_else(not_found)?;
        st.blobs
            .get_attachment(sha256)
            .map_err(ApiError::internal)?
            .ok_or_else(not_found)
    })
    .await;
    match bytes {
        Ok(b) => (
            StatusCode::OK,
            [("content-type", "application/octet-stream")],
            b,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
