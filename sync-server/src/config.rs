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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            max_message_bytes: 16 * 1024 * 1024,
            outbox_frames: 1024,
            ping_interval: Duration::from_secs(15),
            dead_after: Duration::from_secs(45),
            awareness_timeout: Duration::from_secs(30),
            unload_after: Duration::from_secs(30),
            sweep_interval: Duration::from_secs(2),
            compact_after_updates: 1000,
            flush_interval: Duration::from_millis(100),
        }
    }
}
