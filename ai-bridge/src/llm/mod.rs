//! Language models behind the assistant, optional: a chain of chat-completions providers
//! (primary, secondary), each behind a circuit breaker, with a response cache and token
//! budgets. The model is asked for JSON matching [`answer_schema`]; the answer is checked
//! through `doc_model` before anything is written, and an invalid one is retried once, then
//! dropped. When no provider answers, or a budget says no, the built-in planner takes over.

mod answer;
mod guards;
mod provider;
mod settings;

pub use answer::{answer_schema, parse_and_check, LlmAnswer};
pub use settings::LlmSettings;

pub use guards::{BreakerState, BudgetLimits};
pub use provider::{ChatRequest, Completion, Message, ProviderConfig, ProviderError, ProviderKind};

use parking_lot::Mutex;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use doc_model::Trip;

use crate::metrics::AiMetrics;
use guards::{Breaker, BudgetBook, ResponseCache};

/// How a request to the model ended.
#[derive(Clone, Debug, PartialEq)]
pub enum LlmOutcome {
    /// A checked answer.
    Answer(LlmAnswer),
    /// A budget said no: the message says which (for the chat); the planner takes over.
    OverBudget(String),
    /// The model answered twice with something unusable: dropped, with this message.
    Dropped(String),
    /// No provider answered (all failing, or their breakers open); the planner takes over.
    Unavailable,
}

/// One request: who asks, in which trip, what.
#[derive(Clone, Debug)]
pub struct LlmRequest {
    /// The trip's id.
    pub trip_id: String,
    /// The person asking (a member id).
    pub user: String,
    /// The trip as it is.
    pub trip: Trip,
    /// What they asked.
    pub text: String,
    /// What the built-in understanding read in it (intent and entities), as context.
    pub understood: String,
}

/// The model chain with its guards.
pub struct LanguageModel {
    settings: LlmSettings,
    http: reqwest::Client,
    breakers: Vec<Mutex<Breaker>>,
    cache: Mutex<ResponseCache>,
    budgets: Mutex<BudgetBook>,
    metrics: Arc<AiMetrics>,
}

impl std::fmt::Debug for LanguageModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanguageModel")
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

impl LanguageModel {
    /// A chain with these settings, counting into `metrics`.
    pub fn new(settings: LlmSettings, metrics: Arc<AiMetrics>) -> LanguageModel {
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
        LanguageModel {
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
            .map(|(p, b)| (p.name.clone(), b.lock().state(now)))
            .collect()
    }

    /// The request sent for `request` (its first attempt).
    pub fn chat_request(&self, request: &LlmRequest) -> ChatRequest {
        ChatRequest {
            messages: vec![
                Message {
                    role: "system".into(),
                    content: SYSTEM_PROMPT.into(),
                },
                Message {
                    role: "user".into(),
                    content: format!(
                        "The trip (JSON):\n{}\n\nRequest from {}:\n{}\n\nWhat Caravan's own \
                         understanding read in it: {}",
                        context(&request.trip),
                        request.user,
                        request.text,
                        request.understood
                    ),
                },
            ],
            schema: answer_schema(),
            max_tokens: self.settings.max_answer_tokens,
        }
    }

    /// Asks the chain about `request`, at most once per provider plus one retry of an
    /// invalid answer; see [`LlmOutcome`].
    pub async fn ask(&self, request: &LlmRequest) -> LlmOutcome {
        let chat = self.chat_request(request);
        let key = cache_key(&chat);
        let day = (now_secs() / 86_400) as u64;
        if let Some(cached) = self
            .cache
            .lock()
            .get(key, Instant::now())
            .map(str::to_owned)
        {
            if let Ok(answer) = parse_and_check(&cached, &request.trip) {
                self.metrics.cache_hits.inc();
                return LlmOutcome::Answer(answer);
            }
        }
        let prompt_chars: usize = chat.messages.iter().map(|m| m.content.len()).sum();
        let estimate = (prompt_chars / 4) as u64 + u64::from(chat.max_tokens);
        if let Err(reason) = self.budgets.lock().check(
            &self.settings.budgets,
            &request.user,
            &request.trip_id,
            estimate,
            day,
            Instant::now(),
        ) {
            self.metrics.fallbacks.with_label_values(&["budget"]).inc();
            return LlmOutcome::OverBudget(reason);
        }
        self.budgets
            .lock()
            .count_generation(&request.user, Instant::now());
        for (index, provider) in self.settings.providers.iter().enumerate() {
            if !self.breakers[index].lock().allow(Instant::now()) {
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
                        self.breakers[index].lock().failure(Instant::now());
                        self.note_breaker(index);
                        break;
                    }
                    Ok(completion) => {
                        self.breakers[index].lock().success();
                        self.note_breaker(index);
                        self.charge(provider, request, &completion, day);
                        match parse_and_check(&completion.content, &request.trip) {
                            Ok(answer) => {
                                self.metrics
                                    .requests
                                    .with_label_values(&[provider.name.as_str(), "ok"])
                                    .inc();
                                self.cache
                                    .lock()
                                    .put(key, completion.content, Instant::now());
                                return LlmOutcome::Answer(answer);
                            }
                            Err(problem) => {
                                self.metrics
                                    .requests
                                    .with_label_values(&[provider.name.as_str(), "invalid"])
                                    .inc();
                                tracing::warn!(provider = %provider.name, %problem, "the model's answer is invalid");
                                if try_number == 1 {
                                    return LlmOutcome::Dropped(format!(
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
        LlmOutcome::Unavailable
    }

    fn charge(
        &self,
        provider: &ProviderConfig,
        request: &LlmRequest,
        completion: &Completion,
        day: u64,
    ) {
        let tokens = completion.prompt_tokens + completion.completion_tokens;
        self.budgets
            .lock()
            .charge(&request.user, &request.trip_id, tokens, day);
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
        let state = self.breakers[index].lock().state(Instant::now());
        self.metrics
            .breaker_state
            .with_label_values(&[self.settings.providers[index].name.as_str()])
            .set(state.gauge());
    }
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
