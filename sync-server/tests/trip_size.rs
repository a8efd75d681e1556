//! The size limit is on the real trip: a trip whose text is rewritten over and over (many
//! times its limit in updates, never above it in content) stays writable, and its log is
//! compacted by bytes, not only by count; a trip that truly passes the limit is refused (4413).

use std::sync::Arc;

mod common;

use common::in_process::{close_code, connect, start, write_and_wait_saved};
use futures_util::SinkExt;
use persistence::{DocStore, MemoryStore, TripId};
use sync_server::config::ServerConfig;
use sync_server::protocol::messages;
use tokio_tungstenite::tungstenite::Message;
use yrs::{ReadTxn, Text, Transact};

const LIMIT: usize = 1024 * 1024;
const TEXT: usize = 100 * 1024;
const REWRITES: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_rewritten_far_past_its_limit_in_updates_stays_writable() {
    let store = Arc::new(MemoryStore::new());
    let config = ServerConfig {
        max_doc_bytes: LIMIT,
        compact_after_log_bytes: 2 * LIMIT,
        ..ServerConfig::default()
    };
    let server = start(config, store.clone()).await;
    let mut ws = connect(&server, "rewritten").await;
    let doc = yrs::Doc::new();
    let notes = doc.get_or_insert_text("notes");
    let mut sent = 0;
    for round in 0..REWRITES {
        let before = doc.transact().state_vector();
        {
            let mut txn = doc.transact_mut();
            let len = notes.len(&txn);
            notes.remove_range(&mut txn, 0, len);
            let letter = char::from(b'a' + (round % 26) as u8);
            notes.insert(&mut txn, 0, &letter.to_string().repeat(TEXT));
        }
        let update = doc.transact().encode_state_as_update_v1(&before);
        sent += update.len();
        write_and_wait_saved(&mut ws, &update, round as u64).await;
    }
    assert!(sent > 15 * LIMIT, "only {sent} bytes sent");
    // The log was compacted by bytes along the way: the store holds a few limits at most.
    let stored = store
        .load(&TripId::parse("rewritten").unwrap())
        .unwrap()
        .unwrap();
    assert!(
        stored.byte_len() < 4 * LIMIT,
        "{} bytes stored for a {TEXT}-byte trip",
        stored.byte_len()
    );

    // The listing reports the trip's real size, not the log's bytes.
    let listed: serde_json::Value = reqwest::get(format!("http://{}/api/trips", server.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bytes = listed[0]["bytes"].as_u64().unwrap() as usize;
    assert!(bytes <= LIMIT, "listed as {bytes} bytes");

    // A trip that is truly over the limit is refused, with the trip's own close code.
    let before = doc.transact().state_vector();
    notes.insert(&mut doc.transact_mut(), 0, &"z".repeat(LIMIT));
    let update = doc.transact().encode_state_as_update_v1(&before);
    ws.send(Message::binary(messages::sync_update(&update)))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut ws).await,
        Some(caravan_wire::close::TRIP_TOO_LARGE)
    );
    assert!(server.stop().await.flushed);
}
