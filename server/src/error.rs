//! The one error type every HTTP handler returns, rendered as
//! `{"error_type": …, "message": …}` with a fitting 4xx/5xx status.
//! Internal causes are logged with the request's span and never sent to clients.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::InvalidValue;
use crate::store::StoreError;

/// What went wrong, sorted by what the client should do next.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request could not be read (malformed JSON, bad path or query).
    #[error("{0}")]
    BadRequest(String),
    /// The request was read but a value in it is not acceptable.
    #[error("{0}")]
    Validation(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials without the needed role.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing by that id for this tenant.
    #[error("{0}")]
    NotFound(String),
    /// The change collides with what is stored (for example a duplicate email).
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than the {limit} byte limit")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A dependency (Postgres, Redis) is not answering.
    #[error("{0}")]
    Unavailable(String),
    /// A tool ran and failed (a source refused the connection, a scan broke).
    #[error("{0}")]
    ToolFailed(String),
    /// The work did not finish within its time limit.
    #[error("{0}")]
    Timeout(String),
    /// Too many requests in the current window.
    #[error("{0}")]
    RateLimited(String),
    /// A bug or an unexpected failure; the cause is logged, not shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable kind, e.g. `validation_error`.
    pub error_type: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }

    fn status_and_type(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_error"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::ToolFailed(_) => (StatusCode::BAD_GATEWAY, "tool_failed"),
            ApiError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl ApiError {
    /// The error type and the message a client may see (internal causes are
    /// logged here and hidden).
    pub fn public(&self) -> (&'static str, String) {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        (self.status_and_type().1, self.to_string())
    }

    pub fn status(&self) -> StatusCode {
        self.status_and_type().0
    }
}

/// Renders an error body with the given status; used by fallbacks and layers too.
pub fn error_response(status: StatusCode, error_type: &'static str, message: String) -> Response {
    (
        status,
        axum::Json(ErrorBody {
            error_type,
            message,
        }),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error_type) = self.status_and_type();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        error_response(status, error_type, self.to_string())
    }
}

impl From<InvalidValue> for ApiError {
    fn from(err: InvalidValue) -> Self {
        ApiError::Validation(err.0)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Conflict(message) => ApiError::Conflict(message),
            StoreError::Database(e) => ApiError::Internal(e.into()),
        }
    }
}

impl From<knowledge::KnowledgeError> for ApiError {
    fn from(err: knowledge::KnowledgeError) -> Self {
        use knowledge::KnowledgeError as K;
        use knowledge::embed::EmbedError;
        use knowledge::parse::ParseError;
        match err {
            K::Parse(ParseError::Unsupported(message)) => ApiError::UnsupportedMediaType(message),
            K::Parse(e) => ApiError::Validation(e.to_string()),
            K::Invalid(message) => ApiError::Validation(message),
            K::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            e @ K::ModelMismatch { .. } => ApiError::Conflict(e.to_string()),
            K::Conflict(message) => ApiError::Conflict(message),
            K::Embed(EmbedError::Transient(message)) => {
                ApiError::Unavailable(format!("the embedding service is unavailable: {message}"))
            }
            e @ K::Embed(_) => ApiError::Internal(e.into()),
            K::Database(e) => ApiError::Internal(e.into()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => ApiError::Validation(format!(
                "request body does not match the expected shape: {}",
                e.body_text().trim_start_matches(
                    "Failed to deserialize the JSON body into the target type: "
                )
            )),
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(format!(
                "request body is not valid JSON: {}",
                e.body_text()
                    .trim_start_matches("Failed to parse the request body as JSON: ")
            )),
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "expected a request with `Content-Type: application/json`".into(),
            ),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(format!("invalid path: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(format!("invalid query string: {}", rejection.body_text()))
    }
}

impl From<tools::DecideError> for ApiError {
    fn from(err: tools::DecideError) -> Self {
        use tools::DecideError as D;
        match err {
            D::NotFound => ApiError::NotFound("approval not found".into()),
            e @ D::Denied { .. } => ApiError::Forbidden(e.to_string()),
            e @ D::AlreadyDecided(_) => ApiError::Conflict(e.to_string()),
            D::Database(e) => ApiError::Internal(e.into()),
        }
    }
}
