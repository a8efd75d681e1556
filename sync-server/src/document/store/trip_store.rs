//! **Store**, the one door to the store: [`TripStore`] is the store as the rest of the server
//! sees it. Every read of a trip's log, and every write that must follow the appends queued
//! so far (a compaction, a delete, a flush), writes the log's queue out first: no one reads a
//! log that lacks an update relayed before.
//!
//! When the queue cannot be written out, the store has failed (`health`): a write fails with
//! that error, while a read goes on and reads what the store holds, which is everything
//! answered "saved" (each update the store did not take hung its sender up, and marked its
//! room to reload: `log_writer`). So a failed store still serves reads, and memory, reloaded,
//! holds only what was stored.

use std::sync::Arc;

use persistence::{Compaction, DocStore, StoreError, StoredDoc, TripId, TripSummary, UpdateMeta};

use super::health::StoreHealth;
use super::log_writer::LogWriter;
use crate::metrics::Metrics;

/// The store behind the write-behind log: a [`DocStore`] whose every read and barrier comes
/// after the queued appends.
pub struct TripStore {
    store: Arc<dyn DocStore>,
    log: Arc<LogWriter>,
}

impl TripStore {
    /// The door to `store`, with an empty queue of appends in front of it; an append that
    /// fails is recorded in `health`.
    pub fn new(
        store: Arc<dyn DocStore>,
        health: Arc<StoreHealth>,
        metrics: Arc<Metrics>,
    ) -> TripStore {
        let log = Arc::new(LogWriter::new(store.clone(), health, metrics));
        TripStore { store, log }
    }

    /// The queue of appends in front of the store.
    pub fn log(&self) -> &Arc<LogWriter> {
        &self.log
    }

    /// The store, for a write, once the queue is written out. Blocking, as every method
    /// here: call them where the store may be (a blocking task, the compaction thread).
    fn after_queued(&self) -> Result<&dyn DocStore, StoreError> {
        self.log.write_queued()?;
        Ok(self.store.as_ref())
    }

    /// The store, for a read, once the queue is written out; a failed store is read as it is
    /// (see the module).
    fn for_reading(&self) -> &dyn DocStore {
        if let Err(e) = self.log.write_queued() {
            tracing::debug!(error = %e, "reading a store that failed: it holds what was saved");
        }
        self.store.as_ref()
    }
}

impl DocStore for TripStore {
    fn load(&self, trip: &TripId) -> Result<Option<StoredDoc>, StoreError> {
        self.for_reading().load(trip)
    }

    /// An append past the queue (a trip created whole, by the REST API or a restore): it
    /// comes after what was queued.
    fn append(&self, trip: &TripId, update: &[u8], meta: &UpdateMeta) -> Result<(), StoreError> {
        self.after_queued()?.append(trip, update, meta)
    }

    fn compact(&self, trip: &TripId) -> Result<Compaction, StoreError> {
        self.after_queued()?.compact(trip)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.after_queued()?.flush()
    }

    fn delete(&self, trip: &TripId) -> Result<bool, StoreError> {
        self.after_queued()?.delete(trip)
    }

    fn list(&self) -> Result<Vec<TripSummary>, StoreError> {
        self.for_reading().list()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Origin, QueuedAppend};
    use persistence::{Fault, FaultyStore, MemoryStore};

    fn trip() -> TripId {
        TripId::parse("trip").unwrap()
    }

    fn door(store: Arc<dyn DocStore>) -> TripStore {
        let health = Arc::new(StoreHealth::new(std::env::temp_dir(), 0));
        TripStore::new(store, health, Arc::new(Metrics::new()))
    }

    /// Queues an empty update of the trip, as a room does, without writing it out.
    fn queue(door: &TripStore) {
        let origin = Origin::Rest {
            user: "test".into(),
        };
        door.log()
            .queue(QueuedAppend::new(trip(), vec![0, 0], origin));
    }

    fn logged(store: &dyn DocStore) -> usize {
        store.load(&trip()).unwrap().map_or(0, |s| s.updates.len())
    }

    #[test]
    fn every_read_and_barrier_comes_after_what_is_queued() {
        let inner = Arc::new(MemoryStore::new());
        let door = door(inner.clone());
        queue(&door);
        assert_eq!(logged(inner.as_ref()), 0, "queued, not yet appended");
        assert_eq!(door.list().unwrap()[0].log_len, 1);
        queue(&door);
        assert_eq!(door.load(&trip()).unwrap().unwrap().updates.len(), 2);
        queue(&door);
        assert_eq!(door.compact(&trip()).unwrap().folded, 3);
        queue(&door);
        door.flush().unwrap();
        assert_eq!(logged(inner.as_ref()), 1);
        queue(&door);
        assert!(door.delete(&trip()).unwrap());
        assert!(
            inner.load(&trip()).unwrap().is_none(),
            "nothing queued outlives the delete"
        );
    }

    #[test]
    fn a_failed_store_is_read_as_it_is_and_refuses_every_write() {
        let faulty = Arc::new(FaultyStore::new(Arc::new(MemoryStore::new())));
        let door = door(faulty.clone());
        queue(&door);
        door.flush().unwrap();
        faulty.set(Fault::Append, true);
        queue(&door);
        let stored = door.load(&trip()).expect("a failed store is still read");
        assert_eq!(
            stored.unwrap().updates.len(),
            1,
            "what was saved, nothing more"
        );
        faulty.set(Fault::Append, false);
        assert!(door.flush().is_err(), "failed for good: no flush");
        assert!(door.compact(&trip()).is_err());
        assert!(door.delete(&trip()).is_err());
        assert_eq!(door.list().unwrap()[0].log_len, 1);
    }
}
