//! Settings of a running server. The CLI (`main.rs`) fills them from flags and environment.

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            web_root: None,
            max_message_bytes: 16 * 1024 * 1024,
            outbox_frames: 1024,
            ping_interval: Duration::from_secs(15),
            dead_after: Duration::from_secs(45),
            awareness_timeout: Duration::from_secs(30),
            unload_after: Duration::from_secs(30),
            sweep_interval: Duration::from_secs(2),
            compact_after_updates: 10_000,
            flush_interval: Duration::from_millis(100),
            max_body_bytes: 16 * 1024 * 1024,
            max_doc_bytes: 64 * 1024 * 1024,
            messages_per_second: 200,
            message_burst: 1000,
            max_connections_per_ip: 1000,
            auth_timeout: Duration::from_secs(10),
            max_loaded_trips: 10_000,
            encryption_keys: None,
            assistant: true,
        }
    }
}
