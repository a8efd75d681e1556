//! The assistant end to end, against a running `caravan` with tokens required: it joins when
//! people open a trip and shows its presence; a chat request becomes a proposal; accepting it
//! (as a stock client does, by setting `status`) schedules the activities, and a second
//! client sees them; a poll that asks for options gets them; a poll past its deadline is
//! tallied and its winner proposed; a conflict gets a proposed fix; it leaves with the last
//! person; and after a restart it does not answer again.

mod common;

use std::time::Duration;

use caravan_client::{Client, ClientConfig};
use chrono::Utc;
use common::{eventually, Server};
use doc_model::{ChatMessage, NewPoll, PollKind, PollStatus, ProposalStatus, Trip, TripDoc, Vote};
use yrs::{Map, Transact};

const SECRET: &str = "an assistant test secret, long enough for HS256";

fn token(trip: &str, role: &str, sub: &str) -> String {
    common::hs256(SECRET, trip, role, sub)
}

fn trip_of(client: &Client) -> Trip {
    TripDoc::new(client.doc().clone())
        .read()
        .trip
        .unwrap_or_default()
}

fn assistant_present(client: &Client) -> bool {
    client
        .awareness_states()
        .iter()
        .any(|(_, state)| state.contains("\"isAssistant\":true"))
}

async fn create_sample(server: &Server) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/api/trips/sample", server.http()))
        .bearer_auth(token("*", "owner", "claire"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// A sample trip on `server`, open in a client with a `role` token for `sub`, once the
/// assistant has joined it.
async fn sample_with_assistant(server: &Server, role: &str, sub: &str) -> (String, Client) {
    let id = create_sample(server).await;
    let client =
        Client::connect(ClientConfig::new(server.url(), &id).with_token(token(&id, role, sub)));
    client.wait_synced().await;
    eventually("the assistant joins", || assistant_present(&client)).await;
    (id, client)
}

/// Poll options by key: (key, label, the activity it stands for).
fn poll_options(
    options: &[(&str, &str, Option<String>)],
) -> std::collections::BTreeMap<String, doc_model::PollOption> {
    options
        .iter()
        .map(|(key, label, activity)| {
            (
                key.to_string(),
                doc_model::PollOption {
                    label: label.to_string(),
                    details: String::new(),
                    ai_generated: false,
                    activity: activity.clone(),
                },
            )
        })
        .collect()
}

/// Whether the trip listing says the assistant is in `trip`.
async fn assistant_in(server: &Server, trip: &str) -> bool {
    listing_of(server, trip).await["assistant"] == true
}

async fn connections(server: &Server, trip: &str) -> u64 {
    listing_of(server, trip).await["connections"]
        .as_u64()
        .unwrap_or(0)
}

async fn listing_of(server: &Server, trip: &str) -> serde_json::Value {
    let list: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/trips", server.http()))
        .bearer_auth(token("*", "owner", "claire"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == trip)
        .cloned()
        .unwrap_or_default()
}

fn assistant_messages(trip: &Trip) -> usize {
    trip.chat.iter().filter(|m| m.author == "assistant").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assistant_plans_with_the_family() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_full(dir.path(), 0, &["--jwt-secret", SECRET], &[]);
    let id = create_sample(&server).await;

    let claire = Client::connect(
        ClientConfig::new(server.url(), &id).with_token(token(&id, "editor", "claire")),
    );
    claire.wait_synced().await;
    eventually("the assistant joins", || assistant_present(&claire)).await;
    assert!(
        assistant_in(&server, &id).await,
        "the listing says the assistant is in"
    );
    let doc = TripDoc::new(claire.doc().clone());
    // The sample trip's own chat asks the assistant something: it answers that first.
    eventually("the assistant answers the sample's question", || {
        trip_of(&claire)
            .chat
            .iter()
            .any(|m| m.author == "assistant")
    })
    .await;

    // A chat request: a proposal appears, and an answer.
    doc.post_chat(
        "claire",
        &ChatMessage {
            id: "plan-request".into(),
            author: "claire".into(),
            text: "@assistant please plan day 3".into(),
            at: Utc::now(),
            mentions: vec!["assistant".into()],
            reply_to: None,
        },
    )
    .unwrap();
    eventually("a proposal and an answer for the request", || {
        let trip = trip_of(&claire);
        trip.proposals
            .values()
            .any(|p| p.about.as_deref() == Some("chat:plan-request"))
            && trip
                .chat
                .iter()
                .any(|m| m.reply_to.as_deref() == Some("plan-request"))
    })
    .await;
    let trip = trip_of(&claire);
    let (proposal_id, proposal) = trip
        .proposals
        .iter()
        .find(|(_, p)| p.about.as_deref() == Some("chat:plan-request"))
        .unwrap();
    let scheduled: Vec<String> = proposal
        .ops
        .iter()
        .filter_map(|op| match op {
            doc_model::EditOp::ScheduleActivity { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect();
    assert!(!scheduled.is_empty());
    assert!(
        scheduled.iter().all(|a| trip.activities[a].date.is_none()),
        "nothing scheduled before it is accepted"
    );

    // Accept it the way a stock Yjs client would; a second client sees the result.
    {
        let proposals = claire.doc().get_or_insert_map("proposals");
        let mut txn = claire.doc().transact_mut();
        let Some(yrs::Out::YMap(p)) = proposals.get(&txn, proposal_id) else {
            panic!("no proposal map");
        };
        p.insert(&mut txn, "status", "accepted");
        p.insert(&mut txn, "decidedBy", "claire");
    }
    let emeka = Client::connect(
        ClientConfig::new(server.url(), &id).with_token(token(&id, "editor", "emeka")),
    );
    emeka.wait_synced().await;
    eventually("the proposal applied, at the second client", || {
        let trip = trip_of(&emeka);
        trip.proposals
            .get(proposal_id)
            .is_some_and(|p| p.status == ProposalStatus::Applied)
            && scheduled.iter().all(|a| trip.activities[a].date.is_some())
    })
    .await;

    // A poll that asks for options gets them.
    doc.open_poll(
        "claire",
        "rainy-day",
        &NewPoll {
            question: "Which museum if it rains?".into(),
            kind: PollKind::Single,
            options: Default::default(),
            closes_at: None,
            created_by: "claire".into(),
            wants_options: true,
        },
    )
    .unwrap();
    eventually("AI options on the poll", || {
        trip_of(&emeka)
            .polls
            .get("rainy-day")
            .is_some_and(|p| p.options.values().any(|o| o.ai_generated))
    })
    .await;

    // A poll past its deadline is tallied, and its winner (an idea) proposed.
    let idea = trip_of(&claire)
        .activities
        .iter()
        .find(|(_, a)| a.date.is_none())
        .map(|(id, a)| (id.clone(), a.title.clone()))
        .expect("an idea left");
    let options = poll_options(&[
        ("yes", &idea.1, Some(idea.0.clone())),
        ("no", "Stay in", None),
    ]);
    doc.open_poll(
        "claire",
        "outing",
        &NewPoll {
            question: format!("{}?", idea.1),
            kind: PollKind::Single,
            options,
            closes_at: Some(Utc::now() + chrono::Duration::seconds(2)),
            created_by: "claire".into(),
            wants_options: false,
        },
    )
    .unwrap();
    let voter = trip_of(&claire)
        .families
        .values()
        .next()
        .unwrap()
        .members
        .keys()
        .next()
        .unwrap()
        .clone();
    doc.vote("claire", "outing", &voter, &Vote::Single("yes".into()))
        .unwrap();
    eventually("the poll closed and tallied, its winner proposed", || {
        let trip = trip_of(&emeka);
        trip.polls
            .get("outing")
            .is_some_and(|p| p.status == PollStatus::Closed)
            && trip
                .chat
                .iter()
                .any(|m| m.reply_to.as_deref() == Some("result:outing"))
            && trip
                .proposals
                .values()
                .any(|p| p.about.as_deref() == Some("poll:outing"))
    })
    .await;

    // A conflict gets a proposed fix: the museum on top of the cable car.
    let cable_car = trip_of(&claire).activities["aiguille"].clone();
    doc.schedule_activity(
        "claire",
        "alpine-museum",
        cable_car.date.unwrap(),
        cable_car.start,
        Some(60),
    )
    .unwrap();
    eventually("a fix for the overlap", || {
        trip_of(&emeka).proposals.values().any(|p| {
            p.about
                .as_deref()
                .is_some_and(|a| a.starts_with("conflict:overlap:") && a.contains("alpine-museum"))
        })
    })
    .await;

    // It leaves with the last person.
    let answered = assistant_messages(&trip_of(&claire));
    claire.close().await;
    emeka.close().await;
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while connections(&server, &id).await > 0 || assistant_in(&server, &id).await {
        assert!(std::time::Instant::now() < until, "the assistant stayed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // After a restart it joins again and answers nothing twice.
    server.kill("-TERM");
    let server = Server::start_full(dir.path(), 0, &["--jwt-secret", SECRET], &[]);
    let again = Client::connect(
        ClientConfig::new(server.url(), &id).with_token(token(&id, "viewer", "ngozi")),
    );
    again.wait_synced().await;
    eventually("the assistant joins again", || assistant_present(&again)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(assistant_messages(&trip_of(&again)), answered);
    again.close().await;
}

/// A fake OpenAI-compatible provider: answers every request with `answer`, and keeps the
/// requests.
async fn fake_model(
    answer: String,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
) {
    use axum::extract::State;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route(
            "/v1/chat/completions",
            axum::routing::post(
                |State((seen, answer)): State<(
                    std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
                    String,
                )>,
                 axum::Json(body): axum::Json<serde_json::Value>| async move {
                    seen.lock().unwrap().push(body);
                    axum::Json(serde_json::json!({
                        "choices": [{ "message": { "role": "assistant", "content": answer } }],
                        "usage": { "prompt_tokens": 900, "completion_tokens": 100 }
                    }))
                },
            ),
        )
        .with_state((seen.clone(), answer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/v1"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_language_model_configured_the_assistant_proposes_what_it_answers() {
    let answer = serde_json::json!({
        "reply": "The Alpine Museum is a good rainy-afternoon plan.",
        "summary": "Alpine Museum on the third afternoon",
        "rationale": "It opens at 14:00 and is in town.",
        "ops": [{ "op": "scheduleActivity", "id": "alpine-museum", "date": "DAY3", "start": "15:00", "durationMin": 90 }]
    });
    let dir = tempfile::tempdir().unwrap();
    // The sample trip starts two weeks from today: its third day is known in advance.
    let day3 = (Utc::now().date_naive() + chrono::Duration::days(16)).to_string();
    let (base, seen) = fake_model(answer.to_string().replace("DAY3", &day3)).await;
    let server = Server::start_full(
        dir.path(),
        0,
        &["--jwt-secret", SECRET],
        &[
            ("CARAVAN_AI_PROVIDER", "openai"),
            ("CARAVAN_AI_BASE_URL", &base),
            ("CARAVAN_AI_API_KEY", "test-key"),
            ("CARAVAN_AI_MODEL", "test-model"),
        ],
    );
    let id = create_sample(&server).await;
    let client = Client::connect(
        ClientConfig::new(server.url(), &id).with_token(token(&id, "editor", "claire")),
    );
    client.wait_synced().await;
    eventually("the assistant joins", || assistant_present(&client)).await;
    TripDoc::new(client.doc().clone())
        .post_chat(
            "claire",
            &ChatMessage {
                id: "rainy".into(),
                author: "claire".into(),
                text: "@assistant what could we do on a rainy afternoon?".into(),
                at: Utc::now(),
                mentions: vec![],
                reply_to: None,
            },
        )
        .unwrap();
    eventually("the model's proposal and reply", || {
        let trip = trip_of(&client);
        trip.proposals
            .values()
            .any(|p| p.summary == "Alpine Museum on the third afternoon")
            && trip.chat.iter().any(|m| {
                m.reply_to.as_deref() == Some("rainy") && m.text.contains("rainy-afternoon plan")
            })
    })
    .await;
    let requests = seen.lock().unwrap().clone();
    let asked = requests
        .iter()
        .find(|r| r.to_string().contains("rainy afternoon"))
        .expect("the request reached the model");
    assert_eq!(asked["model"], "test-model");
    assert!(asked["response_format"]["json_schema"]["schema"]["properties"]["ops"].is_object());
    assert!(asked["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("alpine-museum"));
    let metrics = reqwest::get(format!("{}/metrics", server.http()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("caravan_ai_requests_total{outcome=\"ok\",provider=\"primary\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("caravan_ai_tokens_total"));
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caravan_assistant_runs_as_its_own_process() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), 0, &["--jwt-secret", SECRET], &[]);
    let id = create_sample(&server).await;
    let mut assistant = std::process::Command::new(env!("CARGO_BIN_EXE_caravan"))
        .args(["assistant", "--server", &server.http()])
        .env(
            "CARAVAN_ASSISTANT_TOKEN",
            token("*", "assistant", "remote-assistant"),
        )
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = Client::connect(
        ClientConfig::new(server.url(), &id).with_token(token(&id, "editor", "claire")),
    );
    client.wait_synced().await;
    let joined = tokio::time::timeout(Duration::from_secs(10), async {
        while !assistant_present(&client) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let answered = tokio::time::timeout(Duration::from_secs(10), async {
        while !trip_of(&client)
            .chat
            .iter()
            .any(|m| m.author == "assistant")
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let _ = assistant.kill();
    let _ = assistant.wait();
    assert!(joined.is_ok(), "the remote assistant joined the trip");
    assert!(answered.is_ok(), "and answered the sample's question");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_message_whose_time_is_a_number_is_seen_and_answered() {
    use yrs::{Any, Array};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_full(dir.path(), 0, &["--jwt-secret", SECRET], &[]);
    let (_, ana) = sample_with_assistant(&server, "editor", "ana").await;
    // What the obvious JavaScript writes: `at: Date.now()`.
    let message: std::collections::HashMap<String, Any> = [
        ("id".to_owned(), Any::from("numeric-at")),
        ("author".to_owned(), Any::from("ana")),
        ("text".to_owned(), Any::from("@assistant please plan day 2")),
        (
            "at".to_owned(),
            Any::from(Utc::now().timestamp_millis() as f64),
        ),
        (
            "mentions".to_owned(),
            Any::from(vec![Any::from("assistant")]),
        ),
    ]
    .into_iter()
    .collect();
    {
        let chat = ana.doc().get_or_insert_array("chat");
        let mut txn = ana.doc().transact_mut();
        chat.push_back(&mut txn, Any::from(message));
    }
    eventually("the JSON view shows it", || {
        trip_of(&ana).chat.iter().any(|m| m.id == "numeric-at")
    })
    .await;
    eventually("the assistant answers it", || {
        trip_of(&ana)
            .chat
            .iter()
            .any(|m| m.reply_to.as_deref() == Some("numeric-at"))
    })
    .await;
}

/// A trip deleted under the assistant stays deleted: when a poll's deadline passes after the
/// delete, the assistant, whose copy still holds the poll, does not load the trip again to
/// close the poll in it (its link ends with the room).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_deleted_under_the_assistant_is_not_brought_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_full(dir.path(), 0, &["--jwt-secret", SECRET], &[]);
    let (id, claire) = sample_with_assistant(&server, "owner", "claire").await;
    let options = poll_options(&[("yes", "Go", None), ("no", "Stay in", None)]);
    TripDoc::new(claire.doc().clone())
        .open_poll(
            "claire",
            "soon",
            &NewPoll {
                question: "Out tonight?".into(),
                kind: PollKind::Single,
                options,
                closes_at: Some(Utc::now() + chrono::Duration::milliseconds(2500)),
                created_by: "claire".into(),
                wants_options: false,
            },
        )
        .unwrap();
    claire.wait_saved().await;
    // The assistant reads the poll (its debounce is 150 ms), then the trip is deleted before
    // the poll's deadline.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let http = reqwest::Client::new();
    let deleted = http
        .delete(format!("{}/api/trips/{id}", server.http()))
        .bearer_auth(token("*", "owner", "claire"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    // Past the deadline.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let read = http
        .get(format!("{}/api/trips/{id}", server.http()))
        .bearer_auth(token("*", "owner", "claire"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 404, "the deleted trip came back");
    assert!(
        listing_of(&server, &id).await.is_null(),
        "the deleted trip is listed again"
    );
    claire.close().await;
}
