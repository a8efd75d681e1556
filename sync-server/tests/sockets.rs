//! Sockets that cannot be held: a flood of half-sent HTTP requests (a request line and one
//! header, then nothing) is closed within the header-read timeout, sockets past the cap on
//! connections still speaking HTTP are closed at once, and an honest client keeps syncing
//! throughout. And behind a trusted proxy, the per-IP cap counts the forwarded client; from an
//! untrusted address the forwarding header is ignored.

use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::in_process::{connect, start, text_update, write_and_wait_saved};
use persistence::MemoryStore;
use sync_server::config::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FLOOD: usize = 1000;
const CAP: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_closed_in_time_and_an_honest_client_keeps_syncing() {
    let config = ServerConfig {
        header_read_timeout: Duration::from_secs(1),
        max_http_connections: CAP,
        max_connections_per_ip: 0,
        ..ServerConfig::default()
    };
    let server = start(config, Arc::new(MemoryStore::new())).await;
    let mut honest = connect(&server, "trip").await;
    write_and_wait_saved(&mut honest, &text_update(1, "a"), 1).await;

    let started = Instant::now();
    let mut sockets = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let mut socket = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: caravan\r\n")
            .await
            .unwrap();
        sockets.push(socket);
    }
    // The room goes on while the flood holds its sockets.
    write_and_wait_saved(&mut honest, &text_update(2, "b"), 2).await;

    // Every one of them is closed by the server: at once past the cap, within the timeout
    // (and some slack) otherwise.
    let mut closed = 0;
    for socket in &mut sockets {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut byte)).await;
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            // hyper answers a timed-out request with 408 before closing.
            Ok(Ok(_)) => {
                let mut rest = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(2), socket.read_to_end(&mut rest))
                    .await;
                closed += 1;
            }
            Err(_) => {}
        }
    }
    assert_eq!(closed, FLOOD, "sockets still held");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let metrics = server.app().metrics().render();
    assert!(
        metrics.contains("caravan_errors_total{kind=\"http_connections_full\"}"),
        "{metrics}"
    );

    // And new honest clients get in again.
    let mut late = connect(&server, "trip").await;
    write_and_wait_saved(&mut late, &text_update(3, "c"), 1).await;
    write_and_wait_saved(&mut honest, &text_update(4, "d"), 3).await;
    assert!(server.stop().await.flushed);
}

/// Connects to `trip` with `X-Forwarded-For: forwarded`; the HTTP status of a refusal, or 101.
async fn connect_via(
    server: &sync_server::server::Running,
    forwarded: &str,
) -> (u16, Option<common::in_process::Ws>) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/sync/proxied", server.addr())
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("x-forwarded-for", forwarded.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => (101, Some(ws)),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            (response.status().as_u16(), None)
        }
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_cap_counts_forwarded_clients_and_elsewhere_the_header_is_ignored(
) {
    let with_proxies = |list: &str| ServerConfig {
        max_connections_per_ip: 2,
        trusted_proxies: sync_server::http::client_address::parse_trusted_proxies(list).unwrap(),
        ..ServerConfig::default()
    };
    // The test's connections come from 127.0.0.1: a trusted proxy here.
    let server = start(with_proxies("127.0.0.1"), Arc::new(MemoryStore::new())).await;
    let mut kept = Vec::new();
    for _ in 0..2 {
        let (status, ws) = connect_via(&server, "198.51.100.1").await;
        assert_eq!(status, 101);
        kept.push(ws);
    }
    assert_eq!(
        connect_via(&server, "198.51.100.1").await.0,
        429,
        "a third from one family"
    );
    // Another family behind the same proxy has places of its own.
    assert_eq!(connect_via(&server, "198.51.100.2").await.0, 101);
    drop(kept);
    server.stop().await;

    // The proxy trusted is another machine: the header is anyone's, and ignored.
    let server = start(with_proxies("10.9.9.9"), Arc::new(MemoryStore::new())).await;
    let (a, b) = (
        connect_via(&server, "198.51.100.1").await,
        connect_via(&server, "198.51.100.2").await,
    );
    assert_eq!((a.0, b.0), (101, 101));
    assert_eq!(
        connect_via(&server, "198.51.100.3").await.0,
        429,
        "a forged header bought a place"
    );
    drop((a, b));
    server.stop().await;
}
