//! The assistant at work: [`supervise`] follows the server's trip event feed
//! (`GET /api/events`) and runs [`run_trip`] for each trip people have open: it joins as an
//! ordinary client (`caravan_client`, role `assistant`), shows its presence, and runs the
//! [`Engine`] whenever the trip changes (and every `tick`, for poll deadlines). It leaves when
//! the last person leaves.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use caravan_client::{Client, ClientConfig, Status};
use caravan_wire::TripEvent;
use doc_model::TripDoc;
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::Engine;

/// Key of the assistant's observer of a trip's document.
const OBSERVER: &str = "caravan-assistant";

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

/// Runs the assistant in one trip until `stop` is cancelled.
pub async fn run_trip(config: AssistantConfig, trip: String, stop: CancellationToken) {
    let mut client_config = ClientConfig::new(config.sync_url(), trip.clone());
    if let Some(token) = &config.token {
        client_config = client_config.with_token(token.clone());
    }
    let client = Client::connect(client_config);
    let presence = serde_json::json!({
        "user": { "name": config.name, "color": config.color, "isAssistant": true }
    });
    client.set_awareness(&presence.to_string());
    tokio::select! {
        _ = client.wait_synced() => {}
        _ = stop.cancelled() => {
            client.close().await;
            return;
        }
    }
    tracing::info!(%trip, "the assistant joined");
    let changed = Arc::new(Notify::new());
    {
        let changed = changed.clone();
        if let Err(e) = client
            .doc()
            .observe_update_v1(OBSERVER, move |_, _| changed.notify_one())
        {
            tracing::error!(%trip, error = %e, "cannot follow the trip's changes");
        }
    }
    let trip_doc = TripDoc::new(client.doc().clone());
    let mut engine = Engine::new();
    if config.model.is_some() {
        engine = engine.with_model();
    }
    let mut decisions = Decisions::default();
    let mut tick = tokio::time::interval(config.tick);
    let mut deadline: Option<Duration> = None;
    loop {
        let until_deadline = async {
            match deadline {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = changed.notified() => {
                // Let a burst of changes (a paste, a sync) settle first.
                tokio::time::sleep(config.debounce).await;
            }
            _ = tick.tick() => {}
            _ = until_deadline => {}
        }
        if client.status() == Status::Closed {
            tracing::warn!(%trip, refusal = ?client.last_refusal(), "the assistant was refused");
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
    let _ = client.doc().unobserve_update_v1(OBSERVER);
    client.close().await;
    tracing::info!(%trip, "the assistant left");
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

/// Follows the server's trip events and keeps one [`run_trip`] per open trip, until `stop`.
/// A lost feed is reconnected with back-off; on reconnect (or `lagged`) the server lists the
/// open trips again and the assistant leaves those no longer open.
pub async fn supervise(config: AssistantConfig, stop: CancellationToken) {
    let http = reqwest::Client::new();
    let mut running: HashMap<String, CancellationToken> = HashMap::new();
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
                follow(&config, response, &mut running, &stop).await;
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
    for (_, trip) in running.drain() {
        trip.cancel();
    }
}

/// Reads one connection of the feed until it ends.
async fn follow(
    config: &AssistantConfig,
    response: reqwest::Response,
    running: &mut HashMap<String, CancellationToken>,
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
                let open = seen_open.take().unwrap_or_default();
                running.retain(|trip, token| {
                    let keep = open.contains(trip);
                    if !keep {
                        token.cancel();
                    }
                    keep
                });
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
                    running.retain(|_, token| !token.is_cancelled());
                    running.entry(trip.clone()).or_insert_with(|| {
                        let token = stop.child_token();
                        tokio::spawn(run_trip(config.clone(), trip, token.clone()));
                        token
                    });
                }
                Ok(TripEvent::Closed { trip }) => {
                    if let Some(token) = running.remove(&trip) {
                        token.cancel();
                    }
                }
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
