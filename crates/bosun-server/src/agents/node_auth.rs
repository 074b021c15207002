//! A node's identity on plain HTTP requests (agent release and package file downloads): the
//! agent signs method, path, node id and time with its registration key, as it proves itself
//! on its channel. No token, cookie or shared secret: a replica verifies with the stored key.

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_proto::{
    node_request_payload, NODE_DATE_HEADER, NODE_ID_HEADER, NODE_REQUEST_SKEW_SECS,
    NODE_SIGNATURE_HEADER,
};
use bosun_store::InstanceRecord;
use ed25519_dalek::{Signature, VerifyingKey};

use crate::state::AppState;

/// Why a node-signed request was refused; the message never says which check failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeAuthError {
    #[error("the request is not signed by a registered managed node")]
    Unauthenticated,
    #[error("managed node {0} was deregistered")]
    Deregistered(String),
    #[error("server error; try again")]
    Server,
}

impl NodeAuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            NodeAuthError::Unauthenticated => StatusCode::UNAUTHORIZED,
            NodeAuthError::Deregistered(_) => StatusCode::FORBIDDEN,
            NodeAuthError::Server => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl axum::response::IntoResponse for NodeAuthError {
    fn into_response(self) -> axum::response::Response {
        (self.status(), self.to_string()).into_response()
    }
}

/// Whether `signature_b64` is `public_key_b64`'s Ed25519 signature over `payload`.
pub(crate) fn verify_signature(public_key_b64: &str, payload: &[u8], signature_b64: &str) -> bool {
    let Ok(key_bytes) = B64.decode(public_key_b64) else {
        return false;
    };
    let Ok(key_arr) = <[u8; 32]>::try_from(key_bytes.as_slice()) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&key_arr) else {
        return false;
    };
    let Ok(sig_bytes) = B64.decode(signature_b64) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&sig_bytes) else {
        return false;
    };
    key.verify_strict(payload, &sig).is_ok()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The registered, not deregistered node that signed this request within the allowed skew.
pub async fn authenticate_node(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    now_unix: i64,
) -> Result<InstanceRecord, NodeAuthError> {
    let (Some(id), Some(date), Some(signature)) = (
        header(headers, NODE_ID_HEADER),
        header(headers, NODE_DATE_HEADER),
        header(headers, NODE_SIGNATURE_HEADER),
    ) else {
        return Err(NodeAuthError::Unauthenticated);
    };
    let date: i64 = date.parse().map_err(|_| NodeAuthError::Unauthenticated)?;
    if (now_unix - date).abs() > NODE_REQUEST_SKEW_SECS {
        return Err(NodeAuthError::Unauthenticated);
    }
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let payload = node_request_payload(method.as_str(), path, id, date);
    let store = state.store.clone();
    let lookup = id.to_string();
    let record = tokio::task::spawn_blocking(move || store.get_instance(&lookup))
        .await
        .map_err(|_| NodeAuthError::Server)?
        .map_err(|e| {
            tracing::error!(error = %e, "instance lookup failed");
            NodeAuthError::Server
        })?
        .ok_or(NodeAuthError::Unauthenticated)?;
    if !verify_signature(&record.public_key, &payload, signature) {
        return Err(NodeAuthError::Unauthenticated);
    }
    if record.deregistered {
        return Err(NodeAuthError::Deregistered(record.instance_id));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn signatures_verify_only_for_their_payload_and_key() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = B64.encode(key.verifying_key().to_bytes());
        let payload = node_request_payload("GET", "/v1/x?a=1", "mi-1", 100);
        let sig = B64.encode(key.sign(&payload).to_bytes());
        assert!(verify_signature(&public, &payload, &sig));
        let other = node_request_payload("GET", "/v1/x?a=2", "mi-1", 100);
        assert!(!verify_signature(&public, &other, &sig));
        let stranger = B64.encode(
            SigningKey::from_bytes(&[8u8; 32])
                .verifying_key()
                .to_bytes(),
        );
        assert!(!verify_signature(&stranger, &payload, &sig));
        assert!(!verify_signature("not base64", &payload, &sig));
    }
}
