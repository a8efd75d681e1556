//! For supervisors and dashboards: `GET /healthz` (the process answers), `GET /readyz` (the
//! store takes writes and answers reads) and `GET /metrics` (Prometheus text).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: 200 "ready" only while an update can become durable: the store has not
/// failed, the disk is above `--min-free-bytes`, and the store answers a read; otherwise 503
/// with the reason (never "ready" while writes are refused).
pub async fn readyz(State(app): State<AppState>) -> Response {
    let unavailable =
        |reason: String| (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")).into_response();
    if let Err(unwritable) = app.writable() {
        return unavailable(format!("not ready: {unwritable}"));
    }
    match app.store_answers().await {
        Ok(_) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => unavailable(format!("store unavailable: {e}")),
    }
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(app): State<AppState>) -> Response {
    // The store's health as of now (free space is measured every second, and more often
    // while writes are heavy).
    let health = &app.rooms.services().health;
    if let Some(free) = health.free_bytes() {
        app.metrics().data_free_bytes.set(free as i64);
    }
    app.metrics()
        .store_failed
        .set(health.failure().is_some() as i64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics().render(),
    )
        .into_response()
}
