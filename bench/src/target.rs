//! The servers under test: how to reach a room, how messages are framed, which process to
//! measure.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// How y-protocols messages travel on the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// One or more y-protocols messages per binary frame (y-websocket, Caravan, y-sweet).
    Plain,
    /// Each message prefixed with the document name as a lib0 string (Hocuspocus).
    DocNamePrefix,
}

/// A running server to load.
#[derive(Debug)]
pub struct Target {
    /// Its name in reports.
    pub name: String,
    /// WebSocket URL of a room, with `{room}` in place of its name.
    pub url_template: String,
    /// Message framing.
    pub framing: Framing,
    /// Whether its clients ask "saved?" after each update, as Caravan's family app does
    /// (`docs/protocol.md`); the peers have no such question.
    pub asks_saved: bool,
    /// Its process, for CPU and memory.
    pub pid: u32,
    /// What it persists, for the report.
    pub persistence: String,
    /// Its HTTP base URL, when it has one.
    pub http: Option<String>,
    /// How a client gets a room's URL.
    rooms: RoomAccess,
    child: Option<Child>,
    _data: Option<tempfile::TempDir>,
}

/// How a client gets the WebSocket URL of a room.
#[derive(Debug, Clone)]
enum RoomAccess {
    /// `url_template` with the room's name in it: any name opens a room.
    Template,
    /// y-sweet's document API: the document is created (`POST /doc/new`) and a client token
    /// fetched (`POST /doc/{id}/auth`) with the server token, as an app backend does.
    YSweet { server_token: String },
}

impl Target {
    /// The value of a Prometheus counter or gauge on the server's `/metrics` (Caravan's), or
    /// `None` when the server has no such page or no such series.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let http = self.http.as_deref()?;
        let text = reqwest::get(format!("{http}/metrics"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| {
                line.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse()
                    .ok()
            })
    }

    /// The WebSocket URL a client uses for `room`, with whatever the server needs first
    /// (y-sweet: the document created and a token fetched) done.
    pub async fn room_url(&self, room: &str) -> anyhow::Result<String> {
        match &self.rooms {
            RoomAccess::Template => Ok(self.url_template.replace("{room}", room)),
            RoomAccess::YSweet { server_token } => {
                let http = self.http.as_deref().expect("y-sweet has an HTTP API");
                let client = reqwest::Client::new();
                client
                    .post(format!("{http}/doc/new"))
                    .bearer_auth(server_token)
                    .json(&serde_json::json!({ "docId": room }))
                    .send()
                    .await?
                    .error_for_status()?;
                let token: serde_json::Value = client
                    .post(format!("{http}/doc/{room}/auth"))
                    .bearer_auth(server_token)
                    .json(&serde_json::json!({}))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let url = token["url"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("y-sweet's auth answer has no url: {token}"))?;
                let token = token["token"].as_str().unwrap_or_default();
                // As the y-websocket provider does: the document id is appended to `url`.
                Ok(format!("{url}/{room}?token={token}"))
            }
        }
    }

    /// Kills the server (SIGKILL): no clean stop, no compaction.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server (SIGTERM, then waits).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The `caravan` binary: `CARAVAN_BIN`, else the newer of `target/release/caravan` and
/// `target/debug/caravan`.
pub fn caravan_bin() -> anyhow::Result<std::path::PathBuf> {
    if let Ok(path) = std::env::var("CARAVAN_BIN") {
        return Ok(path.into());
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    ["release", "debug"]
        .iter()
        .map(|profile| root.join("target").join(profile).join("caravan"))
        .filter_map(|path| {
            let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
            Some((modified, path))
        })
        .max()
        .map(|(_, path)| path)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no caravan binary: run `cargo build --release -p sync_server` or set CARAVAN_BIN"
            )
        })
}

/// Starts Caravan as `caravan serve` runs by default (persistence on, the assistant on), in
/// `data` (a fresh temporary directory when `None`), with the limits that would throttle a
/// load generator turned off.
pub fn start_caravan(data: Option<&std::path::Path>) -> anyhow::Result<Target> {
    start_caravan_with(data, &[])
}

/// [`start_caravan`] with more command-line arguments for `caravan serve`.
pub fn start_caravan_with(
    data: Option<&std::path::Path>,
    extra_args: &[&str],
) -> anyhow::Result<Target> {
    start_caravan_named("caravan", data, extra_args)
}

/// Starts Caravan with the assistant off (`--no-assistant`), to show what the assistant costs.
pub fn start_caravan_without_assistant() -> anyhow::Result<Target> {
    start_caravan_named("caravan-no-assistant", None, &["--no-assistant"])
}

/// Starts another build of Caravan, `CARAVAN_BASELINE_BIN` (say, of the commit before a
/// change), with the same defaults: a change's cost measured against its baseline in the
/// same run, on the same noisy machine.
pub fn start_caravan_baseline() -> anyhow::Result<Target> {
    let bin = std::env::var("CARAVAN_BASELINE_BIN").map_err(|_| {
        anyhow::anyhow!("caravan-baseline needs CARAVAN_BASELINE_BIN: a caravan binary to compare")
    })?;
    start_caravan_binary("caravan-baseline", bin.into(), None, &[])
}

fn start_caravan_named(
    name: &str,
    data: Option<&std::path::Path>,
    extra_args: &[&str],
) -> anyhow::Result<Target> {
    start_caravan_binary(name, caravan_bin()?, data, extra_args)
}

fn start_caravan_binary(
    name: &str,
    bin: std::path::PathBuf,
    data: Option<&std::path::Path>,
    extra_args: &[&str],
) -> anyhow::Result<Target> {
    let temp = match data {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let dir = data
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| temp.as_ref().expect("a temp dir").path().to_path_buf());
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--messages-per-second",
            "0",
            "--max-connections-per-ip",
            "0",
            "--max-loaded-trips",
            "1000000",
            "--data",
        ])
        .arg(&dir)
        .args(extra_args)
        .args(
            std::env::var("BENCH_CARAVAN_WORKERS")
                .map(|n| vec!["--worker-threads".to_owned(), n])
                .unwrap_or_default(),
        )
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn,sync_server=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let port: u16 = loop {
        let line = lines
            .next()
            .ok_or_else(|| anyhow::anyhow!("caravan exited before listening"))??;
        if let Some(rest) = line.split("listen=127.0.0.1:").nth(1) {
            break rest.split_whitespace().next().unwrap_or("0").parse()?;
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok(Target {
        name: name.into(),
        url_template: format!("ws://127.0.0.1:{port}/sync/{{room}}"),
        framing: Framing::Plain,
        asks_saved: true,
        pid: child.id(),
        persistence: "sled: every update logged, group commit".into(),
        http: Some(format!("http://127.0.0.1:{port}")),
        rooms: RoomAccess::Template,
        child: Some(child),
        _data: temp,
    })
}

/// Starts `@y/websocket-server` (npm, installed in `bench/peers` by `make bench`), in memory:
/// its persistence (`YPERSISTENCE`, y-leveldb) is off by default, as most deployments run it.
pub fn start_y_websocket() -> anyhow::Result<Target> {
    start_node_peer(
        "y-websocket-server",
        "node_modules/@y/websocket-server/src/server.js",
        "running at",
        |port| format!("ws://127.0.0.1:{port}/{{room}}"),
        Framing::Plain,
        "none (in memory; YPERSISTENCE unset)",
    )
}

/// Starts `@hocuspocus/server` (npm, `bench/peers/hocuspocus.mjs`), in memory: persistence
/// is an extension it runs without by default.
pub fn start_hocuspocus() -> anyhow::Result<Target> {
    start_node_peer(
        "hocuspocus",
        "hocuspocus.mjs",
        "running",
        |port| format!("ws://127.0.0.1:{port}/{{room}}"),
        Framing::DocNamePrefix,
        "none (in memory; no persistence extension)",
    )
}

fn start_node_peer(
    name: &str,
    script: &str,
    ready: &str,
    url: impl Fn(u16) -> String,
    framing: Framing,
    persistence: &str,
) -> anyhow::Result<Target> {
    let peers = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peers");
    let script = peers.join(script);
    anyhow::ensure!(
        peers.join("node_modules").exists() && script.exists(),
        "{name} is not installed: run `npm ci` in bench/peers (make bench does)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new("node")
        .arg(&script)
        .current_dir(&peers)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    loop {
        let line = lines
            .next()
            .ok_or_else(|| anyhow::anyhow!("{name} exited before listening"))??;
        if line.contains(ready) {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Ok(Target {
        name: name.into(),
        url_template: url(port),
        framing,
        asks_saved: false,
        pid: child.id(),
        persistence: persistence.into(),
        http: None,
        rooms: RoomAccess::Template,
        child: Some(child),
        _data: None,
    })
}

/// The `y-sweet` binary: `Y_SWEET_BIN`, else `bench/peers/y-sweet/bin/y-sweet` (installed by
/// `make bench` with `cargo install`).
fn y_sweet_bin() -> anyhow::Result<std::path::PathBuf> {
    if let Ok(path) = std::env::var("Y_SWEET_BIN") {
        return Ok(path.into());
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/y-sweet/bin/y-sweet");
    anyhow::ensure!(
        path.exists(),
        "y-sweet is not installed: `cargo install y-sweet --locked --root bench/peers/y-sweet` \
         (make bench does)"
    );
    Ok(path)
}

/// Starts `y-sweet` (crates.io) with its filesystem store in a temporary directory (it
/// checkpoints each document every 10 s, its default) and an auth key, so documents are
/// created and client tokens fetched through its REST API, as in production.
pub async fn start_y_sweet() -> anyhow::Result<Target> {
    let bin = y_sweet_bin()?;
    let auth = Command::new(&bin).args(["gen-auth", "--json"]).output()?;
    anyhow::ensure!(auth.status.success(), "y-sweet gen-auth failed");
    let auth: serde_json::Value = serde_json::from_slice(&auth.stdout)?;
    let (Some(private_key), Some(server_token)) =
        (auth["private_key"].as_str(), auth["server_token"].as_str())
    else {
        anyhow::bail!("y-sweet gen-auth printed no key: {auth}");
    };
    let data = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(&bin)
        .arg("serve")
        .arg(data.path())
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--prod"])
        .args(["--auth", private_key])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let http = format!("http://127.0.0.1:{port}");
    let mut target = Target {
        name: "y-sweet".into(),
        url_template: String::new(),
        framing: Framing::Plain,
        asks_saved: false,
        pid: child.id(),
        persistence: "filesystem store, each document checkpointed every 10 s".into(),
        http: Some(http.clone()),
        rooms: RoomAccess::YSweet {
            server_token: server_token.to_string(),
        },
        child: Some(child),
        _data: Some(data),
    };
    let started = std::time::Instant::now();
    loop {
        if let Ok(answer) = reqwest::get(format!("{http}/ready")).await {
            if answer.status().is_success() {
                return Ok(target);
            }
        }
        if started.elapsed() > std::time::Duration::from_secs(10) {
            target.kill();
            anyhow::bail!("y-sweet did not answer /ready within 10 s");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Every server the benchmarks know, Caravan first (as it runs by default, then without its
/// assistant, then another build of it: `CARAVAN_BASELINE_BIN`).
pub const SERVERS: [&str; 6] = [
    "caravan",
    "caravan-no-assistant",
    "caravan-baseline",
    "y-websocket-server",
    "hocuspocus",
    "y-sweet",
];

/// Starts the server called `name` (one of [`SERVERS`]).
pub async fn start(name: &str) -> anyhow::Result<Target> {
    match name {
        "caravan" => start_caravan(None),
        "caravan-no-assistant" => start_caravan_without_assistant(),
        "caravan-baseline" => start_caravan_baseline(),
        "y-websocket-server" => start_y_websocket(),
        "hocuspocus" => start_hocuspocus(),
        "y-sweet" => start_y_sweet().await,
        other => anyhow::bail!("unknown server {other:?}; known: {}", SERVERS.join(", ")),
    }
}
