//! The assistant in one trip: it reacts whenever the trip changed in a part it reads (after a
//! short debounce), at the next poll deadline, and every `tick`; chat requests for the language
//! model are asked and answered here.

use std::time::Duration;

use doc_model::TripDoc;
use tokio_util::sync::CancellationToken;

use super::AssistantConfig;
use crate::link::TripLink;
use crate::Assistant;

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
    let mut assistant = Assistant::new();
    if config.model.is_some() {
        assistant = assistant.with_model();
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
        match assistant.step(&trip_doc, chrono::Utc::now()) {
            Ok(report) => {
                if !report.is_empty() {
                    tracing::info!(%trip, ?report, "the assistant reacted");
                }
                config
                    .metrics
                    .proposals_written
                    .inc_by(report.proposed.len() as u64);
                for job in &report.jobs {
                    answer_with_model(&config, &trip, &trip_doc, &mut assistant, job).await;
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
    assistant: &mut Assistant,
    job: &crate::reactions::LlmJob,
) {
    let Some(model) = &config.model else { return };
    let Some(current) = doc.read().trip else {
        return;
    };
    let request = crate::llm::LlmRequest {
        trip_id: trip.to_owned(),
        user: job.user.clone(),
        trip: current,
        text: job.text.clone(),
        understood: job.understood.clone(),
    };
    let outcome = model.ask(&request).await;
    match assistant.finish_job(doc, job, outcome, chrono::Utc::now()) {
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
