//! The catch-up scenario: a client that made edits offline reconnects; how long until every
//! peer of its room has them.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Text, Transact, Update};

use crate::load::{connect_synced, Framer};
use crate::target::Target;

/// What a catch-up run measured.
#[derive(Clone, Debug, Serialize)]
pub struct CatchUpResult {
    /// The server.
    pub server: String,
    /// Edits made offline.
    pub edits: usize,
    /// Peers waiting in the room.
    pub peers: usize,
    /// From the start of the reconnection until the last peer had every edit, ms.
    pub all_peers_ms: f64,
}

/// Runs the scenario: `peers` clients wait in a room; a client makes `edits` edits offline,
/// one transaction each, then connects.
pub async fn run(target: &Target, edits: usize, peers: usize) -> anyhow::Result<CatchUpResult> {
    let room = format!("catch-up-{}", std::process::id());
    let framer = Framer::new(target.framing, &room);
    let url = target.room_url(&room).await?;
    let mut waiting = Vec::new();
    for _ in 0..peers {
        let (_sink, stream) = connect_synced(&url, &framer, &Doc::new()).await?;
        waiting.push((_sink, stream));
    }
    let offline = crate::load::client_doc();
    let text = offline.get_or_insert_text("notes");
    for i in 0..edits {
        let mut txn = offline.transact_mut();
        let len = text.len(&txn);
        text.insert(&mut txn, len, if i % 7 == 6 { " " } else { "o" });
    }
    let author = offline.client_id();
    let target_clock = offline.transact().state_vector().get(&author);
    let started = Instant::now();
    let watchers: Vec<_> = waiting
        .into_iter()
        .map(|(sink, mut stream)| {
            let framer = framer.clone();
            tokio::spawn(async move {
                let _keep = sink;
                let mut have = 0u32;
                while have < target_clock {
                    let next = tokio::time::timeout(Duration::from_secs(60), stream.next()).await;
                    let Ok(Some(Ok(message))) = next else {
                        anyhow::bail!("a peer stopped hearing from the server");
                    };
                    // Pings and other control frames are no news.
                    let Message::Binary(frame) = message else {
                        continue;
                    };
                    for (kind, _, payload) in framer.parse(&frame) {
                        if kind != 0 {
                            continue;
                        }
                        if let Ok(update) = Update::decode_v1(payload) {
                            have = have.max(update.state_vector().get(&author));
                        }
                    }
                }
                Ok(Instant::now())
            })
        })
        .collect();
    let (_sink, _stream) = connect_synced(&url, &framer, &offline).await?;
    let mut last = started;
    for watcher in watchers {
        last = last.max(watcher.await??);
    }
    Ok(CatchUpResult {
        server: target.name.clone(),
        edits,
        peers,
        all_peers_ms: last.duration_since(started).as_secs_f64() * 1000.0,
    })
}
