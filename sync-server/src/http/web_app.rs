//! The family app's files, served at `/` when built, and the JSON answer to a request body
//! over `--max-body-bytes`.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::error::ApiError;
use crate::state::AppState;

/// The family app's files. Each answer says `Cache-Control: no-cache`, so that browsers
/// revalidate (cheaply, by `Last-Modified`) and a new service worker is found at once; the
/// service worker itself serves the app offline.
pub fn web_app(root: &std::path::Path) -> Router {
    Router::new()
        .fallback_service(tower_http::services::ServeDir::new(root))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            ),
        )
}

/// Turns axum's bare 413 (a body over `--max-body-bytes`) into a JSON error that says the
/// limit, and counts it.
pub async fn explain_body_limit(State(app): State<AppState>, response: Response) -> Response {
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/json"))
    {
        return response;
    }
    app.metrics().error("body_too_big");
    tracing::warn!(
        limit = app.config().max_body_bytes,
        "refused a request body over the limit"
    );
    ApiError::with_status(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request body is too big: the limit is {} bytes",
            app.config().max_body_bytes
        ),
    )
    .into_response()
}
