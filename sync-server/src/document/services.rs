//! What every room needs from the server, and nothing more: the store, group commit, the
//! store's health, the compaction thread, the event feed, metrics and settings.

use std::sync::Arc;

use persistence::{DocStore, TripId};

use super::compaction::Compactor;
use super::events::EventFeed;
use super::store::group_commit::GroupCommit;
use super::store::health::StoreHealth;
use super::store::news::StoreNews;
use super::store::trip_store::TripStore;
use crate::config::ServerConfig;
use crate::metrics::Metrics;

/// The server's parts that rooms use, shared by every room.
pub struct Services {
    /// The document store, behind its one door: every read writes the log's queue out first.
    pub store: Arc<TripStore>,
    /// Group commit of the store's writes.
    pub commit: Arc<GroupCommit>,
    /// Whether the store takes writes (failed, low on space).
    pub health: Arc<StoreHealth>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Settings.
    pub config: ServerConfig,
    /// Trip events for `/api/events`.
    pub events: EventFeed,
    /// Compactions, one at a time.
    pub compactor: Compactor,
}

impl Services {
    /// The services over `store`; starts the compaction thread.
    pub fn new(config: ServerConfig, store: Arc<dyn DocStore>, metrics: Arc<Metrics>) -> Services {
        let health = Arc::new(StoreHealth::new(
            config.data_dir.clone(),
            config.min_free_bytes,
        ));
        let store = Arc::new(TripStore::new(store, health.clone(), metrics.clone()));
        let commit = Arc::new(GroupCommit::new(
            store.clone(),
            metrics.clone(),
            health.clone(),
            config.saved_timeout,
        ));
        Services {
            compactor: Compactor::start(store.clone(), metrics.clone(), health.clone()),
            commit,
            health,
            events: EventFeed::default(),
            store,
            metrics,
            config,
        }
    }

    /// Queues a compaction of a trip's log (see [`Compactor`]); `room` hears its new sizes.
    pub fn queue_compaction(&self, trip: TripId, room: Option<Arc<StoreNews>>) {
        self.compactor.queue(trip, room);
    }
}
