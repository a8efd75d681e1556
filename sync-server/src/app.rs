//! The server put together: state shared by handlers, the router, and the serve loop with its
//! background tasks (group commit, room sweeping) and clean shutdown.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use persistence::{DocStore, SledStore, StoreError, TripId};
use tokio_util::sync::CancellationToken;

use crate::api;
use crate::config::ServerConfig;
use crate::durability::GroupCommit;
use crate::metrics::Metrics;
use crate::room::{Rooms, Services};
use crate::trips_api;
use crate::ws;

/// What every request handler gets.
#[derive(Clone)]
pub struct AppState {
    /// Loaded rooms.
    pub rooms: Arc<Rooms>,
    /// Cancelled when the server begins to stop.
    pub shutdown: CancellationToken,
}

impl AppState {
    /// A server over `store` (not yet listening, no background tasks running).
    pub fn new(config: ServerConfig, store: Arc<dyn DocStore>) -> AppState {
        let metrics = Arc::new(Metrics::new());
        let commit = Arc::new(GroupCommit::new(store.clone(), metrics.clone()));
        let services = Arc::new(Services {
            store,
            commit,
            metrics,
            config,
            events: crate::events::EventFeed::default(),
        });
        AppState {
            rooms: Arc::new(Rooms::new(services)),
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

    /// The document store.
    pub fn store(&self) -> &Arc<dyn DocStore> {
        &self.rooms.services().store
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

/// Every route of the server.
pub fn router(app: AppState) -> Router {
    let body_limit = app.config().max_message_bytes;
    Router::new()
        .route("/sync/{trip}", get(ws::sync_handler))
        .route(
            "/api/trips",
            get(api::list_trips).post(trips_api::create_trip),
        )
        .route("/api/trips/sample", post(trips_api::create_sample))
        .route(
            "/api/trips/{trip}/update",
            get(api::get_update).post(api::post_update),
        )
        .route(
            "/api/trips/{trip}",
            get(trips_api::get_trip).delete(api::delete_trip),
        )
        .route("/api/events", get(crate::events::event_stream))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(app)
}

/// Runs `caravan serve` until SIGINT or SIGTERM, then stops cleanly: connections are closed
/// with a reason, every loaded trip is compacted, and the store is flushed.
pub async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let store = SledStore::open(&config.data_dir).with_context(|| {
        format!(
            "opening the store in {} (is another caravan using it?)",
            config.data_dir.display()
        )
    })?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let app = AppState::new(config.clone(), Arc::new(store));
    tracing::info!(
        listen = %listener.local_addr()?,
        data = %config.data_dir.display(),
        "caravan is serving: ws://{}/sync/{{tripId}}",
        listener.local_addr()?
    );

    let stop_flushing = CancellationToken::new();
    let flusher = tokio::spawn(
        app.rooms
            .services()
            .commit
            .clone()
            .run(config.flush_interval, stop_flushing.clone()),
    );
    let sweeper = {
        let rooms = app.rooms.clone();
        let stop = app.shutdown.clone();
        let every = config.sweep_interval;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => rooms.sweep(),
                    _ = stop.cancelled() => break,
                }
            }
        })
    };

    let shutdown = app.shutdown.clone();
    let server = axum::serve(
        listener,
        router(app.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop_signal().await;
        tracing::info!("stopping: closing connections and saving every trip");
        shutdown.cancel();
    });
    server.await.context("serving")?;

    // WebSocket connections outlive axum's graceful shutdown: wait for them to hang up.
    let metrics = app.metrics().clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while metrics.connections.get() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = sweeper.await;
    app.rooms.shutdown().await;
    stop_flushing.cancel();
    let _ = flusher.await;
    tracing::info!("stopped; everything is saved");
    Ok(())
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
