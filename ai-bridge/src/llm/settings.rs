//! Settings of the model chain, and reading them from the environment (`CARAVAN_AI_*`).

use std::time::Duration;

use super::{BudgetLimits, ProviderConfig, ProviderKind};

/// Settings of the model chain.
#[derive(Clone, Debug)]
pub struct LlmSettings {
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

impl LlmSettings {
    /// Settings with these providers and the documented defaults.
    pub fn new(providers: Vec<ProviderConfig>) -> LlmSettings {
        LlmSettings {
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
    pub fn from_env() -> Option<LlmSettings> {
        let providers: Vec<ProviderConfig> =
            [("CARAVAN_AI_", "primary"), ("CARAVAN_AI2_", "secondary")]
                .into_iter()
                .filter_map(|(prefix, name)| provider_from_env(prefix, name))
                .collect();
        (!providers.is_empty()).then(|| LlmSettings::new(providers))
    }
}

/// One provider from the variables that start with `prefix`, if its `PROVIDER` is set.
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
