//! The language-model chain against a small OpenAI-compatible HTTP server started by the test
//! (valid JSON, invalid JSON, slow, failing, 429): the request carries the schema and the
//! trip; invalid answers are retried once then dropped; failures fall back to the secondary
//! and then to the planner; the breaker opens after 5 failures and half-opens; answers are
//! cached; budgets refuse before any call. Azure's URL shape and header too.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ai_bridge::llm::{
    answer_schema, BreakerState, LanguageModel, LlmOutcome, LlmRequest, LlmSettings,
    ProviderConfig, ProviderKind,
};
use ai_bridge::metrics::AiMetrics;
use ai_bridge::{Assistant, ASSISTANT};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use doc_model::{ChatMessage, Trip, TripDoc};

/// What the fake provider does with the next request.
#[derive(Clone, Debug)]
enum Behaviour {
    Answer(String),
    Slow(Duration, String),
    Fail(u16),
}

#[derive(Default)]
struct Fake {
    script: Mutex<VecDeque<Behaviour>>,
    /// (path and query, headers, body) of each request.
    seen: Mutex<Vec<(String, HeaderMap, serde_json::Value)>>,
}

async fn chat(
    State(fake): State<Arc<Fake>>,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    fake.seen
        .lock()
        .unwrap()
        .push((uri.to_string(), headers, body));
    let next = fake
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Behaviour::Fail(500));
    let completion = |content: String| {
        Json(serde_json::json!({
            "id": "chatcmpl-test", "object": "chat.completion",
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }],
            "usage": { "prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500 }
        }))
        .into_response()
    };
    match next {
        Behaviour::Answer(content) => completion(content),
        Behaviour::Slow(wait, content) => {
            tokio::time::sleep(wait).await;
            completion(content)
        }
        Behaviour::Fail(status) => (
            StatusCode::from_u16(status).unwrap(),
            Json(serde_json::json!({"error": {"message": "no"}})),
        )
            .into_response(),
    }
}

/// Starts a fake provider; returns its base URL and its state.
async fn fake_provider() -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(chat))
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            axum::routing::post(chat),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), fake)
}

fn script(fake: &Fake, behaviours: impl IntoIterator<Item = Behaviour>) {
    fake.script.lock().unwrap().extend(behaviours);
}

fn requests(fake: &Fake) -> usize {
    fake.seen.lock().unwrap().len()
}

fn provider(name: &str, base: &str) -> ProviderConfig {
    ProviderConfig {
        name: name.into(),
        kind: ProviderKind::OpenAiCompatible,
        base_url: format!("{base}/v1"),
        api_key: format!("key-of-{name}"),
        model: "test-model".into(),
        timeout: Duration::from_secs(2),
        usd_per_1k_tokens: 0.5,
    }
}

fn sample() -> Trip {
    let mut trip = doc_model::sample::sample_trip(NaiveDate::from_ymd_opt(2027, 7, 1).unwrap());
    trip.chat.clear();
    trip.proposals.clear();
    trip
}

fn request(trip: &Trip, user: &str, text: &str) -> LlmRequest {
    LlmRequest {
        trip_id: "alps".into(),
        user: user.into(),
        trip: trip.clone(),
        text: text.into(),
        understood: "intent ideas; wanted indoor".into(),
    }
}

/// A valid answer: schedule the museum on the third day at 15:00.
fn valid() -> String {
    serde_json::json!({
        "reply": "The museum suits a rainy afternoon.",
        "summary": "Museum on day 3",
        "rationale": "It opens at 14:00.",
        "ops": [{ "op": "scheduleActivity", "id": "alpine-museum", "date": "2027-07-03", "start": "15:00", "durationMin": 90 }]
    })
    .to_string()
}

fn invalid_id() -> String {
    serde_json::json!({
        "reply": "Done.", "summary": "x", "rationale": "",
        "ops": [{ "op": "scheduleActivity", "id": "no-such-activity", "date": "2027-07-03" }]
    })
    .to_string()
}

fn planner_with(
    providers: Vec<ProviderConfig>,
    tune: impl FnOnce(&mut LlmSettings),
) -> (LanguageModel, Arc<AiMetrics>) {
    let metrics = Arc::new(AiMetrics::standalone());
    let mut settings = LlmSettings::new(providers);
    tune(&mut settings);
    (LanguageModel::new(settings, metrics.clone()), metrics)
}

#[tokio::test]
async fn a_valid_answer_is_checked_and_the_request_carries_the_schema_and_the_trip() {
    let (base, fake) = fake_provider().await;
    script(&fake, [Behaviour::Answer(valid())]);
    let (model, metrics) = planner_with(vec![provider("primary", &base)], |_| {});
    let trip = sample();
    let outcome = model
        .ask(&request(
            &trip,
            "claire",
            "@assistant museum on a rainy day?",
        ))
        .await;
    let LlmOutcome::Answer(answer) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(answer.ops.len(), 1);
    let seen = fake.seen.lock().unwrap();
    let (path, headers, body) = &seen[0];
    assert_eq!(path, "/v1/chat/completions");
    assert_eq!(headers["authorization"], "Bearer key-of-primary");
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(
        body["response_format"]["json_schema"]["schema"],
        answer_schema()
    );
    let prompt = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        prompt.contains(&trip.meta.title) && prompt.contains("alpine-museum"),
        "the trip's context"
    );
    assert!(prompt.contains("museum on a rainy day"), "the request");
    assert!(
        prompt.contains("understanding read in it: intent ideas; wanted indoor"),
        "the parsed intent, as context"
    );
    assert_eq!(
        metrics
            .tokens
            .with_label_values(&["primary", "prompt"])
            .get(),
        1200
    );
    assert!((metrics.cost_usd.with_label_values(&["primary"]).get() - 0.75).abs() < 1e-9);
}

#[tokio::test]
async fn an_invalid_answer_is_retried_once_then_dropped() {
    let (base, fake) = fake_provider().await;
    let (model, metrics) = planner_with(vec![provider("primary", &base)], |_| {});
    let trip = sample();

    script(
        &fake,
        [
            Behaviour::Answer("not json at all".into()),
            Behaviour::Answer(valid()),
        ],
    );
    let outcome = model.ask(&request(&trip, "a", "first")).await;
    assert!(matches!(outcome, LlmOutcome::Answer(_)), "{outcome:?}");
    assert_eq!(requests(&fake), 2);
    {
        let seen = fake.seen.lock().unwrap();
        let retry = seen[1].2["messages"].as_array().unwrap();
        assert!(retry.last().unwrap()["content"]
            .as_str()
            .unwrap()
            .contains("cannot be used"));
    }

    script(
        &fake,
        [
            Behaviour::Answer(invalid_id()),
            Behaviour::Answer(invalid_id()),
        ],
    );
    let outcome = model.ask(&request(&trip, "a", "second")).await;
    let LlmOutcome::Dropped(message) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        message.contains("no-such-activity") || message.contains("could not be used"),
        "{message}"
    );
    assert_eq!(requests(&fake), 4, "one retry, no more");
    assert_eq!(
        metrics
            .requests
            .with_label_values(&["primary", "invalid"])
            .get(),
        3
    );
}

#[tokio::test]
async fn failures_fall_back_to_the_secondary_then_to_the_planner() {
    let (primary_base, primary) = fake_provider().await;
    let (secondary_base, secondary) = fake_provider().await;
    let (model, metrics) = planner_with(
        vec![
            provider("primary", &primary_base),
            provider("secondary", &secondary_base),
        ],
        |_| {},
    );
    let trip = sample();
    script(&primary, [Behaviour::Fail(500)]);
    script(&secondary, [Behaviour::Answer(valid())]);
    assert!(matches!(
        model.ask(&request(&trip, "a", "one")).await,
        LlmOutcome::Answer(_)
    ));
    assert_eq!(
        secondary.seen.lock().unwrap()[0].1["authorization"],
        "Bearer key-of-secondary"
    );

    script(&primary, [Behaviour::Fail(429)]);
    script(&secondary, [Behaviour::Fail(503)]);
    assert_eq!(
        model.ask(&request(&trip, "a", "two")).await,
        LlmOutcome::Unavailable
    );
    assert_eq!(metrics.fallbacks.with_label_values(&["planner"]).get(), 1);
    assert_eq!(
        metrics
            .requests
            .with_label_values(&["primary", "error"])
            .get(),
        2
    );
}

#[tokio::test]
async fn a_slow_provider_times_out_and_the_next_one_answers() {
    let (slow_base, slow) = fake_provider().await;
    let (fast_base, fast) = fake_provider().await;
    let mut primary = provider("primary", &slow_base);
    primary.timeout = Duration::from_millis(200);
    let (model, _) = planner_with(vec![primary, provider("secondary", &fast_base)], |_| {});
    script(&slow, [Behaviour::Slow(Duration::from_secs(2), valid())]);
    script(&fast, [Behaviour::Answer(valid())]);
    let started = std::time::Instant::now();
    assert!(matches!(
        model.ask(&request(&sample(), "a", "slow")).await,
        LlmOutcome::Answer(_)
    ));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&fast), 1);
}

#[tokio::test]
async fn the_breaker_opens_after_five_failures_and_half_opens_after_its_cooldown() {
    let (base, fake) = fake_provider().await;
    let (model, metrics) = planner_with(vec![provider("primary", &base)], |s| {
        s.breaker_cooldown = Duration::from_millis(300);
        s.budgets.generations_per_user_per_hour = 0;
    });
    let trip = sample();
    for i in 0..5 {
        script(&fake, [Behaviour::Fail(500)]);
        assert_eq!(
            model.ask(&request(&trip, "a", &format!("try {i}"))).await,
            LlmOutcome::Unavailable
        );
    }
    assert_eq!(model.breaker_states()[0].1, BreakerState::Open);
    assert_eq!(
        metrics.breaker_state.with_label_values(&["primary"]).get(),
        1
    );
    assert_eq!(
        model.ask(&request(&trip, "a", "while open")).await,
        LlmOutcome::Unavailable
    );
    assert_eq!(requests(&fake), 5, "an open breaker sends nothing");

    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(model.breaker_states()[0].1, BreakerState::HalfOpen);
    script(&fake, [Behaviour::Answer(valid())]);
    assert!(matches!(
        model.ask(&request(&trip, "a", "trial")).await,
        LlmOutcome::Answer(_)
    ));
    assert_eq!(model.breaker_states()[0].1, BreakerState::Closed);
    assert_eq!(
        metrics.breaker_state.with_label_values(&["primary"]).get(),
        0
    );
}

#[tokio::test]
async fn the_same_request_is_answered_from_the_cache() {
    let (base, fake) = fake_provider().await;
    let (model, metrics) = planner_with(vec![provider("primary", &base)], |_| {});
    let trip = sample();
    script(&fake, [Behaviour::Answer(valid())]);
    let first = model.ask(&request(&trip, "a", "same question")).await;
    let second = model.ask(&request(&trip, "a", "same question")).await;
    assert_eq!(first, second);
    assert_eq!(requests(&fake), 1);
    assert_eq!(metrics.cache_hits.get(), 1);
}

#[tokio::test]
async fn budgets_say_no_before_any_call() {
    let (base, fake) = fake_provider().await;
    let trip = sample();
    let (model, metrics) = planner_with(vec![provider("primary", &base)], |s| {
        s.budgets.per_request = 100;
    });
    let LlmOutcome::OverBudget(reason) = model.ask(&request(&trip, "a", "big")).await else {
        panic!("expected a refusal")
    };
    assert!(reason.contains("more than the 100"), "{reason}");
    assert_eq!(requests(&fake), 0);
    assert_eq!(metrics.fallbacks.with_label_values(&["budget"]).get(), 1);

    let (model, _) = planner_with(vec![provider("primary", &base)], |s| {
        s.budgets.generations_per_user_per_hour = 2;
    });
    script(
        &fake,
        [Behaviour::Answer(valid()), Behaviour::Answer(valid())],
    );
    assert!(matches!(
        model.ask(&request(&trip, "kim", "one")).await,
        LlmOutcome::Answer(_)
    ));
    assert!(matches!(
        model.ask(&request(&trip, "kim", "two")).await,
        LlmOutcome::Answer(_)
    ));
    assert!(matches!(
        model.ask(&request(&trip, "kim", "three")).await,
        LlmOutcome::OverBudget(_)
    ));
    assert!(
        matches!(
            model.ask(&request(&trip, "lee", "one")).await,
            LlmOutcome::Unavailable
        ),
        "another user may (the script is empty: 500)"
    );

    // The estimate of a request: a quarter of its characters, plus the answer's tokens.
    let probe = planner_with(vec![provider("primary", &base)], |_| {}).0;
    let chat = probe.chat_request(&request(&trip, "max", "spend"));
    let estimate = chat.messages.iter().map(|m| m.content.len()).sum::<usize>() as u64 / 4
        + u64::from(chat.max_tokens);
    let (model, _) = planner_with(vec![provider("primary", &base)], |s| {
        s.budgets.per_user_per_day = estimate + 1_000;
    });
    script(&fake, [Behaviour::Answer(valid())]);
    assert!(matches!(
        model.ask(&request(&trip, "max", "spend")).await,
        LlmOutcome::Answer(_)
    ));
    assert!(
        matches!(
            model.ask(&request(&trip, "max", "more")).await,
            LlmOutcome::OverBudget(_)
        ),
        "1,500 tokens spent leave less than the estimate"
    );
}

#[tokio::test]
async fn azure_gets_its_url_shape_and_api_key_header() {
    let (base, fake) = fake_provider().await;
    let azure = ProviderConfig {
        name: "azure".into(),
        kind: ProviderKind::Azure {
            deployment: "trip-gpt".into(),
            api_version: "2024-10-21".into(),
        },
        base_url: base,
        api_key: "azure-key".into(),
        model: String::new(),
        timeout: Duration::from_secs(2),
        usd_per_1k_tokens: 0.0,
    };
    let (model, _) = planner_with(vec![azure], |_| {});
    script(&fake, [Behaviour::Answer(valid())]);
    assert!(matches!(
        model.ask(&request(&sample(), "a", "hi")).await,
        LlmOutcome::Answer(_)
    ));
    let seen = fake.seen.lock().unwrap();
    assert_eq!(
        seen[0].0,
        "/openai/deployments/trip-gpt/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(seen[0].1["api-key"], "azure-key");
    assert!(seen[0].1.get("authorization").is_none());
}

#[test]
fn the_assistant_says_why_it_fell_back_and_the_planner_answers() {
    let doc = TripDoc::new(yrs::Doc::new());
    doc.import("test", &sample()).unwrap();
    doc.post_chat(
        "claire",
        &ChatMessage {
            id: "ask".into(),
            author: "claire".into(),
            text: "@assistant plan day 3 please".into(),
            at: chrono::Utc::now(),
            mentions: vec![],
            reply_to: None,
        },
    )
    .unwrap();
    let mut assistant = Assistant::new().with_model();
    let report = assistant.step(&doc, chrono::Utc::now()).unwrap();
    assert_eq!(report.jobs.len(), 1, "the request waits for the model");
    assert!(
        report.jobs[0].understood.starts_with("intent plan; days "),
        "the model hears what was understood: {}",
        report.jobs[0].understood
    );
    assert!(report.answered.is_empty());
    assert!(
        assistant
            .step(&doc, chrono::Utc::now())
            .unwrap()
            .jobs
            .is_empty(),
        "not twice while in flight"
    );

    let over = LlmOutcome::OverBudget("claire has used today's 50000 tokens".into());
    let finished = assistant
        .finish_job(&doc, &report.jobs[0], over, chrono::Utc::now())
        .unwrap();
    assert_eq!(finished.answered, ["ask"]);
    assert_eq!(finished.proposed.len(), 1, "the planner's proposal");
    let trip = doc.read().trip.unwrap();
    let reply = trip
        .chat
        .iter()
        .find(|m| m.author == ASSISTANT && m.reply_to.as_deref() == Some("ask"))
        .unwrap();
    assert!(
        reply.text.contains("today's 50000 tokens") && reply.text.contains("built-in planner"),
        "{}",
        reply.text
    );

    // A model answer proposes its ops.
    doc.post_chat(
        "claire",
        &ChatMessage {
            id: "ask2".into(),
            author: "claire".into(),
            text: "@assistant something for a rainy afternoon?".into(),
            at: chrono::Utc::now(),
            mentions: vec![],
            reply_to: None,
        },
    )
    .unwrap();
    let report = assistant.step(&doc, chrono::Utc::now()).unwrap();
    let answer = ai_bridge::llm::parse_and_check(&valid(), &doc.read().trip.unwrap()).unwrap();
    let finished = assistant
        .finish_job(
            &doc,
            &report.jobs[0],
            LlmOutcome::Answer(answer),
            chrono::Utc::now(),
        )
        .unwrap();
    assert_eq!(finished.proposed.len(), 1);
    let trip = doc.read().trip.unwrap();
    let proposal = &trip.proposals[&finished.proposed[0]];
    assert_eq!(proposal.about.as_deref(), Some("chat:ask2"));
    assert_eq!(proposal.summary, "Museum on day 3");
}
