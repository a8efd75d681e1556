//! The trip event feed: who is in which trip, and when trips change. The assistant follows
//! it to join a trip when people open it and to leave when the last one leaves
//! (`GET /api/events`, Server-Sent Events; see `docs/protocol.md`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use crate::app::AppState;

/// Events kept for a slow subscriber before it is told it lagged.
const BACKLOG: usize = 4096;

/// A moment of a trip's life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum TripEvent {
    /// The first connection joined the trip.
    Opened { trip: String },
    /// An update was applied and logged (from a connection or the API).
    Changed { trip: String },
    /// The last connection left the trip.
    Closed { trip: String },
    /// This subscriber fell behind and missed `missed` events: it should look at every trip
    /// it cares about again.
    Lagged { missed: u64 },
}

/// Sends trip events to whoever subscribed. Sending costs nothing when nobody listens.
pub struct EventFeed {
    sender: broadcast::Sender<TripEvent>,
}

impl Default for EventFeed {
    fn default() -> Self {
        EventFeed {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl EventFeed {
    /// Publishes an event to every subscriber (if there is one).
    pub fn publish(&self, event: impl FnOnce() -> TripEvent) {
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(event());
        }
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<TripEvent> {
        self.sender.subscribe()
    }
}

/// `GET /api/events`: an `opened` event for every trip open now, then events as they happen.
pub async fn event_stream(
    State(app): State<AppState>,
    credentials: crate::auth::Credentials,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, crate::http_error::ApiError> {
    app.authorize(&credentials, crate::auth::Action::Events, None)?;
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
            .event(match &event {
                TripEvent::Opened { .. } => "opened",
                TripEvent::Changed { .. } => "changed",
                TripEvent::Closed { .. } => "closed",
                TripEvent::Lagged { .. } => "lagged",
            })
            .json_data(&event)
            .expect("events serialize"))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
