//! Storage faults, injected at the store (`persistence::FaultyStore`) for the paths a real
//! filesystem cannot reach on cue: after an append, a flush or a compaction fails, the server
//! refuses writes with the reason (WebSocket 1011, HTTP 503 with `Retry-After`), answers every
//! "saved" question, keeps serving reads, and `/readyz` never says "ready" again; below the
//! low-water mark writes are refused before the disk is full; a stop ends within its deadline
//! even when a compaction does not. (`tests/full_disk.rs` does the same on a real filesystem.)

use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::in_process::{
    close_frame, connect, start, text_update, write_and_wait_saved, Ws, STEP,
};
use futures_util::SinkExt;
use persistence::{DocStore, Fault, FaultyStore, MemoryStore, TripId};
use reqwest::StatusCode;
use sync_server::config::ServerConfig;
use sync_server::protocol::messages;
use sync_server::server::Running;
use tokio_tungstenite::tungstenite::Message;
use yrs::updates::decoder::Decode;
use yrs::{GetString, Transact, Update};

fn text_in(update: &[u8]) -> String {
    let doc = yrs::Doc::new();
    let t = doc.get_or_insert_text("t");
    doc.transact_mut()
        .apply_update(Update::decode_v1(update).unwrap())
        .unwrap();
    let text = t.get_string(&doc.transact());
    text
}

/// The trip's text as the REST API serves it (from memory while the trip is loaded).
async fn served_text(server: &Running, trip: &str) -> String {
    let url = format!("http://{}/api/trips/{trip}/update", server.addr());
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    text_in(&response.bytes().await.unwrap())
}

/// What the store holds of the trip's text.
fn stored_text(store: &dyn DocStore, trip: &str) -> String {
    let Some(stored) = store.load(&TripId::parse(trip).unwrap()).unwrap() else {
        return String::new();
    };
    let doc = yrs::Doc::new();
    let t = doc.get_or_insert_text("t");
    let mut txn = doc.transact_mut();
    for update in stored.snapshot.iter().chain(&stored.updates) {
        txn.apply_update(Update::decode_v1(update).unwrap())
            .unwrap();
    }
    drop(txn);
    let text = t.get_string(&doc.transact());
    text
}

async fn readyz(server: &Running) -> (StatusCode, String) {
    let response = reqwest::get(format!("http://{}/readyz", server.addr()))
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// `POST /api/trips/{trip}/update`: status, `Retry-After`, body; fails the test if it hangs.
async fn post_update(
    server: &Running,
    trip: &str,
    update: Vec<u8>,
) -> (StatusCode, Option<String>, String) {
    let url = format!("http://{}/api/trips/{trip}/update", server.addr());
    let response = tokio::time::timeout(STEP, reqwest::Client::new().post(url).body(update).send())
        .await
        .expect("POST /update answers in bounded time")
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status(),
        retry_after,
        response.text().await.unwrap(),
    )
}

/// Sends `update` with a "saved?" question and returns how the server ends the connection.
async fn write_and_expect_close(ws: &mut Ws, update: &[u8]) -> (u16, String) {
    let mut frame = messages::sync_update(update);
    frame.extend(messages::saved(7));
    ws.send(Message::binary(frame)).await.unwrap();
    close_frame(ws).await.expect("a close frame with a reason")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_append_fails_writes_are_refused_reads_served_and_readyz_never_ready() {
    let inner = Arc::new(MemoryStore::new());
    let store = Arc::new(FaultyStore::new(inner.clone()));
    let server = start(ServerConfig::default(), store.clone()).await;
    let mut writer = connect(&server, "trip").await;
    write_and_wait_saved(&mut writer, &text_update(1, "kept"), 1).await;
    assert_eq!(readyz(&server).await.0, StatusCode::OK);

    store.set(Fault::Append, true);
    let (code, reason) = write_and_expect_close(&mut writer, &text_update(2, "lost ")).await;
    assert_eq!(code, caravan_wire::close::SERVER_ERROR);
    assert!(reason.contains("could not save"), "{reason}");

    // The disk comes back, but this process's store is not trusted again: every write is
    // refused with the reason, and readiness says why.
    store.set(Fault::Append, false);
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("store failed"), "{body}");
    let mut late = connect(&server, "trip").await;
    let (code, reason) = write_and_expect_close(&mut late, &text_update(3, "late ")).await;
    assert_eq!(code, caravan_wire::close::SERVER_ERROR);
    assert!(reason.contains("store failed"), "{reason}");
    let (status, retry_after, body) = post_update(&server, "trip", text_update(4, "rest ")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry_after.as_deref(), Some("30"));
    assert!(body.contains("store failed"), "{body}");

    // Reads are served from memory, and memory holds only what was stored.
    assert_eq!(served_text(&server, "trip").await, "kept");
    assert_eq!(stored_text(inner.as_ref(), "trip"), "kept");
    let metrics = server.app().metrics().render();
    assert!(
        metrics.contains("caravan_errors_total{kind=\"store_unwritable\"} 2"),
        "{metrics}"
    );
    let stopped = server.stop().await;
    assert!(stopped.store_failure.unwrap().contains("No space left"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_flush_fails_every_saved_question_and_request_is_answered_not_saved() {
    let inner = Arc::new(MemoryStore::new());
    let store = Arc::new(FaultyStore::new(inner.clone()));
    let server = start(ServerConfig::default(), store.clone()).await;
    let mut writer = connect(&server, "trip").await;
    write_and_wait_saved(&mut writer, &text_update(1, "kept"), 1).await;

    store.set(Fault::Flush, true);
    // The append works, the flush does not: the "saved?" is answered by a close that says so.
    let started = Instant::now();
    let (code, reason) = write_and_expect_close(&mut writer, &text_update(2, "unsaved ")).await;
    assert_eq!(code, caravan_wire::close::SERVER_ERROR);
    assert!(reason.contains("not saved"), "{reason}");
    let (status, retry_after, body) = post_update(&server, "trip", text_update(3, "rest ")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(retry_after.is_some());
    assert!(started.elapsed() < STEP);
    assert_eq!(readyz(&server).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let stopped = server.stop().await;
    assert!(!stopped.flushed);
    assert!(stopped.store_failure.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compaction_that_fails_fails_the_store() {
    let inner = Arc::new(MemoryStore::new());
    let store = Arc::new(FaultyStore::new(inner.clone()));
    let config = ServerConfig {
        compact_after_updates: 2,
        ..ServerConfig::default()
    };
    let server = start(config, store.clone()).await;
    store.set(Fault::Compact, true);
    let mut writer = connect(&server, "trip").await;
    write_and_wait_saved(&mut writer, &text_update(1, "a"), 1).await;
    // The second update queues a compaction, which fails.
    writer
        .send(Message::binary(messages::sync_update(&text_update(2, "b"))))
        .await
        .unwrap();
    let deadline = Instant::now() + STEP;
    while readyz(&server).await.0 == StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "still ready after a failed compaction"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(readyz(&server).await.1.contains("store failed"));
    // Both updates were appended before the fault and are in the store's log.
    assert_eq!(stored_text(inner.as_ref(), "trip").len(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_are_not_held_back_for_compactions_the_disk_has_no_room_for() {
    // Writers wait (unread) while compactions of their trip fall behind; a compaction put
    // off for want of room never catches up, and each update would wait the saved timeout.
    let store = Arc::new(FaultyStore::new(Arc::new(MemoryStore::new())));
    store.set(Fault::NoRoomToCompact, true);
    let config = ServerConfig {
        compact_after_log_bytes: 4 * 1024,
        saved_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let server = start(config, store.clone()).await;
    let mut writer = connect(&server, "trip").await;
    let filler = "x".repeat(2 * 1024);
    for n in 1..=30u64 {
        write_and_wait_saved(&mut writer, &text_update(n, &filler), n).await;
    }
    let metrics = server.app().metrics().render();
    let count = |kind: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("caravan_errors_total{{kind=\"{kind}\"}} ")))
            .map_or(0.0, |v| v.parse::<f64>().unwrap())
    };
    assert!(count("compaction_no_room") > 0.0, "{metrics}");
    assert_eq!(
        count("compaction_behind"),
        0.0,
        "a writer was held back: {metrics}"
    );
    assert!(server.app().rooms.services().health.failure().is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_the_low_water_mark_writes_are_refused_before_the_disk_is_full() {
    let store = Arc::new(MemoryStore::new());
    let config = ServerConfig {
        // More than any disk has free.
        min_free_bytes: u64::MAX / 2,
        ..ServerConfig::default()
    };
    let server = start(config, store.clone()).await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("almost full"), "{body}");
    let mut writer = connect(&server, "trip").await;
    let (code, reason) = write_and_expect_close(&mut writer, &text_update(1, "refused")).await;
    assert_eq!(code, caravan_wire::close::SERVER_ERROR);
    assert!(reason.contains("almost full"), "{reason}");
    let (status, retry_after, body) = post_update(&server, "trip", text_update(2, "rest")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry_after.as_deref(), Some("30"));
    assert_eq!(store.appends(), 0);
    // Nothing was refused for good: the store is not failed.
    assert!(server.app().rooms.services().health.failure().is_none());
    let metrics = server.app().metrics().render();
    assert!(metrics.contains("caravan_data_free_bytes "), "{metrics}");
    assert!(server.stop().await.flushed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_within_its_deadline_when_a_compaction_does_not() {
    let inner = Arc::new(MemoryStore::new());
    let store = Arc::new(FaultyStore::new(inner.clone()));
    let config = ServerConfig {
        stop_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let server = start(config, store.clone()).await;
    for (i, trip) in ["one", "two", "three"].iter().enumerate() {
        let mut writer = connect(&server, trip).await;
        write_and_wait_saved(&mut writer, &text_update(i as u64 + 1, trip), 1).await;
    }
    // Each compaction now takes longer than the whole stop may.
    store.slow_compactions(Duration::from_secs(4));
    let started = Instant::now();
    let stopped = server.stop().await;
    let took = started.elapsed();
    // 1 s for the steps before the final flush, 2 s for the flush, and some slack.
    assert!(took < Duration::from_millis(3500), "the stop took {took:?}");
    assert_eq!(stopped.not_compacted.len(), 3, "{stopped:?}");
    assert!(stopped.flushed);
    assert!(stopped.store_failure.is_none());
    // Nothing is lost: every trip is in its log, and loads.
    for trip in ["one", "two", "three"] {
        assert_eq!(stored_text(inner.as_ref(), trip), trip);
    }
}
