//! The trip as JSON over HTTP: read it (`GET /api/trips/{id}`), create one from JSON
//! (`POST /api/trips`) or from the sample (`POST /api/trips/sample`).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use doc_model::{read_trip, validate_trip, Trip, TripDoc};
use persistence::TripId;
use yrs::{Doc, ReadTxn, StateVector, Transact};

use crate::app::AppState;
use crate::auth::{Action, Credentials};
use crate::http_error::ApiError;
use crate::room::ReceiveError;

/// `GET /api/trips/{id}`: the trip's JSON view. Fields no client could read are left out; the
/// header `x-caravan-skipped` counts them.
pub async fn get_trip(
    Path(id): Path<String>,
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let trip = TripId::parse(&id).map_err(|e| ApiError::bad_request(e.to_string()))?;
    app.authorize(&credentials, Action::Read, Some(&trip))?;
    let room = app.rooms.load(&trip).await?;
    let read = room.read(read_trip);
    let Some(view) = read.trip else {
        return Err(ApiError::not_found(format!("no trip {trip}")));
    };
    if !read.skipped.is_empty() {
        tracing::info!(trip = %trip, skipped = ?read.skipped, "read a trip with unreadable fields");
    }
    let mut response = Json(view).into_response();
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
    app.authorize(&credentials, Action::Create, None)?;
    let trip: Trip = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a trip: {e}")))?;
    create(&app, &trip).await
}

/// `POST /api/trips/sample`: creates the sample trip, starting two weeks from today.
pub async fn create_sample(
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    app.authorize(&credentials, Action::Create, None)?;
    let start = chrono::Utc::now().date_naive() + chrono::Duration::days(14);
    create(&app, &doc_model::sample::sample_trip(start)).await
}

async fn create(app: &AppState, trip: &Trip) -> Result<Response, ApiError> {
    let problems = validate_trip(trip);
    if !problems.is_empty() {
        return Err(ApiError::invalid("the trip is not valid", problems));
    }
    let update = encode_trip(trip)
        .map_err(|problems| ApiError::invalid("the trip is not valid", problems))?;
    let id = TripId::parse(&uuid::Uuid::new_v4().simple().to_string())
        .expect("a uuid is a valid trip id");
    let room = app.rooms.load(&id).await?;
    let ticket = match room.apply_update(&update, "rest:create") {
        Ok(ticket) => ticket,
        Err(ReceiveError::Protocol(e)) => {
            return Err(ApiError::internal(format!("encoding the trip failed: {e}")))
        }
        Err(ReceiveError::Storage(e)) => return Err(e.into()),
        Err(ReceiveError::Closed) => {
            return Err(ApiError::internal("the new trip's room closed; try again"))
        }
    };
    if let Some(ticket) = ticket {
        app.rooms.services().commit.wait(ticket).await;
    }
    tracing::info!(trip = %id, title = %trip.meta.title, "created a trip");
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "id": id.to_string() })),
    )
        .into_response())
}

/// A whole trip as one Yjs update (lib0 v1), written through `doc_model`.
pub fn encode_trip(trip: &Trip) -> Result<Vec<u8>, Vec<doc_model::Invalid>> {
    let doc = Doc::new();
    TripDoc::new(doc.clone()).import("import", trip)?;
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    Ok(update)
}
