//! The HTTP API: trips as binary Yjs updates, health, readiness and metrics.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use persistence::TripId;
use serde::{Deserialize, Serialize};
use yrs::updates::decoder::Decode;
use yrs::StateVector;

use crate::app::AppState;
use crate::auth::{Action, Credentials};
use crate::http_error::ApiError;
use crate::room::ReceiveError;

fn trip_id(raw: &str) -> Result<TripId, ApiError> {
    TripId::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// One trip in `GET /api/trips`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TripListing {
    id: String,
    /// Bytes stored (snapshot and log).
    bytes: u64,
    /// Updates in the log, not yet compacted.
    log_len: u64,
    /// Newest stored change, ms since the Unix epoch.
    updated_at: u64,
    /// Open connections.
    connections: usize,
}

/// `GET /api/trips`: every stored trip with its size and last change.
pub async fn list_trips(
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<Json<Vec<TripListing>>, ApiError> {
    app.authorize(&credentials, Action::List, None)?;
    let store = app.store().clone();
    let trips = tokio::task::spawn_blocking(move || store.list())
        .await
        .map_err(|_| ApiError::internal("listing failed"))??;
    Ok(Json(
        trips
            .into_iter()
            .map(|t| TripListing {
                connections: app.rooms.loaded(&t.id).map_or(0, |r| r.connection_count()),
                id: t.id.to_string(),
                bytes: t.bytes,
                log_len: t.log_len,
                updated_at: t.updated_at_ms,
            })
            .collect(),
    ))
}

/// Query of `GET /api/trips/{id}/update`.
#[derive(Deserialize)]
pub struct StateQuery {
    /// Base64 of a lib0 v1 state vector: answer only what it lacks.
    sv: Option<String>,
}

fn decode_state_vector(text: &str) -> Result<StateVector, ApiError> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    // A '+' left unescaped in a query string arrives as a space.
    let text = text.trim().replace(' ', "+");
    let bytes = STANDARD
        .decode(&text)
        .or_else(|_| URL_SAFE.decode(&text))
        .or_else(|_| URL_SAFE_NO_PAD.decode(&text))
        .map_err(|_| ApiError::bad_request("sv is not base64"))?;
    StateVector::decode_v1(&bytes)
        .map_err(|e| ApiError::bad_request(format!("sv is not a state vector: {e}")))
}

/// `GET /api/trips/{id}/update[?sv=...]`: the trip as one binary Yjs update (lib0 v1).
pub async fn get_update(
    Path(id): Path<String>,
    Query(query): Query<StateQuery>,
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let trip = trip_id(&id)?;
    app.authorize(&credentials, Action::Read, Some(&trip))?;
    let sv = query.sv.as_deref().map(decode_state_vector).transpose()?;
    let room = app.rooms.load(&trip).await?;
    if room.is_empty() {
        // Nothing stored and nothing written: not a trip (the idle room unloads soon).
        return Err(ApiError::not_found(format!("no trip {trip}")));
    }
    let update = room.encode_state(sv.as_ref());
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], update).into_response())
}

/// `POST /api/trips/{id}/update`: applies a binary Yjs update, relays it to every connected
/// client, and answers once it is durable.
pub async fn post_update(
    Path(id): Path<String>,
    State(app): State<AppState>,
    credentials: Credentials,
    body: Bytes,
) -> Result<Response, ApiError> {
    let trip = trip_id(&id)?;
    let access = app.authorize(&credentials, Action::Write, Some(&trip))?;
    let origin = format!("rest:{}", access.user());
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the body must be a binary Yjs update (lib0 v1)",
        ));
    }
    // A room unloaded between lookup and apply refuses the update: look it up again.
    let mut attempts = 0;
    let ticket = loop {
        let room = app.rooms.load(&trip).await?;
        match room.apply_update(&body, &origin) {
            Ok(ticket) => break ticket,
            Err(ReceiveError::Closed) if attempts < 10 => attempts += 1,
            Err(ReceiveError::Closed) => {
                return Err(ApiError::internal("the trip is being unloaded, try again"))
            }
            Err(ReceiveError::Protocol(e)) => {
                app.metrics().error(e.kind());
                tracing::warn!(trip = %trip, user = access.user(), reason = %e, "refused an update");
                return Err(match e {
                    crate::protocol::ProtocolError::DocumentTooLarge { .. } => {
                        ApiError::with_status(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
                    }
                    _ => ApiError::bad_request(e.to_string()),
                });
            }
            Err(ReceiveError::Storage(e)) => return Err(e.into()),
        }
    };
    if let Some(ticket) = ticket {
        app.rooms.services().commit.wait(ticket).await;
    }
    Ok(Json(serde_json::json!({ "saved": true, "bytes": body.len() })).into_response())
}

/// `DELETE /api/trips/{id}`: closes the trip's connections and erases it.
pub async fn delete_trip(
    Path(id): Path<String>,
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<StatusCode, ApiError> {
    let trip = trip_id(&id)?;
    let access = app.authorize(&credentials, Action::Delete, Some(&trip))?;
    tracing::info!(trip = %trip, user = access.user(), "deleting a trip");
    if app.rooms.delete(&trip).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no trip {trip}")))
    }
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: the store answers.
pub async fn readyz(State(app): State<AppState>) -> Response {
    match app.store_answers().await {
        Ok(_) => (StatusCode::OK, "ready\n").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response(),
    }
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(app): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics().render(),
    )
        .into_response()
}
