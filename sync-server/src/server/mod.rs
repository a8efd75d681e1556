//! The server put together: [`serve`] opens the store and listens; [`start`] runs the parts
//! (group commit, the sweeper, the assistant, HTTP and WebSocket); [`Running::stop`] stops them
//! in named steps, in order.

pub mod assistant;
pub mod assistant_link;
pub mod listener;
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
use crate::config::{defaults, ServerConfig};
use crate::state::AppState;

pub use router::router;

/// How long the stop waits for WebSocket connections to hang up.
const CONNECTIONS_GRACE: Duration = Duration::from_secs(5);
/// How long the stop waits for the in-process assistant to leave its trips.
const ASSISTANT_GRACE: Duration = Duration::from_secs(3);
/// How often the data directory's free space is measured (for `--min-free-bytes` and
/// `caravan_data_free_bytes`).
const DISK_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// A server that is running: its address and the tasks [`Running::stop`] ends.
pub struct Running {
    app: AppState,
    addr: SocketAddr,
    http: JoinHandle<std::io::Result<()>>,
    sweeper: JoinHandle<()>,
    disk_watch: JoinHandle<()>,
    assistant: Option<JoinHandle<()>>,
    flusher: JoinHandle<()>,
    stop_flushing: CancellationToken,
}

/// Starts serving `app` on `listener`: group commit's flushing loop, the sweeper (unload,
/// presence expiry), the disk watch (free space), the assistant when `config.assistant` is
/// set, and the router.
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
    let disk_watch = {
        let services = app.rooms.services().clone();
        let stop = app.shutdown.clone();
        // Measured once before the first request, then every interval.
        services.health.measure_free_space();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(DISK_CHECK_INTERVAL) => services.health.measure_free_space(),
                    _ = stop.cancelled() => break,
                };
            }
        })
    };
    let assistant = config.assistant.then(|| assistant::start_in_process(&app));
    let serving = listener::serve(
        listener,
        router(app.clone()),
        config.header_read_timeout,
        config.max_http_connections,
        app.metrics().clone(),
        app.shutdown.clone(),
    );
    let http = tokio::spawn(serving);
    Ok(Running {
        app,
        addr,
        http,
        sweeper,
        disk_watch,
        assistant,
        flusher,
        stop_flushing,
    })
}

/// How a stop went: what it left undone, for the log and the exit status.
#[derive(Debug, Default)]
pub struct Stopped {
    /// Trips not compacted before the stop's deadline (their logs are durable and are loaded
    /// at the next start).
    pub not_compacted: Vec<persistence::TripId>,
    /// The step that took too long and was given up, if any.
    pub gave_up: Option<&'static str>,
    /// Whether the final flush made everything durable.
    pub flushed: bool,
    /// The store's failure, if it failed (the exit status is then `EXIT_STORE_FAILED`).
    pub store_failure: Option<String>,
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

    /// Stops the server, in order, every step under a deadline (`--stop-timeout-secs` for
    /// steps 1 to 6 together, then [`defaults::FINAL_FLUSH_SECS`] for 7 and 8): (1)
    /// stop accepting and tell every connection (1001); (2) wait for HTTP requests to finish;
    /// (3) wait, up to 5 s, for WebSocket connections to hang up; (4) stop the sweeper; (5)
    /// wait, up to 3 s, for the assistant; (6) close every room and compact every loaded trip
    /// until the deadline (what is left keeps its durable log); (7) stop group commit's loop;
    /// (8) flush the store, once, last. A failed step is logged and the next one runs.
    pub async fn stop(self) -> Stopped {
        let app = &self.app;
        let config = app.config();
        let deadline = tokio::time::Instant::now() + config.stop_timeout;
        let soon = |grace: Duration| deadline.min(tokio::time::Instant::now() + grace);
        let mut stopped = Stopped::default();
        app.shutdown.cancel();
        match tokio::time::timeout_at(deadline, self.http).await {
            Err(_) => stopped.gave_up = Some("waiting for HTTP requests"),
            Ok(Err(e)) => tracing::error!(error = %e, "the HTTP server panicked"),
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "the HTTP server failed"),
            Ok(Ok(Ok(()))) => {}
        }
        let metrics = app.metrics();
        let connections_deadline = soon(CONNECTIONS_GRACE);
        while metrics.connections.get() > 0 && tokio::time::Instant::now() < connections_deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = tokio::time::timeout_at(deadline, self.sweeper).await;
        let _ = tokio::time::timeout_at(deadline, self.disk_watch).await;
        if let Some(assistant) = self.assistant {
            let _ = tokio::time::timeout_at(soon(ASSISTANT_GRACE), assistant).await;
        }
        let report = app.rooms.shutdown(deadline).await;
        stopped.not_compacted = report.skipped;
        if !stopped.not_compacted.is_empty() {
            stopped
                .gave_up
                .get_or_insert("compacting every loaded trip");
        }
        // Steps 7 and 8 share the final flush's own time: a flush of the loop's that hangs in
        // the engine is not waited for past it either.
        let flush_deadline =
            tokio::time::Instant::now() + Duration::from_secs(defaults::FINAL_FLUSH_SECS);
        self.stop_flushing.cancel();
        let _ = tokio::time::timeout_at(flush_deadline, self.flusher).await;
        let final_flush = app.rooms.services().commit.final_flush();
        match tokio::time::timeout_at(flush_deadline, final_flush).await {
            Ok(Ok(())) => stopped.flushed = true,
            Ok(Err(e)) => tracing::error!(error = %e, "the final flush failed"),
            Err(_) => tracing::error!("the final flush did not end in time"),
        }
        stopped.store_failure = app.rooms.services().health.failure().map(str::to_owned);
        stopped
    }
}

/// How `caravan serve` ended; `main` turns it into the exit status.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Stopped by a signal, everything saved: status 0.
    Stopped,
    /// Stopped, but the store had failed or the final flush did not complete:
    /// [`crate::document::store_health::EXIT_STORE_FAILED`].
    StoreFailed,
}

/// `caravan serve`: opens the store, listens, runs until SIGINT or SIGTERM (or, after the
/// store failed, until `--store-failure-grace-secs` have passed), then stops (see
/// [`Running::stop`]). A second SIGINT or SIGTERM during the stop exits at once (status 130).
pub async fn serve(config: ServerConfig, auth: Auth) -> anyhow::Result<Ended> {
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
    let health = running.app().rooms.services().health.clone();
    tokio::select! {
        _ = signals::stop_signal() => {
            tracing::info!(
                "stopping: closing connections and saving every trip (at most {} s; a second \
                 signal exits at once)",
                config.stop_timeout.as_secs() + defaults::FINAL_FLUSH_SECS
            );
        }
        _ = async {
            health.failed().await;
            tokio::time::sleep(config.store_failure_grace).await
        } => {
            tracing::error!(
                "stopping: the store failed {} s ago; exiting for the supervisor to restart \
                 this server",
                config.store_failure_grace.as_secs()
            );
        }
    }
    tokio::spawn(async {
        signals::stop_signal().await;
        tracing::warn!("a second stop signal: exiting now, without finishing the stop");
        std::process::exit(signals::EXIT_SECOND_SIGNAL);
    });
    let stopped = running.stop().await;
    if let Some(step) = stopped.gave_up {
        tracing::warn!(step, "the stop ran out of time");
    }
    if !stopped.not_compacted.is_empty() {
        tracing::warn!(
            trips = stopped.not_compacted.len(),
            first = %stopped.not_compacted[0],
            "left uncompacted (their logs are durable and load at the next start)"
        );
    }
    if let Some(failure) = &stopped.store_failure {
        tracing::error!(error = %failure, "stopped; the store had failed: changes acknowledged \
            as saved are durable, the others were refused");
        return Ok(Ended::StoreFailed);
    }
    if !stopped.flushed {
        return Ok(Ended::StoreFailed);
    }
    tracing::info!("stopped; everything is saved");
    Ok(Ended::Stopped)
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
