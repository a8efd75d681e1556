//! [`DocStore`] in memory, for tests (feature `test-support`).
//!
//! It behaves as [`crate::SledStore`] does (a snapshot and a log per trip, compaction by
//! [`crate::replay`]), keeps nothing on disk, and lets a test step into each operation: a
//! hook runs before every load, compaction and flush (to make it slow, count it, or panic as
//! yrs may), and appends and flushes can be made to fail as a full disk would.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::replay::fold;
use crate::store::{Compaction, DocStore, StoredDoc, TripSummary};
use crate::{StoreError, TripId, UpdateMeta};

/// A hook a test runs before an operation on a trip.
type TripHook = Box<dyn Fn(&TripId) + Send + Sync>;

#[derive(Default)]
struct StoredTrip {
    snapshot: Option<Vec<u8>>,
    snapshot_at_ms: u64,
    log: Vec<(Vec<u8>, UpdateMeta)>,
}

impl StoredTrip {
    /// Bytes the trip takes: its snapshot and its log.
    fn bytes(&self) -> usize {
        self.snapshot.as_ref().map_or(0, Vec::len)
            + self.log.iter().map(|(u, _)| u.len()).sum::<usize>()
    }
}

/// The in-memory store. Build it with [`MemoryStore::new`] and the `before_*` hooks.
#[derive(Default)]
pub struct MemoryStore {
    trips: Mutex<BTreeMap<TripId, StoredTrip>>,
    before_load: Option<TripHook>,
    before_compact: Option<TripHook>,
    before_flush: Option<Box<dyn Fn() + Send + Sync>>,
    failing: AtomicBool,
    flushes: AtomicUsize,
    appends: AtomicUsize,
}

impl MemoryStore {
    /// An empty store with no hooks.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Runs `hook` before every load (outside the store's lock).
    pub fn before_load(mut self, hook: impl Fn(&TripId) + Send + Sync + 'static) -> Self {
        self.before_load = Some(Box::new(hook));
        self
    }

    /// Runs `hook` before every compaction (outside the store's lock).
    pub fn before_compact(mut self, hook: impl Fn(&TripId) + Send + Sync + 'static) -> Self {
        self.before_compact = Some(Box::new(hook));
        self
    }

    /// Runs `hook` before every flush.
    pub fn before_flush(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.before_flush = Some(Box::new(hook));
        self
    }

    /// From now on, appends and flushes fail (`true`) as on a full disk, or work again.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Flushes so far.
    pub fn flushes(&self) -> usize {
        self.flushes.load(Ordering::SeqCst)
    }

    /// Appends so far (failed ones apart).
    pub fn appends(&self) -> usize {
        self.appends.load(Ordering::SeqCst)
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, BTreeMap<TripId, StoredTrip>> {
        self.trips.lock()
    }

    fn fail_if_asked(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Engine(sled::Error::Io(std::io::Error::other(
                "no space left on device (MemoryStore::set_failing)",
            ))));
        }
        Ok(())
    }
}

impl DocStore for MemoryStore {
    fn load(&self, trip: &TripId) -> Result<Option<StoredDoc>, StoreError> {
        if let Some(hook) = &self.before_load {
            hook(trip);
        }
        Ok(self.lock().get(trip).map(|stored| StoredDoc {
            snapshot: stored.snapshot.clone(),
            updates: stored.log.iter().map(|(u, _)| u.clone()).collect(),
        }))
    }

    fn append(&self, trip: &TripId, update: &[u8], meta: &UpdateMeta) -> Result<(), StoreError> {
        self.fail_if_asked()?;
        self.lock()
            .entry(trip.clone())
            .or_default()
            .log
            .push((update.to_vec(), meta.clone()));
        self.appends.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn compact(&self, trip: &TripId) -> Result<Compaction, StoreError> {
        if let Some(hook) = &self.before_compact {
            hook(trip);
        }
        let mut trips = self.lock();
        let Some(stored) = trips.get_mut(trip).filter(|s| !s.log.is_empty()) else {
            return Ok(Compaction::default());
        };
        let bytes_before = stored.bytes();
        let folded = fold(
            trip,
            stored.snapshot.as_deref(),
            stored.log.iter().map(|(u, _)| u.as_slice()),
        )?;
        let newest = stored.log.iter().map(|(_, m)| m.at_ms).max().unwrap_or(0);
        let log = std::mem::take(&mut stored.log);
        let count = log.len();
        stored.log = log
            .into_iter()
            .enumerate()
            .filter(|(i, _)| folded.kept.contains(i))
            .map(|(_, entry)| entry)
            .collect();
        stored.snapshot = Some(folded.state);
        stored.snapshot_at_ms = stored.snapshot_at_ms.max(newest);
        Ok(Compaction {
            folded: count - folded.kept.len(),
            bytes_before,
            bytes_after: stored.bytes(),
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        if let Some(hook) = &self.before_flush {
            hook();
        }
        self.fail_if_asked()?;
        self.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn delete(&self, trip: &TripId) -> Result<bool, StoreError> {
        Ok(self.lock().remove(trip).is_some())
    }

    fn list(&self) -> Result<Vec<TripSummary>, StoreError> {
        Ok(self
            .lock()
            .iter()
            .map(|(id, stored)| TripSummary {
                id: id.clone(),
                bytes: stored.bytes() as u64,
                log_len: stored.log.len() as u64,
                updated_at_ms: stored
                    .log
                    .iter()
                    .map(|(_, m)| m.at_ms)
                    .fold(stored.snapshot_at_ms, u64::max),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_folds_the_log_and_a_failing_store_refuses_appends() {
        let store = MemoryStore::new();
        let trip = TripId::parse("t").unwrap();
        use yrs::{ReadTxn, StateVector, Text, Transact};
        let doc = yrs::Doc::new();
        doc.get_or_insert_text("n")
            .push(&mut doc.transact_mut(), "hi");
        let text = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        store.append(&trip, &text, &UpdateMeta::default()).unwrap();
        store
            .append(&trip, &[7, 7], &UpdateMeta::default())
            .unwrap();
        let report = store.compact(&trip).unwrap();
        assert_eq!(report.folded, 1, "the unreadable update is kept");
        let stored = store.load(&trip).unwrap().unwrap();
        assert!(stored.snapshot.is_some());
        assert_eq!(stored.updates, vec![vec![7, 7]]);
        store.set_failing(true);
        assert!(store.append(&trip, &text, &UpdateMeta::default()).is_err());
        assert!(store.flush().is_err());
        assert_eq!(store.list().unwrap()[0].log_len, 1);
    }
}
