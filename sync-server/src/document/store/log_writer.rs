//! **Store**, the write-behind log: an update is queued here under its room's lock and
//! relayed at once; the store's appends happen later, off the relay path, many trips' at a
//! time, in the order the updates were queued.
//!
//! A sled insert costs about as much as relaying an update to four connections; made under
//! the room's lock, it held every other update of the trip (and, on a busy worker, of every
//! trip) behind it. Queued, it costs a push; whoever needs the log as it stands goes through
//! the store's one door, `trip_store`, which writes the queue out first
//! ([`LogWriter::write_queued`]): group commit before each flush (so "saved" still means
//! durable), a load before it reads the store, a delete before it erases, a compaction before
//! it folds. So no one sees a log that lacks an update relayed before.
//!
//! When an append fails (the store failed: see `health`), nothing after it in the queue
//! is appended either; each update not stored hangs up the connection that sent it, and marks
//! its room's document as ahead of the store, so the room reloads from the store before it is
//! next used (see `Room::lock_current`): memory again holds only what was stored.

use parking_lot::{Mutex, MutexGuard};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use persistence::{DocStore, StoreError, TripId, UpdateMeta};

use super::health::StoreHealth;
use super::news::StoreNews;
use super::saved::NotSaved;
use crate::document::origin::Origin;
use crate::document::peer::Hangup;
use crate::metrics::Metrics;

/// One update waiting to be appended to its trip's log.
pub struct QueuedAppend {
    /// The trip whose log it joins.
    pub trip: TripId,
    /// The binary Yjs update (lib0 v1), as applied.
    pub update: Vec<u8>,
    /// When the server received it (ms since the Unix epoch).
    pub at_ms: u64,
    /// Who sent it (written in the log as `Origin::label`).
    pub origin: Origin,
    /// Told when it could not be stored: its room's document is then ahead of the store.
    pub room: Option<Arc<StoreNews>>,
    /// Hangs up the sender's connection when it could not be stored.
    pub sender: Option<Arc<Hangup>>,
}

impl QueuedAppend {
    /// An update of `trip` from `origin`, received now, with no room or connection to tell
    /// if it is not stored.
    pub fn new(trip: TripId, update: Vec<u8>, origin: Origin) -> QueuedAppend {
        QueuedAppend {
            trip,
            update,
            at_ms: persistence::now_ms(),
            origin,
            room: None,
            sender: None,
        }
    }

    /// Tells the room and the sender that it was not stored.
    fn not_stored(&self) {
        if let Some(room) = &self.room {
            room.not_stored();
        }
        if let Some(sender) = &self.sender {
            NotSaved::NotStored.hang_up(sender);
        }
    }
}

/// What is queued: the updates, oldest first, and the ticket of the newest ever queued.
#[derive(Default)]
struct Queue {
    entries: Vec<(u64, QueuedAppend)>,
    last_ticket: u64,
}

/// The queue of appends of every trip, one per server.
pub struct LogWriter {
    store: Arc<dyn DocStore>,
    health: Arc<StoreHealth>,
    metrics: Arc<Metrics>,
    queue: Mutex<Queue>,
    /// Held while a batch taken from the queue is appended, so that batches reach the store
    /// in the order they were taken, and a writer that returns knows every earlier batch is in.
    writing: Mutex<()>,
    /// Every ticket up to this one was appended (or given up on, the store having failed).
    written: AtomicU64,
}

impl LogWriter {
    /// A queue in front of `store`; an append that fails is recorded in `health`.
    pub fn new(
        store: Arc<dyn DocStore>,
        health: Arc<StoreHealth>,
        metrics: Arc<Metrics>,
    ) -> LogWriter {
        LogWriter {
            store,
            health,
            metrics,
            queue: Mutex::new(Queue::default()),
            writing: Mutex::new(()),
            written: AtomicU64::new(0),
        }
    }

    fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock()
    }

    /// Queues `append`; returns its ticket (a running count, in queue order).
    pub fn queue(&self, append: QueuedAppend) -> u64 {
        let mut queue = self.lock_queue();
        queue.last_ticket += 1;
        let ticket = queue.last_ticket;
        queue.entries.push((ticket, append));
        ticket
    }

    /// The ticket of the newest update queued.
    pub fn last_ticket(&self) -> u64 {
        self.lock_queue().last_ticket
    }

    /// True when everything queued so far is in the store (or was given up on).
    pub fn is_written(&self) -> bool {
        self.written.load(Ordering::Acquire) >= self.last_ticket()
    }

    /// Appends everything queued before this call to the store, in order; returns when it is
    /// in (also what another caller was writing meanwhile). Blocking: call it where the
    /// store may be (a blocking task, the compaction thread), or where nothing is queued.
    /// An `Err` says the store failed: the updates not stored have been told (see the module).
    pub fn write_queued(&self) -> Result<(), StoreError> {
        let _writing = self.writing.lock();
        let batch = std::mem::take(&mut self.lock_queue().entries);
        let Some(&(newest, _)) = batch.last() else {
            return self.failed();
        };
        let mut outcome = self.failed();
        for (_, append) in &batch {
            if outcome.is_err() {
                append.not_stored();
                continue;
            }
            let meta = UpdateMeta {
                at_ms: append.at_ms,
                origin: Some(append.origin.label()),
            };
            if let Err(e) = self.store.append(&append.trip, &append.update, &meta) {
                self.metrics.error("storage");
                tracing::error!(trip = %append.trip, error = %e, "could not append an update");
                // The sender hears why before anyone hears that the store failed.
                append.not_stored();
                if self.health.record(&e) {
                    outcome = Err(e);
                }
                // Otherwise the error was about this record only: the store goes on without it.
            }
        }
        self.written.fetch_max(newest, Ordering::AcqRel);
        outcome
    }

    /// `Err` once the store has failed: nothing can be appended any more.
    fn failed(&self) -> Result<(), StoreError> {
        match self.health.failure() {
            Some(reason) => Err(std::io::Error::other(reason.to_owned()).into()),
            None => Ok(()),
        }
    }
}
