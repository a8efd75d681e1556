//! [`FaultyStore`]: any [`DocStore`] with faults on command, for tests (feature
//! `test-support`): appends, flushes or compactions fail with an I/O error, as on a full or
//! failing disk, and compactions can be made slow. Used where a real filesystem cannot be
//! made to fail on cue (a flush failing after its appends succeeded, a compaction failing).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::store::{Compaction, DocStore, StoredDoc, TripSummary};
use crate::{StoreError, TripId, UpdateMeta};

/// An operation a [`FaultyStore`] can be told to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `append` fails.
    Append,
    /// `flush` fails.
    Flush,
    /// `compact` fails.
    Compact,
    /// `compact` is put off: the disk has no room for the new snapshot
    /// ([`StoreError::NoRoomToCompact`]; not a failure of the store).
    NoRoomToCompact,
}

/// A store that passes every call to `inner`, unless told to fail it.
pub struct FaultyStore {
    inner: Arc<dyn DocStore>,
    append: AtomicBool,
    flush: AtomicBool,
    compact: AtomicBool,
    no_room: AtomicBool,
    compaction_delay_ms: AtomicU64,
}

impl FaultyStore {
    /// `inner`, with no fault yet.
    pub fn new(inner: Arc<dyn DocStore>) -> FaultyStore {
        FaultyStore {
            inner,
            append: AtomicBool::new(false),
            flush: AtomicBool::new(false),
            compact: AtomicBool::new(false),
            no_room: AtomicBool::new(false),
            compaction_delay_ms: AtomicU64::new(0),
        }
    }

    /// From now on, `fault` fails (`true`) or works again (`false`).
    pub fn set(&self, fault: Fault, failing: bool) {
        let flag = match fault {
            Fault::Append => &self.append,
            Fault::Flush => &self.flush,
            Fault::Compact => &self.compact,
            Fault::NoRoomToCompact => &self.no_room,
        };
        flag.store(failing, Ordering::SeqCst);
    }

    /// Every compaction from now on first sleeps `delay` (a large trip's, on a slow disk).
    pub fn slow_compactions(&self, delay: Duration) {
        self.compaction_delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    fn check(&self, flag: &AtomicBool, what: &str) -> Result<(), StoreError> {
        if flag.load(Ordering::SeqCst) {
            return Err(std::io::Error::other(format!(
                "No space left on device (os error 28) (FaultyStore: {what})"
            ))
            .into());
        }
        Ok(())
    }
}

impl DocStore for FaultyStore {
    fn load(&self, trip: &TripId) -> Result<Option<StoredDoc>, StoreError> {
        self.inner.load(trip)
    }

    fn append(&self, trip: &TripId, update: &[u8], meta: &UpdateMeta) -> Result<(), StoreError> {
        self.check(&self.append, "append")?;
        self.inner.append(trip, update, meta)
    }

    fn compact(&self, trip: &TripId) -> Result<Compaction, StoreError> {
        let delay = self.compaction_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        self.check(&self.compact, "compact")?;
        if self.no_room.load(Ordering::SeqCst) {
            return Err(StoreError::NoRoomToCompact {
                trip: trip.to_string(),
                needed: 1 << 30,
                free: 0,
            });
        }
        self.inner.compact(trip)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.check(&self.flush, "flush")?;
        self.inner.flush()
    }

    fn delete(&self, trip: &TripId) -> Result<bool, StoreError> {
        self.inner.delete(trip)
    }

    fn list(&self) -> Result<Vec<TripSummary>, StoreError> {
        self.inner.list()
    }
}
