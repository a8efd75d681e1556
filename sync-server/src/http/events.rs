//! `GET /api/events`: the trip event feed as Server-Sent Events (`docs/protocol.md`): an
//! `opened` event for every trip open now, then events as they happen.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use caravan_wire::TripEvent;
use futures_util::stream::{self, Stream, StreamExt};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use super::error::ApiError;
use crate::auth::{Action, Credentials};
use crate::state::AppState;

/// How often an idle feed sends a comment, so that proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /api/events` (the admin key, or an assistant token for every trip).
pub async fn event_stream(
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    app.authorize(&credentials, Action::Events, None)?;
    // Subscribe first, then list: an opening between the two shows up twice, never not at all.
    let live = BroadcastStream::new(app.rooms.events().subscribe()).map(|item| match item {
        Ok(event) => event,
        Err(BroadcastStreamRecvError::Lagged(missed)) => TripEvent::Lagged { missed },
    });
    let open_now: Vec<TripEvent> = app
        .rooms
        .all()
        .into_iter()
        .filter(|room| room.people_count() > 0)
        .map(|room| TripEvent::Opened {
            trip: room.trip.to_string(),
        })
        .collect();
    let events = stream::iter(open_now).chain(live).map(|event| {
        Ok(Event::default()
            .event(event.name())
            .json_data(&event)
            .expect("events serialize"))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
