//! The trip event feed (`GET /api/events`, Server-Sent Events): which trips have people in
//! them, and when trips change. The assistant follows it to join a trip when people open it
//! and to leave when the last one leaves (`docs/protocol.md`).

use serde::{Deserialize, Serialize};

/// A moment of a trip's life, as the feed sends it: the SSE event name is [`TripEvent::name`],
/// its data this value as JSON (`{"type": "opened", "trip": "..."}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum TripEvent {
    /// The first person joined the trip (the assistant does not count).
    Opened {
        /// The trip's id.
        trip: String,
    },
    /// An update was applied and logged (from a connection or the API).
    Changed {
        /// The trip's id.
        trip: String,
    },
    /// The last person left the trip.
    Closed {
        /// The trip's id.
        trip: String,
    },
    /// This subscriber fell behind and missed `missed` events: it should look at every trip
    /// it cares about again.
    Lagged {
        /// How many events it missed.
        missed: u64,
    },
}

impl TripEvent {
    /// The SSE event name: `opened`, `changed`, `closed` or `lagged`.
    pub fn name(&self) -> &'static str {
        match self {
            TripEvent::Opened { .. } => "opened",
            TripEvent::Changed { .. } => "changed",
            TripEvent::Closed { .. } => "closed",
            TripEvent::Lagged { .. } => "lagged",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_back_as_they_are_written_and_are_named_by_their_type() {
        let events = [
            TripEvent::Opened { trip: "a".into() },
            TripEvent::Changed { trip: "b".into() },
            TripEvent::Closed { trip: "c".into() },
            TripEvent::Lagged { missed: 7 },
        ];
        for event in events {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], event.name());
            assert_eq!(serde_json::from_value::<TripEvent>(json).unwrap(), event);
        }
    }
}
