//! The trip event feed: which trips have people in them, and when trips change
//! (`caravan_wire::TripEvent`). Rooms publish to it; `GET /api/events` (in `http`) streams it,
//! and the assistant follows it to join a trip when people open it.

use tokio::sync::broadcast;

pub use caravan_wire::TripEvent;

/// Events kept for a slow subscriber before it is told it lagged.
const BACKLOG: usize = 4096;

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
    /// Publishes an event to every subscriber (if there is one); `event` is only built then.
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
