//! Group commit: a waiter is answered only after a flush that covers its append, many
//! appends share one flush, and every wait ends: "not saved" once the store failed, or after
//! the saved timeout.

use std::sync::Arc;
use std::time::Duration;

use persistence::{DocStore, MemoryStore, TripId};
use sync_server::document::{GroupCommit, NotSaved, Origin, QueuedAppend, StoreHealth, TripStore};
use sync_server::metrics::Metrics;
use tokio_util::sync::CancellationToken;

/// Group commit over `store`, its flushing loop running (with a long interval: only waiters
/// trigger flushes in these tests).
struct Flushing {
    commit: Arc<GroupCommit>,
    stop: CancellationToken,
    flusher: tokio::task::JoinHandle<()>,
}

impl Flushing {
    fn start(store: Arc<MemoryStore>, saved_timeout: Duration) -> Flushing {
        let health = Arc::new(StoreHealth::new(std::env::temp_dir(), 0));
        let metrics = Arc::new(Metrics::new());
        let door = TripStore::new(store.clone(), health.clone(), metrics.clone());
        let commit = Arc::new(GroupCommit::new(
            Arc::new(door),
            metrics,
            health,
            saved_timeout,
        ));
        let stop = CancellationToken::new();
        let flusher = tokio::spawn(commit.clone().run(Duration::from_secs(60), stop.clone()));
        Flushing {
            commit,
            stop,
            flusher,
        }
    }

    /// Queues an update for the log and takes its ticket.
    fn append(&self) -> u64 {
        queue(&self.commit, "t")
    }

    async fn stop(self) {
        self.stop.cancel();
        self.flusher.await.unwrap();
    }
}

/// Queues an empty update of `trip` from a REST call; returns its ticket.
fn queue(commit: &GroupCommit, trip: &str) -> u64 {
    let origin = Origin::Rest {
        user: "test".into(),
    };
    commit.queue(QueuedAppend::new(
        TripId::parse(trip).unwrap(),
        vec![0, 0],
        origin,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_updates_reach_the_store_in_order_once_saved_and_not_before() {
    let store = Arc::new(MemoryStore::new());
    let flushing = Flushing::start(store.clone(), Duration::from_secs(60));
    let commit = flushing.commit.clone();
    let trip = TripId::parse("ordered").unwrap();
    let mut last = 0;
    for i in 0..50u8 {
        let origin = Origin::Rest {
            user: format!("u{i}"),
        };
        last = commit.queue(QueuedAppend::new(trip.clone(), vec![0, i], origin));
        queue(&commit, "other");
    }
    // Queued, not yet written: the store's log is empty, and the queue says so.
    assert!(store.load(&trip).unwrap().is_none());
    assert!(!commit.log().is_written());
    commit.wait(last).await.unwrap();
    let stored = store.load(&trip).unwrap().unwrap();
    let expected: Vec<Vec<u8>> = (0..50u8).map(|i| vec![0, i]).collect();
    assert_eq!(stored.updates, expected);
    assert!(commit.log().is_written());
    assert_eq!(
        store
            .load(&TripId::parse("other").unwrap())
            .unwrap()
            .unwrap()
            .updates
            .len(),
        50
    );
    flushing.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_waiters_share_few_flushes_and_none_is_answered_early() {
    // Each flush is slow, like a disk's.
    let store =
        Arc::new(MemoryStore::new().before_flush(|| std::thread::sleep(Duration::from_millis(20))));
    let flushing = Flushing::start(store.clone(), Duration::from_secs(60));
    let commit = flushing.commit.clone();
    let mut waiters = Vec::new();
    for i in 0..400u32 {
        let ticket = flushing.append();
        let flushes_at_append = store.flushes();
        let commit = commit.clone();
        let store = store.clone();
        waiters.push(tokio::spawn(async move {
            commit.wait(ticket).await.unwrap();
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
    commit.wait(1).await.unwrap();
    assert_eq!(store.flushes(), flushes);
    flushing.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_flush_answers_every_waiter_not_saved_and_later_ones_at_once() {
    let store = Arc::new(MemoryStore::new());
    let flushing = Flushing::start(store.clone(), Duration::from_secs(60));
    let commit = flushing.commit.clone();

    // One saved before the fault.
    let saved = flushing.append();
    commit.wait(saved).await.unwrap();

    let ticket = flushing.append();
    store.set_failing(true);
    let answer = tokio::time::timeout(Duration::from_secs(5), commit.wait(ticket))
        .await
        .expect("the waiter is answered");
    assert!(
        matches!(&answer, Err(NotSaved::StoreFailed(reason)) if reason.contains("no space left")),
        "{answer:?}"
    );
    // The store comes back (space freed), but this process never trusts it again: no new
    // wait is answered "saved", whatever a flush would now say.
    store.set_failing(false);
    let later = flushing.append();
    assert!(matches!(
        commit.wait(later).await,
        Err(NotSaved::StoreFailed(_))
    ));
    // What was durable before stays answered "saved".
    commit.wait(saved).await.unwrap();
    flushing.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_slower_than_the_saved_timeout_is_answered_timed_out() {
    let store = Arc::new(
        MemoryStore::new().before_flush(|| std::thread::sleep(Duration::from_millis(1500))),
    );
    let flushing = Flushing::start(store.clone(), Duration::from_millis(200));
    let commit = flushing.commit.clone();
    let ticket = flushing.append();
    let started = std::time::Instant::now();
    let answer = commit.wait(ticket).await;
    assert_eq!(answer, Err(NotSaved::TimedOut(Duration::from_millis(200))));
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    flushing.stop().await;
}
