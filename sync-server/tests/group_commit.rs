//! Group commit: a waiter is answered only after a flush that covers its append, and many
//! appends share one flush.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use persistence::{
    Compaction, DocStore, SledStore, StoreError, StoredDoc, TripId, TripSummary, UpdateMeta,
};
use sync_server::durability::GroupCommit;
use sync_server::metrics::Metrics;
use tokio_util::sync::CancellationToken;

/// A sled store that counts flushes and makes each one slow, like a disk.
struct SlowFlushes {
    inner: SledStore,
    flushes: AtomicUsize,
}

impl DocStore for SlowFlushes {
    fn load(&self, trip: &TripId) -> Result<Option<StoredDoc>, StoreError> {
        self.inner.load(trip)
    }
    fn append(&self, trip: &TripId, update: &[u8], meta: &UpdateMeta) -> Result<(), StoreError> {
        self.inner.append(trip, update, meta)
    }
    fn compact(&self, trip: &TripId) -> Result<Compaction, StoreError> {
        self.inner.compact(trip)
    }
    fn flush(&self) -> Result<(), StoreError> {
        std::thread::sleep(Duration::from_millis(20));
        self.flushes.fetch_add(1, Ordering::SeqCst);
        self.inner.flush()
    }
    fn delete(&self, trip: &TripId) -> Result<bool, StoreError> {
        self.inner.delete(trip)
    }
    fn list(&self) -> Result<Vec<TripSummary>, StoreError> {
        self.inner.list()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_waiters_share_few_flushes_and_none_is_answered_early() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SlowFlushes {
        inner: SledStore::open(dir.path()).unwrap(),
        flushes: AtomicUsize::new(0),
    });
    let commit = Arc::new(GroupCommit::new(store.clone(), Arc::new(Metrics::new())));
    let stop = CancellationToken::new();
    // A long interval: only waiters trigger flushes in this test.
    let flusher = tokio::spawn(commit.clone().run(Duration::from_secs(60), stop.clone()));

    let trip = TripId::parse("t").unwrap();
    let mut waiters = Vec::new();
    for i in 0..400u32 {
        store
            .append(&trip, &[0, 0], &UpdateMeta::default())
            .unwrap();
        let ticket = commit.ticket();
        let flushes_at_append = store.flushes.load(Ordering::SeqCst);
        let commit = commit.clone();
        let store = store.clone();
        waiters.push(tokio::spawn(async move {
            commit.wait(ticket).await;
            // A flush that started after the append has finished.
            assert!(store.flushes.load(Ordering::SeqCst) > flushes_at_append);
        }));
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    for waiter in waiters {
        waiter.await.unwrap();
    }
    let flushes = store.flushes.load(Ordering::SeqCst);
    assert!(flushes >= 1);
    assert!(
        flushes <= 40,
        "{flushes} flushes for 400 appends: not batched"
    );

    // Nothing new: waiting on an old ticket returns at once, with no flush.
    commit.wait(1).await;
    assert_eq!(store.flushes.load(Ordering::SeqCst), flushes);
    stop.cancel();
    flusher.await.unwrap();
}
