//! **Compact**: folding a trip's update log into its snapshot.
//!
//! Compactions run one at a time, on one thread of their own, in the order asked. Under a
//! steady load every trip reaches its threshold at about the same time; run all at once (as
//! they were, one blocking task each), fifty compactions took both cores and sled's write
//! path for a few hundred milliseconds, and every relay waited (docs/benchmarks.md). A trip
//! already waiting in the queue is not queued twice. Each compaction goes through the store's
//! door (`store::trip_store`), which writes the log's queue out first, so it folds every
//! update relayed before it started.

use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::Instant;

use persistence::{Compaction, DocStore, StoreError, TripId};

use super::store::health::StoreHealth;
use super::store::news::StoreNews;
use crate::metrics::Metrics;

/// One trip to compact, and the room to tell its new sizes (when it is loaded).
struct Job {
    trip: TripId,
    room: Option<Arc<StoreNews>>,
}

/// The queue of compactions and the thread that runs them.
pub struct Compactor {
    jobs: mpsc::Sender<Job>,
    queued: Arc<Mutex<HashSet<TripId>>>,
}

impl Compactor {
    /// Starts the compaction thread over `store` (the server's is its door, `TripStore`); an
    /// engine error is recorded in `health`, and a failed store is compacted no more.
    pub fn start(
        store: Arc<dyn DocStore>,
        metrics: Arc<Metrics>,
        health: Arc<StoreHealth>,
    ) -> Compactor {
        let (sender, jobs) = mpsc::channel::<Job>();
        let queued: Arc<Mutex<HashSet<TripId>>> = Arc::default();
        let taken = queued.clone();
        let spawned = std::thread::Builder::new()
            .name("caravan-compaction".into())
            .spawn(move || {
                for job in jobs {
                    taken
                        .lock()
                        .remove(&job.trip);
                    // A panic inside yrs (a stored update it cannot handle) costs that one
                    // compaction, not the thread: the log stays as it was.
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        compact(store.as_ref(), &job.trip, &metrics, &health)
                    }));
                    match outcome {
                        Ok(Some(report)) => {
                            if let Some(room) = job.room {
                                room.compacted(report.bytes_before, report.bytes_after);
                            }
                        }
                        Ok(None) => {}
                        Err(_) => {
                            metrics.error("compaction");
                            tracing::error!(trip = %job.trip, "compaction panicked; the log is kept as it was");
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the compaction thread; logs will not be compacted while running");
        }
        Compactor {
            jobs: sender,
            queued,
        }
    }

    /// Queues a compaction of `trip` (unless one is already waiting); `room` hears its new
    /// sizes.
    pub fn queue(&self, trip: TripId, room: Option<Arc<StoreNews>>) {
        if !self.queued.lock().insert(trip.clone()) {
            return;
        }
        // Fails only when the thread could not start, which was logged.
        let _ = self.jobs.send(Job { trip, room });
    }
}

/// Compacts `trip` now, on the calling thread; logs and counts the outcome, and records an
/// engine error in `health`. `None` when there was nothing to fold, it failed (the log is
/// then kept as it was), or the store had failed (it is not touched then).
pub fn compact(
    store: &dyn DocStore,
    trip: &TripId,
    metrics: &Metrics,
    health: &StoreHealth,
) -> Option<Compaction> {
    if health.failure().is_some() {
        return None;
    }
    let started = Instant::now();
    match store.compact(trip) {
        Ok(report) if report.folded > 0 => {
            health.compaction_put_off(false);
            metrics.compactions_total.inc();
            tracing::debug!(
                trip = %trip,
                folded = report.folded,
                bytes_before = report.bytes_before,
                bytes_after = report.bytes_after,
                ms = started.elapsed().as_millis() as u64,
                "compacted"
            );
            Some(report)
        }
        Ok(_) => None,
        Err(e @ StoreError::NoRoomToCompact { .. }) => {
            health.compaction_put_off(true);
            metrics.error("compaction_no_room");
            tracing::warn!(trip = %trip, error = %e, "compaction put off");
            None
        }
        Err(e) => {
            metrics.error("compaction");
            tracing::error!(trip = %trip, error = %e, "compaction failed; the log is kept as it was");
            health.record(&e);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence::{MemoryStore, UpdateMeta};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// What the store saw of the compactions: how many ran at once, at most, and which ran.
    #[derive(Default)]
    struct Seen {
        running: AtomicUsize,
        most_at_once: AtomicUsize,
        done: Mutex<Vec<TripId>>,
    }

    /// A store whose compactions are slow and watched; compacting `poison` panics, as yrs
    /// may on a stored update it cannot handle.
    fn watched(poison: Option<TripId>) -> (Arc<MemoryStore>, Arc<Seen>) {
        let seen = Arc::new(Seen::default());
        let watching = seen.clone();
        let store = MemoryStore::new().before_compact(move |trip| {
            if poison.as_ref() == Some(trip) {
                panic!("a stored update yrs cannot handle");
            }
            let now = watching.running.fetch_add(1, Ordering::SeqCst) + 1;
            watching.most_at_once.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            watching.running.fetch_sub(1, Ordering::SeqCst);
            watching.done.lock().push(trip.clone());
        });
        (Arc::new(store), seen)
    }

    fn healthy() -> Arc<StoreHealth> {
        Arc::new(StoreHealth::new(std::env::temp_dir(), 0))
    }

    fn wait_until(done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn compactions_run_one_at_a_time_and_a_waiting_trip_is_queued_once() {
        let (store, seen) = watched(None);
        let trips: Vec<TripId> = (0..10)
            .map(|i| TripId::parse(&format!("trip-{i}")).unwrap())
            .collect();
        for trip in &trips {
            store.append(trip, &[0, 0], &UpdateMeta::default()).unwrap();
        }
        let metrics = Arc::new(Metrics::new());
        let compactor = Compactor::start(store.clone(), metrics, healthy());
        // Asked from many threads at once, as rooms do; the last trip five times over.
        std::thread::scope(|scope| {
            for trip in &trips {
                let compactor = &compactor;
                scope.spawn(move || compactor.queue(trip.clone(), None));
            }
        });
        for _ in 0..5 {
            compactor.queue(trips[9].clone(), None);
        }
        wait_until(|| seen.done.lock().len() >= trips.len());
        std::thread::sleep(Duration::from_millis(100));
        let done = seen.done.lock().clone();
        assert_eq!(
            seen.most_at_once.load(Ordering::SeqCst),
            1,
            "compactions overlapped"
        );
        for trip in &trips {
            let runs = done.iter().filter(|t| *t == trip).count();
            // A trip asked for again while its compaction runs is compacted once more, at most.
            assert!((1..=2).contains(&runs), "{trip} compacted {runs} times");
        }
        let stored = store.load(&trips[0]).unwrap().unwrap();
        assert!(stored.updates.is_empty() && stored.snapshot.is_some());
    }

    #[test]
    fn a_compaction_that_panics_costs_only_itself() {
        let bad = TripId::parse("bad").unwrap();
        let good = TripId::parse("good").unwrap();
        let (store, seen) = watched(Some(bad.clone()));
        for trip in [&bad, &good] {
            store.append(trip, &[0, 0], &UpdateMeta::default()).unwrap();
        }
        let metrics = Arc::new(Metrics::new());
        let compactor = Compactor::start(store.clone(), metrics.clone(), healthy());
        compactor.queue(bad.clone(), None);
        compactor.queue(good.clone(), None);
        wait_until(|| !seen.done.lock().is_empty());
        assert_eq!(*seen.done.lock(), vec![good.clone()]);
        // The bad trip's log is as it was; the good one is compacted.
        assert_eq!(store.load(&bad).unwrap().unwrap().updates.len(), 1);
        assert!(store.load(&good).unwrap().unwrap().updates.is_empty());
    }
}
