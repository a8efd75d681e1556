//! **Load**: a trip's document built from the store on first use, and the cap on loaded
//! trips (the room idle the longest is evicted to make way for a new one).

use std::sync::Arc;
use std::time::Instant;

use persistence::{DocStore, StoreError, TripId};
use yrs::Doc;

use super::room::Room;
use super::rooms::Rooms;
use crate::metrics::Metrics;
use crate::protocol::RoomDoc;

/// A trip's document as built from the store.
pub struct LoadedDoc {
    /// The document.
    pub doc: Doc,
    /// Updates in the store's log (not yet compacted).
    pub log_len: usize,
    /// Bytes the trip takes in the store (snapshot plus log).
    pub stored_bytes: usize,
}

impl LoadedDoc {
    /// The document as a room holds it, refusing updates past `max_doc_bytes` stored.
    pub fn into_room_doc(self, max_doc_bytes: usize) -> RoomDoc {
        RoomDoc::new(self.doc).with_size_limit(self.stored_bytes, max_doc_bytes)
    }
}

/// Why a trip could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The node holds as many trips as it may, and none of them is idle.
    #[error("the server holds {0} trips in memory, its limit, and none is idle; try again later")]
    AtCapacity(usize),
}

/// Builds a trip's document from the store: its snapshot, then its log, with the one replay
/// policy of `persistence::replay` (an update that cannot be read is skipped, reported and
/// counted as `stored_update_unreadable`).
pub fn load_doc(
    store: &dyn DocStore,
    trip: &TripId,
    metrics: &Metrics,
) -> Result<LoadedDoc, StoreError> {
    let doc = Doc::new();
    let Some(stored) = store.load(trip)? else {
        return Ok(LoadedDoc {
            doc,
            log_len: 0,
            stored_bytes: 0,
        });
    };
    let all = stored
        .snapshot
        .iter()
        .chain(stored.updates.iter())
        .map(Vec::as_slice);
    let replayed = persistence::replay::replay(&doc, all);
    for skipped in &replayed.unreadable {
        metrics.error("stored_update_unreadable");
        tracing::error!(trip = %trip, index = skipped.index, reason = %skipped.reason,
            "skipping a stored update that cannot be read");
    }
    Ok(LoadedDoc {
        doc,
        log_len: stored.updates.len(),
        stored_bytes: stored.byte_len(),
    })
}

impl Rooms {
    /// **Load**: the room of `trip`, loading its document from the store on first use.
    ///
    /// Loads of one trip are serialised with its deletes (see [`Rooms::trip_lock`]): two
    /// connections arriving together load a trip once, and a load that read the store before
    /// a delete cannot put the deleted trip back in memory after it.
    pub async fn load(&self, trip: &TripId) -> Result<Arc<Room>, LoadError> {
        if let Some(room) = self.loaded(trip) {
            return Ok(room);
        }
        let _loading = self.trip_lock(trip).lock().await;
        if let Some(room) = self.loaded(trip) {
            return Ok(room);
        }
        let services = self.services();
        let store = services.store.clone();
        let metrics = services.metrics.clone();
        let id = trip.clone();
        let started = Instant::now();
        self.make_room_for_one()?;
        // Through the door: updates of this trip relayed before it was unloaded may still be
        // queued, and go in first.
        let loaded = tokio::task::spawn_blocking(move || load_doc(store.as_ref(), &id, &metrics))
            .await
            .expect("load task does not panic")?;
        let log_len = loaded.log_len;
        let doc = loaded.into_room_doc(services.config.max_doc_bytes);
        let room = Room::new(trip.clone(), doc, log_len, services.clone());
        self.insert(room.clone());
        services.metrics.doc_loads_total.inc();
        services.metrics.docs_loaded.inc();
        tracing::debug!(trip = %trip, log_len, ms = started.elapsed().as_millis() as u64, "loaded");
        Ok(room)
    }

    /// Keeps the number of loaded trips under `max_loaded_trips` before one more is loaded:
    /// evicts the room idle the longest, or refuses when every room has connections.
    fn make_room_for_one(&self) -> Result<(), LoadError> {
        let cap = self.services().config.max_loaded_trips.max(1);
        while self.len() >= cap {
            let oldest_idle = self
                .all()
                .into_iter()
                .filter_map(|room| {
                    let since = room.lock().idle_since()?;
                    Some((since, room))
                })
                .min_by_key(|(since, _)| *since);
            let Some((_, room)) = oldest_idle else {
                self.services().metrics.error("too_many_loaded_trips");
                tracing::warn!(cap, "refusing to load a trip: every loaded trip is in use");
                return Err(LoadError::AtCapacity(cap));
            };
            if self.unload(&room) {
                tracing::debug!(trip = %room.trip, "evicted to make room");
            }
        }
        Ok(())
    }
}
