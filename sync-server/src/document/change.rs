//! **Change**: an update from anywhere takes one path into a trip.
//!
//! A connection's frames go through its protocol state machine ([`Room::receive`]); an update
//! from the REST API or a maintenance command comes in whole ([`Room::apply`]). Both end in
//! `RoomDoc::integrate` (size limit, apply, count) and then in [`Room::carry_out`], which
//! hands each resulting effect to the moment it belongs to: `store` queues for the log, `relay`
//! sends. When yrs fails on an update, or the store takes no write (or, later, the log writer
//! could not append it), the document in memory is rebuilt from the store, which never saw it.

use parking_lot::MutexGuard;

use super::load::{load_doc, LoadError};
use super::origin::Origin;
use super::relay::TooSlow;
use super::room::{Room, RoomState};
use super::store::health::Unwritable;
use crate::protocol::{self, DocConnection, Effect, ProtocolError};

/// Why a change (or a join) did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The trip could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The sender broke the protocol, or the update was refused (too large, does not apply).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The store takes no writes now (it failed, or the disk is almost full); the update was
    /// not applied.
    #[error(transparent)]
    Unwritable(#[from] Unwritable),
    /// The room was unloaded, deleted or shut down: nothing was done; look the trip up again
    /// (see `Rooms::with_room`).
    #[error("the trip's room was closed")]
    Closed,
}

/// What became of a change that was accepted.
#[derive(Debug, Default)]
pub struct Changed {
    /// Group-commit ticket of the last update stored, if any (see `GroupCommit::wait`).
    pub persisted: Option<u64>,
    /// Updates refused because the connection may only read.
    pub denied_writes: usize,
    /// Presence entries refused (not JSON, too big, another connection's, a fake assistant).
    pub presence_refused: Vec<crate::protocol::PresenceRefusal>,
}

impl Room {
    /// The room's state, locked, unless the room was closed (unloaded, deleted, shut down):
    /// then nothing may change in it, and the caller looks the trip up again.
    pub(super) fn lock_open(&self) -> Result<MutexGuard<'_, RoomState>, ChangeError> {
        let state = self.lock_current();
        if state.closed {
            return Err(ChangeError::Closed);
        }
        Ok(state)
    }

    /// Feeds one binary frame of a connection through its protocol state machine. The
    /// effects of the messages before a bad one still happen.
    pub fn receive(
        &self,
        origin: &Origin,
        session: &mut DocConnection,
        frame: &[u8],
    ) -> Result<Changed, ChangeError> {
        let mut state = self.lock_open()?;
        let mut effects = Vec::with_capacity(2);
        let outcome = session.handle_frame(&mut state.doc, frame, &mut effects);
        let carried = self.carry_out(&mut state, origin, &mut effects);
        if let Err(e) = &outcome {
            if e.needs_reload() {
                self.reload(&mut state);
            }
        }
        outcome?;
        let mut changed = carried?;
        changed.denied_writes = session.take_denied();
        changed.presence_refused = session.take_presence_refusals();
        Ok(changed)
    }

    /// Applies a whole update (lib0 v1) that did not come through a connection's state
    /// machine, stores it and relays it to every connection (but the origin's, if it is one).
    pub fn apply(&self, update: &[u8], origin: &Origin) -> Result<Changed, ChangeError> {
        let decoded = protocol::decode_update(update)?;
        let mut state = self.lock_open()?;
        let mut effects = Vec::with_capacity(2);
        if let Err(e) = state.doc.integrate(decoded, update, &mut effects) {
            if e.needs_reload() {
                self.reload(&mut state);
            }
            return Err(e.into());
        }
        self.carry_out(&mut state, origin, &mut effects)
    }

    /// Carries out the effects of a change from `origin`, in order: each goes to its moment
    /// (`store` for what is persisted, `relay` for what is sent). Nothing after an update
    /// that could not be stored is carried out.
    pub(super) fn carry_out(
        &self,
        state: &mut RoomState,
        origin: &Origin,
        effects: &mut Vec<Effect>,
    ) -> Result<Changed, ChangeError> {
        let sender = origin.connection();
        let mut changed = Changed::default();
        let mut too_slow = TooSlow::default();
        let mut outcome = Ok(());
        for effect in effects.drain(..) {
            match effect {
                Effect::Reply(bytes) => self.reply(state, sender, bytes, &mut too_slow),
                Effect::Broadcast(bytes) => self.broadcast(state, sender, bytes, &mut too_slow),
                Effect::Persist(update) => match self.persist(state, origin, update) {
                    Ok(ticket) => changed.persisted = Some(ticket),
                    Err(e) => {
                        // The document in memory holds what was not saved: back to the store's.
                        self.reload(state);
                        outcome = Err(e);
                        break;
                    }
                },
                Effect::AckWhenSaved(n) => self.answer_when_saved(state, sender, n),
                Effect::WatchedChange => self.wake_watchers(state, sender),
            }
        }
        self.drop_too_slow(state, too_slow);
        if changed.persisted.is_some() {
            self.stored(state);
        }
        outcome.map(|()| changed)
    }

    /// Replaces the document in memory by what the store holds, after yrs failed on an
    /// update or the store did not take it (either way, it was not stored). The store's door
    /// writes the log's queue out first, so that what was relayed before is not lost from
    /// memory. The room stays locked meanwhile (no one may read or build on a document being
    /// rebuilt), but the store's I/O does not hold up the other tasks of the async worker it
    /// runs on (see [`off_the_worker`]).
    pub(super) fn reload(&self, state: &mut RoomState) {
        let services = &self.services;
        services.metrics.error("doc_reloaded");
        // What the store says now (an update not stored) is what this reload answers.
        let _ = self.news.take_not_stored();
        let loaded =
            off_the_worker(|| load_doc(services.store.as_ref(), &self.trip, &services.metrics));
        match loaded {
            Ok(loaded) => {
                tracing::warn!(trip = %self.trip, "reloaded the document from the store after a failed update");
                state.log_len = loaded.log_len;
                state.compacted_bytes = loaded.stored_bytes;
                let watched = state.doc.watched_roots().to_vec();
                state.doc = loaded.into_room_doc(services.config.max_doc_bytes);
                state.doc.watch_roots(watched);
            }
            Err(e) => {
                tracing::error!(trip = %self.trip, error = %e, "could not reload the document")
            }
        }
    }
}

/// Runs `blocking` (the store's I/O) without holding up the other tasks of the async worker
/// that calls it: tokio's `block_in_place` on the multi-threaded runtime hands the worker's
/// other tasks to another worker first. Elsewhere (a plain thread, a current-thread runtime)
/// it runs as it is.
fn off_the_worker<R>(blocking: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(blocking)
        }
        _ => blocking(),
    }
}
