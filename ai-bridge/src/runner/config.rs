//! Where the assistant connects, who it is, and what it thinks with.

use std::sync::Arc;
use std::time::Duration;

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
    pub model: Option<Arc<crate::llm::LanguageModel>>,
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

    pub(super) fn sync_url(&self) -> String {
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
