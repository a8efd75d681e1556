//! **Store**, the durability part: group commit, many appended updates sharing one flush.
//!
//! Every update queued for the log takes a ticket (a running count: see `log_writer`). A flush
//! writes the queue out and covers every ticket taken before it started; when it returns, the
//! durable mark moves up to that count and whoever waits for a ticket at or below it is told. Flushes run back to back while someone waits, and at least
//! every `flush_interval` while anything is unflushed, so the cost of a flush is shared by
//! everything that arrived during the previous one.
//!
//! Every wait has an answer within `--saved-timeout-secs`: saved, or [`NotSaved`] with the
//! reason (the store failed, and with it every flush to come: see `health`; or the flush
//! took longer than the timeout). A connection's "saved?" questions do not wait in a task each:
//! they queue in `saved`, and each flush answers all it covers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use persistence::{DocStore, StoreError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::health::StoreHealth;
use super::log_writer::{LogWriter, QueuedAppend};
use super::saved::{NotSaved, SavedAnswers, SWEEP_INTERVAL};
use super::trip_store::TripStore;
use crate::document::origin::ConnId;
use crate::document::peer::Peer;
use crate::metrics::Metrics;

/// The shortest time between the starts of two flushes: a "saved?" that arrives just after a
/// flush began waits at most this long plus one flush.
const MIN_FLUSH_GAP: Duration = Duration::from_millis(5);

/// The group-commit coordinator, one per server.
pub struct GroupCommit {
    store: Arc<TripStore>,
    metrics: Arc<Metrics>,
    health: Arc<StoreHealth>,
    saved_timeout: Duration,
    /// Every ticket up to this one is durable.
    durable: AtomicU64,
    someone_waits: Notify,
    answers: SavedAnswers,
}

impl GroupCommit {
    /// A coordinator flushing `store` (its queue written out first); a flush that fails is
    /// recorded in `health`, and a wait lasts at most `saved_timeout`.
    pub fn new(
        store: Arc<TripStore>,
        metrics: Arc<Metrics>,
        health: Arc<StoreHealth>,
        saved_timeout: Duration,
    ) -> GroupCommit {
        GroupCommit {
            store,
            answers: SavedAnswers::new(metrics.clone()),
            metrics,
            health,
            saved_timeout,
            durable: AtomicU64::new(0),
            someone_waits: Notify::new(),
        }
    }

    /// Answers question `n` of connection `conn` (as `peer`) with "saved" once the append
    /// with `ticket` is durable: at once if it is, after the flush that covers it otherwise.
    /// When it will not be (the store failed) or is not within `--saved-timeout-secs`, the
    /// connection is closed with 1011 and the reason instead.
    pub fn answer_when_saved(&self, conn: ConnId, peer: &Peer, ticket: u64, n: u64) {
        if ticket > self.durable() {
            if let Some(reason) = self.health.failure() {
                self.metrics.error("not_saved");
                NotSaved::StoreFailed(reason.to_owned()).hang_up(&peer.hangup);
                return;
            }
            self.someone_waits.notify_one();
        }
        self.answers.ask(conn, peer, ticket, n, || self.durable());
    }

    /// Hangs up the connections whose questions will not be answered "saved": all of them
    /// once the store failed, those waiting past the timeout otherwise.
    fn give_up_on_questions(&self) {
        let given_up = match self.health.failure() {
            Some(reason) => self.answers.fail_all(reason),
            None => self.answers.expire(self.saved_timeout),
        };
        for _ in 0..given_up {
            self.metrics.error("not_saved");
        }
    }

    /// Queues an update for its trip's log (see `log_writer`); returns its ticket.
    pub fn queue(&self, append: QueuedAppend) -> u64 {
        self.log().queue(append)
    }

    /// The queue of the log's appends.
    pub fn log(&self) -> &Arc<LogWriter> {
        self.store.log()
    }

    /// Waits until the append with `ticket` is durable, or until it is known that it will
    /// not be (the store failed), or for `saved_timeout` at most: the REST API's wait, in the
    /// same queue as the connections' questions (see `saved`).
    pub async fn wait(&self, ticket: u64) -> Result<(), NotSaved> {
        if self.durable() >= ticket {
            return Ok(());
        }
        if let Some(reason) = self.health.failure() {
            self.metrics.error("not_saved");
            return Err(NotSaved::StoreFailed(reason.to_owned()));
        }
        self.someone_waits.notify_one();
        let answer = self.answers.wait_for(ticket, || self.durable());
        // The sweep gives up on it after the timeout (and counts it); were the sweep stopped
        // (the server stopping), the wait still ends.
        match tokio::time::timeout(self.saved_timeout + SWEEP_INTERVAL, answer).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) | Err(_) => {
                self.metrics.error("not_saved");
                Err(NotSaved::TimedOut(self.saved_timeout))
            }
        }
    }

    /// Every ticket up to this one is durable.
    fn durable(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// Flushes now if anything is unflushed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let target = self.log().last_ticket();
        if target <= self.durable() {
            return Ok(());
        }
        self.flush_through(target).await
    }

    /// Writes the log's queue out, flushes the store and marks every ticket up to `target`
    /// (queued before this call) durable.
    async fn flush_through(&self, target: u64) -> Result<(), StoreError> {
        let store = self.store.clone();
        let started = Instant::now();
        // The door writes the queue out before the store's flush.
        let flushed = tokio::task::spawn_blocking(move || store.flush())
            .await
            .expect("flush task does not panic");
        if let Err(e) = flushed {
            self.health.record(&e);
            // Whoever waits hears it now, not at the next sweep.
            self.give_up_on_questions();
            return Err(e);
        }
        self.metrics
            .flush_seconds
            .observe(started.elapsed().as_secs_f64());
        self.durable.fetch_max(target, Ordering::AcqRel);
        self.answers.durable(target);
        Ok(())
    }

    /// The flushing loop; runs until `stop` is cancelled. It does not flush on its way out:
    /// the server's shutdown calls [`GroupCommit::final_flush`] once everything is written.
    pub async fn run(self: Arc<Self>, flush_interval: Duration, stop: CancellationToken) {
        let sweeper = {
            let commit = self.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(SWEEP_INTERVAL);
                loop {
                    every.tick().await;
                    commit.give_up_on_questions();
                }
            })
        };
        self.flush_loop(flush_interval, stop).await;
        sweeper.abort();
    }

    async fn flush_loop(&self, flush_interval: Duration, stop: CancellationToken) {
        let mut last_flush = Instant::now();
        loop {
            tokio::select! {
                _ = self.someone_waits.notified() => {}
                _ = tokio::time::sleep(flush_interval) => {}
                _ = stop.cancelled() => break,
            }
            // Under load, let the next flush start MIN_FLUSH_GAP after the last one did, so
            // that it covers what arrives meanwhile: fewer fsyncs, each for more updates.
            let gap = MIN_FLUSH_GAP.min(flush_interval);
            if let Some(wait) = gap.checked_sub(last_flush.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            last_flush = Instant::now();
            if self.health.failure().is_some() {
                // Nothing can become durable any more; waiters were answered.
                self.give_up_on_questions();
                stop.cancelled().await;
                break;
            }
            if let Err(e) = self.flush().await {
                self.metrics.error("storage");
                tracing::error!(error = %e, "flushing the store failed");
            }
        }
    }

    /// Flushes the store whatever the count says (compactions at shutdown write outside of
    /// it); the last step of a shutdown.
    pub async fn final_flush(&self) -> Result<(), StoreError> {
        self.flush_through(self.log().last_ticket()).await
    }
}
