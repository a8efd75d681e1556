//! The assistant: inside the server by default (one more participant, over the protocol,
//! with a token signed by the process's own secret), or as its own process (`caravan
//! assistant`) against any server.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Lifetime of the in-process assistant's token: as long as the process, in practice.
const INTERNAL_TOKEN_SECS: u64 = 10 * 365 * 24 * 3600;

/// Starts the assistant inside this process, talking to the server listening on `local`;
/// it stops when the server does.
pub fn start_in_process(app: &AppState, local: SocketAddr) -> JoinHandle<()> {
    let host = match local.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let token = app.auth().internal_assistant_token(INTERNAL_TOKEN_SECS);
    let mut assistant =
        ai_bridge::AssistantConfig::new(format!("http://{host}:{}", local.port()), Some(token));
    assistant.metrics = Arc::new(ai_bridge::metrics::AiMetrics::new(app.metrics().registry()));
    assistant.model = model_planner(&assistant.metrics);
    tracing::info!("the assistant runs in this process (--no-assistant to turn it off)");
    tokio::spawn(ai_bridge::supervise(assistant, app.shutdown.child_token()))
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
) -> Option<Arc<ai_bridge::model::ModelPlanner>> {
    ai_bridge::model::ModelSettings::from_env().map(|settings| {
        tracing::info!(
            providers = ?settings.providers.iter().map(|p| format!("{}: {} {}", p.name, p.base_url, p.model)).collect::<Vec<_>>(),
            "the assistant asks a language model first"
        );
        Arc::new(ai_bridge::model::ModelPlanner::new(settings, metrics.clone()))
    })
}
