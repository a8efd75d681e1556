//! Rooms: one loaded trip document shared by every connection to it.
//!
//! A [`Room`] runs the protocol state machine of its connections against its document under
//! one lock and carries out the resulting effects: persisting, relaying, replying. The
//! [`Rooms`] registry loads rooms on first use and unloads them when idle.

mod compaction;
mod peer;
mod registry;

pub use compaction::Compactor;
pub use peer::{CloseReason, Hangup, Peer};
pub use registry::{load_doc, LoadError, LoadedDoc, Rooms, Services};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use axum::body::Bytes;
use persistence::{StoreError, TripId, UpdateMeta};
use yrs::Doc;

use crate::events::TripEvent;
use crate::protocol::{self, DocConnection, Effect, ProtocolError, RoomDoc};
use peer::Delivery;

/// Identifies a connection within the server.
pub type ConnId = u64;

/// Close code sent to a connection whose outbox overflowed.
pub const CLOSE_TOO_SLOW: u16 = 1013;

/// One loaded trip.
pub struct Room {
    /// The trip this room holds.
    pub trip: TripId,
    /// This room, for background work that reports back to it (compaction).
    me: Weak<Room>,
    services: Arc<Services>,
    state: Mutex<RoomState>,
}

struct RoomState {
    doc: RoomDoc,
    peers: HashMap<ConnId, Peer>,
    /// Set when the room was unloaded or deleted: joiners must look the trip up again.
    closed: bool,
    /// Updates in the store's log of this trip (not yet compacted).
    log_len: usize,
    /// When the last connection left.
    idle_since: Option<Instant>,
    /// Whether `opened` was published and `closed` not yet: people are here.
    people_here: bool,
}

impl RoomState {
    fn people(&self) -> usize {
        self.peers.values().filter(|p| !p.is_assistant).count()
    }
}

/// The room was unloaded or deleted between looking it up and joining it.
#[derive(Debug)]
pub struct RoomClosed;

/// Why a frame from a connection was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The client broke the protocol.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The update could not be stored.
    #[error("the update could not be saved: {0}")]
    Storage(#[from] StoreError),
    /// The room was unloaded or deleted: nothing was applied; look the trip up again.
    #[error("the trip's room was closed")]
    Closed,
}

/// What became of a frame that was accepted.
#[derive(Debug, Default)]
pub struct Received {
    /// Ticket of the last update this frame persisted, if any (see `GroupCommit`).
    pub persisted: Option<u64>,
    /// "Saved?" questions to answer once everything sent so far is durable.
    pub saved_questions: Vec<u64>,
    /// Updates refused because the connection may only read.
    pub denied_writes: usize,
}

impl Room {
    fn new(trip: TripId, loaded: LoadedDoc, services: Arc<Services>) -> Arc<Room> {
        let limit = services.config.max_doc_bytes;
        Arc::new_cyclic(|me| Room {
            trip,
            me: me.clone(),
            state: Mutex::new(RoomState {
                doc: RoomDoc::new(loaded.doc).with_size_limit(loaded.stored_bytes, limit),
                peers: HashMap::new(),
                closed: false,
                log_len: loaded.log_len,
                idle_since: Some(Instant::now()),
                people_here: false,
            }),
            services,
        })
    }

    fn lock(&self) -> MutexGuard<'_, RoomState> {
        // A panic while holding the lock is caught inside yrs calls; a poisoned lock only means
        // a bug elsewhere, and the state is still the best we have.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a connection and sends it the opening messages (sync step 1, awareness).
    pub fn join(
        &self,
        conn: ConnId,
        peer: Peer,
        session: &DocConnection,
    ) -> Result<(), RoomClosed> {
        let mut state = self.lock();
        if state.closed {
            return Err(RoomClosed);
        }
        let mut effects = Vec::with_capacity(2);
        session.open(&state.doc, &mut effects);
        state.peers.insert(conn, peer);
        state.idle_since = None;
        if !state.people_here && state.people() > 0 {
            state.people_here = true;
            self.services.events.publish(|| TripEvent::Opened {
                trip: self.trip.to_string(),
            });
        }
        // Opening effects are replies only: nothing to store, so nothing can fail.
        let _ = self.carry_out(&mut state, conn, &mut effects, "");
        Ok(())
    }

    /// Feeds one binary frame of connection `conn` through its protocol state machine.
    pub fn receive(
        &self,
        conn: ConnId,
        session: &mut DocConnection,
        frame: &[u8],
    ) -> Result<Received, ReceiveError> {
        let mut state = self.lock();
        if state.closed {
            return Err(ReceiveError::Closed);
        }
        let mut effects = Vec::with_capacity(2);
        let outcome = session.handle_frame(&mut state.doc, frame, &mut effects);
        // Effects of the messages before a bad one still happen.
        let received = self
            .carry_out(&mut state, conn, &mut effects, "ws")
            .map(|mut received| {
                received.denied_writes = session.take_denied();
                received
            });
        if let Err(e) = &outcome {
            if e.needs_reload() {
                self.reload(&mut state);
            }
        }
        outcome?;
        Ok(received?)
    }

    /// Applies an update that did not come over a WebSocket (the REST API), persists it and
    /// relays it to every connection. Returns its group-commit ticket.
    pub fn apply_update(&self, update: &[u8], origin: &str) -> Result<Option<u64>, ReceiveError> {
        let decoded = protocol::decode_update(update)?;
        if decoded.is_empty() {
            return Ok(None);
        }
        let mut state = self.lock();
        if state.closed {
            return Err(ReceiveError::Closed);
        }
        state.doc.admit(update.len())?;
        if let Err(e) = state.doc.apply(decoded) {
            self.reload(&mut state);
            return Err(e.into());
        }
        state.doc.record_stored(update.len());
        let mut effects = vec![
            Effect::Persist(update.to_vec()),
            Effect::Broadcast(protocol::messages::sync_update(update)),
        ];
        let received = self.carry_out(&mut state, ConnId::MAX, &mut effects, origin)?;
        Ok(received.persisted)
    }

    /// Removes a connection; its awareness states go and the others are told.
    pub fn leave(&self, conn: ConnId, session: &mut DocConnection) {
        let mut state = self.lock();
        state.peers.remove(&conn);
        let mut effects = Vec::new();
        session.close(&mut state.doc, &mut effects);
        let _ = self.carry_out(&mut state, conn, &mut effects, "");
        if state.peers.is_empty() && state.idle_since.is_none() {
            state.idle_since = Some(Instant::now());
        }
        if state.people_here && state.people() == 0 {
            state.people_here = false;
            self.services.events.publish(|| TripEvent::Closed {
                trip: self.trip.to_string(),
            });
        }
    }

    /// The whole document as one update, or what a peer at state vector `sv` lacks.
    pub fn encode_state(&self, sv: Option<&yrs::StateVector>) -> Vec<u8> {
        let state = self.lock();
        match sv {
            Some(sv) => state.doc.diff(sv),
            None => state.doc.encode_state(),
        }
    }

    /// Reads the room's document under its lock.
    pub fn read<R>(&self, f: impl FnOnce(&Doc) -> R) -> R {
        let state = self.lock();
        f(state.doc.doc())
    }

    /// True when the document holds nothing at all.
    pub fn is_empty(&self) -> bool {
        let state = self.lock();
        state.doc.state_vector().is_empty()
    }

    /// A compaction of this trip replaced `before` stored bytes by `after`.
    fn compacted(&self, before: usize, after: usize) {
        self.lock().doc.record_compaction(before, after);
    }

    /// Connections of people (the assistant apart).
    pub fn people_count(&self) -> usize {
        self.lock().people()
    }

    /// Number of connections in the room.
    pub fn connection_count(&self) -> usize {
        self.lock().peers.len()
    }

    /// Carries out `effects` of connection `conn` (or of the API when `conn` is `ConnId::MAX`).
    fn carry_out(
        &self,
        state: &mut RoomState,
        conn: ConnId,
        effects: &mut Vec<Effect>,
        origin: &str,
    ) -> Result<Received, StoreError> {
        let services = &self.services;
        let mut received = Received::default();
        let mut too_slow: Vec<ConnId> = Vec::new();
        for effect in effects.drain(..) {
            match effect {
                Effect::Reply(bytes) => {
                    if let Some(peer) = state.peers.get(&conn) {
                        services.metrics.bytes_out_total.inc_by(bytes.len() as u64);
                        if let Delivery::TooSlow = peer.offer(Bytes::from(bytes)) {
                            too_slow.push(conn);
                        }
                    }
                }
                Effect::Broadcast(bytes) => {
                    let frame = Bytes::from(bytes);
                    let mut sent = 0u64;
                    for (&id, peer) in &state.peers {
                        if id == conn {
                            continue;
                        }
                        match peer.offer(frame.clone()) {
                            Delivery::Queued => sent += 1,
                            Delivery::TooSlow => too_slow.push(id),
                            Delivery::Gone => {}
                        }
                    }
                    if frame.first() == Some(&0) {
                        services.metrics.updates_out_total.inc_by(sent);
                    }
                    services
                        .metrics
                        .bytes_out_total
                        .inc_by(sent * frame.len() as u64);
                }
                Effect::Persist(update) => {
                    let meta = UpdateMeta {
                        at_ms: persistence::now_ms(),
                        origin: Some(if conn == ConnId::MAX {
                            origin.to_owned()
                        } else {
                            format!("conn:{conn}")
                        }),
                    };
                    if let Err(e) = services.store.append(&self.trip, &update, &meta) {
                        services.metrics.error("storage");
                        tracing::error!(trip = %self.trip, error = %e, "could not append an update");
                        // Nothing after a failed save is relayed: stop here.
                        if let Some(peer) = state.peers.get(&conn) {
                            peer.hangup.hang_up(CloseReason::new(
                                1011,
                                "the server could not save your change",
                            ));
                        }
                        return Err(e);
                    }
                    services.metrics.updates_in_total.inc();
                    received.persisted = Some(services.commit.ticket());
                    state.log_len += 1;
                }
                Effect::AckWhenSaved(n) => received.saved_questions.push(n),
            }
        }
        for id in too_slow {
            if let Some(peer) = state.peers.remove(&id) {
                services.metrics.error("slow_consumer");
                tracing::warn!(trip = %self.trip, conn = id, "connection too slow, closing it");
                peer.hangup.hang_up(CloseReason::new(
                    CLOSE_TOO_SLOW,
                    "too slow: your outgoing queue overflowed; reconnect to resync",
                ));
            }
        }
        if received.persisted.is_some() {
            services.events.publish(|| TripEvent::Changed {
                trip: self.trip.to_string(),
            });
        }
        if state.log_len >= services.config.compact_after_updates {
            // The compaction folds (about) every entry logged so far; count afresh from here.
            state.log_len = 0;
            services.spawn_compaction(self.trip.clone(), Some(self.me.clone()));
        }
        Ok(received)
    }

    /// Replaces the in-memory document by what the store holds, after yrs failed on an update
    /// (which was not stored).
    fn reload(&self, state: &mut RoomState) {
        self.services.metrics.error("doc_reloaded");
        match registry::load_doc(
            self.services.store.as_ref(),
            &self.trip,
            &self.services.metrics,
        ) {
            Ok(loaded) => {
                tracing::warn!(trip = %self.trip, "reloaded the document from the store after a failed update");
                state.doc = RoomDoc::new(loaded.doc)
                    .with_size_limit(loaded.stored_bytes, self.services.config.max_doc_bytes);
                state.log_len = loaded.log_len;
            }
            Err(e) => {
                tracing::error!(trip = %self.trip, error = %e, "could not reload the document")
            }
        }
    }
}
