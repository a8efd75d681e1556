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
    /// Its process, for CPU and memory.
    pub pid: u32,
    /// What it persists, for the report.
    pub persistence: String,
    /// Its HTTP base URL, when it has one.
    pub http: Option<String>,
    child: Option<Child>,
    _data: Option<tempfile::TempDir>,
}

impl Target {
    /// The URL of `room`.
    pub fn url(&self, room: &str) -> String {
        self.url_template.replace("{room}", room)
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

/// Starts Caravan with persistence on, in `data` (a fresh temporary directory when `None`),
/// with the limits that would throttle a load generator turned off.
pub fn start_caravan(data: Option<&std::path::Path>) -> anyhow::Result<Target> {
    let temp = match data {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let dir = data
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| temp.as_ref().expect("a temp dir").path().to_path_buf());
    let mut child = Command::new(caravan_bin()?)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-assistant",
            "--messages-per-second",
            "0",
            "--max-connections-per-ip",
            "0",
            "--max-loaded-trips",
            "1000000",
            "--data",
        ])
        .arg(&dir)
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
        name: "caravan".into(),
        url_template: format!("ws://127.0.0.1:{port}/sync/{{room}}"),
        framing: Framing::Plain,
        pid: child.id(),
        persistence: "sled: every update logged, group commit".into(),
        http: Some(format!("http://127.0.0.1:{port}")),
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
        pid: child.id(),
        persistence: persistence.into(),
        http: None,
        child: Some(child),
        _data: None,
    })
}
