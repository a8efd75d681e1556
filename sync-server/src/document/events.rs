//! The trip event feed: which trips have people in them, and when trips change
//! (`caravan_wire::TripEvent`). Rooms publish to it; `GET /api/events` (in `http`) streams it,
//! and the assistant follows it to join a trip when people open it.

use tokio::sync::broadcast;

pub use caravan_wire::TripEvent;

/// Events kept for a slow subscriber before it is told it lagged.
const BACKLOG: usize = 4096;

/// Sends trip events to whoever subscribed. Sending costs nothing when nobody listens.
pub struct EventFeed {
    /// Every event (`GET /api/events`).
    sender: broadcast::Sender<TripEvent>,
    /// Only trips opening and closing, for the assistant inside the server: a change to a
    /// trip (an event per update) costs it nothing.
    openings: broadcast::Sender<TripEvent>,
}

impl Default for EventFeed {
    fn default() -> Self {
        EventFeed {
            sender: broadcast::channel(BACKLOG).0,
            openings: broadcast::channel(BACKLOG).0,
        }
    }
}

impl EventFeed {
    /// Publishes a trip's opening or closing to every subscriber (if there is one); `event`
    /// is only built then.
    pub fn publish(&self, event: impl FnOnce() -> TripEvent) {
        let (all, openings) = (
            self.sender.receiver_count() > 0,
            self.openings.receiver_count() > 0,
        );
        if !all && !openings {
            return;
        }
        let event = event();
        if openings && !matches!(event, TripEvent::Changed { .. }) {
            let _ = self.openings.send(event.clone());
        }
        if all {
            let _ = self.sender.send(event);
        }
    }

    /// Publishes that `trip` changed, to the subscribers of every event only.
    pub fn publish_changed(&self, trip: &impl std::fmt::Display) {
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(TripEvent::Changed {
                trip: trip.to_string(),
            });
        }
    }

    /// A new subscription to every event.
    pub fn subscribe(&self) -> broadcast::Receiver<TripEvent> {
        self.sender.subscribe()
    }

    /// A new subscription to trips opening and closing only.
    pub fn subscribe_openings(&self) -> broadcast::Receiver<TripEvent> {
        self.openings.subscribe()
    }
}
