//! Language models behind the assistant, optional: a chain of chat-completions providers
//! (primary, secondary), each behind a circuit breaker, with a response cache and token
//! budgets. The model is asked for JSON matching [`answer_schema`]; the answer is checked
//! through `doc_model` before anything is written, and an invalid one is retried once, then
//! dropped. When no provider answers, or a budget says no, the built-in planner takes over.

mod guards;
mod provider;

pub use guards::{BreakerState, BudgetLimits};
pub use provider::{ChatRequest, Completion, Message, ProviderConfig, ProviderError, ProviderKind};

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use doc_model::{EditOp, Trip};
use serde::Deserialize;

use crate::metrics::AiMetrics;
use guards::{Breaker, BudgetBook, ResponseCache};

/// What the model must answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ModelAnswer {
    /// The chat reply to the person who asked.
    pub reply: String,
    /// The proposal's one-line summary (empty with no ops).
    #[serde(default)]
    pub summary: String,
    /// Why, for the proposal.
    #[serde(default)]
    pub rationale: String,
    /// Edits to propose (none when the request needs no change).
    #[serde(default)]
    pub ops: Vec<EditOp>,
}

/// How a request to the model ended.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelOutcome {
    /// A checked answer.
    Answer(ModelAnswer),
    /// A budget said no: the message says which (for the chat); the planner takes over.
    OverBudget(String),
    /// The model answered twice with something unusable: dropped, with this message.
    Dropped(String),
    /// No provider answered (all failing, or their breakers open); the planner takes over.
    Unavailable,
}

/// Settings of the model chain.
#[derive(Clone, Debug)]
pub struct ModelSettings {
    /// Providers, tried in order.
    pub providers: Vec<ProviderConfig>,
    /// Token budgets.
    pub budgets: BudgetLimits,
    /// Most tokens of an answer.
    pub max_answer_tokens: u32,
    /// Consecutive failures that open a provider's breaker.
    pub breaker_threshold: u32,
    /// Time an open breaker waits before one trial call.
    pub breaker_cooldown: Duration,
    /// Answers kept, and for how long.
    pub cache_capacity: usize,
    /// How long a cached answer stays fresh.
    pub cache_ttl: Duration,
}

impl ModelSettings {
    /// Settings with these providers and the documented defaults.
    pub fn new(providers: Vec<ProviderConfig>) -> ModelSettings {
        ModelSettings {
            providers,
            budgets: BudgetLimits::default(),
            max_answer_tokens: 2_000,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(60),
            cache_capacity: 256,
            cache_ttl: Duration::from_secs(3600),
        }
    }

    /// Providers from the environment: `CARAVAN_AI_*` (primary) and `CARAVAN_AI2_*`
    /// (secondary), each with `PROVIDER` (`openai` or `azure`), `BASE_URL`, `API_KEY`,
    /// `MODEL`, and for Azure `DEPLOYMENT` and `API_VERSION`. `None` when no provider is set.
    pub fn from_env() -> Option<ModelSettings> {
        let providers: Vec<ProviderConfig> =
            [("CARAVAN_AI_", "primary"), ("CARAVAN_AI2_", "secondary")]
                .into_iter()
                .filter_map(|(prefix, name)| provider_from_env(prefix, name))
                .collect();
        (!providers.is_empty()).then(|| ModelSettings::new(providers))
    }
}

fn provider_from_env(prefix: &str, name: &str) -> Option<ProviderConfig> {
    let var = |key: &str| {
        std::env::var(format!("{prefix}{key}"))
            .ok()
            .filter(|v| !v.is_empty())
    };
    let kind = var("PROVIDER")?;
    let kind = match kind.as_str() {
        "azure" => ProviderKind::Azure {
            deployment: var("DEPLOYMENT").unwrap_or_else(|| "gpt-4o-mini".into()),
            api_version: var("API_VERSION").unwrap_or_else(|| "2024-10-21".into()),
        },
        _ => ProviderKind::OpenAiCompatible,
    };
    Some(ProviderConfig {
        name: name.into(),
        base_url: var("BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into()),
        api_key: var("API_KEY")
            .or_else(|| std::env::var("OPENAI_API_KEY").ok())
            .unwrap_or_default(),
        model: var("MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
        timeout: Duration::from_secs(
            var("TIMEOUT_SECS")
                .and_then(|s| s.parse().ok())
                .unwrap_or(30),
        ),
        usd_per_1k_tokens: var("USD_PER_1K_TOKENS")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0),
        kind,
    })
}

/// One request: who asks, in which trip, what.
#[derive(Clone, Debug)]
pub struct ModelRequest {
    /// The trip's id.
    pub trip_id: String,
    /// The person asking (a member id).
    pub user: String,
    /// The trip as it is.
    pub trip: Trip,
    /// What they asked.
    pub text: String,
}

/// The model chain with its guards.
pub struct ModelPlanner {
    settings: ModelSettings,
    http: reqwest::Client,
    breakers: Vec<Mutex<Breaker>>,
    cache: Mutex<ResponseCache>,
    budgets: Mutex<BudgetBook>,
    metrics: Arc<AiMetrics>,
}

impl std::fmt::Debug for ModelPlanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelPlanner")
            .field(
                "providers",
                &self
                    .settings
                    .providers
                    .iter()
                    .map(|p| &p.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The JSON schema of [`ModelAnswer`], sent with every request.
pub fn answer_schema() -> serde_json::Value {
    let time =
        serde_json::json!({ "type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$" });
    let date = serde_json::json!({ "type": "string", "format": "date" });
    let expect = serde_json::json!({
        "type": "object",
        "properties": { "date": date, "start": time },
        "additionalProperties": false
    });
    serde_json::json!({
        "type": "object",
        "required": ["reply", "summary", "rationale", "ops"],
        "additionalProperties": false,
        "properties": {
            "reply": { "type": "string", "description": "the chat answer" },
            "summary": { "type": "string", "description": "one line; empty when ops is empty" },
            "rationale": { "type": "string", "description": "why each change" },
            "ops": { "type": "array", "items": { "oneOf": [
                { "type": "object", "required": ["op", "id", "date"], "additionalProperties": false,
                  "properties": { "op": { "const": "scheduleActivity" }, "id": { "type": "string" },
                    "date": date, "start": time, "durationMin": { "type": "integer", "minimum": 1, "maximum": 1440 },
                    "expect": expect } },
                { "type": "object", "required": ["op", "id"], "additionalProperties": false,
                  "properties": { "op": { "const": "unscheduleActivity" }, "id": { "type": "string" }, "expect": expect } },
                { "type": "object", "required": ["op", "id", "activity"], "additionalProperties": false,
                  "properties": { "op": { "const": "addActivity" }, "id": { "type": "string" },
                    "activity": { "type": "object", "required": ["title"], "properties": {
                      "title": { "type": "string" },
                      "kind": { "enum": ["sight", "meal", "transport", "lodging", "activity"] },
                      "date": date, "start": time, "durationMin": { "type": "integer" },
                      "cost": { "type": "integer", "minimum": 0 },
                      "costPer": { "enum": ["group", "family", "person"] },
                      "notes": { "type": "string" } } } } },
                { "type": "object", "required": ["op", "date", "title"], "additionalProperties": false,
                  "properties": { "op": { "const": "setDayTitle" }, "date": date, "title": { "type": "string" } } }
            ] } }
        }
    })
}

/// What the model is told about the trip: its meta, families, days, activities (scheduled
/// and ideas) and the date, as JSON.
fn context(trip: &Trip) -> serde_json::Value {
    serde_json::json!({
        "meta": trip.meta,
        "families": trip.families,
        "days": trip.days,
        "activities": trip.activities,
    })
}

const SYSTEM_PROMPT: &str = "You are the trip assistant of a family trip planner. Several \
families plan one trip together. Answer the request of a member in `reply`. When the request \
asks for changes to the plan, put them in `ops` (they become a proposal that the families \
accept or reject; you never change the plan yourself) and explain each in `rationale`. Use \
only activity ids from the trip, or new ids for activities you add. Keep activities within \
the trip's dates, respect durations, opening hours, travel between places, meal times, each \
family's pace and the budget (amounts are in minor units of the trip's currency). Answer with \
JSON that matches the given schema, nothing else.";

impl ModelPlanner {
    /// A chain with these settings, counting into `metrics`.
    pub fn new(settings: ModelSettings, metrics: Arc<AiMetrics>) -> ModelPlanner {
        let breakers = settings
            .providers
            .iter()
            .map(|_| {
                Mutex::new(Breaker::new(
                    settings.breaker_threshold,
                    settings.breaker_cooldown,
                ))
            })
            .collect();
        ModelPlanner {
            cache: Mutex::new(ResponseCache::new(
                settings.cache_capacity,
                settings.cache_ttl,
            )),
            budgets: Mutex::new(BudgetBook::default()),
            http: reqwest::Client::new(),
            breakers,
            settings,
            metrics,
        }
    }

    /// The breaker state of each provider, by name.
    pub fn breaker_states(&self) -> Vec<(String, BreakerState)> {
        let now = Instant::now();
        self.settings
            .providers
            .iter()
            .zip(&self.breakers)
            .map(|(p, b)| (p.name.clone(), lock(b).state(now)))
            .collect()
    }

    /// The request sent for `request` (its first attempt).
    pub fn chat_request(&self, request: &ModelRequest) -> ChatRequest {
        ChatRequest {
            messages: vec![
                Message {
                    role: "system".into(),
                    content: SYSTEM_PROMPT.into(),
                },
                Message {
                    role: "user".into(),
                    content: format!(
                        "The trip (JSON):\n{}\n\nRequest from {}:\n{}",
                        context(&request.trip),
                        request.user,
                        request.text
                    ),
                },
            ],
            schema: answer_schema(),
            max_tokens: self.settings.max_answer_tokens,
        }
    }

    /// Asks the chain about `request`, at most once per provider plus one retry of an
    /// invalid answer; see [`ModelOutcome`].
    pub async fn ask(&self, request: &ModelRequest) -> ModelOutcome {
        let chat = self.chat_request(request);
        let key = cache_key(&chat);
        let day = (now_secs() / 86_400) as u64;
        if let Some(cached) = lock(&self.cache)
            .get(key, Instant::now())
            .map(str::to_owned)
        {
            if let Ok(answer) = parse_and_check(&cached, &request.trip) {
                self.metrics.cache_hits.inc();
                return ModelOutcome::Answer(answer);
            }
        }
        let prompt_chars: usize = chat.messages.iter().map(|m| m.content.len()).sum();
        let estimate = (prompt_chars / 4) as u64 + u64::from(chat.max_tokens);
        if let Err(reason) = lock(&self.budgets).check(
            &self.settings.budgets,
            &request.user,
            &request.trip_id,
            estimate,
            day,
            Instant::now(),
        ) {
            self.metrics.fallbacks.with_label_values(&["budget"]).inc();
            return ModelOutcome::OverBudget(reason);
        }
        lock(&self.budgets).count_generation(&request.user, Instant::now());
        for (index, provider) in self.settings.providers.iter().enumerate() {
            if !lock(&self.breakers[index]).allow(Instant::now()) {
                self.note_breaker(index);
                continue;
            }
            let mut attempt = chat.clone();
            for try_number in 0..2 {
                let result = provider::complete(&self.http, provider, &attempt).await;
                match result {
                    Err(e) => {
                        tracing::warn!(provider = %provider.name, error = %e, "the model failed");
                        self.metrics
                            .requests
                            .with_label_values(&[provider.name.as_str(), "error"])
                            .inc();
                        lock(&self.breakers[index]).failure(Instant::now());
                        self.note_breaker(index);
                        break;
                    }
                    Ok(completion) => {
                        lock(&self.breakers[index]).success();
                        self.note_breaker(index);
                        self.charge(provider, request, &completion, day);
                        match parse_and_check(&completion.content, &request.trip) {
                            Ok(answer) => {
                                self.metrics
                                    .requests
                                    .with_label_values(&[provider.name.as_str(), "ok"])
                                    .inc();
                                lock(&self.cache).put(key, completion.content, Instant::now());
                                return ModelOutcome::Answer(answer);
                            }
                            Err(problem) => {
                                self.metrics
                                    .requests
                                    .with_label_values(&[provider.name.as_str(), "invalid"])
                                    .inc();
                                tracing::warn!(provider = %provider.name, %problem, "the model's answer is invalid");
                                if try_number == 1 {
                                    return ModelOutcome::Dropped(format!(
                                        "The language model's answer could not be used ({problem}), so I dropped it."
                                    ));
                                }
                                attempt.messages.push(Message {
                                    role: "assistant".into(),
                                    content: completion.content,
                                });
                                attempt.messages.push(Message {
                                    role: "user".into(),
                                    content: format!(
                                        "That answer cannot be used: {problem}. Answer again with \
                                         JSON matching the schema, using only ids of the trip."
                                    ),
                                });
                            }
                        }
                    }
                }
            }
        }
        self.metrics.fallbacks.with_label_values(&["planner"]).inc();
        ModelOutcome::Unavailable
    }

    fn charge(
        &self,
        provider: &ProviderConfig,
        request: &ModelRequest,
        completion: &Completion,
        day: u64,
    ) {
        let tokens = completion.prompt_tokens + completion.completion_tokens;
        lock(&self.budgets).charge(&request.user, &request.trip_id, tokens, day);
        let name = provider.name.as_str();
        self.metrics
            .tokens
            .with_label_values(&[name, "prompt"])
            .inc_by(completion.prompt_tokens);
        self.metrics
            .tokens
            .with_label_values(&[name, "completion"])
            .inc_by(completion.completion_tokens);
        self.metrics
            .cost_usd
            .with_label_values(&[name])
            .inc_by(tokens as f64 / 1000.0 * provider.usd_per_1k_tokens);
    }

    fn note_breaker(&self, index: usize) {
        let state = lock(&self.breakers[index]).state(Instant::now());
        self.metrics
            .breaker_state
            .with_label_values(&[self.settings.providers[index].name.as_str()])
            .set(state.gauge());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn cache_key(request: &ChatRequest) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(request)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

/// Parses a model's answer and checks its ops against the trip through `doc_model`.
pub fn parse_and_check(content: &str, trip: &Trip) -> Result<ModelAnswer, String> {
    let answer: ModelAnswer = serde_json::from_str(content.trim())
        .map_err(|e| format!("it is not the JSON asked for: {e}"))?;
    if answer.reply.trim().is_empty() {
        return Err("the reply is empty".into());
    }
    if !answer.ops.is_empty() && answer.summary.trim().is_empty() {
        return Err("a proposal needs a summary".into());
    }
    doc_model::check_ops(trip, &answer.ops)?;
    Ok(answer)
}
