//! The one place that turns failures into AWS's error responses: JSON 1.1 / REST-JSON
//! (`{"__type": "...", "message": "..."}` with the HTTP status SDKs expect) and the query
//! protocol's XML (`<ErrorResponse><Error><Type>…<Code>…<Message>…</Error><RequestId>…`).

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

/// Protocol-level errors under the names and statuses the query protocol's services use
/// (the JSON names are the SSM ones).
const QUERY_PROTOCOL_CODES: &[(&str, &str, StatusCode)] = &[
    (
        "AccessDeniedException",
        "AuthorizationError",
        StatusCode::FORBIDDEN,
    ),
    (
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        StatusCode::FORBIDDEN,
    ),
    (
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        StatusCode::FORBIDDEN,
    ),
    (
        "MissingAuthenticationTokenException",
        "MissingAuthenticationToken",
        StatusCode::FORBIDDEN,
    ),
    (
        "IncompleteSignatureException",
        "IncompleteSignature",
        StatusCode::BAD_REQUEST,
    ),
    (
        "InternalServerError",
        "InternalError",
        StatusCode::INTERNAL_SERVER_ERROR,
    ),
    ("ThrottlingException", "Throttling", StatusCode::BAD_REQUEST),
];

impl ApiError {
    /// The HTTP status and error code this error has in the query protocol.
    pub fn query_status_and_code(&self) -> (StatusCode, &'static str) {
        match QUERY_PROTOCOL_CODES
            .iter()
            .find(|(json, ..)| *json == self.code)
        {
            Some((_, code, status)) if self.status != StatusCode::TOO_MANY_REQUESTS => {
                (*status, code)
            }
            _ => (self.status, self.code),
        }
    }

    /// The query protocol's XML error document.
    pub fn query_body(&self, xmlns: &str, request_id: &str) -> String {
        let (status, code) = self.query_status_and_code();
        let kind = if status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        format!(
            "<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>{kind}</Type><Code>{code}</Code>\
             <Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            super::query::escape(&self.message)
        )
    }

    /// The query protocol's error response.
    pub fn query_response(self, xmlns: &str, request_id: &str) -> Response {
        let (status, _) = self.query_status_and_code();
        (
            status,
            [("content-type", "text/xml")],
            self.query_body(xmlns, request_id),
        )
            .into_response()
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
    fn query_errors_use_the_query_names_and_escape_the_message() {
        let denied = ApiError::access_denied("alice", "sns:Publish", "arn:aws:sns:r:1:t");
        let body = denied.query_body("urn:x", "rid");
        assert!(
            body.contains("<Type>Sender</Type><Code>AuthorizationError</Code>"),
            "{body}"
        );
        assert_eq!(denied.query_status_and_code().0, StatusCode::FORBIDDEN);
        let odd = ApiError::new("InvalidParameter", "a <b> & c").query_body("urn:x", "rid");
        assert!(
            odd.contains("<Message>a &lt;b&gt; &amp; c</Message>"),
            "{odd}"
        );
        assert!(odd.contains("<RequestId>rid</RequestId>"), "{odd}");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ApiError::internal("disk on fire at /secret/path");
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.body().contains("/secret/path"));
    }
}
