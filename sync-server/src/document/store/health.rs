//! **Store health**: whether an update can still become durable, asked before every write.
//!
//! The policy (docs/operations.md, "Storage faults"), as PostgreSQL's after an fsync failure:
//! an I/O error of the storage engine on append, flush or compaction is **final** for this
//! process. sled keeps such an error and fails every later write with it, so no write made after
//! it is ever durable, whatever space is freed. From that moment the store is *failed*: writes
//! are refused with the reason, "saved" questions waiting are answered "not saved", `/readyz`
//! answers 503, reads are still served from memory, and after a grace period the process exits
//! with [`EXIT_STORE_FAILED`] so its supervisor restarts it on a store that opens afresh.
//!
//! Below `--min-free-bytes` of free space on the data directory's filesystem, the store is
//! *low on space*: new writes are refused before the disk is full (so compaction and sled's own
//! log always have room), and accepted again as soon as space is freed. Nothing failed, so
//! nothing is final.
//!
//! A compaction that the disk has no room for is *put off* (the log stays as it is, and the
//! next compaction tries again). While compactions are put off, writers are not held back to
//! let compactions catch up (`Room::compaction_behind`): none can, and the low-water mark
//! refuses writes before the disk is full.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

use persistence::StoreError;
use tokio_util::sync::CancellationToken;

/// The process's exit status after its store failed (`EX_IOERR` of sysexits.h): not 0, so a
/// supervisor restarts it, and distinct, so an operator reading the status knows why.
pub const EXIT_STORE_FAILED: i32 = 74;

/// Free space not known yet (or not measurable on this filesystem).
const FREE_UNKNOWN: u64 = u64::MAX;

/// Bytes appended after which free space is measured again, whatever the clock says: a fast
/// writer must not fill the low-water mark's margin between two measures of the disk watch.
const REMEASURE_AFTER_BYTES: u64 = 256 * 1024;

/// Why the store takes no write now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unwritable {
    /// The storage engine failed; final for this process (see the module's policy).
    #[error("the store failed ({reason}); this server will restart")]
    Failed {
        /// The engine's error.
        reason: String,
    },
    /// Free space is below `--min-free-bytes`; writes resume once space is freed.
    #[error("the server's disk is almost full ({free} bytes free, {min} needed); try again later")]
    LowOnSpace {
        /// Bytes free on the data directory's filesystem.
        free: u64,
        /// `--min-free-bytes`.
        min: u64,
    },
}

/// The store's health, shared by every room and handler.
pub struct StoreHealth {
    /// The data directory, whose filesystem's free space is measured.
    data_dir: PathBuf,
    /// `--min-free-bytes` (0: no low-water mark).
    min_free_bytes: u64,
    /// Bytes free at the last measure ([`FREE_UNKNOWN`] before the first).
    free_bytes: AtomicU64,
    /// Bytes appended since the last measure.
    written_since_measure: AtomicU64,
    /// The first engine error, once there was one.
    failure: OnceLock<String>,
    /// Cancelled when the store fails.
    failed: CancellationToken,
    /// Set when a compaction was put off for want of room, cleared when one folds again.
    compactions_put_off: AtomicBool,
}

impl StoreHealth {
    /// A healthy store in `data_dir`, refusing writes below `min_free_bytes` free.
    pub fn new(data_dir: PathBuf, min_free_bytes: u64) -> StoreHealth {
        StoreHealth {
            data_dir,
            min_free_bytes,
            free_bytes: AtomicU64::new(FREE_UNKNOWN),
            written_since_measure: AtomicU64::new(0),
            failure: OnceLock::new(),
            failed: CancellationToken::new(),
            compactions_put_off: AtomicBool::new(false),
        }
    }

    /// Records whether the last compaction was put off for want of room (`true`) or folded
    /// (`false`).
    pub fn compaction_put_off(&self, put_off: bool) {
        self.compactions_put_off.store(put_off, Ordering::Relaxed);
    }

    /// True while compactions are put off for want of room: waiting for one to catch up
    /// cannot help.
    pub fn compactions_put_off(&self) -> bool {
        self.compactions_put_off.load(Ordering::Relaxed)
    }

    /// `Ok` when a write may be made now; otherwise why not.
    pub fn writable(&self) -> Result<(), Unwritable> {
        if let Some(reason) = self.failure.get() {
            return Err(Unwritable::Failed {
                reason: reason.clone(),
            });
        }
        let free = self.free_bytes.load(Ordering::Relaxed);
        if free != FREE_UNKNOWN && free < self.min_free_bytes {
            return Err(Unwritable::LowOnSpace {
                free,
                min: self.min_free_bytes,
            });
        }
        Ok(())
    }

    /// Counts `len` bytes appended; past [`REMEASURE_AFTER_BYTES`] since the last measure, free
    /// space is measured again now (one `statvfs`).
    pub fn appended(&self, len: usize) {
        let written = self
            .written_since_measure
            .fetch_add(len as u64, Ordering::Relaxed)
            + len as u64;
        if written >= REMEASURE_AFTER_BYTES && self.min_free_bytes > 0 {
            self.measure_free_space();
        }
    }

    /// Records `error` from the store. An error of the engine itself (I/O, its own
    /// corruption checks) fails the store for good and returns true; an error about one
    /// record (a trip's unreadable update) costs only that trip and is not recorded.
    pub fn record(&self, error: &StoreError) -> bool {
        if !error.is_engine_failure() {
            return false;
        }
        if self.failure.set(error.to_string()).is_ok() {
            tracing::error!(
                error = %error,
                "THE STORE FAILED: no write can become durable any more; refusing writes, \
                 serving reads from memory, and exiting (status {EXIT_STORE_FAILED}) after the \
                 grace period so the supervisor restarts this server"
            );
            self.failed.cancel();
        }
        true
    }

    /// The engine error that failed the store, if it failed.
    pub fn failure(&self) -> Option<&str> {
        self.failure.get().map(String::as_str)
    }

    /// Resolves once the store has failed.
    pub async fn failed(&self) {
        self.failed.cancelled().await
    }

    /// Measures the free space of the data directory's filesystem now; returns it (`None`
    /// when it cannot be measured, which leaves the low-water mark unchecked).
    pub fn measure_free_space(&self) -> Option<u64> {
        // Before the store creates it, the directory's nearest existing parent tells.
        let measured = self
            .data_dir
            .ancestors()
            .find(|dir| dir.exists())
            .unwrap_or(std::path::Path::new("."));
        match fs2::available_space(measured) {
            Ok(free) => {
                self.written_since_measure.store(0, Ordering::Relaxed);
                self.free_bytes.store(free, Ordering::Relaxed);
                Some(free)
            }
            Err(e) => {
                tracing::debug!(error = %e, "could not measure the data directory's free space");
                None
            }
        }
    }

    /// Bytes free at the last measure.
    pub fn free_bytes(&self) -> Option<u64> {
        Some(self.free_bytes.load(Ordering::Relaxed)).filter(|&f| f != FREE_UNKNOWN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_error_fails_the_store_for_good_and_a_record_error_does_not() {
        let health = StoreHealth::new(std::env::temp_dir(), 0);
        assert_eq!(health.writable(), Ok(()));
        let bad_record = StoreError::BadUpdate {
            trip: "t".into(),
            reason: "x".into(),
        };
        assert!(!health.record(&bad_record));
        assert_eq!(health.writable(), Ok(()));
        let io = StoreError::from(std::io::Error::other("No space left"));
        assert!(health.record(&io));
        assert!(matches!(
            health.writable(),
            Err(Unwritable::Failed { reason }) if reason.contains("No space left")
        ));
        assert!(health.failed.is_cancelled());
        // The first failure is the one reported.
        health.record(&StoreError::from(std::io::Error::other("later")));
        assert!(health.failure().unwrap().contains("No space left"));
    }

    #[test]
    fn below_the_low_water_mark_writes_are_refused_until_space_is_freed() {
        let health = StoreHealth::new(std::env::temp_dir(), 1000);
        // Unknown free space does not refuse.
        assert_eq!(health.writable(), Ok(()));
        health.free_bytes.store(999, Ordering::Relaxed);
        assert_eq!(
            health.writable(),
            Err(Unwritable::LowOnSpace {
                free: 999,
                min: 1000
            })
        );
        health.free_bytes.store(1000, Ordering::Relaxed);
        assert_eq!(health.writable(), Ok(()));
        assert!(health.measure_free_space().unwrap() > 0);
    }
}
