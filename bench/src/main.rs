//! `caravan-bench`: Caravan's load generator. It speaks the y-protocols with real
//! yrs-encoded updates, measures end-to-end latency and deliveries, and samples the server's
//! CPU and memory from /proc. See `docs/benchmarks.md`.

mod catch_up;
mod cold_load;
mod connections;
mod fanout;
mod load;
mod plot;
mod proc_stats;
mod report;
mod target;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "caravan-bench",
    about = "Load tests Caravan (and the servers people would pick instead)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Where to write `results.json` and `results.md`.
    #[arg(long, global = true, default_value = "bench/results")]
    out: std::path::PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// A tiny run of each scenario against Caravan only: checks the harness works.
    Smoke,
    /// The fan-out scenario against Caravan.
    Fanout {
        #[arg(long, default_value_t = 500)]
        rooms: usize,
        #[arg(long, default_value_t = 4)]
        clients: usize,
        #[arg(long, default_value_t = 2000.0)]
        rate: f64,
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
        /// Every client of every trip sends at the same instants.
        #[arg(long)]
        bursts: bool,
    },
    /// Fan-out against Caravan and every peer installed, with Caravan's ratio to each.
    Compare {
        /// The servers to run against, comma-separated (default: every server known).
        #[arg(long, value_delimiter = ',', default_values_t = default_servers())]
        servers: Vec<String>,
        #[arg(long, default_value_t = 50)]
        rooms: usize,
        #[arg(long, default_value_t = 4)]
        clients: usize,
        #[arg(long, default_value_t = 10000.0)]
        rate: f64,
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
        /// Every client of every trip sends at the same instants.
        #[arg(long)]
        bursts: bool,
    },
    /// The saturation scenario: the fan-out rate raised until p99 passes 100 ms or an update
    /// is lost.
    Saturate {
        /// The servers to run against, comma-separated (default: every server known).
        #[arg(long, value_delimiter = ',', default_values_t = default_servers())]
        servers: Vec<String>,
        #[arg(long, default_value_t = 50)]
        rooms: usize,
        #[arg(long, default_value_t = 4)]
        clients: usize,
        #[arg(long, default_value_t = 2000.0)]
        from: f64,
        #[arg(long, default_value_t = 1.5)]
        factor: f64,
        #[arg(long, default_value_t = 100_000.0)]
        to: f64,
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
    },
    /// The catch-up scenario: a client with `edits` offline edits reconnects to `peers`.
    CatchUp {
        /// The servers to run against, comma-separated (default: every server known).
        #[arg(long, value_delimiter = ',', default_values_t = default_servers())]
        servers: Vec<String>,
        #[arg(long, default_value_t = 1000)]
        edits: usize,
        #[arg(long, default_value_t = 3)]
        peers: usize,
    },
    /// The connections scenario: idle connections, four per trip, then trips with one each.
    Connections {
        /// The servers to run against, comma-separated (default: every server known).
        #[arg(long, value_delimiter = ',', default_values_t = default_servers())]
        servers: Vec<String>,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        #[arg(long, default_value_t = 1_000)]
        trips: usize,
    },
    /// The cold-load scenario: the automerge-paper trace as one update per edit, loaded after
    /// a restart, then after a compaction.
    ColdLoad {
        /// Edits of the trace to use (all by default).
        #[arg(long, default_value_t = usize::MAX)]
        limit: usize,
    },
}

fn default_servers() -> Vec<String> {
    target::SERVERS.iter().map(|s| s.to_string()).collect()
}

/// Starts each of `servers` in turn and runs `scenario` against it; a server that cannot be
/// started (not installed) is reported and skipped.
async fn each_server<T, F, Fut>(servers: &[String], mut scenario: F) -> anyhow::Result<Vec<T>>
where
    F: FnMut(std::sync::Arc<target::Target>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut results = Vec::new();
    for name in servers {
        let server = match target::start(name).await {
            Ok(server) => std::sync::Arc::new(server),
            Err(e) => {
                eprintln!("{name}: not run: {e}");
                continue;
            }
        };
        let result = scenario(server.clone()).await;
        if let Ok(mut server) = std::sync::Arc::try_unwrap(server) {
            server.stop();
        }
        results.push(result?);
    }
    Ok(results)
}

fn trace_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/automerge-paper.json.gz")
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut report = report::Report::new();
        match cli.command {
            Command::Smoke => {
                let mut caravan = target::start_caravan(None)?;
                let load = fanout::FanoutLoad {
                    rooms: 5,
                    clients_per_room: 3,
                    updates_per_sec: 100.0,
                    secs: 1.0,
                    bursts: false,
                };
                for bursts in [false, true] {
                    let result =
                        fanout::run(&caravan, fanout::FanoutLoad { bursts, ..load }).await?;
                    println!("{}", report::fanout_line(&result));
                    anyhow::ensure!(result.sent > 0, "the smoke run sent nothing");
                    anyhow::ensure!(
                        result.lost == 0,
                        "the smoke run lost {} deliveries",
                        result.lost
                    );
                    let saved = result.saved.as_ref().expect("caravan answers saved?");
                    anyhow::ensure!(
                        saved.asked == result.sent && saved.answered == saved.asked,
                        "saved: {} of {} questions answered ({} updates sent)",
                        saved.answered,
                        saved.asked,
                        result.sent
                    );
                    report.fanout.push(result);
                }
                caravan.stop();
                let mut caravan = target::start_caravan(None)?;
                let saturation = fanout::saturate(&caravan, 3, 3, 50.0, 2.0, 100.0, 0.5).await?;
                println!(
                    "saturation: highest sustained {:.0} updates/s; stopped: {}",
                    saturation.highest_sustained_rate, saturation.stopped_because
                );
                anyhow::ensure!(
                    saturation.steps.len() >= 2,
                    "the saturation search made no steps"
                );
                report.saturation.push(saturation);
                let catch_up = catch_up::run(&caravan, 200, 2).await?;
                println!("catch-up: {catch_up:?}");
                report.catch_up.push(catch_up);
                let connections = connections::run(&caravan, 200, 20).await?;
                println!("connections: {connections:?}");
                anyhow::ensure!(
                    connections.connections == 200,
                    "not every connection opened"
                );
                report.connections.push(connections);
                caravan.stop();
                let cold = cold_load::run(&trace_path(), 2_000).await?;
                println!("cold load: {cold:?}");
                report.cold_load.push(cold);
            }
            Command::Fanout {
                rooms,
                clients,
                rate,
                secs,
                bursts,
            } => {
                let mut caravan = target::start_caravan(None)?;
                let load = fanout::FanoutLoad {
                    rooms,
                    clients_per_room: clients,
                    updates_per_sec: rate,
                    secs,
                    bursts,
                };
                let result = fanout::run(&caravan, load).await?;
                caravan.stop();
                println!("{}", report::fanout_line(&result));
                report.fanout.push(result);
            }
            Command::Compare {
                servers,
                rooms,
                clients,
                rate,
                secs,
                bursts,
            } => {
                let load = fanout::FanoutLoad {
                    rooms,
                    clients_per_room: clients,
                    updates_per_sec: rate,
                    secs,
                    bursts,
                };
                report.fanout = each_server(&servers, |server| async move {
                    let result = fanout::run(&server, load).await?;
                    println!("{}", report::fanout_line(&result));
                    Ok(result)
                })
                .await?;
            }
            Command::Saturate {
                servers,
                rooms,
                clients,
                from,
                factor,
                to,
                secs,
            } => {
                report.saturation = each_server(&servers, |server| async move {
                    let result =
                        fanout::saturate(&server, rooms, clients, from, factor, to, secs).await?;
                    println!(
                        "saturation {}: highest sustained {:.0} updates/s; stopped: {}",
                        result.server, result.highest_sustained_rate, result.stopped_because
                    );
                    Ok(result)
                })
                .await?;
            }
            Command::CatchUp {
                servers,
                edits,
                peers,
            } => {
                report.catch_up = each_server(&servers, |server| async move {
                    let result = catch_up::run(&server, edits, peers).await?;
                    println!("catch-up: {result:?}");
                    Ok(result)
                })
                .await?;
            }
            Command::Connections {
                servers,
                connections,
                trips,
            } => {
                report.connections = each_server(&servers, |server| async move {
                    let result = connections::run(&server, connections, trips).await?;
                    println!("connections: {result:?}");
                    Ok(result)
                })
                .await?;
            }
            Command::ColdLoad { limit } => {
                let cold = cold_load::run(&trace_path(), limit).await?;
                println!("cold load: {cold:?}");
                report.cold_load.push(cold);
            }
        }
        report.write(&cli.out)?;
        Ok(())
    })
}
