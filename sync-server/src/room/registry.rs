//! The registry of loaded rooms and the moments of a document's life, each a named method:
//! [`Rooms::load`] (first connection or request), changes (`Room::receive`), storing
//! (`GroupCommit` flushes, [`Compactor`] compactions), [`Rooms::unload_idle`] (no one
//! left for a while), [`Rooms::delete`] and [`Rooms::shutdown`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use dashmap::DashMap;
use persistence::{DocStore, StoreError, TripId};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

use super::compaction::{compact, Compactor};
use super::{CloseReason, ConnId, Room};
use crate::config::ServerConfig;
use crate::durability::GroupCommit;
use crate::metrics::Metrics;

/// What every room needs from the server: the store, group commit, metrics and settings.
pub struct Services {
    /// The document store.
    pub store: Arc<dyn DocStore>,
    /// Group commit of the store's writes.
    pub commit: Arc<GroupCommit>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Settings.
    pub config: ServerConfig,
    /// Trip events for `/api/events`.
    pub events: crate::events::EventFeed,
    /// Token keys and the admin key.
    pub auth: crate::auth::Auth,
    /// Open connections per client IP.
    pub connections_per_ip: Arc<crate::limits::ConnectionsPerIp>,
    /// Compactions, one at a time.
    pub compactor: Compactor,
}

impl Services {
    /// Queues a compaction of a trip's log (see [`Compactor`]); its room, if still loaded,
    /// is told how much smaller the trip became.
    pub fn spawn_compaction(&self, trip: TripId, room: Option<Weak<Room>>) {
        self.compactor.queue(trip, room);
    }
}

/// A trip's document as built from the store.
pub struct LoadedDoc {
    /// The document.
    pub doc: Doc,
    /// Updates in the store's log (not yet compacted).
    pub log_len: usize,
    /// Bytes the trip takes in the store (snapshot plus log).
    pub stored_bytes: usize,
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

impl From<LoadError> for crate::http_error::ApiError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Store(e) => e.into(),
            LoadError::AtCapacity(_) => crate::http_error::ApiError::with_status(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                e.to_string(),
            ),
        }
    }
}

/// Builds a trip's document from the store: its snapshot, then its log. Returns the document
/// and the length of the log. A stored update that does not decode is skipped and reported
/// (it can only come from an older bug or damaged disk), so one bad record never makes a trip
/// unreadable.
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
    // One transaction per update: yrs squashes runs of items when a transaction commits, and
    // applying a long log in one transaction grows superlinearly (the automerge-paper trace
    // as 259,778 updates: 2.8 s in one transaction, 0.44 s in one each).
    {
        for bytes in stored.snapshot.iter().chain(stored.updates.iter()) {
            let applied = Update::decode_v1(bytes)
                .map_err(|e| e.to_string())
                .and_then(|u| {
                    doc.transact_mut()
                        .apply_update(u)
                        .map_err(|e| e.to_string())
                });
            if let Err(reason) = applied {
                metrics.error("stored_update_unreadable");
                tracing::error!(trip = %trip, %reason, "skipping a stored update that does not apply");
            }
        }
    }
    Ok(LoadedDoc {
        doc,
        log_len: stored.updates.len(),
        stored_bytes: stored.byte_len(),
    })
}

/// Every loaded room, by trip.
pub struct Rooms {
    rooms: DashMap<TripId, Arc<Room>>,
    services: Arc<Services>,
    next_conn: AtomicU64,
    /// Async locks, striped by trip, held while a trip is loaded or deleted: two connections
    /// arriving together load a trip once, and a load that read the store before a delete
    /// cannot put the deleted trip back in memory after it.
    trip_locks: Vec<tokio::sync::Mutex<()>>,
}

const TRIP_LOCK_STRIPES: usize = 256;

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

    fn trip_lock(&self, trip: &TripId) -> &tokio::sync::Mutex<()> {
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
    pub fn events(&self) -> &crate::events::EventFeed {
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

    /// **Load**: the room of `trip`, loading its document from the store on first use.
    pub async fn load(&self, trip: &TripId) -> Result<Arc<Room>, LoadError> {
        if let Some(room) = self.loaded(trip) {
            return Ok(room);
        }
        let _loading = self.trip_lock(trip).lock().await;
        if let Some(room) = self.loaded(trip) {
            return Ok(room);
        }
        let store = self.services.store.clone();
        let metrics = self.services.metrics.clone();
        let id = trip.clone();
        let started = Instant::now();
        self.make_room_for_one()?;
        let loaded = tokio::task::spawn_blocking(move || load_doc(store.as_ref(), &id, &metrics))
            .await
            .expect("load task does not panic")?;
        let log_len = loaded.log_len;
        let room = Room::new(trip.clone(), loaded, self.services.clone());
        self.rooms.insert(trip.clone(), room.clone());
        self.services.metrics.doc_loads_total.inc();
        self.services.metrics.docs_loaded.inc();
        tracing::debug!(trip = %trip, log_len, ms = started.elapsed().as_millis() as u64, "loaded");
        Ok(room)
    }

    /// Keeps the number of loaded trips under `max_loaded_trips` before one more is loaded:
    /// evicts the room idle the longest, or refuses when every room has connections.
    fn make_room_for_one(&self) -> Result<(), LoadError> {
        let cap = self.services.config.max_loaded_trips.max(1);
        while self.rooms.len() >= cap {
            let oldest_idle = self
                .all()
                .into_iter()
                .filter_map(|room| {
                    let state = room.lock();
                    let since = state.idle_since.filter(|_| state.peers.is_empty())?;
                    drop(state);
                    Some((since, room))
                })
                .min_by_key(|(since, _)| *since);
            let Some((_, room)) = oldest_idle else {
                self.services.metrics.error("too_many_loaded_trips");
                tracing::warn!(cap, "refusing to load a trip: every loaded trip is in use");
                return Err(LoadError::AtCapacity(cap));
            };
            if self.unload(&room) {
                tracing::debug!(trip = %room.trip, "evicted to make room");
            }
        }
        Ok(())
    }

    /// Unloads `room` if it still has no connection; true when it did.
    fn unload(&self, room: &Arc<Room>) -> bool {
        let mut state = room.lock();
        if !state.peers.is_empty() || state.closed {
            return false;
        }
        state.closed = true;
        drop(state);
        self.rooms
            .remove_if(&room.trip, |_, loaded| Arc::ptr_eq(loaded, room));
        self.services.metrics.docs_loaded.dec();
        self.services.metrics.doc_unloads_total.inc();
        self.services.spawn_compaction(room.trip.clone(), None);
        true
    }

    /// **Unload**: drops rooms nobody has used for `unload_after`, compacting their logs.
    /// Also expires awareness states that were not renewed in the rooms that stay.
    pub fn sweep(&self) {
        let config = &self.services.config;
        let mut unloaded = Vec::new();
        for room in self.all() {
            let mut state = room.lock();
            if let Some(message) = state
                .doc
                .expire_awareness(config.awareness_timeout.as_millis() as u64)
            {
                let frame = axum::body::Bytes::from(message);
                for peer in state.peers.values() {
                    let _ = peer.offer(frame.clone());
                }
            }
            let idle = state
                .idle_since
                .is_some_and(|t| t.elapsed() >= config.unload_after);
            if idle && state.peers.is_empty() {
                drop(state);
                unloaded.push(room);
            }
        }
        for room in unloaded {
            if self.unload(&room) {
                tracing::debug!(trip = %room.trip, "unloaded");
            }
        }
    }

    /// **Delete**: closes every connection of `trip`, forgets the room and erases the trip.
    pub async fn delete(&self, trip: &TripId) -> Result<bool, StoreError> {
        let _deleting = self.trip_lock(trip).lock().await;
        if let Some((_, room)) = self.rooms.remove(trip) {
            self.services.metrics.docs_loaded.dec();
            let mut state = room.lock();
            state.closed = true;
            for peer in state.peers.values() {
                peer.hangup
                    .hang_up(CloseReason::new(4404, "this trip was deleted"));
            }
            state.peers.clear();
        }
        let store = self.services.store.clone();
        let id = trip.clone();
        tokio::task::spawn_blocking(move || store.delete(&id))
            .await
            .expect("delete task does not panic")
    }

    /// **Shutdown**: closes every connection, compacts every loaded trip and flushes.
    pub async fn shutdown(&self) {
        let rooms = self.all();
        for room in &rooms {
            let mut state = room.lock();
            state.closed = true;
            for peer in state.peers.values() {
                peer.hangup
                    .hang_up(CloseReason::new(1001, "the server is shutting down"));
            }
        }
        self.rooms.clear();
        let store = self.services.store.clone();
        let metrics = self.services.metrics.clone();
        let trips: Vec<TripId> = rooms.iter().map(|r| r.trip.clone()).collect();
        let _ = tokio::task::spawn_blocking(move || {
            for trip in &trips {
                compact(store.as_ref(), trip, &metrics);
            }
        })
        .await;
        if let Err(e) = self.services.commit.flush().await {
            tracing::error!(error = %e, "final flush failed");
        }
    }
}
