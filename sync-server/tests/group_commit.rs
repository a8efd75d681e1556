//! Group commit: a waiter is answered only after a flush that covers its append, and many
//! appends share one flush.

use std::sync::Arc;
use std::time::Duration;

use persistence::{DocStore, MemoryStore, TripId, UpdateMeta};
use sync_server::document::GroupCommit;
use sync_server::metrics::Metrics;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_waiters_share_few_flushes_and_none_is_answered_early() {
    // Each flush is slow, like a disk's.
    let store =
        Arc::new(MemoryStore::new().before_flush(|| std::thread::sleep(Duration::from_millis(20))));
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
        let flushes_at_append = store.flushes();
        let commit = commit.clone();
        let store = store.clone();
        waiters.push(tokio::spawn(async move {
            commit.wait(ticket).await;
            // A flush that started after the append has finished.
            assert!(store.flushes() > flushes_at_append);
        }));
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    for waiter in waiters {
        waiter.await.unwrap();
    }
    let flushes = store.flushes();
    assert!(flushes >= 1);
    assert!(
        flushes <= 40,
        "{flushes} flushes for 400 appends: not batched"
    );

    // Nothing new: waiting on an old ticket returns at once, with no flush.
    commit.wait(1).await;
    assert_eq!(store.flushes(), flushes);
    stop.cancel();
    flusher.await.unwrap();
}
