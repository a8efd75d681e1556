//! The connections scenario: as many idle, synced connections as asked for; the server's
//! memory per connection and per loaded trip.

use std::time::Duration;

use serde::Serialize;
use yrs::Doc;

use crate::load::{connect_synced, Framer};
use crate::proc_stats;
use crate::target::Target;

/// What a connections run measured.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionsResult {
    /// The server.
    pub server: String,
    /// Connections held open.
    pub connections: usize,
    /// Trips they were spread over.
    pub trips: usize,
    /// Server RSS before, bytes.
    pub rss_before: u64,
    /// Server RSS with every connection open, bytes.
    pub rss_with_connections: u64,
    /// Server RSS with one connection per trip of `trips` more trips, bytes.
    pub rss_with_trips: u64,
    /// (RSS with connections - RSS before) / connections, bytes.
    pub bytes_per_connection: f64,
    /// Extra bytes per loaded trip (measured with one connection each, minus a connection).
    pub bytes_per_trip: f64,
}

async fn open(
    target: &Target,
    rooms: &[String],
    per_room: usize,
) -> anyhow::Result<Vec<crate::load::Sink>> {
    let mut held = Vec::new();
    for (i, room) in rooms.iter().enumerate() {
        let framer = Framer::new(target.framing, room);
        for _ in 0..per_room {
            let url = target.room_url(room).await?;
            let (sink, stream) = connect_synced(&url, &framer, &Doc::new()).await?;
            // Keep reading (pings, awareness) so the server never sees a stuck client.
            tokio::spawn(async move {
                use futures_util::StreamExt;
                let mut stream = stream;
                while let Some(Ok(_)) = stream.next().await {}
            });
            held.push(sink);
        }
        if i % 100 == 99 {
            tokio::task::yield_now().await;
        }
    }
    Ok(held)
}

fn rss(pid: u32) -> u64 {
    proc_stats::sample(pid).map_or(0, |s| s.rss_bytes)
}

/// Opens `connections` connections, four per trip, and measures; then `trips` more trips with
/// one connection each.
pub async fn run(
    target: &Target,
    connections: usize,
    trips: usize,
) -> anyhow::Result<ConnectionsResult> {
    let tag = std::process::id();
    let settle = || tokio::time::sleep(Duration::from_millis(500));
    settle().await;
    let before = rss(target.pid);
    let rooms: Vec<String> = (0..connections.div_ceil(4))
        .map(|i| format!("idle-{tag}-{i}"))
        .collect();
    let held = open(target, &rooms, 4).await?;
    settle().await;
    let with_connections = rss(target.pid);
    let more: Vec<String> = (0..trips).map(|i| format!("solo-{tag}-{i}")).collect();
    let solo = open(target, &more, 1).await?;
    settle().await;
    let with_trips = rss(target.pid);
    let per_connection = with_connections.saturating_sub(before) as f64 / held.len().max(1) as f64;
    let per_trip = with_trips.saturating_sub(with_connections) as f64 / solo.len().max(1) as f64
        - per_connection;
    Ok(ConnectionsResult {
        server: target.name.clone(),
        connections: held.len(),
        trips: rooms.len(),
        rss_before: before,
        rss_with_connections: with_connections,
        rss_with_trips: with_trips,
        bytes_per_connection: per_connection,
        bytes_per_trip: per_trip.max(0.0),
    })
}
