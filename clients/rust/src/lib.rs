//! A Rust client for Caravan (and any y-protocols WebSocket server): it keeps a `yrs::Doc`
//! in sync with a trip, both ways, shares awareness, reconnects with exponential back-off, and
//! can wait until the server says every local change is durable.
//!
//! Local changes made while disconnected stay in the document; on reconnect the sync
//! handshake (step 1 / step 2) sends whatever the server lacks, so nothing is lost and nothing
//! is sent twice. The assistant, the benchmarks and the tests use this client.
//!
//! ```no_run
//! # async fn run() {
//! use caravan_client::{Client, ClientConfig};
//! let client = Client::connect(ClientConfig::new("ws://127.0.0.1:8080/sync", "my-trip"));
//! client.wait_synced().await;
//! let notes = client.doc().get_or_insert_text("notes");
//! # }
//! ```

mod connection;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use yrs::sync::Awareness;
use yrs::Doc;

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The sync endpoint, such as `ws://127.0.0.1:8080/sync`.
    pub url: String,
    /// The trip (the room name).
    pub trip: String,
    /// A token, sent as the `token` query parameter.
    pub token: Option<String>,
    /// First wait before reconnecting; doubled after each failure.
    pub min_backoff: Duration,
    /// Longest wait before reconnecting.
    pub max_backoff: Duration,
    /// How often the local awareness state is renewed (y-protocols expires it after 30 s).
    pub awareness_renewal: Duration,
}

impl ClientConfig {
    /// Settings for `trip` at `url`, with the usual back-off (0.1 s doubling to 10 s).
    pub fn new(url: impl Into<String>, trip: impl Into<String>) -> ClientConfig {
        ClientConfig {
            url: url.into(),
            trip: trip.into(),
            token: None,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            awareness_renewal: Duration::from_secs(15),
        }
    }

    /// The same settings with a token.
    pub fn with_token(mut self, token: impl Into<String>) -> ClientConfig {
        self.token = Some(token.into());
        self
    }

    pub(crate) fn endpoint(&self) -> String {
        let mut url = format!("{}/{}", self.url.trim_end_matches('/'), self.trip);
        if let Some(token) = &self.token {
            url.push_str("?token=");
            url.push_str(token);
        }
        url
    }
}

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Trying to connect (or waiting to retry).
    Connecting,
    /// Connected; the sync handshake is under way.
    Connected,
    /// Connected and in sync with the server.
    Synced,
    /// Stopped by [`Client::close`], or refused for good by the server (see [`Refusal`]).
    Closed,
}

/// Why the server refused something, as it said so.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// An auth message "permission denied", with the server's reason.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The server closed the connection with a code and reason. Codes 4400 to 4499 (bad or
    /// expired token, deleted trip, trip full) stop the client: reconnecting cannot help.
    #[error("closed by the server ({code}): {reason}")]
    Closed {
        /// WebSocket close code.
        code: u16,
        /// The server's reason.
        reason: String,
    },
    /// The server refused the WebSocket upgrade (401, 403, 400 or 404); the client stopped.
    #[error("refused by the server (HTTP {status}): {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The server's answer (a JSON error).
        body: String,
    },
}

pub(crate) enum Command {
    AskSaved(u64),
    AwarenessChanged,
    Close,
}

/// Shared between the handle and the connection task.
pub(crate) struct Shared {
    pub(crate) awareness: Mutex<Awareness>,
    pub(crate) status: watch::Sender<Status>,
    pub(crate) saved: watch::Sender<u64>,
    pub(crate) refusals: watch::Sender<Option<Refusal>>,
    pub(crate) asked: AtomicU64,
}

/// A live connection to one trip. Dropping it closes the connection.
pub struct Client {
    doc: Doc,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
}

impl Client {
    /// Starts connecting to the trip with a new, empty document.
    pub fn connect(config: ClientConfig) -> Client {
        Client::connect_with(config, Doc::new())
    }

    /// Starts connecting, syncing `doc` (which may already hold local changes).
    pub fn connect_with(config: ClientConfig, doc: Doc) -> Client {
        let shared = Arc::new(Shared {
            awareness: Mutex::new(Awareness::new(doc.clone())),
            status: watch::channel(Status::Connecting).0,
            saved: watch::channel(0).0,
            refusals: watch::channel(None).0,
            asked: AtomicU64::new(0),
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        tokio::spawn(connection::run(
            config,
            doc.clone(),
            shared.clone(),
            receiver,
        ));
        Client {
            doc,
            shared,
            commands,
        }
    }

    /// The document kept in sync. Edit it with ordinary yrs transactions.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The current status.
    pub fn status(&self) -> Status {
        *self.shared.status.borrow()
    }

    /// Waits until connected and in sync.
    pub async fn wait_synced(&self) {
        let mut status = self.shared.status.subscribe();
        let _ = status.wait_for(|s| *s == Status::Synced).await;
    }

    /// Waits until the server says every change made so far (while connected) is durable
    /// (Caravan's "saved" extension, message type 102). Changes made while disconnected are
    /// covered once the client has reconnected and synced.
    pub async fn wait_saved(&self) {
        let n = self.shared.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.commands.send(Command::AskSaved(n));
        let mut saved = self.shared.saved.subscribe();
        let _ = saved.wait_for(|s| *s >= n).await;
    }

    /// Sets this client's awareness state (a JSON value, such as
    /// `{"user": {"name": "Ann", "color": "#f00"}}`) and sends it.
    pub fn set_awareness(&self, state_json: &str) {
        self.shared
            .awareness
            .lock()
            .expect("awareness lock")
            .set_local_state_raw(state_json.to_string());
        let _ = self.commands.send(Command::AwarenessChanged);
    }

    /// The awareness states of everyone in the trip (client id -> JSON), this client included.
    pub fn awareness_states(&self) -> Vec<(u64, String)> {
        self.shared
            .awareness
            .lock()
            .expect("awareness lock")
            .iter()
            .filter_map(|(id, state)| state.data.map(|d| (id.get(), d.to_string())))
            .collect()
    }

    /// The last refusal the server sent, if any.
    pub fn last_refusal(&self) -> Option<Refusal> {
        self.shared.refusals.borrow().clone()
    }

    /// Closes the connection (telling the others this client left) and stops reconnecting.
    pub async fn close(self) {
        let _ = self.commands.send(Command::Close);
        let mut status = self.shared.status.subscribe();
        let _ = status.wait_for(|s| *s == Status::Closed).await;
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Close);
    }
}
