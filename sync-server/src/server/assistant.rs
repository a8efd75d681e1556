//! The assistant: inside the server by default, attached to the rooms of the trips people
//! have open (`assistant_link`), or as its own process (`caravan assistant`) against any
//! server, as an ordinary client over the protocol with an assistant token.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::assistant_link::DirectLinker;
use crate::document::events::TripEvent;
use crate::state::AppState;

/// Starts the assistant inside this process: it follows trips opening and closing on the
/// event feed and attaches to each open trip's room; it stops when the server does.
pub fn start_in_process(app: &AppState) -> JoinHandle<()> {
    let mut assistant = ai_bridge::AssistantConfig::new("in-process", None);
    assistant.metrics = Arc::new(ai_bridge::metrics::AiMetrics::new(app.metrics().registry()));
    assistant.model = model_planner(&assistant.metrics);
    tracing::info!("the assistant runs in this process (--no-assistant to turn it off)");
    tokio::spawn(follow_open_trips(
        app.clone(),
        assistant,
        app.shutdown.child_token(),
    ))
}

/// Keeps the assistant in every trip people have open, until `stop`. After missed events
/// (the feed lagged), the open trips are listed again from the rooms.
async fn follow_open_trips(
    app: AppState,
    config: ai_bridge::AssistantConfig,
    stop: CancellationToken,
) {
    let mut trips = ai_bridge::Trips::new(config, DirectLinker::new(app.clone()), stop.clone());
    'resync: loop {
        // Subscribe first, then list: a trip opening in between is seen twice, never missed.
        let mut events = app.rooms.events().subscribe_openings();
        let open: Vec<String> = app
            .rooms
            .all()
            .into_iter()
            .filter(|room| room.people_count() > 0)
            .map(|room| room.trip.to_string())
            .collect();
        trips.keep_only(&open);
        for trip in open {
            trips.opened(trip);
        }
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                _ = stop.cancelled() => break 'resync,
            };
            match event {
                Ok(TripEvent::Opened { trip }) => trips.opened(trip),
                Ok(TripEvent::Closed { trip }) => trips.closed(&trip),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => continue 'resync,
                Err(RecvError::Closed) => break 'resync,
            }
        }
    }
    trips.leave_all();
}

/// `caravan assistant`: runs the assistant against the server at `server` until Ctrl-C.
pub async fn run_standalone(server: String, token: Option<String>) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let mut config = ai_bridge::AssistantConfig::new(server.clone(), token);
    config.model = model_planner(&config.metrics);
    let running = tokio::spawn(ai_bridge::supervise(config, stop.clone()));
    tracing::info!(%server, "the assistant follows the server's trips");
    let _ = tokio::signal::ctrl_c().await;
    stop.cancel();
    let _ = running.await;
    Ok(())
}

/// The language model the assistant asks first, when the environment names one.
fn model_planner(
    metrics: &Arc<ai_bridge::metrics::AiMetrics>,
) -> Option<Arc<ai_bridge::llm::LanguageModel>> {
    ai_bridge::llm::LlmSettings::from_env().map(|settings| {
        tracing::info!(
            providers = ?settings.providers.iter().map(|p| format!("{}: {} {}", p.name, p.base_url, p.model)).collect::<Vec<_>>(),
            "the assistant asks a language model first"
        );
        Arc::new(ai_bridge::llm::LanguageModel::new(settings, metrics.clone()))
    })
}
