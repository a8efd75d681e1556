//! A stop that always ends: SIGTERM while the stop's compaction of a large trip runs past the
//! stop's deadline. The process exits 0 within the documented time (`--stop-timeout-secs` plus
//! the final flush's 2 s), says what it left uncompacted, and the next start loads everything
//! from the log that was left. A second signal cuts a stop short (status 130).

use std::time::{Duration, Instant};

mod common;

use common::Server;
use futures_util::{SinkExt, StreamExt};
use sync_server::protocol::messages;
use tokio_tungstenite::tungstenite::Message;
use yrs::{GetString, Text, Transact};

/// Keystrokes typed into the big trip: enough that folding them takes longer than a second
/// (in a debug build, about two on the project's machine: 40,000 took 0.97 s, too close).
const KEYSTROKES: usize = 80_000;
/// Updates sent in one WebSocket frame.
const PER_FRAME: usize = 500;

/// Types `KEYSTROKES` characters into the notes of a document, one update each (as an editor
/// sends them); returns the updates and the final text.
fn keystrokes() -> (Vec<Vec<u8>>, String) {
    let doc = yrs::Doc::with_client_id(7);
    let notes = doc.get_or_insert_text("notes");
    let updates = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(KEYSTROKES)));
    let sink = updates.clone();
    // Each transaction's own update, as an editor's provider sends it.
    doc.observe_update_v1("keystrokes", move |_: &yrs::TransactionMut, event| {
        sink.lock().unwrap().push(event.update.clone())
    })
    .unwrap();
    let mut seed = 12345u64;
    for i in 0..KEYSTROKES {
        let len = i as u32;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Mostly typing on at one place, now and then somewhere else.
        let at = if seed >> 60 == 0 {
            (seed >> 33) as u32 % (len + 1)
        } else {
            len
        };
        let mut txn = doc.transact_mut();
        notes.insert(&mut txn, at, &char::from(b'a' + (i % 26) as u8).to_string());
        drop(txn);
    }
    let text = notes.get_string(&doc.transact());
    let updates = std::mem::take(&mut *updates.lock().unwrap());
    (updates, text)
}

/// Sends every update to `trip` and waits until the last is saved.
async fn send_all(server: &Server, trip: &str, updates: &[Vec<u8>]) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/{trip}", server.url()))
        .await
        .unwrap();
    for (n, batch) in updates.chunks(PER_FRAME).enumerate() {
        let mut frame = Vec::new();
        for update in batch {
            frame.extend(messages::sync_update(update));
        }
        frame.extend(messages::saved(n as u64));
        ws.send(Message::binary(frame)).await.unwrap();
    }
    let last = messages::saved((updates.len().div_ceil(PER_FRAME) - 1) as u64);
    tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) if b[..] == last[..] => return,
                Some(Ok(_)) => {}
                other => panic!("the connection ended before the last \"saved\": {other:?}"),
            }
        }
    })
    .await
    .expect("everything saved in time");
}

fn exit_within(server: &mut Server, within: Duration) -> (Option<i32>, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return (status.code(), started.elapsed());
        }
        assert!(
            started.elapsed() < within,
            "the server did not exit within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigterm(server: &Server) {
    std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_long_compaction_exits_in_time_and_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let args = [
        "--stop-timeout-secs",
        "1",
        "--compact-after-updates",
        "1000000",
        "--messages-per-second",
        "0",
    ];
    let mut server = Server::start_with(data.path(), 0, &args, &[]);
    let (updates, text) = keystrokes();
    send_all(&server, "big", &updates).await;

    sigterm(&server);
    // 1 s for the steps before the final flush, 2 s for the flush, and slack for a busy machine.
    let (code, took) = exit_within(&mut server, Duration::from_secs(6));
    assert_eq!(code, Some(0), "{}", server.log());
    let log = server.log();
    assert!(
        log.contains("left uncompacted"),
        "the compaction ended within 1 s ({took:?}), so this test tested no deadline: {log}"
    );

    let server = Server::start_with(data.path(), 0, &args, &[]);
    let notes = common::stored_notes(&server, "big", None).await.unwrap();
    assert_eq!(notes, text, "the trip after the cut-short stop");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let data = tempfile::tempdir().unwrap();
    let args = [
        "--stop-timeout-secs",
        "60",
        "--compact-after-updates",
        "1000000",
        "--messages-per-second",
        "0",
    ];
    let mut server = Server::start_with(data.path(), 0, &args, &[]);
    let (updates, _) = keystrokes();
    send_all(&server, "big", &updates).await;
    sigterm(&server);
    // The stop is compacting (it has a minute); a second signal ends it now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    sigterm(&server);
    let (code, _) = exit_within(&mut server, Duration::from_secs(3));
    assert_eq!(code, Some(130), "{}", server.log());
    assert!(server.log().contains("second stop signal"));
    // What was saved is in the log, compacted or not.
    let server = Server::start_with(data.path(), 0, &args, &[]);
    let notes = common::stored_notes(&server, "big", None).await.unwrap();
    assert_eq!(notes.len(), KEYSTROKES);
    drop(server);
}
