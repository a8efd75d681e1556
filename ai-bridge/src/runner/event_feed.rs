//! `caravan assistant`: the assistant as a client of a server, following its trip events
//! (server-sent events of `GET /api/events`) and joining each open trip over the protocol.

use std::time::Duration;

use caravan_wire::TripEvent;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{AssistantConfig, Trips};
use crate::link::{Linker, ProtocolLinker};

/// Follows the server's trip events (`GET /api/events`) and keeps one [`run_trip`] per open
/// trip, each an ordinary client over the protocol, until `stop`. A lost feed is reconnected
/// with back-off; on reconnect (or `lagged`) the server lists the open trips again and the
/// assistant leaves those no longer open.
pub async fn supervise(config: AssistantConfig, stop: CancellationToken) {
    let http = reqwest::Client::new();
    let linker = ProtocolLinker::new(config.sync_url(), config.token.clone());
    let mut trips = Trips::new(config.clone(), linker, stop.clone());
    let mut backoff = Duration::from_millis(200);
    while !stop.is_cancelled() {
        let mut request = http.get(format!("{}/api/events", config.server));
        if let Some(token) = &config.token {
            request = request.bearer_auth(token);
        }
        let response = tokio::select! {
            r = request.send() => r,
            _ = stop.cancelled() => break,
        };
        match response {
            Ok(response) if response.status().is_success() => {
                backoff = Duration::from_millis(200);
                follow(response, &mut trips, &stop).await;
            }
            Ok(response) => {
                tracing::warn!(status = %response.status(), "the event feed refused the assistant");
            }
            Err(e) => tracing::debug!(error = %e, "the event feed is unreachable"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.cancelled() => break,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
    trips.leave_all();
}

/// Reads one connection of the feed until it ends.
async fn follow<K: Linker>(
    response: reqwest::Response,
    trips: &mut Trips<K>,
    stop: &CancellationToken,
) {
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    // Trips announced open since this connection (or the last `lagged`) began: the others are
    // left once the initial listing is over.
    let mut seen_open: Option<Vec<String>> = Some(Vec::new());
    let settle = tokio::time::sleep(Duration::from_millis(500));
    tokio::pin!(settle);
    loop {
        let chunk = tokio::select! {
            chunk = stream.next() => chunk,
            _ = &mut settle, if seen_open.is_some() => {
                // The listing of open trips comes first: leave trips that were not in it.
                trips.keep_only(&seen_open.take().unwrap_or_default());
                continue;
            }
            _ = stop.cancelled() => return,
        };
        let Some(Ok(bytes)) = chunk else { return };
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) else {
                continue;
            };
            match serde_json::from_str::<TripEvent>(data.trim()) {
                Ok(TripEvent::Opened { trip }) => {
                    if let Some(open) = &mut seen_open {
                        open.push(trip.clone());
                    }
                    trips.opened(trip);
                }
                Ok(TripEvent::Closed { trip }) => trips.closed(&trip),
                Ok(TripEvent::Lagged { .. }) => {
                    // Events were missed: reconnect, and the server lists the open trips anew.
                    return;
                }
                Ok(TripEvent::Changed { .. }) => {}
                Err(e) => tracing::debug!(error = %e, "an event the assistant does not know"),
            }
        }
    }
}
