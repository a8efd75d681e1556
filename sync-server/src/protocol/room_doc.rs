//! A room's shared state: the trip's document, its presence, its size accounting.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use yrs::branch::BranchID;
use yrs::sync::{Awareness, Clock, Timestamp};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, Update};

use super::effect::Effect;
use super::presence::Owners;
use super::{messages, ProtocolError};

/// The kind of a root type of a document (see [`RoomDoc::watch_roots`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootKind {
    /// A `Y.Map`.
    Map,
    /// A `Y.Array`.
    Array,
}

/// yrs keeps the blocks of an update whose dependencies are missing as "pending" and merges
/// them into every state it encodes (a sync answer, a snapshot). yrs 0.28.1 can keep pending
/// blocks it cannot read back (found by cargo-fuzz): every later sync of the trip would then
/// panic. An update that leaves such blocks is refused as one that did not apply (the room
/// reloads its document from the store, which never saw it). Checked in the transaction that
/// applied the update; with nothing pending (nearly always), it costs one look.
fn pending_is_readable(txn: &yrs::TransactionMut<'_>) -> bool {
    let Some(pending) = ReadTxn::store(txn).pending_update() else {
        return true;
    };
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        yrs::merge_updates_v1([pending.update.encode_v1()]).is_ok()
    }))
    .unwrap_or(false)
}

/// A room's shared state: the trip's document and the awareness states of its clients.
pub struct RoomDoc {
    pub(super) awareness: Awareness,
    /// Which connection owns each awareness client id (see `presence`).
    pub(super) owners: Owners,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    /// Bytes the trip takes in the store (snapshot plus log), kept up to date as updates
    /// are stored and logs compacted.
    stored_bytes: usize,
    /// Updates that would take the trip past this are refused.
    max_bytes: usize,
    /// The trip's real size (its whole state encoded: what a new client downloads) at the
    /// last measure, plus the bytes stored since: an upper bound that, unlike `stored_bytes`,
    /// counts no garbage of the log.
    real_bytes: Option<usize>,
    /// Root types whose changes are reported as [`Effect::WatchedChange`].
    watched_roots: Vec<(Arc<str>, RootKind)>,
}

impl RoomDoc {
    /// A room over `doc`, timing awareness with the system clock (ms).
    pub fn new(doc: Doc) -> RoomDoc {
        RoomDoc::with_clock(doc, Arc::new(|| yrs::sync::time::SystemClock.now()))
    }

    /// A room over `doc` whose awareness ages are measured with `clock` (ms), for tests.
    pub fn with_clock(doc: Doc, clock: Arc<dyn Fn() -> Timestamp + Send + Sync>) -> RoomDoc {
        let for_awareness = clock.clone();
        RoomDoc {
            awareness: Awareness::with_clock(doc, move || for_awareness()),
            owners: Owners::new(),
            clock,
            stored_bytes: 0,
            max_bytes: usize::MAX,
            real_bytes: None,
            watched_roots: Vec::new(),
        }
    }

    /// Reports every update that changes one of `roots` (root types of the document, by name
    /// and kind) with [`Effect::WatchedChange`]; an empty list reports nothing.
    ///
    /// Each root is declared with its kind in the document: yrs lists a changed root among a
    /// transaction's changed types only once it knows the root's kind, and a root made by a
    /// client's update has none (the encoding does not say). Declaring writes nothing.
    pub fn watch_roots(&mut self, roots: Vec<(Arc<str>, RootKind)>) {
        let doc = self.doc();
        for (name, kind) in &roots {
            match kind {
                RootKind::Map => drop(doc.get_or_insert_map(name.clone())),
                RootKind::Array => drop(doc.get_or_insert_array(name.clone())),
            }
        }
        self.watched_roots = roots;
    }

    /// The roots watched (see [`RoomDoc::watch_roots`]).
    pub fn watched_roots(&self) -> &[(Arc<str>, RootKind)] {
        &self.watched_roots
    }

    /// Sets the trip's current size in the store and the most it may hold.
    pub fn with_size_limit(mut self, stored_bytes: usize, max_bytes: usize) -> RoomDoc {
        self.stored_bytes = stored_bytes;
        self.max_bytes = max_bytes;
        self
    }

    /// Bytes the trip takes in the store, as far as this room knows.
    pub fn stored_bytes(&self) -> usize {
        self.stored_bytes
    }

    /// The trip's size as the limit counts it: what the store holds, or less when a measure
    /// showed that much of it is garbage of the log (the compacted size, plus what came since).
    pub fn size(&self) -> usize {
        self.stored_bytes.min(self.real_bytes.unwrap_or(usize::MAX))
    }

    /// Refuses an update of `len` bytes that would take the trip past its size limit. The
    /// limit is on the real trip, not on the uncompacted log: when the count says "too big",
    /// the document is measured (encoded once) before anything is refused.
    fn admit(&mut self, len: usize) -> Result<(), ProtocolError> {
        if self.size().saturating_add(len) <= self.max_bytes {
            return Ok(());
        }
        let real = self
            .doc()
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
            .len();
        self.real_bytes = Some(real);
        if real.saturating_add(len) > self.max_bytes {
            return Err(ProtocolError::DocumentTooLarge {
                limit: self.max_bytes,
            });
        }
        Ok(())
    }

    /// Counts an update of `len` bytes that was stored.
    fn record_stored(&mut self, len: usize) {
        self.stored_bytes = self.stored_bytes.saturating_add(len);
        self.real_bytes = self.real_bytes.map(|r| r.saturating_add(len));
    }

    /// A compaction replaced `before` bytes of snapshot and log by a snapshot of `after`.
    pub fn record_compaction(&mut self, before: usize, after: usize) {
        self.stored_bytes = self
            .stored_bytes
            .saturating_sub(before)
            .saturating_add(after);
    }

    /// The trip's document.
    pub fn doc(&self) -> &Doc {
        self.awareness.doc()
    }

    /// The document's state vector.
    pub fn state_vector(&self) -> StateVector {
        self.doc().transact().state_vector()
    }

    /// Everything the document has that a peer at `sv` lacks, as a lib0 v1 update.
    pub fn diff(&self, sv: &StateVector) -> Vec<u8> {
        self.doc().transact().encode_state_as_update_v1(sv)
    }

    /// Integrates an update; returns whether it changed a watched root. A failure leaves the
    /// document suspect (see [`ProtocolError::needs_reload`]); a panic inside yrs is caught and
    /// reported as one.
    pub(super) fn apply(&mut self, update: Update) -> Result<bool, ProtocolError> {
        let doc = self.awareness.doc();
        let watched = &self.watched_roots;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut txn = doc.transact_mut();
            txn.apply_update(update)
                .map_err(|e| ProtocolError::ApplyFailed(e.to_string()))?;
            if !pending_is_readable(&txn) {
                return Err(ProtocolError::ApplyFailed(
                    "the update leaves blocks that cannot be read back".into(),
                ));
            }
            if watched.is_empty() {
                return Ok(false);
            }
            // The commit lists every type the update changed, up to its root.
            txn.commit();
            Ok(txn
                .changed_parent_types()
                .iter()
                .any(|branch| match branch.id() {
                    BranchID::Root(name) => watched.iter().any(|(root, _)| *root == name),
                    BranchID::Nested(_) => false,
                }))
        }));
        outcome.unwrap_or_else(|_| {
            Err(ProtocolError::ApplyFailed(
                "the update is inconsistent".into(),
            ))
        })
    }

    /// **The** way an update enters a trip, whoever sent it (a connection's sync message, the
    /// REST API, the assistant): checked against the size limit, applied, counted as stored,
    /// then handed on to be persisted and relayed, in that order. `raw` is `update` as sent
    /// (lib0 v1), which is what is stored and relayed. An empty update does nothing.
    pub fn integrate(
        &mut self,
        update: Update,
        raw: &[u8],
        effects: &mut Vec<Effect>,
    ) -> Result<(), ProtocolError> {
        if update.is_empty() {
            return Ok(());
        }
        self.admit(raw.len())?;
        let watched = self.apply(update)?;
        self.record_stored(raw.len());
        effects.push(Effect::Persist(raw.to_vec()));
        effects.push(Effect::Broadcast(messages::sync_update(raw)));
        if watched {
            effects.push(Effect::WatchedChange);
        }
        Ok(())
    }

    /// An awareness message with every present client's state, or `None` when nobody is here.
    pub fn awareness_message(&self) -> Option<Vec<u8>> {
        let update = self.awareness.update().ok()?;
        if update.clients.is_empty() {
            return None;
        }
        Some(messages::awareness(&update))
    }

    /// Removes the states of `clients` and returns the awareness message that tells the others.
    pub fn remove_awareness(&mut self, clients: &[ClientID]) -> Option<Vec<u8>> {
        if clients.is_empty() {
            return None;
        }
        for &client in clients {
            self.awareness.remove_state(client);
        }
        let update = self
            .awareness
            .update_with_clients(clients.iter().copied())
            .ok()?;
        Some(messages::awareness(&update))
    }

    /// Removes states not renewed for `max_age_ms` and returns the message announcing it.
    pub fn expire_awareness(&mut self, max_age_ms: u64) -> Option<Vec<u8>> {
        let now = (self.clock)();
        let stale: Vec<ClientID> = self
            .awareness
            .iter()
            .filter(|(_, state)| {
                state.data.is_some() && now.saturating_sub(state.last_updated) >= max_age_ms
            })
            .map(|(client, _)| client)
            .collect();
        self.remove_awareness(&stale)
    }

    /// The whole document as one lib0 v1 update.
    pub fn encode_state(&self) -> Vec<u8> {
        self.doc()
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    pub(super) fn apply_awareness(
        &mut self,
        update: yrs::sync::AwarenessUpdate,
    ) -> Option<(Vec<ClientID>, Vec<ClientID>)> {
        let summary = self.awareness.apply_update_summary(update).ok()??;
        let mut present = summary.added;
        present.extend(summary.updated);
        Some((present, summary.removed))
    }
}
