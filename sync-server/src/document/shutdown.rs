//! **Shutdown**: every connection is closed with 1001 and every loaded trip compacted, so the
//! next start loads each from one snapshot. The server's own shutdown (`server::Running::stop`)
//! orders this among its other steps and flushes the store once, last.

use caravan_wire::close;
use persistence::TripId;

use super::compaction::compact;
use super::peer::CloseReason;
use super::rooms::Rooms;

impl Rooms {
    /// Closes every room and its connections, then compacts every trip that was loaded.
    pub async fn shutdown(&self) {
        let rooms = self.forget_all();
        for room in &rooms {
            room.close(CloseReason::new(
                close::GOING_AWAY,
                "the server is shutting down",
            ));
        }
        let store = self.services().store.clone();
        let metrics = self.services().metrics.clone();
        let trips: Vec<TripId> = rooms.iter().map(|r| r.trip.clone()).collect();
        let _ = tokio::task::spawn_blocking(move || {
            for trip in &trips {
                compact(store.as_ref(), trip, &metrics);
            }
        })
        .await;
    }
}
