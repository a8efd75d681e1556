//! **Store**, the answers to "saved?": each connection's questions wait here until a flush
//! covers the update they ask about, and every flush answers all it covers at once.
//!
//! The family app asks after every change, so under load there are as many questions as
//! updates. A task per question, each woken by each flush, cost more server CPU than relaying
//! the updates did; here a question is an entry in its connection's queue, a flush answers a
//! connection once (with its newest question covered: "saved(n)" says everything up to `n`
//! is durable), and a sweep every [`SWEEP_INTERVAL`] hangs up the connections whose oldest
//! question waited past `--saved-timeout-secs`.
//!
//! A request of the REST API that waits for "saved" (`GroupCommit::wait`) waits here too, as
//! one more asker answered by the same flushes, the same sweep and the same failure: one
//! wait for "saved", whoever asks.

use parking_lot::{Mutex, MutexGuard};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use caravan_wire::close;
use tokio::sync::oneshot;

use super::health::Unwritable;
use crate::document::origin::ConnId;
use crate::document::peer::{CloseReason, Delivery, Hangup, Peer};
use crate::metrics::Metrics;
use crate::protocol::messages;

/// Why a change was not saved, or a wait for "saved" ended without it. A connection hears it
/// one way, [`NotSaved::hang_up`]: closed with 1011 and this reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotSaved {
    /// The store takes no writes now (it failed, or the disk is almost full): the change
    /// was refused before it was applied.
    #[error(transparent)]
    Unwritable(#[from] Unwritable),
    /// The change was applied and relayed, but the store did not take it (see `log_writer`).
    #[error("the server could not save your change")]
    NotStored,
    /// The store failed before the update was durable; it never will be.
    #[error("not saved: the store failed ({0})")]
    StoreFailed(String),
    /// No flush covered the update within the timeout (it may still become durable).
    #[error("not saved within {0:?}: the store is too slow, try again")]
    TimedOut(Duration),
}

impl NotSaved {
    /// Closes the connection of `hangup` with 1011 and why: the client keeps what it sent as
    /// unsaved and sends it again when it reconnects.
    pub fn hang_up(&self, hangup: &Hangup) {
        hangup.hang_up(CloseReason::new(close::SERVER_ERROR, self.to_string()));
    }
}

/// How often questions waiting too long are looked for.
pub const SWEEP_INTERVAL: Duration = Duration::from_millis(500);

/// Who waits for a flush: a connection, or a request of the REST API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum AskerId {
    Connection(ConnId),
    Request(u64),
}

/// How an asker is answered.
enum Asker {
    /// With `saved(n)` frames in its outbox; hung up with 1011 when it will not be.
    Connection(Peer),
    /// With the outcome, once (taken when sent).
    Request(Option<oneshot::Sender<Result<(), NotSaved>>>),
}

/// Questions waiting for a flush, by asker.
pub struct SavedAnswers {
    waiting: Mutex<Askers>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Askers {
    by_id: HashMap<AskerId, Waiting>,
    next_request: u64,
}

/// One asker's questions, oldest first.
struct Waiting {
    asker: Asker,
    /// (group-commit ticket the question waits for, its number, when it was asked).
    questions: VecDeque<(u64, u64, Instant)>,
}

impl SavedAnswers {
    /// No question yet; answers are counted in `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> SavedAnswers {
        SavedAnswers {
            waiting: Mutex::default(),
            metrics,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Askers> {
        self.waiting.lock()
    }

    /// Question `n` of connection `conn` (as `peer`), answered once `ticket` is durable.
    /// `durable` is read under the same lock as [`SavedAnswers::durable`] takes, so a flush
    /// that ends meanwhile cannot miss the question.
    pub fn ask(&self, conn: ConnId, peer: &Peer, ticket: u64, n: u64, durable: impl Fn() -> u64) {
        let mut waiting = self.lock();
        if durable() >= ticket {
            self.answer_connection(peer, n);
            return;
        }
        waiting
            .by_id
            .entry(AskerId::Connection(conn))
            .or_insert_with(|| Waiting {
                asker: Asker::Connection(peer.clone()),
                questions: VecDeque::new(),
            })
            .questions
            .push_back((ticket, n, Instant::now()));
    }

    /// A request's wait for `ticket`: the receiver gets `Ok` once it is durable, or why not
    /// (the store failed, or the timeout passed). `durable` is read as in [`SavedAnswers::ask`].
    pub fn wait_for(
        &self,
        ticket: u64,
        durable: impl Fn() -> u64,
    ) -> oneshot::Receiver<Result<(), NotSaved>> {
        let (sender, receiver) = oneshot::channel();
        let mut waiting = self.lock();
        if durable() >= ticket {
            let _ = sender.send(Ok(()));
            return receiver;
        }
        waiting.next_request += 1;
        let id = AskerId::Request(waiting.next_request);
        waiting.by_id.insert(
            id,
            Waiting {
                asker: Asker::Request(Some(sender)),
                questions: VecDeque::from([(ticket, 0, Instant::now())]),
            },
        );
        receiver
    }

    /// Everything up to `ticket` is durable: answers each asker's newest question covered.
    pub fn durable(&self, ticket: u64) {
        self.lock().by_id.retain(|_, waiting| {
            let mut newest = None;
            while let Some(&(asked, n, _)) = waiting.questions.front() {
                if asked > ticket {
                    break;
                }
                newest = Some(n);
                waiting.questions.pop_front();
            }
            if let Some(n) = newest {
                match &mut waiting.asker {
                    Asker::Connection(peer) => self.answer_connection(peer, n),
                    Asker::Request(sender) => {
                        if let Some(sender) = sender.take() {
                            let _ = sender.send(Ok(()));
                        }
                    }
                }
            }
            !waiting.questions.is_empty()
        });
    }

    /// Gives up on every asker whose oldest question waited `timeout` or more; returns how
    /// many.
    pub fn expire(&self, timeout: Duration) -> usize {
        let mut expired = 0;
        self.lock().by_id.retain(|_, waiting| {
            let too_old = waiting
                .questions
                .front()
                .is_some_and(|&(_, _, at)| at.elapsed() >= timeout);
            if too_old {
                expired += 1;
                waiting.asker.refuse(NotSaved::TimedOut(timeout));
            }
            !too_old
        });
        expired
    }

    /// The store failed: nothing waiting will be durable. Gives up on every asker; returns
    /// how many.
    pub fn fail_all(&self, reason: &str) -> usize {
        let failed = NotSaved::StoreFailed(reason.to_owned());
        let mut waiting = self.lock();
        for waiting in waiting.by_id.values_mut() {
            waiting.asker.refuse(failed.clone());
        }
        let count = waiting.by_id.len();
        waiting.by_id.clear();
        count
    }

    /// Sends `saved(n)` to `peer` as every frame goes: into its outbox, counted. A peer whose
    /// outbox is full is hung up as too slow (as the relay does): it cannot be told.
    fn answer_connection(&self, peer: &Peer, n: u64) {
        let frame = Bytes::from(messages::saved(n));
        let len = frame.len() as u64;
        match peer.offer(frame) {
            Delivery::Queued => self.metrics.bytes_out_total.inc_by(len),
            Delivery::TooSlow => {
                self.metrics.error("slow_consumer");
                peer.hang_up_too_slow();
            }
            Delivery::Gone => {}
        }
    }
}

impl Asker {
    /// Tells the asker its questions will not be answered "saved", and why.
    fn refuse(&mut self, why: NotSaved) {
        match self {
            Asker::Connection(peer) => why.hang_up(&peer.hangup),
            Asker::Request(sender) => {
                if let Some(sender) = sender.take() {
                    let _ = sender.send(Err(why));
                }
            }
        }
    }
}
