//! `caravan`: the Caravan server and its maintenance commands.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use persistence::{DocStore, SledStore, TripId};
use sync_server::config::ServerConfig;
use sync_server::metrics::Metrics;

#[derive(Parser)]
#[command(
    name = "caravan",
    version,
    about = "Caravan: a real-time collaboration server for trip planning"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve(ServeArgs),
    /// Folds every trip's update log into its snapshot (the server must be stopped).
    Compact {
        /// Data directory.
        #[arg(long, env = "CARAVAN_DATA", default_value = "./data")]
        data: PathBuf,
    },
    /// Prints a trip's JSON view (the server must be stopped; online: GET /api/trips/{id}).
    Export {
        /// Data directory.
        #[arg(long, env = "CARAVAN_DATA", default_value = "./data")]
        data: PathBuf,
        /// The trip.
        #[arg(long)]
        trip: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Creates a trip from a JSON file and prints its id (the server must be stopped;
    /// online: POST /api/trips).
    Import {
        /// Data directory.
        #[arg(long, env = "CARAVAN_DATA", default_value = "./data")]
        data: PathBuf,
        /// The JSON file (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
        /// Id for the new trip (default: a random one).
        #[arg(long)]
        id: Option<String>,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CARAVAN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory (the sled database).
    #[arg(long, env = "CARAVAN_DATA", default_value = "./data")]
    data: PathBuf,
    /// Largest WebSocket message or REST update accepted, in bytes.
    #[arg(long, env = "CARAVAN_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024 * 1024)]
    max_message_bytes: usize,
    /// Frames queued for one connection before it counts as too slow and is closed.
    #[arg(long, env = "CARAVAN_OUTBOX_FRAMES", default_value_t = 1024)]
    outbox_frames: usize,
    /// Seconds without any connection after which a trip is unloaded from memory.
    #[arg(long, env = "CARAVAN_UNLOAD_AFTER_SECS", default_value_t = 30)]
    unload_after_secs: u64,
    /// Seconds between keep-alive pings.
    #[arg(long, env = "CARAVAN_PING_SECS", default_value_t = 15)]
    ping_secs: u64,
    /// Seconds of silence (not even a pong) after which a connection is dropped.
    #[arg(long, env = "CARAVAN_DEAD_AFTER_SECS", default_value_t = 45)]
    dead_after_secs: u64,
    /// Seconds after which an awareness state that was not renewed is removed.
    #[arg(long, env = "CARAVAN_AWARENESS_TIMEOUT_SECS", default_value_t = 30)]
    awareness_timeout_secs: u64,
    /// Updates in a trip's log that trigger its compaction.
    #[arg(long, env = "CARAVAN_COMPACT_AFTER_UPDATES", default_value_t = 1000)]
    compact_after_updates: usize,
    /// Longest wait, in milliseconds, before an update nobody asked about is flushed to disk.
    #[arg(long, env = "CARAVAN_FLUSH_INTERVAL_MS", default_value_t = 100)]
    flush_interval_ms: u64,
}

impl ServeArgs {
    fn into_config(self) -> ServerConfig {
        ServerConfig {
            listen: self.listen,
            data_dir: self.data,
            max_message_bytes: self.max_message_bytes,
            outbox_frames: self.outbox_frames.max(1),
            ping_interval: Duration::from_secs(self.ping_secs.max(1)),
            dead_after: Duration::from_secs(self.dead_after_secs.max(1)),
            awareness_timeout: Duration::from_secs(self.awareness_timeout_secs),
            unload_after: Duration::from_secs(self.unload_after_secs),
            compact_after_updates: self.compact_after_updates.max(1),
            flush_interval: Duration::from_millis(self.flush_interval_ms.max(1)),
            ..ServerConfig::default()
        }
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sled=warn")),
        )
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(sync_server::app::serve(args.into_config())),
        Command::Compact { data } => {
            let store = SledStore::open(&data)
                .with_context(|| format!("opening {} (stop the server first)", data.display()))?;
            for trip in store.list()? {
                let report = store.compact(&trip.id)?;
                println!(
                    "{}: folded {} updates, {} -> {} bytes",
                    trip.id, report.folded, report.bytes_before, report.bytes_after
                );
            }
            store.flush()?;
            Ok(())
        }
        Command::Export { data, trip, out } => export(&data, &trip, out.as_deref()),
        Command::Import { data, file, id } => import(&data, &file, id),
    }
}

fn open_store(data: &std::path::Path) -> anyhow::Result<SledStore> {
    SledStore::open(data)
        .with_context(|| format!("opening {} (stop the server first)", data.display()))
}

fn export(data: &std::path::Path, trip: &str, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let trip = TripId::parse(trip)?;
    let store = open_store(data)?;
    let (doc, _) = sync_server::room::load_doc(&store, &trip, &Metrics::new())?;
    let read = doc_model::read_trip(&doc);
    let view = read
        .trip
        .with_context(|| format!("there is no trip {trip}"))?;
    for skipped in &read.skipped {
        eprintln!("skipped {}: {}", skipped.path, skipped.reason);
    }
    let json = serde_json::to_string_pretty(&view)?;
    match out {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{json}"),
    }
    Ok(())
}

fn import(
    data: &std::path::Path,
    file: &std::path::Path,
    id: Option<String>,
) -> anyhow::Result<()> {
    let text = if file == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    let trip: doc_model::Trip = serde_json::from_str(&text).context("the file is not a trip")?;
    let update = sync_server::trips_api::encode_trip(&trip).map_err(|problems| {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| format!("  {}: {}", p.path, p.error))
            .collect();
        anyhow::anyhow!("the trip is not valid:\n{}", lines.join("\n"))
    })?;
    let id = TripId::parse(&id.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()))?;
    let store = open_store(data)?;
    if store.load(&id)?.is_some() {
        anyhow::bail!("a trip {id} exists already");
    }
    let meta = persistence::UpdateMeta {
        at_ms: persistence::now_ms(),
        origin: Some("cli:import".into()),
    };
    store.append(&id, &update, &meta)?;
    store.flush()?;
    println!("{id}");
    Ok(())
}
