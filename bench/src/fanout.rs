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
    /// Bursts: every client of every trip sends at the same instants.
    pub bursts: bool,
}

/// How long "saved" took, for a server that answers the question (Caravan).
#[derive(Clone, Debug, Serialize)]
pub struct SavedLatency {
    /// Updates sent with a "saved?" question.
    pub asked: u64,
    /// Of those, the ones the server said were saved before the run ended.
    pub answered: u64,
    /// From sending the update to its "saved", ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// Group-commit flushes (each ends in fsyncs) per second of the run, from the server's
    /// `caravan_persist_flush_seconds_count`.
    pub flushes_per_sec: Option<f64>,
}

/// The counter of Caravan's group-commit flushes.
const FLUSH_COUNT: &str = "caravan_persist_flush_seconds_count";

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
    /// Connections the server closed before the run ended (should be 0).
    pub closed_by_server: u64,
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
    /// "Saved" acknowledgements, when the server has them.
    pub saved: Option<SavedLatency>,
}

/// Runs the fan-out scenario against `target`.
pub async fn run(target: &Target, load: FanoutLoad) -> anyhow::Result<FanoutResult> {
    let shared = Shared::new();
    let clients = load.rooms * load.clients_per_room;
    let rate = load.updates_per_sec / clients.max(1) as f64;
    let (synced_tx, mut synced_rx) = tokio::sync::mpsc::channel(clients.max(1));
    let (go_tx, go_rx) = tokio::sync::watch::channel(None);
    let mut tasks = Vec::with_capacity(clients);
    // Rooms of each run are new, also when one process runs several.
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let run_id = format!(
        "{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    );
    for room in 0..load.rooms {
        let name = format!("bench-{run_id}-{room}");
        let url = target.room_url(&name).await?;
        for _ in 0..load.clients_per_room {
            let plan = ClientPlan {
                url: url.clone(),
                framer: Framer::new(target.framing, &name),
                rate,
                send_for: Duration::from_secs_f64(load.secs),
                drain: Duration::from_secs(2),
                bursts: load.bursts,
                ask_saved: target.asks_saved,
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
    let flushes_before = target.metric(FLUSH_COUNT).await;
    let started = std::time::Instant::now();
    let mut server_meter = Meter::start(target.pid);
    let mut own_meter = Meter::start(0);
    // Everyone starts at the same instant, a little ahead so that every client is waiting.
    let _ = go_tx.send(Some(
        tokio::time::Instant::now() + Duration::from_millis(50),
    ));
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
    let mut saved_latency = histogram();
    let (mut saved_asked, mut saved_answered) = (0, 0);
    let mut unmatched = 0;
    let mut closed_by_server = 0;
    for task in tasks {
        let report = task.await??;
        closed_by_server += u64::from(report.closed);
        latency.add(&report.latency)?;
        saved_latency.add(&report.saved_latency)?;
        saved_asked += report.saved_asked;
        saved_answered += report.saved_answered;
        unmatched += report.unmatched;
    }
    sampling.abort();
    let flushes_per_sec = match (flushes_before, target.metric(FLUSH_COUNT).await) {
        (Some(before), Some(after)) => Some((after - before) / started.elapsed().as_secs_f64()),
        _ => None,
    };
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
        closed_by_server,
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
        saved: target.asks_saved.then(|| SavedLatency {
            asked: saved_asked,
            answered: saved_answered,
            p50_ms: ms(saved_latency.value_at_quantile(0.5)),
            p99_ms: ms(saved_latency.value_at_quantile(0.99)),
            max_ms: ms(saved_latency.max()),
            flushes_per_sec,
        }),
    })
}

/// What a saturation search found.
#[derive(Clone, Debug, Serialize)]
pub struct SaturationResult {
    /// The server.
    pub server: String,
    /// The highest rate (updates/s sent) with p99 under 100 ms and nothing lost.
    pub highest_sustained_rate: f64,
    /// Why the search stopped.
    pub stopped_because: String,
    /// Every step, in order.
    pub steps: Vec<FanoutResult>,
}

/// Raises the rate from `from`, by `factor` each step, until p99 passes 100 ms, an update is
/// lost, the generator itself saturates (over 0.9 of a core per core it may use), or `to` is
/// passed.
pub async fn saturate(
    target: &Target,
    rooms: usize,
    clients_per_room: usize,
    from: f64,
    factor: f64,
    to: f64,
    secs: f64,
) -> anyhow::Result<SaturationResult> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let mut rate = from;
    let mut steps: Vec<FanoutResult> = Vec::new();
    let mut highest = 0.0;
    let stopped_because = loop {
        if rate > to {
            break format!("reached the highest rate asked for ({to:.0}/s)");
        }
        let load = FanoutLoad {
            rooms,
            clients_per_room,
            updates_per_sec: rate,
            secs,
            bursts: false,
        };
        let result = run(target, load).await?;
        let p99 = result.p99_ms;
        let lost = result.lost;
        let generator = result.generator_usage.cores;
        steps.push(result);
        let closed = steps.last().map_or(0, |s| s.closed_by_server);
        if closed > 0 {
            break format!("the server closed {closed} connections at {rate:.0}/s");
        }
        if lost > 0 {
            break format!("{lost} deliveries lost at {rate:.0}/s");
        }
        if p99 > 100.0 {
            break format!("p99 {p99:.1} ms at {rate:.0}/s");
        }
        highest = rate;
        if generator > 0.9 * cores {
            break format!("the load generator itself used {generator:.2} cores at {rate:.0}/s");
        }
        rate *= factor;
    };
    Ok(SaturationResult {
        server: target.name.clone(),
        highest_sustained_rate: highest,
        stopped_because,
        steps,
    })
}
