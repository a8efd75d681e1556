//! The registry of loaded rooms, by trip. Rooms enter it when loaded (`load`) and leave it
//! when unloaded, deleted or shut down; `retry` holds the one policy for a room that closed
//! between looking it up and using it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use persistence::TripId;

use super::events::EventFeed;
use super::origin::ConnId;
use super::room::Room;
use super::services::Services;

/// Async locks held while a trip is loaded or deleted, striped by trip (see [`Rooms::load`]).
const TRIP_LOCK_STRIPES: usize = 256;

/// Every loaded room, by trip.
pub struct Rooms {
    rooms: DashMap<TripId, Arc<Room>>,
    services: Arc<Services>,
    next_conn: AtomicU64,
    trip_locks: Vec<tokio::sync::Mutex<()>>,
}

impl Rooms {
    /// An empty registry.
    pub fn new(services: Arc<Services>) -> Rooms {
        Rooms {
            rooms: DashMap::new(),
            services,
            next_conn: AtomicU64::new(1),
            trip_locks: (0..TRIP_LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// The lock held while `trip` is loaded or deleted: two connections arriving together
    /// load a trip once, and a load that read the store before a delete cannot put the
    /// deleted trip back in memory after it.
    pub(super) fn trip_lock(&self, trip: &TripId) -> &tokio::sync::Mutex<()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        trip.hash(&mut hasher);
        &self.trip_locks[hasher.finish() as usize % TRIP_LOCK_STRIPES]
    }

    /// The services rooms use.
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// The trip event feed.
    pub fn events(&self) -> &EventFeed {
        &self.services.events
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// The room of `trip` if it is loaded.
    pub fn loaded(&self, trip: &TripId) -> Option<Arc<Room>> {
        self.rooms.get(trip).map(|r| r.clone())
    }

    /// Loaded rooms.
    pub fn all(&self) -> Vec<Arc<Room>> {
        self.rooms.iter().map(|r| r.clone()).collect()
    }

    /// Number of loaded rooms.
    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    /// True when no room is loaded.
    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }

    /// Registers a room just loaded.
    pub(super) fn insert(&self, room: Arc<Room>) {
        self.rooms.insert(room.trip.clone(), room);
    }

    /// Forgets `room` (if it is still the one registered for its trip).
    pub(super) fn forget(&self, room: &Arc<Room>) -> bool {
        self.rooms
            .remove_if(&room.trip, |_, loaded| Arc::ptr_eq(loaded, room))
            .is_some()
    }

    /// Forgets every room (at shutdown) and returns them.
    pub(super) fn forget_all(&self) -> Vec<Arc<Room>> {
        let rooms = self.all();
        self.rooms.clear();
        rooms
    }
}
