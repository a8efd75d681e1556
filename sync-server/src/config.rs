//! Settings of a running server, and their defaults. The CLI (`main.rs`) fills them from
//! flags and environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `caravan serve` can be told. [`ServerConfig::default`] gives the documented
/// defaults (see `docs/operations.md`).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the sled database.
    pub data_dir: PathBuf,
    /// Directory of the family app's built files (`clients/web/dist/app`), served at `/`;
    /// `None` serves no app.
    pub web_root: Option<PathBuf>,
    /// Largest WebSocket message or REST update accepted, in bytes.
    pub max_message_bytes: usize,
    /// Frames queued for one connection before it counts as too slow and is closed.
    pub outbox_frames: usize,
    /// How often the server pings each connection.
    pub ping_interval: Duration,
    /// A connection silent this long (not even a pong) is dropped as dead.
    pub dead_after: Duration,
    /// Awareness states not renewed this long are removed (y-protocols uses 30 s).
    pub awareness_timeout: Duration,
    /// A room with no connection for this long is unloaded from memory.
    pub unload_after: Duration,
    /// How often rooms are swept for idleness and expired awareness.
    pub sweep_interval: Duration,
    /// A trip's log is compacted into its snapshot once it holds this many updates.
    pub compact_after_updates: usize,
    /// ... or once the bytes logged pass this and the size of the rest of the trip.
    pub compact_after_log_bytes: usize,
    /// Longest time an update waits for a flush when nobody asked for one (group commit).
    pub flush_interval: Duration,
    /// Largest REST request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest trip, in stored bytes (snapshot plus log): updates that would pass it are
    /// refused.
    pub max_doc_bytes: usize,
    /// Messages per second one connection may send, sustained (0: no limit). Faster senders
    /// are throttled: the server stops reading from them until their budget refills.
    pub messages_per_second: u32,
    /// Messages one connection may send in a burst above the sustained rate.
    pub message_burst: u32,
    /// Open WebSocket connections per client IP address (0: no limit).
    pub max_connections_per_ip: usize,
    /// Time a connection that did not authenticate in its URL or headers has to send its
    /// token message.
    pub auth_timeout: Duration,
    /// Trips loaded in memory at once; idle ones are evicted first, and when none is idle,
    /// new ones are refused.
    pub max_loaded_trips: usize,
    /// Keys that encrypt the store (the first seals new records); `None` stores in the clear.
    pub encryption_keys: Option<persistence::Keyring>,
    /// Run the assistant inside this process (it still talks over the protocol).
    pub assistant: bool,
    /// Free bytes on the data directory's filesystem below which new writes are refused
    /// (0: none), so compaction and the store's own log always have room.
    pub min_free_bytes: u64,
    /// How long a server whose store failed keeps serving reads before it exits (status 74)
    /// for its supervisor to restart it.
    pub store_failure_grace: Duration,
    /// How long a stop may take before the final flush (see `server::Running::stop`); what
    /// could not be compacted in time stays in the log.
    pub stop_timeout: Duration,
    /// Time a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// Connections in the HTTP phase (not yet WebSocket) at once; past it new ones are closed.
    pub max_http_connections: usize,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers name the client (for the per-IP
    /// cap and the logs); with none, loopback clients are not capped.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Longest wait for a "saved" answer (a WebSocket "saved?" or a REST write) before it is
    /// answered "not saved".
    pub saved_timeout: Duration,
}

/// Every default of `caravan serve`, written once: [`ServerConfig::default`] and the command
/// line (`main.rs`, whose `--help` shows them) both read these.
pub mod defaults {
    /// `--listen`.
    pub const LISTEN: &str = "127.0.0.1:8080";
    /// `--data`.
    pub const DATA_DIR: &str = "./data";
    /// Where `make run` builds the family app; served when it exists and `--web-root` is not
    /// given.
    pub const BUILT_WEB_APP: &str = "clients/web/dist/app";
    /// `--max-message-bytes`.
    pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
    /// `--outbox-frames`.
    pub const OUTBOX_FRAMES: usize = 1024;
    /// `--ping-secs`.
    pub const PING_SECS: u64 = 15;
    /// `--dead-after-secs`.
    pub const DEAD_AFTER_SECS: u64 = 45;
    /// `--awareness-timeout-secs` (y-protocols uses 30 s).
    pub const AWARENESS_TIMEOUT_SECS: u64 = 30;
    /// `--unload-after-secs`.
    pub const UNLOAD_AFTER_SECS: u64 = 30;
    /// How often rooms are swept, in milliseconds (not a flag).
    pub const SWEEP_INTERVAL_MS: u64 = 2000;
    /// `--compact-after-updates` (10,000 measured best: see docs/benchmarks.md).
    pub const COMPACT_AFTER_UPDATES: usize = 10_000;
    /// `--compact-after-log-bytes`.
    pub const COMPACT_AFTER_LOG_BYTES: usize = 4 * 1024 * 1024;
    /// `--flush-interval-ms`.
    pub const FLUSH_INTERVAL_MS: u64 = 100;
    /// `--max-body-bytes`.
    pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
    /// `--max-doc-bytes`.
    pub const MAX_DOC_BYTES: usize = 64 * 1024 * 1024;
    /// `--messages-per-second`.
    pub const MESSAGES_PER_SECOND: u32 = 200;
    /// `--message-burst`.
    pub const MESSAGE_BURST: u32 = 1000;
    /// `--max-connections-per-ip`.
    pub const MAX_CONNECTIONS_PER_IP: usize = 1000;
    /// `--auth-timeout-secs`.
    pub const AUTH_TIMEOUT_SECS: u64 = 10;
    /// `--max-loaded-trips`.
    pub const MAX_LOADED_TRIPS: usize = 10_000;
    /// `--min-free-bytes` (64 MiB: room for a compaction of a large trip and sled's log).
    pub const MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;
    /// `--store-failure-grace-secs`.
    pub const STORE_FAILURE_GRACE_SECS: u64 = 30;
    /// `--stop-timeout-secs`: with the final flush's own [`FINAL_FLUSH_SECS`], a stop ends
    /// within 9 s, inside Docker's default 10 s.
    pub const STOP_TIMEOUT_SECS: u64 = 7;
    /// The final flush of a stop has this long of its own (not a flag).
    pub const FINAL_FLUSH_SECS: u64 = 2;
    /// `--header-read-timeout-secs`.
    pub const HEADER_READ_TIMEOUT_SECS: u64 = 10;
    /// `--max-http-connections`.
    pub const MAX_HTTP_CONNECTIONS: usize = 4096;
    /// `--saved-timeout-secs`.
    pub const SAVED_TIMEOUT_SECS: u64 = 10;
}

impl Default for ServerConfig {
    fn default() -> Self {
        use defaults::*;
        ServerConfig {
            listen: LISTEN.parse().expect("the default address parses"),
            data_dir: PathBuf::from(DATA_DIR),
            web_root: None,
            max_message_bytes: MAX_MESSAGE_BYTES,
            outbox_frames: OUTBOX_FRAMES,
            ping_interval: Duration::from_secs(PING_SECS),
            dead_after: Duration::from_secs(DEAD_AFTER_SECS),
            awareness_timeout: Duration::from_secs(AWARENESS_TIMEOUT_SECS),
            unload_after: Duration::from_secs(UNLOAD_AFTER_SECS),
            sweep_interval: Duration::from_millis(SWEEP_INTERVAL_MS),
            compact_after_updates: COMPACT_AFTER_UPDATES,
            compact_after_log_bytes: COMPACT_AFTER_LOG_BYTES,
            flush_interval: Duration::from_millis(FLUSH_INTERVAL_MS),
            max_body_bytes: MAX_BODY_BYTES,
            max_doc_bytes: MAX_DOC_BYTES,
            messages_per_second: MESSAGES_PER_SECOND,
            message_burst: MESSAGE_BURST,
            max_connections_per_ip: MAX_CONNECTIONS_PER_IP,
            auth_timeout: Duration::from_secs(AUTH_TIMEOUT_SECS),
            max_loaded_trips: MAX_LOADED_TRIPS,
            encryption_keys: None,
            assistant: true,
            min_free_bytes: MIN_FREE_BYTES,
            store_failure_grace: Duration::from_secs(STORE_FAILURE_GRACE_SECS),
            stop_timeout: Duration::from_secs(STOP_TIMEOUT_SECS),
            saved_timeout: Duration::from_secs(SAVED_TIMEOUT_SECS),
            header_read_timeout: Duration::from_secs(HEADER_READ_TIMEOUT_SECS),
            trusted_proxies: Default::default(),
            max_http_connections: MAX_HTTP_CONNECTIONS,
        }
    }
}

impl ServerConfig {
    /// The settings with the values that cannot work raised to the least that can: at least
    /// one second to authenticate, between pings and before a silent connection is dead; at
    /// least one queued frame, one loaded trip, one update before a compaction, one
    /// millisecond between flushes and one second to wait for "saved".
    pub fn checked(mut self) -> ServerConfig {
        let second = Duration::from_secs(1);
        self.auth_timeout = self.auth_timeout.max(second);
        self.ping_interval = self.ping_interval.max(second);
        self.dead_after = self.dead_after.max(second);
        self.outbox_frames = self.outbox_frames.max(1);
        self.max_loaded_trips = self.max_loaded_trips.max(1);
        self.compact_after_updates = self.compact_after_updates.max(1);
        self.flush_interval = self.flush_interval.max(Duration::from_millis(1));
        self.saved_timeout = self.saved_timeout.max(second);
        self.header_read_timeout = self.header_read_timeout.max(Duration::from_millis(100));
        self.max_http_connections = self.max_http_connections.max(1);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_cannot_work_are_raised_and_the_rest_kept() {
        let config = ServerConfig {
            auth_timeout: Duration::ZERO,
            outbox_frames: 0,
            max_loaded_trips: 0,
            compact_after_updates: 0,
            flush_interval: Duration::ZERO,
            unload_after: Duration::ZERO,
            ..ServerConfig::default()
        }
        .checked();
        assert_eq!(config.auth_timeout, Duration::from_secs(1));
        assert_eq!(config.outbox_frames, 1);
        assert_eq!(config.max_loaded_trips, 1);
        assert_eq!(config.compact_after_updates, 1);
        assert_eq!(config.flush_interval, Duration::from_millis(1));
        assert_eq!(
            config.unload_after,
            Duration::ZERO,
            "unloading at once is allowed"
        );
        let defaults = ServerConfig::default();
        assert_eq!(
            defaults.clone().checked().ping_interval,
            defaults.ping_interval
        );
    }
}
