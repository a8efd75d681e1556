//! Limits against a real `caravan` process: a flooding client is throttled while an honest
//! one keeps syncing; thousands of connections from one IP are capped; a trip cannot grow
//! past its size limit and nothing stored is lost; the number of loaded trips is capped
//! (idle ones evicted first); REST bodies are capped. Each refusal is counted by reason.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use caravan_client::{Client, ClientConfig};
use common::{close_of, eventually, stored_notes, Server};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Message;
use yrs::{GetString, Map, ReadTxn, Text, Transact};

/// `[0, 2, update]`: a y-protocols sync update message.
fn update_frame(update: &[u8]) -> Vec<u8> {
    use yrs::encoding::write::Write;
    let mut frame = vec![0u8, 2];
    frame.write_buf(update);
    frame
}

/// An update appending `text` to `notes` in `doc`.
fn append(doc: &yrs::Doc, text: &str) -> Vec<u8> {
    let notes = doc.get_or_insert_text("notes");
    let before = doc.transact().state_vector();
    {
        let mut txn = doc.transact_mut();
        let len = notes.len(&txn);
        notes.insert(&mut txn, len, text);
    }
    let update = doc.transact().encode_state_as_update_v1(&before);
    update
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_client_is_throttled_while_an_honest_one_keeps_syncing() {
    const RATE: u32 = 50;
    let dir = tempfile::tempdir().unwrap();
    let rate = RATE.to_string();
    let server = Server::start_with(
        dir.path(),
        0,
        &["--messages-per-second", &rate, "--message-burst", &rate],
        &[],
    );
    let alice = Client::connect(ClientConfig::new(server.url(), "flood"));
    let bob = Client::connect(ClientConfig::new(server.url(), "flood"));
    alice.wait_synced().await;
    bob.wait_synced().await;

    // The flooder: real updates, sent as fast as the socket takes them, for 3 seconds.
    let (socket, _) = tokio_tungstenite::connect_async(format!("{}/flood", server.url()))
        .await
        .unwrap();
    let (mut sink, mut stream) = socket.split();
    tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    let sent = Arc::new(AtomicU64::new(0));
    let flooding = {
        let sent = sent.clone();
        tokio::spawn(async move {
            let doc = yrs::Doc::with_client_id(999);
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until {
                let frame = update_frame(&append(&doc, "x"));
                let send = sink.send(Message::Binary(frame.into()));
                match tokio::time::timeout(until.saturating_duration_since(Instant::now()), send)
                    .await
                {
                    Ok(Ok(())) => sent.fetch_add(1, Ordering::Relaxed),
                    _ => break,
                };
            }
            sink
        })
    };

    // Meanwhile the honest client's edits reach the other client promptly.
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    for i in 0..25 {
        let edit = Instant::now();
        {
            let honest = alice.doc().get_or_insert_map("honest");
            honest.insert(&mut alice.doc().transact_mut(), i.to_string(), i as i64);
        }
        let key = i.to_string();
        eventually("the honest edit at bob", || {
            let honest = bob.doc().get_or_insert_map("honest");
            let txn = bob.doc().transact();
            honest.get(&txn, &key).is_some()
        })
        .await;
        slowest = slowest.max(edit.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _sink = flooding.await.unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let sent = sent.load(Ordering::Relaxed);

    // What the server applied from the flooder: its characters in the notes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let applied = {
        let notes = bob.doc().get_or_insert_text("notes");
        let txn = bob.doc().transact();
        notes.get_string(&txn).len() as f64
    };
    let allowed = RATE as f64 * (elapsed + 1.0) + RATE as f64;
    println!(
        "flooder sent {sent} frames, {applied} applied in {elapsed:.1} s (allowed about {allowed:.0}); \
         slowest honest edit {slowest:?}"
    );
    assert!(
        sent as f64 > 2.0 * allowed,
        "the flooder did flood ({sent} frames)"
    );
    assert!(
        applied <= allowed,
        "{applied} flooder updates applied, over {allowed}"
    );
    assert!(
        applied >= RATE as f64,
        "the flooder is throttled, not cut off"
    );
    assert!(slowest < Duration::from_secs(2), "{slowest:?}");
    assert!(
        server
            .metric("caravan_errors_total{kind=\"rate_limited\"}")
            .await
            >= 1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_connections_from_one_ip_are_capped() {
    const CAP: usize = 100;
    const ATTEMPTS: usize = 2000;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        0,
        // Loopback is not capped unless a proxy is configured: trusting one (that is not
        // this client) makes 127.0.0.1 an address like any other.
        &[
            "--max-connections-per-ip",
            &CAP.to_string(),
            "--trusted-proxies",
            "10.9.9.9",
        ],
        &[],
    );
    let mut open = Vec::new();
    let mut refused = 0;
    for batch in 0..ATTEMPTS / 200 {
        let attempts = (0..200).map(|i| {
            let url = format!("{}/crowd-{}", server.url(), (batch * 200 + i) % 7);
            tokio_tungstenite::connect_async(url)
        });
        for result in futures_util::future::join_all(attempts).await {
            match result {
                Ok((socket, _)) => open.push(socket),
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    assert_eq!(response.status().as_u16(), 429);
                    refused += 1;
                }
                Err(e) => panic!("unexpected: {e}"),
            }
        }
    }
    assert_eq!(open.len(), CAP);
    assert_eq!(refused, ATTEMPTS - CAP);
    assert_eq!(
        server
            .metric("caravan_errors_total{kind=\"too_many_connections_per_ip\"}")
            .await,
        (ATTEMPTS - CAP) as f64
    );
    // The places come back when connections close.
    for socket in &mut open {
        let _ = socket.close(None).await;
    }
    drop(open);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio_tungstenite::connect_async(format!("{}/after", server.url())).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("still refused after the others closed: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_cannot_grow_past_its_limit_and_keeps_what_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(
        dir.path(),
        0,
        &["--max-doc-bytes", "4000", "--max-body-bytes", "3000"],
        &[],
    );
    let http = reqwest::Client::new();
    let doc = yrs::Doc::new();
    let mut accepted = String::new();
    let mut refusal = None;
    for i in 0..10 {
        let chunk = format!("[{i}]{}", "a".repeat(900));
        let response = http
            .post(format!("{}/api/trips/full/update", server.http()))
            .body(append(&doc, &chunk))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::OK {
            accepted.push_str(&chunk);
        } else {
            refusal = Some((response.status(), response.text().await.unwrap()));
            break;
        }
    }
    let (status, body) = refusal.expect("the trip filled up");
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains("full") && body.contains("4000"), "{body}");
    assert_eq!(accepted.matches('[').count(), 4);

    // Over a WebSocket: closed with 4413 and the reason; the room goes on.
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{}/full", server.url()))
        .await
        .unwrap();
    let big = update_frame(&append(&yrs::Doc::new(), &"b".repeat(2000)));
    socket.send(Message::Binary(big.into())).await.unwrap();
    let (code, reason) = close_of(&mut socket).await;
    assert_eq!(code, 4413, "{reason}");
    assert!(reason.contains("full"), "{reason}");
    assert_eq!(stored_notes(&server, "full", None).await.unwrap(), accepted);

    // A REST body over its own limit: 413 that says so.
    let (status, body) = {
        let response = http
            .post(format!("{}/api/trips", server.http()))
            .header("content-type", "application/json")
            .body(vec![b' '; 5000])
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    };
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains("3000 bytes"), "{body}");
    assert_eq!(
        server
            .metric("caravan_errors_total{kind=\"body_too_big\"}")
            .await,
        1.0
    );
    assert_eq!(
        server
            .metric("caravan_errors_total{kind=\"document_too_big\"}")
            .await,
        2.0
    );

    // Nothing stored was lost or damaged.
    server.kill("-TERM");
    let server = Server::start_with(dir.path(), 0, &["--max-doc-bytes", "4000"], &[]);
    assert_eq!(stored_notes(&server, "full", None).await.unwrap(), accepted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loaded_trips_are_capped_and_idle_ones_make_way() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), 0, &["--max-loaded-trips", "2"], &[]);
    let a = Client::connect(ClientConfig::new(server.url(), "a"));
    let b = Client::connect(ClientConfig::new(server.url(), "b"));
    a.wait_synced().await;
    b.wait_synced().await;
    {
        let notes = a.doc().get_or_insert_text("notes");
        notes.insert(&mut a.doc().transact_mut(), 0, "kept in a");
    }
    a.wait_saved().await;

    // Both loaded trips are in use: a third is refused, for now.
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{}/c", server.url()))
        .await
        .unwrap();
    let (code, reason) = close_of(&mut socket).await;
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.contains("limit"), "{reason}");
    assert_eq!(
        stored_notes(&server, "c", None).await,
        Err(StatusCode::SERVICE_UNAVAILABLE)
    );
    assert!(
        server
            .metric("caravan_errors_total{kind=\"too_many_loaded_trips\"}")
            .await
            >= 2.0
    );

    // Once a is idle it is evicted to make way for c, and it is intact when loaded again.
    a.close().await;
    let c = Client::connect(ClientConfig::new(server.url(), "c"));
    tokio::time::timeout(Duration::from_secs(10), c.wait_synced())
        .await
        .expect("c loads once a is idle");
    c.close().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        match stored_notes(&server, "a", None).await {
            Ok(text) => break text,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(status) => panic!("a did not load again: {status}"),
        }
    };
    assert_eq!(text, "kept in a");
    assert!(server.metric("caravan_doc_unloads_total").await >= 1.0);
    b.close().await;
}
