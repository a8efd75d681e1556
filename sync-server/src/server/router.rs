//! Every route of the server, in one table: the HTTP API (`http`), the WebSocket endpoint
//! (`ws`) and, for any other path, the family app.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::http::{backup, events, health, tokens, trips, updates, web_app};
use crate::state::AppState;
use crate::ws;

/// The router over `app`; any path without a route is a file of the family app, when served.
pub fn router(app: AppState) -> Router {
    let body_limit = app.config().max_body_bytes;
    let web_root = app.config().web_root.clone();
    let routes = Router::new()
        .route("/sync/{*trip}", get(ws::sync_handler))
        .route(
            "/api/trips",
            get(trips::list_trips).post(trips::create_trip),
        )
        .route("/api/trips/sample", post(trips::create_sample))
        .route(
            "/api/trips/{trip}/update",
            get(updates::get_update).post(updates::post_update),
        )
        .route(
            "/api/trips/{trip}",
            get(trips::get_trip).delete(trips::delete_trip),
        )
        .route("/api/events", get(events::event_stream))
        .route("/api/tokens", post(tokens::mint_token))
        .route("/api/backup", get(backup::get_backup))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .layer(axum::middleware::map_response_with_state(
            app.clone(),
            web_app::explain_body_limit,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(app);
    match web_root {
        Some(root) => routes.fallback_service(web_app::web_app(&root)),
        None => routes,
    }
}
