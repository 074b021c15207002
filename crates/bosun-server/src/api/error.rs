//! The one place that turns failures into AWS JSON 1.1 error responses
//! (`{"__type": "...", "message": "..."}` with the HTTP status SDKs expect).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The exception name, e.g. `InvalidInstanceId`.
    pub code: &'static str,
    pub message: String,
    pub status: StatusCode,
}

/// Exceptions whose model member is `message` (lower case); most SSM exceptions use `Message`.
/// Protocol-level exceptions (signature, access, validation) are lower case too, and so are
/// EventBridge's (its model's exceptions have no members; AWS and its clients use `message`).
const LOWER_CASE_MESSAGE: &[&str] = &[
    "AccessDeniedException",
    "ConcurrentModificationException",
    "HierarchyLevelLimitExceededException",
    "HierarchyTypeMismatchException",
    "IncompatiblePolicyException",
    "IncompleteSignatureException",
    "InternalException",
    "InvalidAllowedPatternException",
    "InvalidEventPatternException",
    "InvalidFilterOption",
    "InvalidInstanceInformationFilterValue",
    "InvalidKeyId",
    "InvalidPolicyAttributeException",
    "InvalidPolicyTypeException",
    "InvalidSignatureException",
    "LimitExceededException",
    "ManagedRuleException",
    "MissingAuthenticationTokenException",
    "ParameterAlreadyExists",
    "ParameterLimitExceeded",
    "ParameterMaxVersionLimitExceeded",
    "ParameterNotFound",
    "ParameterPatternMismatchException",
    "ParameterVersionLabelLimitExceeded",
    "ParameterVersionNotFound",
    "PoliciesLimitExceededException",
    "RequestEntityTooLargeException",
    "SerializationException",
    "ThrottlingException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "UnsupportedParameterType",
    "ValidationException",
];

impl ApiError {
    /// A client error (HTTP 400) with the given exception name.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }

    pub fn access_denied(principal: &str, action: &str, resource: &str) -> Self {
        Self::new(
            "AccessDeniedException",
            format!(
                "User: {principal} is not authorized to perform: {action} on resource: {resource}"
            ),
        )
    }

    /// A server failure: the cause is logged, the caller sees a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self {
            code: "InternalServerError",
            message: "An internal error occurred; see the server log.".into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The JSON body AWS clients parse.
    pub fn body(&self) -> String {
        let member = if LOWER_CASE_MESSAGE.contains(&self.code) {
            "message"
        } else {
            "Message"
        };
        serde_json::json!({ "__type": self.code, member: self.message }).to_string()
    }
}

impl From<bosun_store::StoreError> for ApiError {
    fn from(e: bosun_store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            [
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amzn-errortype", self.code),
            ],
            self.body(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_casing_follows_the_model() {
        let lower = ApiError::new("InvalidInstanceInformationFilterValue", "x").body();
        assert!(lower.contains(r#""message":"x""#), "{lower}");
        let upper = ApiError::new("InvalidActivation", "y").body();
        assert!(upper.contains(r#""Message":"y""#), "{upper}");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ApiError::internal("disk on fire at /secret/path");
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.body().contains("/secret/path"));
    }
}
