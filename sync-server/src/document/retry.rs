//! The one policy for "the room closed between looking it up and using it": look the trip up
//! again. Every caller that uses a room (a connection joining, the REST API changing a trip)
//! goes through [`Rooms::with_room`].

use std::sync::Arc;

use persistence::TripId;

use super::change::ChangeError;
use super::room::Room;
use super::rooms::Rooms;

/// How many times [`Rooms::with_room`] looks a trip up again when its room keeps closing
/// under it. A room closes when it is unloaded, deleted or shut down, and the next lookup
/// finds (or loads) the trip's new room; racing an unload more than a few times in a row
/// takes a sweep every few microseconds, so this bound is only reached by a bug.
pub const ROOM_CLOSED_RETRIES: usize = 100;

impl Rooms {
    /// Runs `use_room` on the room of `trip`, loading it if needed; when the room turns out
    /// to have closed meanwhile ([`ChangeError::Closed`], and nothing was done), looks the trip
    /// up again, up to [`ROOM_CLOSED_RETRIES`] times.
    pub async fn with_room<T>(
        &self,
        trip: &TripId,
        mut use_room: impl FnMut(&Arc<Room>) -> Result<T, ChangeError>,
    ) -> Result<(Arc<Room>, T), ChangeError> {
        for _ in 0..ROOM_CLOSED_RETRIES {
            let room = self.load(trip).await?;
            match use_room(&room) {
                Err(ChangeError::Closed) => tokio::task::yield_now().await,
                outcome => return outcome.map(|value| (room, value)),
            }
        }
        tracing::error!(trip = %trip, "the trip's room kept closing; giving up");
        Err(ChangeError::Closed)
    }
}
