//! The assistant's Prometheus metrics, registered in the server's registry when it runs in
//! process (they then appear at `/metrics`).

use prometheus::{CounterVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry};

/// Every metric of the assistant. Names start with `caravan_ai_`.
pub struct AiMetrics {
    /// Model requests by provider and outcome (`ok`, `invalid`, `error`).
    pub requests: IntCounterVec,
    /// Tokens by provider and kind (`prompt`, `completion`).
    pub tokens: IntCounterVec,
    /// Estimated cost in US dollars, by provider.
    pub cost_usd: CounterVec,
    /// Answers served from the cache.
    pub cache_hits: IntCounter,
    /// Times the built-in planner answered instead of a model, by why (`planner`: no provider
    /// answered; `budget`: over a budget).
    pub fallbacks: IntCounterVec,
    /// Breaker state by provider: 0 closed, 1 open, 2 half-open.
    pub breaker_state: IntGaugeVec,
    /// The assistant's proposals decided while it watched, by decision (`accepted`,
    /// `rejected`): their ratio is the acceptance rate.
    pub proposals_decided: IntCounterVec,
    /// The assistant's proposals written.
    pub proposals_written: IntCounter,
}

impl AiMetrics {
    /// The metrics, registered in `registry`.
    pub fn new(registry: &Registry) -> AiMetrics {
        fn reg<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, m: T) -> T {
            // A second registration (two assistants in one process) keeps the first.
            let _ = registry.register(Box::new(m.clone()));
            m
        }
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            reg(
                registry,
                IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"),
            )
        };
        AiMetrics {
            requests: counter_vec(
                "caravan_ai_requests_total",
                "Model requests by provider and outcome",
                &["provider", "outcome"],
            ),
            tokens: counter_vec(
                "caravan_ai_tokens_total",
                "Model tokens by provider and kind",
                &["provider", "kind"],
            ),
            cost_usd: reg(
                registry,
                CounterVec::new(
                    Opts::new(
                        "caravan_ai_cost_usd_total",
                        "Estimated model cost in US dollars",
                    ),
                    &["provider"],
                )
                .expect("valid metric"),
            ),
            cache_hits: reg(
                registry,
                IntCounter::new(
                    "caravan_ai_cache_hits_total",
                    "Model answers served from the cache",
                )
                .expect("valid metric"),
            ),
            fallbacks: counter_vec(
                "caravan_ai_fallbacks_total",
                "Built-in planner used instead of a model, by why",
                &["reason"],
            ),
            breaker_state: reg(
                registry,
                IntGaugeVec::new(
                    Opts::new(
                        "caravan_ai_breaker_state",
                        "Circuit breaker by provider: 0 closed, 1 open, 2 half-open",
                    ),
                    &["provider"],
                )
                .expect("valid metric"),
            ),
            proposals_decided: counter_vec(
                "caravan_ai_proposals_decided_total",
                "Assistant proposals decided, by decision",
                &["decision"],
            ),
            proposals_written: reg(
                registry,
                IntCounter::new("caravan_ai_proposals_total", "Assistant proposals written")
                    .expect("valid metric"),
            ),
        }
    }

    /// Metrics in a registry of their own (tests, or a standalone assistant).
    pub fn standalone() -> AiMetrics {
        AiMetrics::new(&Registry::new())
    }
}
