//! The assistant at work: [`run_trip`] runs the [`Engine`] in one trip through a
//! [`TripLink`], whenever the trip changed in a part it reads (and every `tick`, for poll
//! deadlines); [`Trips`] keeps one such task per trip people have open, and leaves a trip
//! when its last person leaves. [`supervise`] drives [`Trips`] from a server's trip event feed
//! (`GET /api/events`) with [`ProtocolLink`]s, as `caravan assistant` does; inside `caravan
//! serve` the server drives it with links attached to its rooms.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use caravan_wire::TripEvent;
use doc_model::TripDoc;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::link::{Linker, ProtocolLinker, TripLink};
use crate::Engine;

/// Where the assistant connects, who it is, and what it thinks with.
#[derive(Clone)]
pub struct AssistantConfig {
    /// Base URL of the server's HTTP API, such as `http://127.0.0.1:8080`.
    pub server: String,
    /// A token with role `assistant` for trip `*` (the admin key also opens the feed, but a
    /// connection with it does not count as the assistant).
    pub token: Option<String>,
    /// Name shown to people.
    pub name: String,
    /// Colour of its avatar.
    pub color: String,
    /// How often it looks at a trip that did not change (poll deadlines).
    pub tick: Duration,
    /// How long it waits after a change for more before it reacts.
    pub debounce: Duration,
    /// A language model chain, if configured; the built-in planner otherwise.
    pub model: Option<Arc<crate::model::ModelPlanner>>,
    /// Where it counts what it does.
    pub metrics: Arc<crate::metrics::AiMetrics>,
}

impl AssistantConfig {
    /// Settings for the server at `server` (`http://host:port`).
    pub fn new(server: impl Into<String>, token: Option<String>) -> AssistantConfig {
        AssistantConfig {
            server: server.into().trim_end_matches('/').to_owned(),
            token,
            name: "Trip assistant".into(),
            color: "#7c5cff".into(),
            tick: Duration::from_secs(20),
            debounce: Duration::from_millis(150),
            model: None,
            metrics: Arc::new(crate::metrics::AiMetrics::standalone()),
        }
    }

    /// The assistant's presence in a trip (an awareness state, JSON).
    pub fn presence(&self) -> String {
        serde_json::json!({
            "user": { "name": self.name, "color": self.color, "isAssistant": true }
        })
        .to_string()
    }

    fn sync_url(&self) -> String {
        let ws = if let Some(rest) = self.server.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.server.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.server.clone()
        };
        format!("{ws}/sync")
    }
}

/// Runs the assistant in one trip, through `link`, until `stop` is cancelled or the trip
/// refuses it.
pub async fn run_trip<L: TripLink>(
    config: AssistantConfig,
    link: L,
    trip: String,
    stop: CancellationToken,
) {
    tokio::select! {
        _ = link.synced() => {}
        _ = stop.cancelled() => {
            link.close().await;
            return;
        }
    }
    tracing::info!(%trip, "the assistant joined");
    let trip_doc = TripDoc::new(link.doc().clone());
    let mut engine = Engine::new();
    if config.model.is_some() {
        engine = engine.with_model();
    }
    let mut decisions = Decisions::default();
    // The first look is at once; the periodic ones are spread over a tick by trip, so that
    // trips opened together (a server's restart, a benchmark) are not all looked at together.
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + config.tick.mul_f64(spread(&trip)),
        config.tick,
    );
    let mut first_look = true;
    let mut deadline: Option<Duration> = None;
    loop {
        let until_deadline = async {
            match deadline {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = std::future::ready(()), if first_look => first_look = false,
            _ = stop.cancelled() => break,
            _ = link.changed() => {
                // Let a burst of changes (a paste, a sync) settle first.
                tokio::time::sleep(config.debounce).await;
            }
            _ = tick.tick() => {}
            _ = until_deadline => {}
        }
        link.catch_up().await;
        if let Some(refusal) = link.refused() {
            tracing::warn!(%trip, %refusal, "the assistant was refused");
            break;
        }
        match engine.step(&trip_doc, chrono::Utc::now()) {
            Ok(report) => {
                if !report.is_empty() {
                    tracing::info!(%trip, ?report, "the assistant reacted");
                }
                config
                    .metrics
                    .proposals_written
                    .inc_by(report.proposed.len() as u64);
                for job in &report.jobs {
                    answer_with_model(&config, &trip, &trip_doc, &mut engine, job).await;
                }
            }
            Err(e) => tracing::warn!(%trip, error = %e, "the assistant could not react"),
        }
        decisions.observe(&trip_doc, &config.metrics);
        deadline = next_poll_deadline(&trip_doc);
    }
    link.close().await;
    tracing::info!(%trip, "the assistant left");
}

/// A fraction in [0, 1) that depends only on `key`: where in a period something of `key`
/// happens, so that many keys spread over the period.
pub fn spread(key: &str) -> f64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() % 10_000) as f64 / 10_000.0
}

/// Asks the model about one chat request and writes the answer (or the planner's).
async fn answer_with_model(
    config: &AssistantConfig,
    trip: &str,
    doc: &TripDoc,
    engine: &mut Engine,
    job: &crate::engine::ModelJob,
) {
    let Some(model) = &config.model else { return };
    let Some(current) = doc.read().trip else {
        return;
    };
    let request = crate::model::ModelRequest {
        trip_id: trip.to_owned(),
        user: job.user.clone(),
        trip: current,
        text: job.text.clone(),
    };
    let outcome = model.ask(&request).await;
    match engine.finish_job(doc, job, outcome, chrono::Utc::now()) {
        Ok(report) => {
            config
                .metrics
                .proposals_written
                .inc_by(report.proposed.len() as u64);
            tracing::info!(%trip, ?report, "the assistant answered with the model");
        }
        Err(e) => tracing::warn!(%trip, error = %e, "the assistant could not answer"),
    }
}

/// The assistant's proposals seen pending, to count how people decide on them.
#[derive(Default)]
struct Decisions {
    pending: std::collections::HashSet<String>,
}

impl Decisions {
    fn observe(&mut self, doc: &TripDoc, metrics: &crate::metrics::AiMetrics) {
        use doc_model::ProposalStatus;
        let Some(trip) = doc.read().trip else { return };
        for (id, proposal) in &trip.proposals {
            if proposal.author != crate::ASSISTANT {
                continue;
            }
            let decision = match proposal.status {
                ProposalStatus::Pending => {
                    self.pending.insert(id.clone());
                    continue;
                }
                ProposalStatus::Accepted | ProposalStatus::Applied | ProposalStatus::Stale => {
                    "accepted"
                }
                ProposalStatus::Rejected => "rejected",
            };
            if self.pending.remove(id) {
                metrics
                    .proposals_decided
                    .with_label_values(&[decision])
                    .inc();
            }
        }
    }
}

/// Time until the next open poll's deadline, if one is set.
fn next_poll_deadline(doc: &TripDoc) -> Option<Duration> {
    let now = chrono::Utc::now();
    let trip = doc.read().trip?;
    trip.polls
        .values()
        .filter(|p| p.status == doc_model::PollStatus::Open)
        .filter_map(|p| p.closes_at)
        .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO) + Duration::from_millis(50))
        .min()
}

/// The trips the assistant is in: one [`run_trip`] task per trip people have open, each
/// through a link its [`Linker`] opens.
pub struct Trips<K: Linker> {
    config: AssistantConfig,
    linker: K,
    running: HashMap<String, CancellationToken>,
    stop: CancellationToken,
}

impl<K: Linker> Trips<K> {
    /// No trip yet; every task stops when `stop` is cancelled.
    pub fn new(config: AssistantConfig, linker: K, stop: CancellationToken) -> Trips<K> {
        Trips {
            config,
            linker,
            running: HashMap::new(),
            stop,
        }
    }

    /// People opened `trip`: the assistant joins it (once).
    pub fn opened(&mut self, trip: String) {
        self.running.retain(|_, token| !token.is_cancelled());
        if self.running.contains_key(&trip) {
            return;
        }
        let token = self.stop.child_token();
        let (config, linker, stop) = (self.config.clone(), self.linker.clone(), token.clone());
        let name = trip.clone();
        tokio::spawn(async move {
            let link = linker.open(&name, &config.presence()).await;
            run_trip(config, link, name, stop).await
        });
        self.running.insert(trip, token);
    }

    /// The last person left `trip`: the assistant leaves it.
    pub fn closed(&mut self, trip: &str) {
        if let Some(token) = self.running.remove(trip) {
            token.cancel();
        }
    }

    /// Leaves every trip not in `open` (after events were missed).
    pub fn keep_only(&mut self, open: &[String]) {
        self.running.retain(|trip, token| {
            let keep = open.contains(trip);
            if !keep {
                token.cancel();
            }
            keep
        });
    }

    /// Trips the assistant is in.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// True when it is in no trip.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Leaves every trip.
    pub fn leave_all(&mut self) {
        for (_, trip) in self.running.drain() {
            trip.cancel();
        }
    }
}

/// Follows the server's trip events (`GET /api/events`) and keeps one [`run_trip`] per open
/// trip, each an ordinary client over the protocol, until `stop`. A lost feed is reconnected
/// with back-off; on reconnect (or `lagged`) the server lists the open trips again and the
/// assistant leaves those no longer open.
pub async fn supervise(config: AssistantConfig, stop: CancellationToken) {
    let http = reqwest::Client::new();
    let linker = ProtocolLinker::new(config.sync_url(), config.token.clone());
    let mut trips = Trips::new(config.clone(), linker, stop.clone());
    let mut backoff = Duration::from_millis(200);
    while !stop.is_cancelled() {
        let mut request = http.get(format!("{}/api/events", config.server));
        if let Some(token) = &config.token {
            request = request.bearer_auth(token);
        }
        let response = tokio::select! {
            r = request.send() => r,
            _ = stop.cancelled() => break,
        };
        match response {
            Ok(response) if response.status().is_success() => {
                backoff = Duration::from_millis(200);
                follow(response, &mut trips, &stop).await;
            }
            Ok(response) => {
                tracing::warn!(status = %response.status(), "the event feed refused the assistant");
            }
            Err(e) => tracing::debug!(error = %e, "the event feed is unreachable"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.cancelled() => break,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
    trips.leave_all();
}

/// Reads one connection of the feed until it ends.
async fn follow<K: Linker>(
    response: reqwest::Response,
    trips: &mut Trips<K>,
    stop: &CancellationToken,
) {
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    // Trips announced open since this connection (or the last `lagged`) began: the others are
    // left once the initial listing is over.
    let mut seen_open: Option<Vec<String>> = Some(Vec::new());
    let settle = tokio::time::sleep(Duration::from_millis(500));
    tokio::pin!(settle);
    loop {
        let chunk = tokio::select! {
            chunk = stream.next() => chunk,
            _ = &mut settle, if seen_open.is_some() => {
                // The listing of open trips comes first: leave trips that were not in it.
                trips.keep_only(&seen_open.take().unwrap_or_default());
                continue;
            }
            _ = stop.cancelled() => return,
        };
        let Some(Ok(bytes)) = chunk else { return };
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) else {
                continue;
            };
            match serde_json::from_str::<TripEvent>(data.trim()) {
                Ok(TripEvent::Opened { trip }) => {
                    if let Some(open) = &mut seen_open {
                        open.push(trip.clone());
                    }
                    trips.opened(trip);
                }
                Ok(TripEvent::Closed { trip }) => trips.closed(&trip),
                Ok(TripEvent::Lagged { .. }) => {
                    // Events were missed: reconnect, and the server lists the open trips anew.
                    return;
                }
                Ok(TripEvent::Changed { .. }) => {}
                Err(e) => tracing::debug!(error = %e, "an event the assistant does not know"),
            }
        }
    }
}
