//! A trip as binary Yjs updates over HTTP, for servers and scripts that do not keep a
//! WebSocket open: read it whole or as a diff (`GET /api/trips/{id}/update`), change it
//! (`POST /api/trips/{id}/update`, answered once durable).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Deserialize;
use yrs::updates::decoder::Decode;
use yrs::StateVector;

use super::error::ApiError;
use super::trips::trip_id;
use crate::auth::{Action, Credentials};
use crate::document::{ChangeError, Origin};
use crate::state::AppState;

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
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the body must be a binary Yjs update (lib0 v1)",
        ));
    }
    let origin = Origin::Rest {
        user: access.user().to_owned(),
    };
    let (_, changed) = app
        .rooms
        .with_room(&trip, |room| room.apply(&body, &origin))
        .await
        .inspect_err(|e| {
            if let ChangeError::Protocol(refused) = e {
                app.metrics().error(refused.kind());
                tracing::warn!(trip = %trip, user = access.user(), reason = %refused, "refused an update");
            }
        })?;
    if let Some(ticket) = changed.persisted {
        app.saved(ticket).await?;
    }
    Ok(Json(serde_json::json!({ "saved": true, "bytes": body.len() })).into_response())
}
