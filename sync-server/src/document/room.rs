//! A room: one loaded trip, its document and its connections, under one lock.
//!
//! What happens to a room is in the files named for each moment (`join`, `change`, `store`,
//! `relay`, `unload`, ...); this file holds the room itself and what can be read from it.

use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use persistence::TripId;
use yrs::Doc;

use super::origin::ConnId;
use super::peer::{CloseReason, Peer};
use super::services::Services;
use super::store::news::StoreNews;
use crate::protocol::RoomDoc;

/// One loaded trip.
pub struct Room {
    /// The trip this room holds.
    pub trip: TripId,
    pub(super) services: Arc<Services>,
    /// What the store's background work tells this room (see `store::news`): an update not
    /// stored (the next [`Room::lock_current`] reloads), a compaction's new sizes (the next
    /// lock records them).
    pub(super) news: Arc<StoreNews>,
    state: Mutex<RoomState>,
}

/// What the room's lock guards.
pub(super) struct RoomState {
    /// The document and everyone's presence.
    pub doc: RoomDoc,
    /// The connections in the room.
    pub peers: HashMap<ConnId, Peer>,
    /// Set when the room was unloaded or deleted: joiners must look the trip up again.
    pub closed: bool,
    /// Updates in the store's log of this trip (not yet compacted).
    pub log_len: usize,
    /// Bytes logged since this room last queued a compaction.
    pub log_bytes: usize,
    /// Bytes the store held for the trip after its last compaction (or when it was loaded):
    /// what the store holds beyond it is log that no compaction has folded yet.
    pub compacted_bytes: usize,
    /// When the last connection left.
    pub idle_since: Option<Instant>,
    /// Whether `opened` was published and `closed` not yet: people are here.
    pub people_here: bool,
    /// In-process participants watching the room, by their connection id (see `watch`).
    pub watchers: HashMap<ConnId, Arc<tokio::sync::Notify>>,
}

impl RoomState {
    /// Connections of people (the assistant apart).
    pub fn people(&self) -> usize {
        self.peers.values().filter(|p| !p.is_assistant).count()
    }

    /// When the room became idle (its last connection left), if it has no connection now.
    pub fn idle_since(&self) -> Option<Instant> {
        self.idle_since.filter(|_| self.peers.is_empty())
    }
}

impl Room {
    /// A room over a document just loaded, whose log holds `log_len` updates.
    pub(super) fn new(
        trip: TripId,
        doc: RoomDoc,
        log_len: usize,
        services: Arc<Services>,
    ) -> Arc<Room> {
        let compacted_bytes = doc.stored_bytes();
        Arc::new(Room {
            trip,
            state: Mutex::new(RoomState {
                doc,
                peers: HashMap::new(),
                closed: false,
                log_len,
                log_bytes: 0,
                compacted_bytes,
                idle_since: Some(Instant::now()),
                people_here: false,
                watchers: HashMap::new(),
            }),
            services,
            news: Arc::default(),
        })
    }

    /// The room's state, locked, for its bookkeeping (peers, counts, sizes), with the sizes of
    /// a compaction that ended since: never reloads.
    pub(super) fn lock(&self) -> MutexGuard<'_, RoomState> {
        // parking_lot's mutex does not poison: a panic while holding the lock is caught inside
        // yrs calls, and the state after it is still the best we have.
        let mut state = self.state.lock();
        if let Some((before, after)) = self.news.take_compacted() {
            state.doc.record_compaction(before, after);
            state.compacted_bytes = after;
        }
        state
    }

    /// The room's state, locked, for a use of its document (a read, a change, a join): when
    /// an update in memory could not be stored (see `store::log_writer`), the document is
    /// first rebuilt from the store, so that no one reads or builds on what was not saved.
    pub(super) fn lock_current(&self) -> MutexGuard<'_, RoomState> {
        let mut state = self.lock();
        if !state.closed && self.news.take_not_stored() {
            self.reload(&mut state);
        }
        state
    }

    /// Closes the room for good (deleted, shut down): nothing more changes in it, and every
    /// connection is dropped from it and hung up with `reason`.
    pub(super) fn close(&self, reason: CloseReason) {
        let mut state = self.lock();
        state.closed = true;
        for peer in state.peers.values() {
            peer.hangup.hang_up(reason.clone());
        }
        state.peers.clear();
    }

    /// The whole document as one update, or what a peer at state vector `sv` lacks.
    pub fn encode_state(&self, sv: Option<&yrs::StateVector>) -> Vec<u8> {
        let state = self.lock_current();
        match sv {
            Some(sv) => state.doc.diff(sv),
            None => state.doc.encode_state(),
        }
    }

    /// Reads the room's document under its lock.
    pub fn read<R>(&self, f: impl FnOnce(&Doc) -> R) -> R {
        let state = self.lock_current();
        f(state.doc.doc())
    }

    /// True when the document holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self.lock_current().doc.state_vector().is_empty()
    }

    /// Connections of people (the assistant apart).
    pub fn people_count(&self) -> usize {
        self.lock().people()
    }

    /// Number of connections in the room.
    pub fn connection_count(&self) -> usize {
        self.lock().peers.len()
    }

    /// False once the room was unloaded, deleted or shut down: look the trip up again.
    pub fn is_open(&self) -> bool {
        !self.lock().closed
    }

    /// True when an in-process participant (the assistant) watches the room.
    pub fn is_watched(&self) -> bool {
        !self.lock().watchers.is_empty()
    }

    /// Bytes the trip takes in the store, as far as this room knows (for the size limit).
    pub fn stored_bytes(&self) -> usize {
        self.lock().doc.stored_bytes()
    }

    /// The trip's size as its limit counts it (see `RoomDoc::size`).
    pub fn size(&self) -> usize {
        self.lock().doc.size()
    }
}
