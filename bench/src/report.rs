//! Results: one JSON file and one markdown table per run.

use serde::Serialize;

use crate::catch_up::CatchUpResult;
use crate::cold_load::ColdLoadResult;
use crate::connections::ConnectionsResult;
use crate::fanout::{FanoutResult, SaturationResult};

/// Everything a run measured.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// When, machine facts.
    pub meta: serde_json::Value,
    /// Fan-out results, one per server and load.
    pub fanout: Vec<FanoutResult>,
    /// Cold-load results.
    pub cold_load: Vec<ColdLoadResult>,
    /// Saturation searches.
    pub saturation: Vec<SaturationResult>,
    /// Catch-up results.
    pub catch_up: Vec<CatchUpResult>,
    /// Connections results.
    pub connections: Vec<ConnectionsResult>,
}

impl Report {
    /// An empty report, stamped with the time and the machine.
    pub fn new() -> Report {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("model name")
                        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
                })
            })
            .unwrap_or_default();
        Report {
            meta: serde_json::json!({
                "unix_time": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
                "cores": cores,
                "cpu": cpu,
                "command": std::env::args().collect::<Vec<_>>().join(" "),
            }),
            fanout: Vec::new(),
            cold_load: Vec::new(),
            catch_up: Vec::new(),
            saturation: Vec::new(),
            connections: Vec::new(),
        }
    }

    /// Writes `results.json` and `results.md` in `dir`.
    pub fn write(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("results.json"),
            serde_json::to_string_pretty(self)? + "\n",
        )?;
        let mut md = String::new();
        if !self.fanout.is_empty() {
            md.push_str("| server | rooms x clients | sent/s | delivered/s | lost | p50 ms | p99 ms | max ms | server CPU µs/delivery | server cores | server peak RSS MB | generator cores | saved p50 / p99 ms |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
            for r in &self.fanout {
                md.push_str(&format!(
                "| {}{} | {} x {} | {:.0} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} | {} |\n",
                r.server, if r.load.bursts { " (bursts)" } else { "" }, r.load.rooms, r.load.clients_per_room, r.sent as f64 / r.load.secs, r.delivered_per_sec, r.lost,
                r.p50_ms, r.p99_ms, r.max_ms, r.server_cpu_us_per_delivery, r.server_usage.cores,
                r.server_usage.peak_rss_bytes as f64 / 1e6, r.generator_usage.cores,
                saved_summary(r).unwrap_or_else(|| "-".into())
            ));
            }
        }
        ratio_table(
            &mut md,
            &self.fanout,
            |r| &r.server,
            &[
                "server CPU per delivery",
                "p99",
                "peak RSS",
                "lost (Caravan, peer)",
            ],
            |caravan, peer| {
                vec![
                    ratio(
                        caravan.server_cpu_us_per_delivery,
                        peer.server_cpu_us_per_delivery,
                    ),
                    ratio(caravan.p99_ms, peer.p99_ms),
                    ratio(
                        caravan.server_usage.peak_rss_bytes as f64,
                        peer.server_usage.peak_rss_bytes as f64,
                    ),
                    format!("{}, {}", caravan.lost, peer.lost),
                ]
            },
        );
        if !self.cold_load.is_empty() {
            md.push_str("\n| server | updates | characters | write s | stored bytes (log) | stored bytes (compacted) | data dir bytes before / after | first sync from the log, ms | first sync compacted, ms |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
            for r in &self.cold_load {
                md.push_str(&format!(
                    "| {} | {} | {} | {:.1} | {} | {} | {} / {} | {:.1} | {:.1} |\n",
                    r.server,
                    r.updates,
                    r.chars,
                    r.write_secs,
                    r.stored_bytes_log,
                    r.stored_bytes_compacted,
                    r.bytes_before_compaction,
                    r.bytes_after_compaction,
                    r.first_sync_ms_log,
                    r.first_sync_ms_compacted
                ));
            }
        }
        for sat in &self.saturation {
            md.push_str(&format!(
                "\n{}: highest sustained rate {:.0} updates/s (stopped: {})\n\n| updates/s sent | delivered/s | lost | p50 ms | p99 ms | server CPU µs/delivery | server cores | generator cores |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
                sat.server, sat.highest_sustained_rate, sat.stopped_because
            ));
            for r in &sat.steps {
                md.push_str(&format!(
                    "| {:.0} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
                    r.sent as f64 / r.load.secs,
                    r.delivered_per_sec,
                    r.lost,
                    r.p50_ms,
                    r.p99_ms,
                    r.server_cpu_us_per_delivery,
                    r.server_usage.cores,
                    r.generator_usage.cores
                ));
            }
        }
        if !self.catch_up.is_empty() {
            md.push_str("\n| server | offline edits | peers | until every peer has them, ms |\n| --- | --- | --- | --- |\n");
            for r in &self.catch_up {
                md.push_str(&format!(
                    "| {} | {} | {} | {:.1} |\n",
                    r.server, r.edits, r.peers, r.all_peers_ms
                ));
            }
        }
        if !self.connections.is_empty() {
            md.push_str("\n| server | connections | trips | RSS before MB | RSS with them MB | KiB per connection | KiB per loaded trip |\n| --- | --- | --- | --- | --- | --- | --- |\n");
            for r in &self.connections {
                md.push_str(&format!(
                    "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
                    r.server,
                    r.connections,
                    r.trips,
                    r.rss_before as f64 / 1e6,
                    r.rss_with_connections as f64 / 1e6,
                    r.bytes_per_connection / 1024.0,
                    r.bytes_per_trip / 1024.0
                ));
            }
        }
        ratio_table(
            &mut md,
            &self.saturation,
            |r| &r.server,
            &["highest sustained rate"],
            |caravan, peer| {
                vec![ratio(
                    caravan.highest_sustained_rate,
                    peer.highest_sustained_rate,
                )]
            },
        );
        if !self.saturation.is_empty() {
            crate::plot::latency_against_load(&self.saturation, dir)?;
            md.push_str("\n![latency against load](latency.svg)\n");
        }
        ratio_table(
            &mut md,
            &self.connections,
            |r| &r.server,
            &["memory per connection", "memory per loaded trip"],
            |caravan, peer| {
                vec![
                    ratio(caravan.bytes_per_connection, peer.bytes_per_connection),
                    ratio(caravan.bytes_per_trip, peer.bytes_per_trip),
                ]
            },
        );
        std::fs::write(dir.join("results.md"), md)?;
        Ok(())
    }
}

/// Appends a table of Caravan's ratio to each peer in `results`: one row per peer, `columns`
/// naming the figures and `cells` computing them from (Caravan, peer). Nothing when Caravan or
/// every peer is missing.
fn ratio_table<T>(
    md: &mut String,
    results: &[T],
    server: impl Fn(&T) -> &str,
    columns: &[&str],
    cells: impl Fn(&T, &T) -> Vec<String>,
) {
    let Some(caravan) = results.iter().find(|r| server(r) == "caravan") else {
        return;
    };
    let peers: Vec<&T> = results.iter().filter(|r| server(r) != "caravan").collect();
    if peers.is_empty() {
        return;
    }
    md.push_str(&format!(
        "\n| Caravan / peer | {} |\n| --- |{}\n",
        columns.join(" | "),
        " --- |".repeat(columns.len())
    ));
    for peer in peers {
        md.push_str(&format!(
            "| {} | {} |\n",
            server(peer),
            cells(caravan, peer).join(" | ")
        ));
    }
}

/// `a / b` to two places, or "-" when `b` is not positive.
fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "-".into()
    }
}

/// One line about a fan-out result.
pub fn fanout_line(r: &FanoutResult) -> String {
    format!(
        "fanout {}{}: {} rooms x {} clients, {} sent, {} of {} delivered ({} lost, {} connections closed by the server), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, server {:.2} µs CPU/delivery ({:.2} cores, {:.1} MB peak), generator {:.2} cores{}",
        r.server, if r.load.bursts { " (bursts)" } else { "" }, r.load.rooms, r.load.clients_per_room, r.sent, r.delivered, r.expected, r.lost, r.closed_by_server,
        r.p50_ms, r.p99_ms, r.max_ms, r.server_cpu_us_per_delivery, r.server_usage.cores,
        r.server_usage.peak_rss_bytes as f64 / 1e6, r.generator_usage.cores,
        saved_summary(r).map_or(String::new(), |s| format!(", saved {s}"))
    )
}

/// "p50 / p99 ms (answered of asked)" of a run's "saved" acknowledgements, if it had them.
fn saved_summary(r: &FanoutResult) -> Option<String> {
    r.saved.as_ref().map(|s| {
        let flushes = s
            .flushes_per_sec
            .map_or(String::new(), |f| format!(", {f:.0} flushes/s"));
        format!(
            "{:.2} / {:.2} ms ({} of {}){flushes}",
            s.p50_ms, s.p99_ms, s.answered, s.asked
        )
    })
}
