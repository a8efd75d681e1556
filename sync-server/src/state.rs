//! What every request handler gets ([`AppState`]): the rooms, who may do what, the per-IP
//! slots, and the signal that the server is stopping. Handlers (`http`, `ws`) reach the
//! document's life only through here.

use std::sync::Arc;

use persistence::{DocStore, StoreError, TripId};
use tokio_util::sync::CancellationToken;

use crate::auth::{Access, Action, Auth, Credentials, Refusal};
use crate::config::ServerConfig;
use crate::document::{NotSaved, Rooms, Services, TripStore, Unwritable};
use crate::limits::ConnectionsPerIp;
use crate::metrics::Metrics;

/// The state shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Loaded rooms.
    pub rooms: Arc<Rooms>,
    /// Token keys and the admin key.
    pub auth: Arc<Auth>,
    /// Open WebSocket connections per client IP.
    pub connections_per_ip: Arc<ConnectionsPerIp>,
    /// Cancelled when the server begins to stop.
    pub shutdown: CancellationToken,
}

impl AppState {
    /// A server over `store` (not yet listening, no background tasks running).
    pub fn new(config: ServerConfig, store: Arc<dyn DocStore>, auth: Auth) -> AppState {
        let services = Services::new(config, store, Arc::new(Metrics::new()));
        AppState {
            rooms: Arc::new(Rooms::new(Arc::new(services))),
            auth: Arc::new(auth),
            connections_per_ip: Arc::default(),
            shutdown: CancellationToken::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.rooms.services().config
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.rooms.services().metrics
    }

    /// Token keys and the admin key.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Checks `credentials` for `action` on `trip`; refusals are logged and counted.
    pub fn authorize(
        &self,
        credentials: &Credentials,
        action: Action,
        trip: Option<&TripId>,
    ) -> Result<Access, Refusal> {
        self.auth
            .authorize(credentials, action, trip, self.metrics())
    }

    /// The document store, behind its door (every read writes the log's queue out first).
    pub fn store(&self) -> &Arc<TripStore> {
        &self.rooms.services().store
    }

    /// Waits until the append with group-commit `ticket` is durable, or is known not to be,
    /// for `--saved-timeout-secs` at most.
    pub async fn saved(&self, ticket: u64) -> Result<(), NotSaved> {
        self.rooms.services().commit.wait(ticket).await
    }

    /// Whether the store takes writes now, and why not.
    pub fn writable(&self) -> Result<(), Unwritable> {
        self.rooms.services().health.writable()
    }

    /// Whether the store answers a read.
    pub async fn store_answers(&self) -> Result<(), StoreError> {
        let store = self.store().clone();
        tokio::task::spawn_blocking(move || {
            store
                .load(&TripId::parse("readyz-probe").expect("valid id"))
                .map(|_| ())
        })
        .await
        .unwrap_or_else(|_| Ok(()))
    }
}
