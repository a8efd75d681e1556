//! The cold-load scenario: a trip whose notes hold a real editing trace (`automerge-paper`,
//! each edit stored as its own update) is loaded after a restart; then again after a
//! compaction. Reports time to first sync and bytes on disk before and after compaction.

use std::path::Path;
use std::time::{Duration, Instant};

use caravan_wire::messages;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, StateVector, Text, Transact, Update};

use crate::load::Framer;
use crate::target::{self, Framing};

/// A sequential editing trace.
#[derive(Deserialize)]
struct Trace {
    #[serde(rename = "endContent")]
    end_content: String,
    txns: Vec<Txn>,
}

#[derive(Deserialize)]
struct Txn {
    patches: Vec<(u32, u32, String)>,
}

/// What a cold-load run measured.
#[derive(Clone, Debug, Serialize)]
pub struct ColdLoadResult {
    /// The server.
    pub server: String,
    /// Edits replayed, each one update.
    pub updates: usize,
    /// Characters of the final notes.
    pub chars: usize,
    /// Seconds to send every update and have it saved.
    pub write_secs: f64,
    /// Bytes of the data directory before compaction (sled's files, which it does not
    /// shrink).
    pub bytes_before_compaction: u64,
    /// Bytes of the data directory after `caravan compact`.
    pub bytes_after_compaction: u64,
    /// Bytes of the trip's records (log plus snapshot) before compaction.
    pub stored_bytes_log: u64,
    /// Bytes of the trip's records after compaction (the snapshot).
    pub stored_bytes_compacted: u64,
    /// Time from connect to the synced document, after a restart, with the log: ms.
    pub first_sync_ms_log: f64,
    /// The same after compaction: ms.
    pub first_sync_ms_compacted: f64,
}

/// Replays the first `limit` edits of the trace at `path`: the updates, one per edit, and the
/// final text.
pub fn replay(path: &Path, limit: usize) -> anyhow::Result<(Vec<Vec<u8>>, String)> {
    let file = std::fs::File::open(path)?;
    let trace: Trace = serde_json::from_reader(flate2::read::GzDecoder::new(file))?;
    let doc = crate::load::client_doc();
    let text = doc.get_or_insert_text("notes");
    let mut updates = Vec::new();
    'all: for txn in &trace.txns {
        for (position, delete, insert) in &txn.patches {
            if updates.len() >= limit {
                break 'all;
            }
            let mut t = doc.transact_mut();
            if *delete > 0 {
                text.remove_range(&mut t, *position, *delete);
            }
            if !insert.is_empty() {
                text.insert(&mut t, *position, insert);
            }
            // What a yjs client sends: this transaction's items and deletions only (a diff
            // against the state vector would carry every deletion made so far).
            updates.push(t.encode_update_v1());
        }
    }
    let content = text.get_string(&doc.transact());
    if updates.len() == trace.txns.iter().map(|t| t.patches.len()).sum::<usize>() {
        anyhow::ensure!(
            content == trace.end_content,
            "the replay does not end where the trace does"
        );
    }
    Ok((updates, content))
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {
                if let Ok(entries) = std::fs::read_dir(&path) {
                    stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
                }
            }
            Ok(m) => total += m.len(),
            Err(_) => {}
        }
    }
    total
}

/// Sends every update, then asks "saved?" (Caravan's message type 102) and waits for the
/// answer.
async fn write_all(url: &str, updates: &[Vec<u8>]) -> anyhow::Result<()> {
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    let (mut sink, mut stream) = socket.split();
    let framer = Framer::new(Framing::Plain, "cold");
    let reader = tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Binary(frame) = message {
                if frame.first() == Some(&messages::MSG_SAVED) {
                    return true;
                }
            }
        }
        false
    });
    for update in updates {
        sink.feed(Message::Binary(framer.sync(2, update).into()))
            .await?;
    }
    // "Tell me when everything I sent is saved."
    sink.send(Message::Binary(messages::saved(1).into()))
        .await?;
    let saved = tokio::time::timeout(Duration::from_secs(600), reader).await??;
    anyhow::ensure!(saved, "the server never said the trip was saved");
    let _ = sink.close().await;
    Ok(())
}

/// Connects and syncs; returns the time it took and the notes received.
async fn first_sync(url: &str) -> anyhow::Result<(Duration, String)> {
    let started = Instant::now();
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    let (mut sink, mut stream) = socket.split();
    let framer = Framer::new(Framing::Plain, "cold");
    sink.send(Message::Binary(
        framer.sync(0, &StateVector::default().encode_v1()).into(),
    ))
    .await?;
    while let Some(message) = stream.next().await {
        if let Message::Binary(frame) = message? {
            for (kind, sub, payload) in framer.parse(&frame) {
                if kind == 0 && sub == 1 {
                    let elapsed = started.elapsed();
                    let doc = Doc::new();
                    let text = doc.get_or_insert_text("notes");
                    doc.transact_mut()
                        .apply_update(Update::decode_v1(payload)?)?;
                    let content = text.get_string(&doc.transact());
                    let _ = sink.close().await;
                    return Ok((elapsed, content));
                }
            }
        }
    }
    anyhow::bail!("the connection ended before the sync")
}

/// The trip's stored bytes, from the server's listing.
async fn stored_bytes(server: &target::Target) -> anyhow::Result<u64> {
    let http = server.http.as_deref().unwrap_or_default();
    let list: serde_json::Value = reqwest::get(format!("{http}/api/trips"))
        .await?
        .json()
        .await?;
    list.as_array()
        .and_then(|trips| trips.iter().find(|t| t["id"] == "cold"))
        .and_then(|t| t["bytes"].as_u64())
        .ok_or_else(|| anyhow::anyhow!("the trip is not in the listing"))
}

/// Runs the scenario against Caravan with the first `limit` edits of the trace at `trace`.
pub async fn run(trace: &Path, limit: usize) -> anyhow::Result<ColdLoadResult> {
    let (updates, content) = replay(trace, limit)?;
    let data = tempfile::tempdir()?;
    // Every edit stays in the log until the explicit compaction below: the first load after
    // the restart reads the whole trace as single updates, the worst case.
    let no_compaction = ["--compact-after-updates", "1000000000"];
    let mut server = target::start_caravan_with(Some(data.path()), &no_compaction)?;
    let started = Instant::now();
    write_all(&server.room_url("cold").await?, &updates).await?;
    let write_secs = started.elapsed().as_secs_f64();
    // Kill, do not stop: a clean stop compacts, and the first load must read the log.
    server.kill();
    let bytes_before = dir_bytes(data.path());

    let mut server = target::start_caravan_with(Some(data.path()), &no_compaction)?;
    let (log_time, received) = first_sync(&server.room_url("cold").await?).await?;
    anyhow::ensure!(
        received == content,
        "the trip loaded from the log is not the trace's text"
    );
    let stored_log = stored_bytes(&server).await?;
    server.kill();

    let compact = std::process::Command::new(target::caravan_bin()?)
        .arg("compact")
        .arg("--data")
        .arg(data.path())
        .output()?;
    anyhow::ensure!(compact.status.success(), "caravan compact failed");
    let bytes_after = dir_bytes(data.path());
    let mut server = target::start_caravan(Some(data.path()))?;
    let (compacted_time, received) = first_sync(&server.room_url("cold").await?).await?;
    anyhow::ensure!(
        received == content,
        "the compacted trip is not the trace's text"
    );
    let stored_compacted = stored_bytes(&server).await?;
    server.stop();
    Ok(ColdLoadResult {
        server: "caravan".into(),
        updates: updates.len(),
        chars: content.chars().count(),
        write_secs,
        bytes_before_compaction: bytes_before,
        bytes_after_compaction: bytes_after,
        stored_bytes_log: stored_log,
        stored_bytes_compacted: stored_compacted,
        first_sync_ms_log: log_time.as_secs_f64() * 1000.0,
        first_sync_ms_compacted: compacted_time.as_secs_f64() * 1000.0,
    })
}
