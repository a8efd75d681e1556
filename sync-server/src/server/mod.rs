//! The server put together: [`serve`] opens the store and listens; [`start`] runs the parts
//! (group commit, the sweeper, the assistant, HTTP and WebSocket); [`Running::stop`] stops them
//! in named steps, in order.

pub mod assistant;
pub mod router;
pub mod signals;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use persistence::SledStore;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::config::ServerConfig;
use crate::state::AppState;

pub use router::router;

/// How long the stop waits for WebSocket connections to hang up.
const CONNECTIONS_GRACE: Duration = Duration::from_secs(5);
/// How long the stop waits for the in-process assistant to leave its trips.
const ASSISTANT_GRACE: Duration = Duration::from_secs(3);

/// A server that is running: its address and the tasks [`Running::stop`] ends.
pub struct Running {
    app: AppState,
    addr: SocketAddr,
    http: JoinHandle<std::io::Result<()>>,
    sweeper: JoinHandle<()>,
    assistant: Option<JoinHandle<()>>,
    flusher: JoinHandle<()>,
    stop_flushing: CancellationToken,
}

/// Starts serving `app` on `listener`: group commit's flushing loop, the sweeper (unload,
/// presence expiry), the assistant when `config.assistant` is set, and the router.
pub fn start(app: AppState, listener: TcpListener) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let config = app.config().clone();
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
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(config.sweep_interval) => rooms.sweep(),
                    _ = stop.cancelled() => break,
                }
            }
        })
    };
    let assistant = config
        .assistant
        .then(|| assistant::start_in_process(&app, addr));
    // Small frames must leave at once: with Nagle's algorithm on, a relayed update can wait
    // for the delayed ACK of the previous one (about 40 ms on Linux).
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let stopping = app.shutdown.clone();
    let serving = axum::serve(
        listener,
        router(app.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stopping.cancelled().await });
    let http = tokio::spawn(async move { serving.await });
    Ok(Running {
        app,
        addr,
        http,
        sweeper,
        assistant,
        flusher,
        stop_flushing,
    })
}

impl Running {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's state.
    pub fn app(&self) -> &AppState {
        &self.app
    }

    /// Stops the server, in order: (1) stop accepting and tell every connection (1001);
    /// (2) wait for HTTP requests to finish; (3) wait, up to 5 s, for WebSocket connections
    /// to hang up; (4) stop the sweeper; (5) wait, up to 3 s, for the assistant; (6) close
    /// every room and compact every loaded trip; (7) stop group commit's loop; (8) flush the
    /// store, once, last.
    pub async fn stop(self) -> anyhow::Result<()> {
        let app = &self.app;
        app.shutdown.cancel();
        self.http
            .await
            .context("the HTTP server panicked")?
            .context("serving")?;
        let metrics = app.metrics();
        let deadline = tokio::time::Instant::now() + CONNECTIONS_GRACE;
        while metrics.connections.get() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.sweeper.await;
        if let Some(assistant) = self.assistant {
            let _ = tokio::time::timeout(ASSISTANT_GRACE, assistant).await;
        }
        app.rooms.shutdown().await;
        self.stop_flushing.cancel();
        let _ = self.flusher.await;
        app.rooms
            .services()
            .commit
            .final_flush()
            .await
            .context("the final flush failed")?;
        Ok(())
    }
}

/// `caravan serve`: opens the store, listens, runs until SIGINT or SIGTERM, then stops
/// cleanly (see [`Running::stop`]).
pub async fn serve(config: ServerConfig, auth: Auth) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let store = SledStore::open_with_keys(&config.data_dir, config.encryption_keys.clone())
        .with_context(|| {
            format!(
                "opening the store in {} (is another caravan using it?)",
                config.data_dir.display()
            )
        })?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    log_security(&config, &auth);
    let app = AppState::new(config.clone(), Arc::new(store), auth);
    let running = start(app, listener)?;
    let addr = running.addr();
    tracing::info!(
        listen = %addr,
        data = %config.data_dir.display(),
        "caravan is serving: ws://{addr}/sync/{{tripId}}"
    );
    match &config.web_root {
        Some(root) => {
            tracing::info!(web_root = %root.display(), "the family app is at http://{addr}/")
        }
        None => tracing::warn!(
            "the family app is not served: build it (make run does) or give --web-root"
        ),
    }
    signals::stop_signal().await;
    tracing::info!("stopping: closing connections and saving every trip");
    running.stop().await?;
    tracing::info!("stopped; everything is saved");
    Ok(())
}

/// Says at start how the server is protected, loudly when it is not.
fn log_security(config: &ServerConfig, auth: &Auth) {
    match auth.keys() {
        None => tracing::warn!(
            "RUNNING OPEN: no --jwt-secret or --jwt-public-key is configured, so anyone who can \
             reach this port may read, change and delete every trip. Fine on your own machine; \
             use --require-auth in production"
        ),
        Some(keys) => tracing::info!(
            hs256 = keys.can_mint(),
            public_key = keys.public_algorithm().unwrap_or("none"),
            admin_key = auth.has_admin_key(),
            "tokens are required"
        ),
    }
    match &config.encryption_keys {
        Some(keys) => tracing::info!(current_key = keys.current_id(), "the store is encrypted"),
        None => tracing::info!("the store is not encrypted (see --encryption-keys)"),
    }
}
