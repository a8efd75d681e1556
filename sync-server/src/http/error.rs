//! Errors of the HTTP API, answered as `{"error": "..."}` with a status code, and every
//! conversion into one: the layers below (auth, the document's life, the store) know nothing
//! of HTTP, and each of their errors maps to a status here, once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::auth::Refusal;
use crate::document::{ChangeError, LoadError, NotSaved, Unwritable};
use crate::protocol::ProtocolError;

/// An HTTP error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    reasons: Vec<doc_model::Invalid>,
    /// Seconds for a `Retry-After` header (503s the client should retry).
    retry_after: Option<u64>,
}

impl ApiError {
    /// 400: the request is wrong.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            reasons: Vec::new(),
            retry_after: None,
        }
    }

    /// 400 with every reason a trip was refused (`{"error", "reasons": [{path, error}]}`).
    pub fn invalid(message: impl Into<String>, reasons: Vec<doc_model::Invalid>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            reasons,
            retry_after: None,
        }
    }

    /// An error with any status.
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            reasons: Vec::new(),
            retry_after: None,
        }
    }

    /// 503 with `Retry-After: seconds`: the server cannot do it now, but will.
    pub fn unavailable(message: impl Into<String>, seconds: u64) -> ApiError {
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::with_status(StatusCode::SERVICE_UNAVAILABLE, message)
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 404: no such trip.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            reasons: Vec::new(),
            retry_after: None,
        }
    }

    /// 500: the server failed (the store, usually); details go to the log.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
            reasons: Vec::new(),
            retry_after: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = if self.reasons.is_empty() {
            serde_json::json!({ "error": self.message })
        } else {
            serde_json::json!({ "error": self.message, "reasons": self.reasons })
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        ApiError::with_status(r.status, r.message)
    }
}

impl From<LoadError> for ApiError {
    fn from(e: LoadError) -> ApiError {
        match e {
            LoadError::Store(e) => e.into(),
            LoadError::AtCapacity(_) => {
                ApiError::with_status(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
        }
    }
}

/// A refused change: too large 413, a bad update 400, the store failing 500, a room that
/// kept closing 503.
impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> ApiError {
        match e {
            ChangeError::Load(e) => e.into(),
            ChangeError::Protocol(e @ ProtocolError::DocumentTooLarge { .. }) => {
                ApiError::with_status(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
            }
            ChangeError::Protocol(e) => ApiError::bad_request(e.to_string()),
            ChangeError::Unwritable(e) => e.into(),
            ChangeError::Closed => ApiError::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "the trip is being unloaded, try again",
            ),
        }
    }
}

impl From<persistence::StoreError> for ApiError {
    fn from(e: persistence::StoreError) -> ApiError {
        tracing::error!(error = %e, "storage error in an API request");
        if e.is_engine_failure() {
            return ApiError::unavailable(
                format!("the store failed ({e}); this server will restart"),
                RETRY_UNWRITABLE_SECS,
            );
        }
        ApiError::internal("storage error")
    }
}

/// Seconds a client is told to wait before writing again to a server that takes no writes
/// (low on space: until someone frees it; failed: until the supervisor has restarted it).
const RETRY_UNWRITABLE_SECS: u64 = 30;
/// Seconds a client is told to wait after a "saved" wait that timed out.
const RETRY_NOT_SAVED_SECS: u64 = 5;

/// A store that takes no writes: 503 with `Retry-After` and the reason.
impl From<Unwritable> for ApiError {
    fn from(e: Unwritable) -> ApiError {
        ApiError::unavailable(e.to_string(), RETRY_UNWRITABLE_SECS)
    }
}

/// A write that was applied but is not known to be durable: 503 with `Retry-After` (sending
/// the same update again is harmless: Yjs updates are idempotent).
impl From<NotSaved> for ApiError {
    fn from(e: NotSaved) -> ApiError {
        let seconds = match e {
            NotSaved::Unwritable(_) | NotSaved::NotStored | NotSaved::StoreFailed(_) => {
                RETRY_UNWRITABLE_SECS
            }
            NotSaved::TimedOut(_) => RETRY_NOT_SAVED_SECS,
        };
        ApiError::unavailable(e.to_string(), seconds)
    }
}
