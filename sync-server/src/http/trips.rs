//! Trips as resources: list them (`GET /api/trips`), read one as JSON (`GET
//! /api/trips/{id}`), create one from JSON (`POST /api/trips`) or from the sample (`POST
//! /api/trips/sample`), delete one (`DELETE /api/trips/{id}`).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use doc_model::{encode_trip, read_trip, trip_from_view, trip_view, validate_trip, Trip};
use persistence::{DocStore, TripId};
use serde::Serialize;

use super::error::ApiError;
use crate::auth::{Action, Credentials};
use crate::document::Origin;
use crate::state::AppState;

/// A trip id from the path, or 400.
pub fn trip_id(raw: &str) -> Result<TripId, ApiError> {
    TripId::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// One trip in `GET /api/trips`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TripListing {
    id: String,
    /// The trip's size as its limit counts it: for a loaded trip, at most its real size (the
    /// state a new client downloads) plus what came since; otherwise what the store holds.
    bytes: u64,
    /// Bytes the store holds (snapshot and log, garbage of the log included).
    stored_bytes: u64,
    /// Updates in the log, not yet compacted.
    log_len: u64,
    /// Newest stored change, ms since the Unix epoch.
    updated_at: u64,
    /// Open connections.
    connections: usize,
    /// Whether the assistant inside the server is in the trip now (it attaches to the room:
    /// it is not one of the connections).
    assistant: bool,
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
            .map(|t| {
                let room = app.rooms.loaded(&t.id);
                TripListing {
                    connections: room.as_ref().map_or(0, |r| r.connection_count()),
                    assistant: room.as_ref().is_some_and(|r| r.is_watched()),
                    id: t.id.to_string(),
                    bytes: room
                        .as_ref()
                        .map_or(t.bytes, |r| (r.size() as u64).min(t.bytes)),
                    stored_bytes: t.bytes,
                    log_len: t.log_len,
                    updated_at: t.updated_at_ms,
                }
            })
            .collect(),
    ))
}

/// `GET /api/trips/{id}`: the trip's JSON view. Fields no client could read are left out; the
/// header `x-caravan-skipped` counts them.
pub async fn get_trip(
    Path(id): Path<String>,
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let trip = trip_id(&id)?;
    app.authorize(&credentials, Action::Read, Some(&trip))?;
    let room = app.rooms.load(&trip).await?;
    let read = room.read(read_trip);
    let Some(view) = read.trip else {
        return Err(ApiError::not_found(format!("no trip {trip}")));
    };
    if !read.skipped.is_empty() {
        tracing::info!(trip = %trip, skipped = ?read.skipped, "read a trip with unreadable fields");
    }
    let mut response = Json(trip_view(&view)).into_response();
    response
        .headers_mut()
        .insert("x-caravan-skipped", HeaderValue::from(read.skipped.len()));
    Ok(response)
}

/// `POST /api/trips`: creates a trip from its JSON view; 400 with every reason if it is not
/// valid. Answers `201 {"id": ...}` once the trip is durable.
pub async fn create_trip(
    State(app): State<AppState>,
    credentials: Credentials,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let access = app.authorize(&credentials, Action::Create, None)?;
    let trip: Trip = serde_json::from_slice(&body)
        .and_then(trip_from_view)
        .map_err(|e| ApiError::bad_request(format!("the body is not a trip: {e}")))?;
    create(&app, &trip, access.user()).await
}

/// `POST /api/trips/sample`: creates the sample trip, starting two weeks from today.
pub async fn create_sample(
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let access = app.authorize(&credentials, Action::Create, None)?;
    let start = chrono::Utc::now().date_naive() + chrono::Duration::days(14);
    create(&app, &doc_model::sample::sample_trip(start), access.user()).await
}

async fn create(app: &AppState, trip: &Trip, user: &str) -> Result<Response, ApiError> {
    let problems = validate_trip(trip);
    if !problems.is_empty() {
        return Err(ApiError::invalid("the trip is not valid", problems));
    }
    let update = encode_trip(trip)
        .map_err(|problems| ApiError::invalid("the trip is not valid", problems))?;
    let id = TripId::parse(&uuid::Uuid::new_v4().simple().to_string())
        .expect("a uuid is a valid trip id");
    let origin = Origin::Rest {
        user: user.to_owned(),
    };
    let (_, changed) = app
        .rooms
        .with_room(&id, |room| room.apply(&update, &origin))
        .await?;
    if let Some(ticket) = changed.persisted {
        app.saved(ticket).await?;
    }
    tracing::info!(trip = %id, title = %trip.meta.title, "created a trip");
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "id": id.to_string() })),
    )
        .into_response())
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
