//! Accepting connections: every socket gets TCP_NODELAY, a header-read timeout, and a place
//! among a bounded number of connections still speaking HTTP (not yet upgraded to WebSocket).
//!
//! axum's own `serve` sets no timer, so a client that sends half a request holds its socket for
//! good: 5,000 such sockets held every descriptor of the process. Here hyper reads each
//! request's headers under `--header-read-timeout-secs`, and at most
//! `--max-http-connections` sockets may be in the HTTP phase at once (a connection's place is
//! freed when it closes or becomes a WebSocket); past that, a new socket is closed at once and
//! counted (`http_connections_full`), so a flood of slow requests costs descriptors for the
//! timeout at most and never the WebSockets already open.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::Service;

use crate::metrics::Metrics;

/// How long a stop waits for HTTP connections to finish their requests.
const HTTP_GRACE: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` until `stop` is cancelled, then lets the requests under way
/// finish (up to 5 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    max_http_connections: usize,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let places = Arc::new(Semaphore::new(max_http_connections.max(1)));
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, usually: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let Ok(place) = places.clone().try_acquire_owned() else {
            metrics.error("http_connections_full");
            drop(tcp);
            continue;
        };
        if let Err(e) = tcp.set_nodelay(true) {
            // Small frames must leave at once: with Nagle's algorithm on, a relayed update can
            // wait for the delayed ACK of the previous one (about 40 ms on Linux).
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let router = router.clone();
        // The router sees the client's address as axum's `ConnectInfo`.
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            router.clone().call(request)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(TokioIo::new(tcp), service)
            .with_upgrades();
        let stop = stop.clone();
        tokio::spawn(async move {
            // Ends when the client closes, a timeout fires, or the socket becomes a WebSocket
            // (whose own task then goes on): the place is free again.
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(place);
        });
    }
    drop(listener);
    // Every place back means every HTTP connection has finished.
    let all = u32::try_from(max_http_connections.max(1)).unwrap_or(u32::MAX);
    if tokio::time::timeout(HTTP_GRACE, places.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("some HTTP requests did not finish in time");
    }
    Ok(())
}
