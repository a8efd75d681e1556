//! Helpers shared by the tests that run a real `caravan` process.
#![allow(dead_code)]

pub mod in_process;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

/// A `caravan serve` child process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `caravan serve` on `port` (0: any) with its data in `data`.
    pub fn start(data: &std::path::Path, port: u16) -> Server {
        Server::start_with(data, port, &[], &[])
    }

    /// Starts `caravan serve` with extra flags and environment variables, without the
    /// in-process assistant (tests of the relay count connections and events exactly).
    pub fn start_with(
        data: &std::path::Path,
        port: u16,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut all = vec!["--no-assistant"];
        all.extend_from_slice(args);
        Server::start_full(data, port, &all, env)
    }

    /// Starts `caravan serve` with exactly these extra flags.
    pub fn start_full(
        data: &std::path::Path,
        port: u16,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        Server::start_binary(
            std::path::Path::new(env!("CARGO_BIN_EXE_caravan")),
            data,
            port,
            args,
            env,
        )
    }

    /// Starts `serve` of the `caravan` binary `binary` (another release's, say) with exactly
    /// these extra flags.
    pub fn start_binary(
        binary: &std::path::Path,
        data: &std::path::Path,
        port: u16,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut command = Command::new(binary);
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .args(args)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("caravan starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let port = loop {
            let line = lines.next().expect("caravan logs its address").unwrap();
            log.lock().unwrap().push_str(&line);
            log.lock().unwrap().push('\n');
            if let Some(rest) = line.split("listen=127.0.0.1:").nth(1) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe, and keep it for
        // tests that check what was logged.
        let keep = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut log = keep.lock().unwrap();
                if log.len() < 4 << 20 {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        Server { child, port, log }
    }

    /// The WebSocket base URL (`ws://.../sync`).
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/sync", self.port)
    }

    /// The HTTP base URL.
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends `signal` (e.g. `-TERM`, `-KILL`) and waits for the exit.
    pub fn kill(&mut self, signal: &str) {
        Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap();
    }

    /// The value of a metric line (`name{labels}`) in `/metrics`, 0 when absent.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.http()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `check` holds, failing the test after 10 s.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A Yjs update inserting `text` into the `notes` of a fresh document.
pub fn notes_update(text: &str) -> Vec<u8> {
    use yrs::{ReadTxn, Text, Transact};
    let doc = yrs::Doc::new();
    let notes = doc.get_or_insert_text("notes");
    notes.insert(&mut doc.transact_mut(), 0, text);
    let update = doc
        .transact()
        .encode_state_as_update_v1(&yrs::StateVector::default());
    update
}

/// The `notes` text of a document given as one binary Yjs update.
pub fn notes_of(update: &[u8]) -> String {
    use yrs::updates::decoder::Decode;
    use yrs::{GetString, Transact};
    let doc = yrs::Doc::new();
    let notes = doc.get_or_insert_text("notes");
    doc.transact_mut()
        .apply_update(yrs::Update::decode_v1(update).unwrap())
        .unwrap();
    let text = notes.get_string(&doc.transact());
    text
}

/// The trip's notes as the server has them, read over REST (with a bearer token if given).
pub async fn stored_notes(
    server: &Server,
    trip: &str,
    token: Option<&str>,
) -> Result<String, reqwest::StatusCode> {
    let mut request =
        reqwest::Client::new().get(format!("{}/api/trips/{trip}/update", server.http()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    if !response.status().is_success() {
        return Err(response.status());
    }
    Ok(notes_of(&response.bytes().await.unwrap()))
}

/// The close code and reason the server ends `socket` with, skipping other messages
/// (0 when it ends without a close frame).
pub async fn close_of<S>(socket: &mut S) -> (u16, String)
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the server closes in time")
        {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (frame.code.into(), frame.reason.to_string())
            }
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return (0, String::new()),
            Some(Ok(_)) => {}
        }
    }
}

/// Signs `claims` as a JWT with `signer`.
pub fn sign(signer: &dyn josekit::jws::JwsSigner, claims: serde_json::Value) -> String {
    let payload = josekit::jwt::JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let mut header = josekit::jws::JwsHeader::new();
    header.set_token_type("JWT");
    josekit::jwt::encode_with_signer(&payload, &header, signer).unwrap()
}

/// The claims of a token.
pub fn claims(trip: &str, role: &str, sub: &str, exp: u64) -> serde_json::Value {
    serde_json::json!({ "sub": sub, "trip": trip, "role": role, "exp": exp })
}

/// An HS256 token signed with `secret`, valid ten minutes.
pub fn hs256(secret: &str, trip: &str, role: &str, sub: &str) -> String {
    sign(
        &josekit::jws::HS256.signer_from_bytes(secret).unwrap(),
        claims(trip, role, sub, now_secs() + 600),
    )
}

/// A REST client of a test server.
pub struct Rest {
    http: String,
    client: reqwest::Client,
}

impl Rest {
    /// A client of `server`.
    pub fn new(server: &Server) -> Rest {
        Rest {
            http: server.http(),
            client: reqwest::Client::new(),
        }
    }

    /// Sends `body` with `method` to `path`, with a bearer token if given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, String) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.http))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// Posts an update adding `text` to the trip's notes.
    pub async fn post_update(&self, trip: &str, token: Option<&str>, text: &str) -> StatusCode {
        let path = format!("/api/trips/{trip}/update");
        self.send(reqwest::Method::POST, &path, token, notes_update(text))
            .await
            .0
    }

    /// The trip's notes as the server has them (through the `?token=` parameter).
    pub async fn read_notes(&self, trip: &str, token: &str) -> Result<String, StatusCode> {
        let response = self
            .client
            .get(format!(
                "{}/api/trips/{trip}/update?token={token}",
                self.http
            ))
            .send()
            .await
            .unwrap();
        if !response.status().is_success() {
            return Err(response.status());
        }
        Ok(notes_of(&response.bytes().await.unwrap()))
    }
}
