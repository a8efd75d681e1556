//! `caravan`: the Caravan server and its maintenance commands. This file only reads the
//! command line and calls the library (`server::serve`, `maintenance`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use persistence::Keyring;
use sync_server::auth::{Auth, TokenKeys};
use sync_server::config::{defaults, ServerConfig};
use sync_server::maintenance::{self, StoreLocation, TokenOrder};
use sync_server::server;

#[derive(Parser)]
#[command(
    name = "caravan",
    version,
    about = "Caravan: a real-time collaboration server for trip planning"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve(Box<ServeArgs>),
    /// Folds every trip's update log into its snapshot (the server must be stopped).
    Compact {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Re-encrypts every record with the current encryption key, or decrypts the store when
    /// no key is given (the server must be stopped). Afterwards, only the current key is needed.
    Rekey {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Runs the assistant as its own process against a server: it follows the server's trip
    /// events and joins every trip people have open.
    Assistant {
        /// The server's HTTP address, such as http://127.0.0.1:8080.
        #[arg(long, env = "CARAVAN_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// A token with role assistant for trip * (see `caravan token`).
        #[arg(long, env = "CARAVAN_ASSISTANT_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Prints a token (JWT, HS256) for development, signed with the server's secret.
    Token {
        /// HS256 secret, the same as the server's.
        #[arg(long, env = "CARAVAN_JWT_SECRET", hide_env_values = true)]
        jwt_secret: String,
        /// The trip, or `*` for every trip.
        #[arg(long)]
        trip: String,
        /// owner, editor, viewer or assistant.
        #[arg(long, default_value = "editor")]
        role: sync_server::auth::Role,
        /// The user.
        #[arg(long)]
        sub: String,
        /// The user's family.
        #[arg(long)]
        family: Option<String>,
        /// Lifetime, such as 15m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
    /// Writes a backup of every trip to a file: from a running server with --server (and its
    /// admin key), or from the data directory of a stopped one.
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// The backup file to write (replaced only once the new one is whole).
        #[arg(long)]
        out: PathBuf,
        /// A running server's HTTP address, such as http://127.0.0.1:8080.
        #[arg(long, env = "CARAVAN_SERVER")]
        server: Option<String>,
        /// The running server's admin key.
        #[arg(long, env = "CARAVAN_ADMIN_KEY", hide_env_values = true)]
        admin_key: Option<String>,
    },
    /// Reads a backup into a data directory (the server must be stopped): an empty directory
    /// gets every trip back; a trip already there is merged with its backup.
    Restore {
        #[command(flatten)]
        store: StoreArgs,
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
    /// Prints a trip's JSON view (the server must be stopped; online: GET /api/trips/{id}).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// The trip.
        #[arg(long)]
        trip: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Creates a trip from a JSON file and prints its id (the server must be stopped;
    /// online: POST /api/trips).
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// The JSON file (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
        /// Id for the new trip (default: a random one).
        #[arg(long)]
        id: Option<String>,
    },
}

/// Where the store is and how it is encrypted.
#[derive(Args)]
struct StoreArgs {
    /// Data directory (the sled database).
    #[arg(long, env = "CARAVAN_DATA", default_value = defaults::DATA_DIR)]
    data: PathBuf,
    /// Encryption keys `id:base64key[,id:base64key...]`, the current one first; older ones
    /// are kept to read what they encrypted. Make a key with `openssl rand -base64 32`.
    #[arg(long, env = "CARAVAN_ENCRYPTION_KEYS", hide_env_values = true)]
    encryption_keys: Option<String>,
}

impl StoreArgs {
    fn keyring(&self) -> anyhow::Result<Option<Keyring>> {
        self.encryption_keys
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .map(Keyring::parse)
            .transpose()
            .map_err(Into::into)
    }

    fn location(&self) -> anyhow::Result<StoreLocation<'_>> {
        Ok(StoreLocation {
            data: &self.data,
            keys: self.keyring()?,
        })
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CARAVAN_LISTEN", default_value = defaults::LISTEN)]
    listen: SocketAddr,
    /// Threads running connections and rooms (0: one fewer than the cores, at least one).
    /// The log's appends, flushes and compactions run on threads of their own either way.
    #[arg(long, env = "CARAVAN_WORKER_THREADS", default_value_t = 0)]
    worker_threads: usize,
    #[command(flatten)]
    store: StoreArgs,
    /// HS256 secret that tokens are signed with (at least 32 bytes).
    #[arg(long, env = "CARAVAN_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// PEM public key (RSA for RS256, P-256 EC for ES256) that tokens are signed with.
    #[arg(long, env = "CARAVAN_JWT_PUBLIC_KEY")]
    jwt_public_key: Option<PathBuf>,
    /// Key that opens the admin routes (POST /api/tokens, listing, the event feed), given as
    /// `Authorization: Bearer <key>`.
    #[arg(long, env = "CARAVAN_ADMIN_KEY", hide_env_values = true)]
    admin_key: Option<String>,
    /// Refuse to start without a token key (production).
    #[arg(long, env = "CARAVAN_REQUIRE_AUTH")]
    require_auth: bool,
    /// Largest REST request body, in bytes.
    #[arg(long, env = "CARAVAN_MAX_BODY_BYTES", default_value_t = defaults::MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Largest trip, in stored bytes; updates past it are refused.
    #[arg(long, env = "CARAVAN_MAX_DOC_BYTES", default_value_t = defaults::MAX_DOC_BYTES)]
    max_doc_bytes: usize,
    /// Messages per second one connection may send, sustained (0: no limit).
    #[arg(long, env = "CARAVAN_MESSAGES_PER_SECOND", default_value_t = defaults::MESSAGES_PER_SECOND)]
    messages_per_second: u32,
    /// Messages one connection may send in a burst.
    #[arg(long, env = "CARAVAN_MESSAGE_BURST", default_value_t = defaults::MESSAGE_BURST)]
    message_burst: u32,
    /// Open WebSocket connections per client IP address (0: no limit).
    #[arg(long, env = "CARAVAN_MAX_CONNECTIONS_PER_IP", default_value_t = defaults::MAX_CONNECTIONS_PER_IP)]
    max_connections_per_ip: usize,
    /// Seconds a connection without a token in its URL has to send its token message.
    #[arg(long, env = "CARAVAN_AUTH_TIMEOUT_SECS", default_value_t = defaults::AUTH_TIMEOUT_SECS)]
    auth_timeout_secs: u64,
    /// Do not run the assistant inside the server (run `caravan assistant` elsewhere, or none).
    #[arg(long, env = "CARAVAN_NO_ASSISTANT")]
    no_assistant: bool,
    /// Trips loaded in memory at once (idle ones are evicted first).
    #[arg(long, env = "CARAVAN_MAX_LOADED_TRIPS", default_value_t = defaults::MAX_LOADED_TRIPS)]
    max_loaded_trips: usize,
    /// Largest WebSocket message or REST update accepted, in bytes.
    #[arg(long, env = "CARAVAN_MAX_MESSAGE_BYTES", default_value_t = defaults::MAX_MESSAGE_BYTES)]
    max_message_bytes: usize,
    /// Frames queued for one connection before it counts as too slow and is closed.
    #[arg(long, env = "CARAVAN_OUTBOX_FRAMES", default_value_t = defaults::OUTBOX_FRAMES)]
    outbox_frames: usize,
    /// Seconds without any connection after which a trip is unloaded from memory.
    #[arg(long, env = "CARAVAN_UNLOAD_AFTER_SECS", default_value_t = defaults::UNLOAD_AFTER_SECS)]
    unload_after_secs: u64,
    /// Seconds between keep-alive pings.
    #[arg(long, env = "CARAVAN_PING_SECS", default_value_t = defaults::PING_SECS)]
    ping_secs: u64,
    /// Seconds of silence (not even a pong) after which a connection is dropped.
    #[arg(long, env = "CARAVAN_DEAD_AFTER_SECS", default_value_t = defaults::DEAD_AFTER_SECS)]
    dead_after_secs: u64,
    /// Seconds after which an awareness state that was not renewed is removed.
    #[arg(long, env = "CARAVAN_AWARENESS_TIMEOUT_SECS", default_value_t = defaults::AWARENESS_TIMEOUT_SECS)]
    awareness_timeout_secs: u64,
    /// Directory of the family app's built files, served at `/` (default: clients/web/dist/app
    /// when it exists; `make run` builds it).
    #[arg(long, env = "CARAVAN_WEB_ROOT")]
    web_root: Option<std::path::PathBuf>,
    /// Updates in a trip's log that trigger its compaction (10,000 measured best: see
    /// docs/benchmarks.md).
    #[arg(long, env = "CARAVAN_COMPACT_AFTER_UPDATES", default_value_t = defaults::COMPACT_AFTER_UPDATES)]
    compact_after_updates: usize,
    /// Bytes logged that also trigger a compaction, once past the size of the rest of the trip.
    #[arg(long, env = "CARAVAN_COMPACT_AFTER_LOG_BYTES", default_value_t = defaults::COMPACT_AFTER_LOG_BYTES)]
    compact_after_log_bytes: usize,
    /// Longest wait, in milliseconds, before an update nobody asked about is flushed to disk.
    #[arg(long, env = "CARAVAN_FLUSH_INTERVAL_MS", default_value_t = defaults::FLUSH_INTERVAL_MS)]
    flush_interval_ms: u64,
    /// Free bytes on the data directory's filesystem below which new writes are refused
    /// (0: no limit), so compaction and the store's log always have room.
    #[arg(long, env = "CARAVAN_MIN_FREE_BYTES", default_value_t = defaults::MIN_FREE_BYTES)]
    min_free_bytes: u64,
    /// Seconds a server whose store failed keeps serving reads before it exits with status 74
    /// (for its supervisor to restart it).
    #[arg(long, env = "CARAVAN_STORE_FAILURE_GRACE_SECS", default_value_t = defaults::STORE_FAILURE_GRACE_SECS)]
    store_failure_grace_secs: u64,
    /// Seconds a stop may take before its final flush (which has 2 s of its own); trips not
    /// compacted by then keep their (durable) logs.
    #[arg(long, env = "CARAVAN_STOP_TIMEOUT_SECS", default_value_t = defaults::STOP_TIMEOUT_SECS)]
    stop_timeout_secs: u64,
    /// Seconds a client has to send a request's headers (slow or half-sent requests are closed).
    #[arg(long, env = "CARAVAN_HEADER_READ_TIMEOUT_SECS", default_value_t = defaults::HEADER_READ_TIMEOUT_SECS)]
    header_read_timeout_secs: u64,
    /// Connections still speaking HTTP (not yet WebSocket) at once; past it new ones are closed.
    #[arg(long, env = "CARAVAN_MAX_HTTP_CONNECTIONS", default_value_t = defaults::MAX_HTTP_CONNECTIONS)]
    max_http_connections: usize,
    /// Reverse proxies (CIDR ranges or addresses, comma-separated) whose X-Forwarded-For and
    /// Forwarded headers name the client, for the per-IP cap and the logs.
    #[arg(long, env = "CARAVAN_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
    /// Longest wait, in seconds, for a "saved" answer before it is answered "not saved".
    #[arg(long, env = "CARAVAN_SAVED_TIMEOUT_SECS", default_value_t = defaults::SAVED_TIMEOUT_SECS)]
    saved_timeout_secs: u64,
}

impl ServeArgs {
    fn auth(&self) -> anyhow::Result<Auth> {
        let public_key = match &self.jwt_public_key {
            Some(path) => Some(
                std::fs::read(path)
                    .with_context(|| format!("reading the JWT public key {}", path.display()))?,
            ),
            None => None,
        };
        let keys = TokenKeys::new(
            self.jwt_secret.as_deref().map(str::as_bytes),
            public_key.as_deref(),
        )?;
        if keys.is_none() && self.require_auth {
            anyhow::bail!(
                "--require-auth is set but no token key is configured: give --jwt-secret \
                 (CARAVAN_JWT_SECRET) or --jwt-public-key (CARAVAN_JWT_PUBLIC_KEY)"
            );
        }
        Ok(Auth::new(keys, self.admin_key.clone()))
    }

    fn into_config(self) -> anyhow::Result<ServerConfig> {
        let config = ServerConfig {
            listen: self.listen,
            encryption_keys: self.store.keyring()?,
            data_dir: self.store.data,
            web_root: self.web_root.or_else(|| {
                let built = PathBuf::from(defaults::BUILT_WEB_APP);
                built.join("index.html").exists().then_some(built)
            }),
            max_body_bytes: self.max_body_bytes,
            max_doc_bytes: self.max_doc_bytes,
            messages_per_second: self.messages_per_second,
            message_burst: self.message_burst,
            max_connections_per_ip: self.max_connections_per_ip,
            auth_timeout: Duration::from_secs(self.auth_timeout_secs),
            max_loaded_trips: self.max_loaded_trips,
            assistant: !self.no_assistant,
            max_message_bytes: self.max_message_bytes,
            outbox_frames: self.outbox_frames,
            ping_interval: Duration::from_secs(self.ping_secs),
            dead_after: Duration::from_secs(self.dead_after_secs),
            awareness_timeout: Duration::from_secs(self.awareness_timeout_secs),
            unload_after: Duration::from_secs(self.unload_after_secs),
            compact_after_updates: self.compact_after_updates,
            compact_after_log_bytes: self.compact_after_log_bytes,
            flush_interval: Duration::from_millis(self.flush_interval_ms),
            min_free_bytes: self.min_free_bytes,
            store_failure_grace: Duration::from_secs(self.store_failure_grace_secs),
            stop_timeout: Duration::from_secs(self.stop_timeout_secs),
            saved_timeout: Duration::from_secs(self.saved_timeout_secs),
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            trusted_proxies: sync_server::http::client_address::parse_trusted_proxies(
                &self.trusted_proxies,
            )
            .map_err(|e| anyhow::anyhow!("--trusted-proxies: {e}"))?,
            max_http_connections: self.max_http_connections,
            ..ServerConfig::default()
        };
        Ok(config.checked())
    }
}

/// The worker threads `caravan serve` runs with: `asked`, or one fewer than the cores.
///
/// One worker fewer than the cores (at least one): the log's appends and the flushes run on
/// a thread of their own (`document::log_writer`), and on the project's 2-core machine one
/// worker cost 12.6 µs of CPU per delivered update against 15.7 µs with two (fewer threads
/// woken for each message), at the same latency (`docs/benchmarks.md`). Before appends left
/// the worker, one worker made every connection wait for each sled insert.
fn worker_threads(asked: usize) -> usize {
    if asked > 0 {
        return asked;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sled=warn")),
        )
        .with_target(false)
        .init();
    sync_server::panic_log::install();
    let cli = Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Command::Serve(args) = &cli.command {
        builder.worker_threads(worker_threads(args.worker_threads));
    }
    let runtime = builder.enable_all().build()?;
    match cli.command {
        Command::Serve(args) => {
            let auth = args.auth()?;
            let config = args.into_config()?;
            let ended = runtime.block_on(server::serve(config, auth))?;
            // A compaction given up at the deadline may still be running on a blocking thread:
            // it is not waited for (its trip's log is durable).
            runtime.shutdown_timeout(Duration::from_millis(100));
            if ended == server::Ended::StoreFailed {
                std::process::exit(sync_server::document::EXIT_STORE_FAILED);
            }
            Ok(())
        }
        Command::Token {
            jwt_secret,
            trip,
            role,
            sub,
            family,
            ttl,
        } => maintenance::token(
            &jwt_secret,
            TokenOrder {
                trip,
                role,
                sub,
                family,
                ttl,
            },
        ),
        Command::Assistant { server, token } => {
            runtime.block_on(server::assistant::run_standalone(server, token))
        }
        Command::Rekey { store } => maintenance::rekey(store.location()?),
        Command::Compact { store } => maintenance::compact(store.location()?),
        Command::Export { store, trip, out } => {
            maintenance::export(store.location()?, &trip, out.as_deref())
        }
        Command::Import { store, file, id } => maintenance::import(store.location()?, &file, id),
        Command::Backup {
            store: _,
            out,
            server: Some(server),
            admin_key,
        } => runtime.block_on(maintenance::backup_online(
            &server,
            admin_key.as_deref(),
            &out,
        )),
        Command::Backup {
            store,
            out,
            server: None,
            ..
        } => maintenance::backup_offline(store.location()?, &out),
        Command::Restore { store, from } => maintenance::restore(store.location()?, &from),
    }
}
