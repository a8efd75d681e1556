//! The fan-out scenario: many trips with a few people each, sending small edits at a steady
//! rate; every update is received by every other client of its room.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;

use crate::load::{histogram, run_client, ClientPlan, Framer, Shared};
use crate::proc_stats::{Meter, Usage};
use crate::target::Target;

/// The load.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FanoutLoad {
    /// Rooms (trips).
    pub rooms: usize,
    /// Clients per room.
    pub clients_per_room: usize,
    /// Updates sent per second, by all clients together.
    pub updates_per_sec: f64,
    /// Seconds of sending.
    pub secs: f64,
}

/// What a fan-out run measured.
#[derive(Clone, Debug, Serialize)]
pub struct FanoutResult {
    /// The server.
    pub server: String,
    /// What it persists.
    pub persistence: String,
    /// The load.
    pub load: FanoutLoad,
    /// Updates sent.
    pub sent: u64,
    /// Deliveries expected: each update to every other client of its room.
    pub expected: u64,
    /// Deliveries seen.
    pub delivered: u64,
    /// Expected deliveries that never came.
    pub lost: u64,
    /// Updates received that no client of this run sent (should be 0).
    pub unmatched: u64,
    /// Deliveries per second of sending.
    pub delivered_per_sec: f64,
    /// End-to-end latency, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// The server's CPU and memory.
    pub server_usage: Usage,
    /// The load generator's own CPU and memory.
    pub generator_usage: Usage,
    /// Server CPU per delivered update, µs: the headline figure.
    pub server_cpu_us_per_delivery: f64,
}

/// Runs the fan-out scenario against `target`.
pub async fn run(target: &Target, load: FanoutLoad) -> anyhow::Result<FanoutResult> {
    let shared = Shared::new();
    let clients = load.rooms * load.clients_per_room;
    let rate = load.updates_per_sec / clients.max(1) as f64;
    let (synced_tx, mut synced_rx) = tokio::sync::mpsc::channel(clients.max(1));
    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::with_capacity(clients);
    let run_id = std::process::id();
    for room in 0..load.rooms {
        let name = format!("bench-{run_id}-{room}");
        for _ in 0..load.clients_per_room {
            let plan = ClientPlan {
                url: target.url(&name),
                framer: Framer::new(target.framing, &name),
                rate,
                send_for: Duration::from_secs_f64(load.secs),
                drain: Duration::from_secs(2),
            };
            tasks.push(tokio::spawn(run_client(
                plan,
                shared.clone(),
                synced_tx.clone(),
                go_rx.clone(),
            )));
        }
        // Connect in waves, as people arrive, not as one SYN flood.
        if room % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(synced_tx);
    for _ in 0..clients {
        if tokio::time::timeout(Duration::from_secs(60), synced_rx.recv())
            .await
            .ok()
            .flatten()
            .is_none()
        {
            anyhow::bail!("not every client synced with {}", target.name);
        }
    }
    let mut server_meter = Meter::start(target.pid);
    let mut own_meter = Meter::start(0);
    let _ = go_tx.send(true);
    let peak_rss = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = {
        let (pid, peak) = (target.pid, peak_rss.clone());
        tokio::spawn(async move {
            loop {
                if let Some(sample) = crate::proc_stats::sample(pid) {
                    peak.fetch_max(sample.rss_bytes, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let mut latency = histogram();
    let mut unmatched = 0;
    for task in tasks {
        let report = task.await??;
        latency.add(&report.latency)?;
        unmatched += report.unmatched;
    }
    sampling.abort();
    server_meter.tick();
    own_meter.tick();
    let mut server_usage = server_meter.stop();
    server_usage.peak_rss_bytes = server_usage
        .peak_rss_bytes
        .max(peak_rss.load(Ordering::Relaxed));
    let generator_usage = own_meter.stop();
    let sent = shared.sent.load(Ordering::Relaxed);
    let delivered = shared.delivered.load(Ordering::Relaxed);
    let expected = sent * (load.clients_per_room.saturating_sub(1)) as u64;
    let ms = |micros: u64| micros as f64 / 1000.0;
    Ok(FanoutResult {
        server: target.name.clone(),
        persistence: target.persistence.clone(),
        unmatched,
        load,
        sent,
        expected,
        delivered,
        lost: expected.saturating_sub(delivered),
        delivered_per_sec: delivered as f64 / load.secs,
        p50_ms: ms(latency.value_at_quantile(0.5)),
        p99_ms: ms(latency.value_at_quantile(0.99)),
        max_ms: ms(latency.max()),
        server_cpu_us_per_delivery: if delivered > 0 {
            server_usage.cpu_secs * 1e6 / delivered as f64
        } else {
            0.0
        },
        server_usage,
        generator_usage,
    })
}
