//! Moments of a trip's document's life that race each other, tested in process: the real
//! router on 127.0.0.1:0 (`server::start`), real WebSocket and HTTP clients, and the
//! in-memory store (`persistence::MemoryStore`) so that a test can step into a load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::in_process::{close_code, connect, start, text_update, write_and_wait_saved, STEP};
use futures_util::SinkExt;
use persistence::{DocStore, MemoryStore, TripId, UpdateMeta};
use sync_server::config::ServerConfig;
use sync_server::protocol::messages;
use sync_server::server::Running;
use tokio_tungstenite::tungstenite::Message;
use yrs::updates::decoder::Decode;
use yrs::{GetString, Transact, Update};

/// The trip's text `t` as the REST API gives it (`None`: 404).
async fn text_of(server: &Running, trip: &str) -> Option<String> {
    let url = format!("http://{}/api/trips/{trip}/update", server.addr());
    let response = reqwest::get(url).await.unwrap();
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return None;
    }
    assert!(response.status().is_success(), "{}", response.status());
    let bytes = response.bytes().await.unwrap();
    let doc = yrs::Doc::new();
    let t = doc.get_or_insert_text("t");
    doc.transact_mut()
        .apply_update(Update::decode_v1(&bytes).unwrap())
        .unwrap();
    let text = t.get_string(&doc.transact());
    Some(text)
}

/// Waits until the loaded room of `id` has no connection left.
async fn wait_until_idle(server: &Running, id: &str) {
    let deadline = Instant::now() + STEP;
    while server
        .app()
        .rooms
        .loaded(&trip(id))
        .is_some_and(|room| room.connection_count() > 0)
    {
        assert!(
            Instant::now() < deadline,
            "the connections to {id} never left"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn trip(id: &str) -> TripId {
    TripId::parse(id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_the_idle_trip_is_evicted_and_a_busy_node_says_try_again_later() {
    let store = Arc::new(MemoryStore::new());
    let config = ServerConfig {
        max_loaded_trips: 1,
        unload_after: Duration::from_secs(600),
        ..ServerConfig::default()
    };
    let server = start(config, store.clone()).await;
    let rooms = server.app().rooms.clone();
    let metrics = server.app().metrics().clone();

    let mut a = connect(&server, "a").await;
    write_and_wait_saved(&mut a, &text_update(1, "alpha"), 1).await;
    a.close(None).await.unwrap();
    drop(a);
    // Trip a stays loaded (idle, far from its unload time) until b needs the place.
    wait_until_idle(&server, "a").await;
    let mut b = connect(&server, "b").await;
    write_and_wait_saved(&mut b, &text_update(2, "beta"), 1).await;
    assert!(rooms.loaded(&trip("a")).is_none(), "a was not evicted");
    assert_eq!(rooms.len(), 1);
    assert_eq!(metrics.doc_unloads_total.get(), 1);
    assert_eq!(metrics.docs_loaded.get(), 1);

    // b is in use: there is no place for c, and its connection is told to come back later.
    let mut c = connect(&server, "c").await;
    assert_eq!(
        close_code(&mut c).await,
        Some(caravan_wire::close::TRY_AGAIN_LATER)
    );
    assert!(rooms.loaded(&trip("c")).is_none());

    // Once b leaves, a loads again with everything it had.
    b.close(None).await.unwrap();
    drop(b);
    wait_until_idle(&server, "b").await;
    assert_eq!(text_of(&server, "a").await.as_deref(), Some("alpha"));
    assert!(server.stop().await.flushed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_rejoins_while_its_trip_unloads_loses_nothing() {
    let store = Arc::new(MemoryStore::new());
    let config = ServerConfig {
        unload_after: Duration::ZERO,
        ..ServerConfig::default()
    };
    let server = start(config, store.clone()).await;
    let rooms = server.app().rooms.clone();
    // A sweep as often as the scheduler allows: every idle moment of the room is an unload.
    let sweeping = Arc::new(AtomicBool::new(true));
    let sweeper = {
        let (rooms, sweeping) = (rooms.clone(), sweeping.clone());
        tokio::spawn(async move {
            while sweeping.load(Ordering::Relaxed) {
                rooms.sweep();
                tokio::task::yield_now().await;
            }
        })
    };
    const ROUNDS: u64 = 40;
    for round in 0..ROUNDS {
        let mut ws = connect(&server, "busy").await;
        // Each round appends its own letter at the end of what the server holds.
        let letter = char::from(b'a' + (round % 26) as u8).to_string();
        write_and_wait_saved(&mut ws, &text_update(100 + round, &letter), round).await;
        ws.close(None).await.unwrap();
        // Every other round waits for the unload; the others rejoin at once, into the race.
        if round % 2 == 1 {
            let deadline = Instant::now() + STEP;
            while rooms.loaded(&trip("busy")).is_some() {
                assert!(
                    Instant::now() < deadline,
                    "the idle trip was never unloaded"
                );
                tokio::task::yield_now().await;
            }
        }
    }
    sweeping.store(false, Ordering::Relaxed);
    sweeper.await.unwrap();
    let unloads = server.app().metrics().doc_unloads_total.get();
    assert!(
        unloads >= ROUNDS / 2,
        "the trip unloaded only {unloads} times in {ROUNDS} rounds: nothing raced"
    );
    let text = text_of(&server, "busy").await.expect("the trip is there");
    assert_eq!(text.len() as u64, ROUNDS, "lost a round: {text:?}");
    assert!(server.stop().await.flushed);
}

/// An update that decodes but that yrs cannot integrate: an item whose parent is the string
/// item `(1, 0)`, not a shared type (`UpdateError::InvalidParent`).
const CHILD_OF_A_STRING: [u8; 11] = [1, 1, 2, 0, 4, 0, 1, 0, 1, b'x', 0];

/// A new connection to `trip` sends [`CHILD_OF_A_STRING`] and is closed with 1007.
async fn send_an_update_that_fails_to_apply(server: &Running, trip: &str) {
    let mut hostile = connect(server, trip).await;
    hostile
        .send(Message::binary(messages::sync_update(&CHILD_OF_A_STRING)))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut hostile).await,
        Some(caravan_wire::close::INVALID_PAYLOAD)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_update_that_fails_to_apply_the_document_is_reloaded_from_the_store() {
    let store = Arc::new(MemoryStore::new());
    let server = start(ServerConfig::default(), store.clone()).await;
    let metrics = server.app().metrics().clone();

    let mut friendly = connect(&server, "t1").await;
    write_and_wait_saved(&mut friendly, &text_update(1, "kept"), 1).await;
    let appends = store.appends();

    send_an_update_that_fails_to_apply(&server, "t1").await;
    let reloaded = metrics
        .errors_total
        .with_label_values(&["doc_reloaded"])
        .get();
    assert_eq!(reloaded, 1, "the room was not rebuilt from the store");
    assert_eq!(store.appends(), appends, "the failed update was stored");

    // The friendly connection goes on in the reloaded document, and the trip is whole.
    write_and_wait_saved(&mut friendly, &text_update(3, "!"), 2).await;
    let text = text_of(&server, "t1").await.unwrap();
    assert!(text.contains("kept") && text.contains('!'), "{text:?}");
    assert!(server.stop().await.flushed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_deleted_while_it_loads_does_not_come_back() {
    let slow = Arc::new(AtomicBool::new(true));
    let loading = slow.clone();
    let store = Arc::new(MemoryStore::new().before_load(move |trip| {
        if trip.as_str() == "doomed" && loading.swap(false, Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(400));
        }
    }));
    store
        .append(
            &trip("doomed"),
            &text_update(1, "old"),
            &UpdateMeta::default(),
        )
        .unwrap();
    let server = start(ServerConfig::default(), store.clone()).await;
    let base = format!("http://{}/api/trips/doomed", server.addr());
    let http = reqwest::Client::new();

    // The read starts loading the trip (slowly); the delete arrives during the load.
    let read = tokio::spawn(http.get(format!("{base}/update")).send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let deleted = http.delete(&base).send().await.unwrap();
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "the delete did not wait for the load"
    );
    let _ = read.await.unwrap().unwrap();

    assert!(server.app().rooms.loaded(&trip("doomed")).is_none());
    assert!(store.load(&trip("doomed")).unwrap().is_none());
    assert_eq!(text_of(&server, "doomed").await, None, "the trip came back");
    assert!(server.stop().await.flushed);
}

/// Found by cargo-fuzz: an update that yrs 0.28.1 keeps as pending blocks it cannot read
/// back; accepted, every later sync of the trip panicked. Refused (1007), it is not stored, the
/// room reloads from the store, and the trip syncs for everyone after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_that_would_break_every_later_sync_is_refused_and_the_trip_still_syncs() {
    const UNREADABLE_PENDING_UPDATE: &[u8] = &[
        1, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 2, 0, 2, 78, 151, 151, 151, 0, 0,
    ];
    let store = Arc::new(MemoryStore::new());
    let server = start(ServerConfig::default(), store.clone()).await;
    let mut honest = connect(&server, "shared").await;
    write_and_wait_saved(&mut honest, &text_update(1, "alpha"), 1).await;

    let mut hostile = connect(&server, "shared").await;
    hostile
        .send(Message::binary(messages::sync_step2(
            UNREADABLE_PENDING_UPDATE,
        )))
        .await
        .unwrap();
    assert_eq!(close_code(&mut hostile).await, Some(1007));

    // A newcomer syncs and gets the trip; the honest writer keeps writing.
    let mut newcomer = connect(&server, "shared").await;
    newcomer
        .send(Message::binary(messages::sync_step1(
            &yrs::StateVector::default(),
        )))
        .await
        .unwrap();
    let state = tokio::time::timeout(STEP, async {
        use futures_util::StreamExt;
        while let Some(message) = newcomer.next().await {
            if let Message::Binary(bytes) = message.unwrap() {
                if let Some(update) = step2_payload(&bytes) {
                    return update;
                }
            }
        }
        panic!("the newcomer's connection ended before its sync answer");
    })
    .await
    .expect("a sync answer in time");
    let doc = yrs::Doc::new();
    let t = doc.get_or_insert_text("t");
    doc.transact_mut()
        .apply_update(Update::decode_v1(&state).unwrap())
        .unwrap();
    assert_eq!(t.get_string(&doc.transact()), "alpha");
    write_and_wait_saved(&mut honest, &text_update(2, "beta"), 2).await;
    assert_eq!(
        text_of(&server, "shared").await.unwrap().len(),
        "alphabeta".len()
    );
    let stored = store.load(&trip("shared")).unwrap().unwrap();
    assert_eq!(
        stored.updates.len(),
        2,
        "only the honest updates are stored"
    );
}

/// The update of a sync step 2 message in `frame`, if it is one.
fn step2_payload(frame: &[u8]) -> Option<Vec<u8>> {
    use yrs::encoding::read::{Cursor, Read};
    let mut cursor = Cursor::new(frame);
    let (kind, sub): (u64, u64) = (cursor.read_var().ok()?, cursor.read_var().ok()?);
    (kind == 0 && sub == 1).then(|| cursor.read_buf().ok().map(<[u8]>::to_vec))?
}

/// A server that writes its log's queue out only when asked (no "saved?" question, no flush
/// for a minute): what is still queued is in the way of a reload and of a delete.
fn lazy_writer() -> ServerConfig {
    ServerConfig {
        flush_interval: Duration::from_secs(60),
        ..ServerConfig::default()
    }
}

/// Sends `update` (adding `word` to the text) with no "saved?" question, and waits until the
/// room holds it: applied and relayed, so queued for the log.
async fn send_unsaved(
    server: &Running,
    sender: &mut common::in_process::Ws,
    id: &str,
    update: &[u8],
    word: &str,
) {
    sender
        .send(Message::binary(messages::sync_update(update)))
        .await
        .unwrap();
    let deadline = Instant::now() + STEP;
    while !text_of(server, id).await.unwrap_or_default().contains(word) {
        assert!(Instant::now() < deadline, "the update never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_what_was_relayed_but_not_yet_written() {
    let store = Arc::new(MemoryStore::new());
    let server = start(lazy_writer(), store.clone()).await;
    let mut friendly = connect(&server, "t2").await;
    send_unsaved(
        &server,
        &mut friendly,
        "t2",
        &text_update(1, "relayed"),
        "relayed",
    )
    .await;
    assert!(
        store.load(&trip("t2")).unwrap().is_none(),
        "written already"
    );

    // A bad update makes the room reload from the store, which must first take the queue.
    send_an_update_that_fails_to_apply(&server, "t2").await;
    assert_eq!(text_of(&server, "t2").await.as_deref(), Some("relayed"));
    assert_eq!(store.load(&trip("t2")).unwrap().unwrap().updates.len(), 1);
    assert!(server.stop().await.flushed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_trip_stays_deleted_though_its_updates_were_still_queued() {
    let store = Arc::new(MemoryStore::new());
    let server = start(lazy_writer(), store.clone()).await;
    let mut writer = connect(&server, "gone").await;
    for (i, word) in ["one", "two", "three"].into_iter().enumerate() {
        send_unsaved(
            &server,
            &mut writer,
            "gone",
            &text_update(1 + i as u64, word),
            word,
        )
        .await;
    }
    assert!(!server.app().rooms.services().commit.log().is_written());
    let base = format!("http://{}/api/trips/gone", server.addr());
    let deleted = reqwest::Client::new().delete(&base).send().await.unwrap();
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    // The stop writes out and flushes whatever is left: nothing of the trip may be in it.
    assert!(server.stop().await.flushed);
    assert!(
        store.load(&trip("gone")).unwrap().is_none(),
        "the trip came back"
    );
}
