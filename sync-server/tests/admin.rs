//! The admin key (`POST /api/tokens`, the listing, the event feed), the `caravan token`
//! command and `--require-auth`, against a real `caravan` process.

mod common;

use std::time::Duration;

use common::{hs256 as signed, now_secs, Rest, Server};
use reqwest::StatusCode;

const SECRET: &str = "a test secret that is long enough for HS256!";
const ADMIN_KEY: &str = "the-admin-key";

fn hs256(trip: &str, role: &str, sub: &str) -> String {
    signed(SECRET, trip, role, sub)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_key_guards_minting_listing_and_the_feed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        0,
        &["--jwt-secret", SECRET],
        &[("CARAVAN_ADMIN_KEY", ADMIN_KEY)],
    );
    let rest = Rest::new(&server);
    let request = serde_json::json!({"trip": "a1", "role": "viewer", "sub": "gran", "ttl": "10m"});
    let mint = |key: Option<&'static str>, body: serde_json::Value| {
        let rest = &rest;
        async move {
            rest.send(
                reqwest::Method::POST,
                "/api/tokens",
                key,
                body.to_string().into_bytes(),
            )
            .await
        }
    };
    assert_eq!(
        mint(None, request.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        mint(Some("guess"), request.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = mint(Some(ADMIN_KEY), request.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let viewer = answer["token"].as_str().unwrap().to_owned();
    let expires = answer["expiresAt"].as_u64().unwrap();
    assert!((now_secs() + 590..=now_secs() + 610).contains(&expires));
    assert_eq!(
        rest.post_update("a1", Some(&viewer), "x").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rest.post_update("a1", Some(&hs256("a1", "editor", "e")), "x")
            .await,
        StatusCode::OK
    );
    assert_eq!(rest.read_notes("a1", &viewer).await.unwrap(), "x");
    let bad = serde_json::json!({"trip": "a1", "role": "god", "sub": "x"});
    assert_eq!(mint(Some(ADMIN_KEY), bad).await.0, StatusCode::BAD_REQUEST);
    let bad_ttl = serde_json::json!({"trip": "a1", "role": "owner", "sub": "x", "ttl": "ever"});
    assert_eq!(
        mint(Some(ADMIN_KEY), bad_ttl).await.0,
        StatusCode::BAD_REQUEST
    );

    // The listing: the admin key or a token for every trip, not a trip's token.
    let list = |token: String| {
        let rest = &rest;
        async move {
            rest.send(reqwest::Method::GET, "/api/trips", Some(&token), vec![])
                .await
        }
    };
    let (status, body) = list(ADMIN_KEY.into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("a1"), "{body}");
    assert_eq!(
        list(hs256("a1", "owner", "o")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(list(hs256("*", "viewer", "o")).await.0, StatusCode::OK);

    // The event feed: the admin key or an assistant token for every trip.
    let feed = |token: Option<String>| {
        let client = reqwest::Client::new();
        let url = format!("{}/api/events", server.http());
        async move {
            let mut request = client.get(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send().await.unwrap().status()
        }
    };
    assert_eq!(feed(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        feed(Some(hs256("*", "editor", "e"))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        feed(Some(hs256("*", "assistant", "bot"))).await,
        StatusCode::OK
    );
    assert_eq!(feed(Some(ADMIN_KEY.into())).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caravan_token_mints_what_the_server_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), 0, &[], &[("CARAVAN_JWT_SECRET", SECRET)]);
    let rest = Rest::new(&server);
    let mint = |role: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_caravan"))
            .args([
                "token", "--trip", "cli", "--role", role, "--sub", "cli-user", "--ttl", "10m",
            ])
            .env("CARAVAN_JWT_SECRET", SECRET)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let editor = mint("editor");
    let viewer = mint("viewer");
    assert_eq!(
        rest.post_update("cli", Some(&editor), "made").await,
        StatusCode::OK
    );
    assert_eq!(
        rest.post_update("cli", Some(&viewer), "no").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(rest.read_notes("cli", &viewer).await.unwrap(), "made");
    let wrong = std::process::Command::new(env!("CARGO_BIN_EXE_caravan"))
        .args(["token", "--trip", "cli", "--role", "king", "--sub", "x"])
        .env("CARAVAN_JWT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("unknown role"));
}

#[test]
fn require_auth_refuses_to_start_open_and_an_open_server_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_caravan"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--require-auth",
            "--data",
        ])
        .arg(dir.path())
        .env_remove("CARAVAN_JWT_SECRET")
        .env_remove("CARAVAN_JWT_PUBLIC_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--require-auth"), "{stderr}");
    let short = std::process::Command::new(env!("CARGO_BIN_EXE_caravan"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--jwt-secret",
            "short",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 32 bytes"));

    let open = Server::start(dir.path(), 0);
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while !open.log().contains("RUNNING OPEN") {
        assert!(std::time::Instant::now() < until, "{}", open.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}
