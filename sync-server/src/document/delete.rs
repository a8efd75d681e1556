//! **Delete**: every connection of the trip is closed with 4404, the room is forgotten and
//! the trip erased from the store. Serialised with loads of the same trip (`Rooms::trip_lock`),
//! so a load that read the store before the delete cannot bring the trip back.

use caravan_wire::close;
use persistence::{DocStore, StoreError, TripId};

use super::peer::CloseReason;
use super::rooms::Rooms;

impl Rooms {
    /// Closes every connection of `trip`, forgets its room and erases it; false when the
    /// store had no such trip.
    pub async fn delete(&self, trip: &TripId) -> Result<bool, StoreError> {
        let _deleting = self.trip_lock(trip).lock().await;
        if let Some(room) = self.loaded(trip) {
            self.forget(&room);
            self.services().metrics.docs_loaded.dec();
            room.close(CloseReason::new(
                close::TRIP_DELETED,
                "this trip was deleted",
            ));
        }
        let store = self.services().store.clone();
        let id = trip.clone();
        // Through the door: what the room queued before it closed goes in first, to be erased
        // with the rest.
        tokio::task::spawn_blocking(move || store.delete(&id))
            .await
            .expect("delete task does not panic")
    }
}
