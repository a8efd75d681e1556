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
use crate::auth::{Access, Action, Auth, Credentials};
use crate::config::ServerConfig;
use crate::durability::GroupCommit;
use crate::http_error::ApiError;
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
    pub fn new(config: ServerConfig, store: Arc<dyn DocStore>, auth: Auth) -> AppState {
        let metrics = Arc::new(Metrics::new());
        let commit = Arc::new(GroupCommit::new(store.clone(), metrics.clone()));
        let compactor = crate::room::Compactor::start(store.clone(), metrics.clone());
        let services = Arc::new(Services {
            compactor,
            store,
            commit,
            metrics,
            config,
            events: crate::events::EventFeed::default(),
            auth,
            connections_per_ip: Default::default(),
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

    /// Token keys and the admin key.
    pub fn auth(&self) -> &Auth {
        &self.rooms.services().auth
    }

    /// Checks `credentials` for `action` on `trip`; refusals are logged and counted.
    pub fn authorize(
        &self,
        credentials: &Credentials,
        action: Action,
        trip: Option<&TripId>,
    ) -> Result<Access, ApiError> {
        self.auth()
            .authorize(credentials, action, trip, self.metrics())
            .map_err(ApiError::from)
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

/// Every route of the server; any other path is a file of the family app, when it is served.
pub fn router(app: AppState) -> Router {
    let body_limit = app.config().max_body_bytes;
    let web_root = app.config().web_root.clone();
    let routes = Router::new()
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
        .route("/api/tokens", post(crate::tokens_api::mint_token))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .layer(axum::middleware::map_response_with_state(
            app.clone(),
            explain_body_limit,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(app);
    match web_root {
        Some(root) => routes.fallback_service(web_app(&root)),
        None => routes,
    }
}

/// The family app's files. Each answer says `Cache-Control: no-cache`, so that browsers
/// revalidate (cheaply, by `Last-Modified`) and a new service worker is found at once; the
/// service worker itself serves the app offline.
fn web_app(root: &std::path::Path) -> Router {
    use axum::http::{header, HeaderValue};
    Router::new()
        .fallback_service(tower_http::services::ServeDir::new(root))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            ),
        )
}

/// Turns axum's bare 413 (a body over `--max-body-bytes`) into a JSON error that says the
/// limit, and counts it.
async fn explain_body_limit(
    axum::extract::State(app): axum::extract::State<AppState>,
    response: axum::response::Response,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if response.status() != axum::http::StatusCode::PAYLOAD_TOO_LARGE
        || response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/json"))
    {
        return response;
    }
    app.metrics().error("body_too_big");
    tracing::warn!(
        limit = app.config().max_body_bytes,
        "refused a request body over the limit"
    );
    ApiError::with_status(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request body is too big: the limit is {} bytes",
            app.config().max_body_bytes
        ),
    )
    .into_response()
}

/// Runs `caravan serve` until SIGINT or SIGTERM, then stops cleanly: connections are closed
/// with a reason, every loaded trip is compacted, and the store is flushed.
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
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    log_security(&config, &auth);
    let app = AppState::new(config.clone(), Arc::new(store), auth);
    tracing::info!(
        listen = %listener.local_addr()?,
        data = %config.data_dir.display(),
        "caravan is serving: ws://{}/sync/{{tripId}}",
        listener.local_addr()?
    );
    match &config.web_root {
        Some(root) => {
            tracing::info!(web_root = %root.display(), "the family app is at http://{}/", listener.local_addr()?)
        }
        None => tracing::warn!(
            "the family app is not served: build it (make run does) or give --web-root"
        ),
    }

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

    let assistant = config.assistant.then(|| {
        let local = listener
            .local_addr()
            .expect("a bound listener has an address");
        let host = match local.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
            ip if ip.is_unspecified() => "[::1]".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let token = app.auth().internal_assistant_token(10 * 365 * 24 * 3600);
        let mut assistant =
            ai_bridge::AssistantConfig::new(format!("http://{host}:{}", local.port()), Some(token));
        assistant.metrics = Arc::new(ai_bridge::metrics::AiMetrics::new(app.metrics().registry()));
        assistant.model = ai_bridge::model::ModelSettings::from_env().map(|settings| {
            tracing::info!(
                providers = ?settings.providers.iter().map(|p| format!("{}: {} {}", p.name, p.base_url, p.model)).collect::<Vec<_>>(),
                "the assistant asks a language model first"
            );
            Arc::new(ai_bridge::model::ModelPlanner::new(settings, assistant.metrics.clone()))
        });
        tracing::info!("the assistant runs in this process (--no-assistant to turn it off)");
        tokio::spawn(ai_bridge::supervise(assistant, app.shutdown.child_token()))
    });

    // Small frames must leave at once: with Nagle's algorithm on, a relayed update can wait
    // for the delayed ACK of the previous one (about 40 ms on Linux).
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
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
    if let Some(assistant) = assistant {
        let _ = tokio::time::timeout(Duration::from_secs(3), assistant).await;
    }
    app.rooms.shutdown().await;
    stop_flushing.cancel();
    let _ = flusher.await;
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
