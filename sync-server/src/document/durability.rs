//! **Store**, the durability part: group commit, many appended updates sharing one flush.
//!
//! Every append takes a ticket (a running count). A flush covers every ticket taken before it
//! started; when it returns, the durable mark moves up to that count and whoever waits for a
//! ticket at or below it is told. Flushes run back to back while someone waits, and at least
//! every `flush_interval` while anything is unflushed, so the cost of a flush is shared by
//! everything that arrived during the previous one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use persistence::{DocStore, StoreError};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// The group-commit coordinator, one per server.
pub struct GroupCommit {
    store: Arc<dyn DocStore>,
    metrics: Arc<Metrics>,
    appended: AtomicU64,
    durable: watch::Sender<u64>,
    someone_waits: Notify,
}

impl GroupCommit {
    /// A coordinator flushing `store`.
    pub fn new(store: Arc<dyn DocStore>, metrics: Arc<Metrics>) -> GroupCommit {
        GroupCommit {
            store,
            metrics,
            appended: AtomicU64::new(0),
            durable: watch::channel(0).0,
            someone_waits: Notify::new(),
        }
    }

    /// Takes the ticket of an append that has just returned.
    pub fn ticket(&self) -> u64 {
        self.appended.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Waits until the append with `ticket` is durable.
    pub async fn wait(&self, ticket: u64) {
        let mut durable = self.durable.subscribe();
        if *durable.borrow() >= ticket {
            return;
        }
        self.someone_waits.notify_one();
        // The sender lives as long as `self`, so this only ends when the ticket is durable.
        let _ = durable.wait_for(|&d| d >= ticket).await;
    }

    /// Flushes now if anything is unflushed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let target = self.appended.load(Ordering::Acquire);
        if target <= *self.durable.borrow() {
            return Ok(());
        }
        self.flush_through(target).await
    }

    /// Flushes the store and marks every ticket up to `target` durable.
    async fn flush_through(&self, target: u64) -> Result<(), StoreError> {
        let store = self.store.clone();
        let started = Instant::now();
        tokio::task::spawn_blocking(move || store.flush())
            .await
            .expect("flush task does not panic")?;
        self.metrics
            .flush_seconds
            .observe(started.elapsed().as_secs_f64());
        self.durable.send_if_modified(|d| {
            let moved = target > *d;
            *d = (*d).max(target);
            moved
        });
        Ok(())
    }

    /// The flushing loop; runs until `stop` is cancelled. It does not flush on its way out:
    /// the server's shutdown calls [`GroupCommit::final_flush`] once everything is written.
    pub async fn run(self: Arc<Self>, flush_interval: Duration, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = self.someone_waits.notified() => {}
                _ = tokio::time::sleep(flush_interval) => {}
                _ = stop.cancelled() => break,
            }
            if let Err(e) = self.flush().await {
                self.metrics.error("storage");
                tracing::error!(error = %e, "flushing the store failed; will retry");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// Flushes the store whatever the count says (compactions at shutdown write outside of
    /// it); the last step of a shutdown.
    pub async fn final_flush(&self) -> Result<(), StoreError> {
        self.flush_through(self.appended.load(Ordering::Acquire))
            .await
    }
}
