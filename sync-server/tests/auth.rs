//! Tokens and roles against a real `caravan` process: each role on WebSocket and REST, tokens
//! signed each way (HS256, RS256, ES256), expired, for another trip, tampered with; the first-
//! message authentication and its timeout; expiry during a connection; the admin key; the
//! `caravan token` command; `--require-auth`.

mod common;

use std::time::Duration;

use caravan_client::{Client, ClientConfig, Refusal};
use common::{close_of, eventually, notes_of, notes_update, now_secs, Server};
use futures_util::{SinkExt, StreamExt};
use josekit::jws::{JwsHeader, JwsSigner, ES256, HS256, RS256};
use josekit::jwt::{self, JwtPayload};
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Message;
use yrs::{GetString, Text, Transact};

const SECRET: &str = "a test secret that is long enough for HS256!";
const ADMIN_KEY: &str = "the-admin-key";

fn sign(signer: &dyn JwsSigner, claims: serde_json::Value) -> String {
    let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    jwt::encode_with_signer(&payload, &header, signer).unwrap()
}

fn claims(trip: &str, role: &str, sub: &str, exp: u64) -> serde_json::Value {
    serde_json::json!({ "sub": sub, "trip": trip, "role": role, "exp": exp })
}

fn hs256(trip: &str, role: &str, sub: &str) -> String {
    sign(
        &HS256.signer_from_bytes(SECRET).unwrap(),
        claims(trip, role, sub, now_secs() + 600),
    )
}

fn notes(client: &Client) -> String {
    let notes = client.doc().get_or_insert_text("notes");
    notes.get_string(&client.doc().transact())
}

struct Rest {
    http: String,
    client: reqwest::Client,
}

impl Rest {
    fn new(server: &Server) -> Rest {
        Rest {
            http: server.http(),
            client: reqwest::Client::new(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, String) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.http))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    async fn post_update(&self, trip: &str, token: Option<&str>, text: &str) -> StatusCode {
        let path = format!("/api/trips/{trip}/update");
        self.send(reqwest::Method::POST, &path, token, notes_update(text))
            .await
            .0
    }

    /// The trip's notes as the server has them (through the `?token=` parameter this time).
    async fn read_notes(&self, trip: &str, token: &str) -> Result<String, StatusCode> {
        let response = self
            .client
            .get(format!(
                "{}/api/trips/{trip}/update?token={token}",
                self.http
            ))
            .send()
            .await
            .unwrap();
        if !response.status().is_success() {
            return Err(response.status());
        }
        Ok(notes_of(&response.bytes().await.unwrap()))
    }
}

/// The HTTP status a WebSocket upgrade to `trip` with `token` is refused with (None: accepted).
async fn upgrade_status(server: &Server, trip: &str, token: &str) -> Option<u16> {
    match tokio_tungstenite::connect_async(format!("{}/{trip}?token={token}", server.url())).await {
        Ok(_) => None,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Some(response.status().as_u16())
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn tamper(token: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let payload = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
    let forged = b64.encode(payload.replace("\"viewer\"", "\"owner\""));
    assert_ne!(forged, parts[1], "the payload changed");
    format!("{}.{}.{}", parts[0], forged, parts[2])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_on_rest_and_websocket_with_hs256_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        0,
        &["--jwt-secret", SECRET, "--admin-key", ADMIN_KEY],
        &[],
    );
    let rest = Rest::new(&server);
    let owner = hs256("t1", "owner", "olga");
    let editor = hs256("t1", "editor", "ed");
    let viewer = hs256("t1", "viewer", "vic");
    let assistant = hs256("t1", "assistant", "bot");

    // REST: who may write, who may read.
    assert_eq!(
        rest.post_update("t1", Some(&editor), "E").await,
        StatusCode::OK
    );
    assert_eq!(
        rest.post_update("t1", Some(&assistant), "A").await,
        StatusCode::OK
    );
    assert_eq!(
        rest.post_update("t1", Some(&owner), "O").await,
        StatusCode::OK
    );
    assert_eq!(
        rest.post_update("t1", Some(&viewer), "V").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rest.post_update("t1", None, "N").await,
        StatusCode::UNAUTHORIZED
    );
    let seen = rest.read_notes("t1", &viewer).await.unwrap();
    assert_eq!(seen.len(), 3, "{seen}");
    assert!(!seen.contains('V') && !seen.contains('N'), "{seen}");
    assert_eq!(
        rest.read_notes("t1", "garbage").await,
        Err(StatusCode::UNAUTHORIZED)
    );

    // Expired, for another trip, tampered with, signed with another secret.
    let expired = sign(
        &HS256.signer_from_bytes(SECRET).unwrap(),
        claims("t1", "editor", "late", now_secs() - 5),
    );
    let (status, body) = rest
        .send(
            reqwest::Method::POST,
            "/api/trips/t1/update",
            Some(&expired),
            notes_update("x"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("expired"), "{body}");
    let elsewhere = hs256("t2", "owner", "olga");
    assert_eq!(
        rest.post_update("t1", Some(&elsewhere), "x").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rest.read_notes("t1", &elsewhere).await,
        Err(StatusCode::FORBIDDEN)
    );
    assert_eq!(
        rest.post_update("t1", Some(&tamper(&viewer)), "x").await,
        StatusCode::UNAUTHORIZED
    );
    let foreign = sign(
        &HS256
            .signer_from_bytes("another secret, just as long as the real one")
            .unwrap(),
        claims("t1", "owner", "mallory", now_secs() + 600),
    );
    assert_eq!(
        rest.post_update("t1", Some(&foreign), "x").await,
        StatusCode::UNAUTHORIZED
    );

    // WebSocket: a bad token never gets a socket.
    assert_eq!(upgrade_status(&server, "t1", &expired).await, Some(401));
    assert_eq!(
        upgrade_status(&server, "t1", &tamper(&viewer)).await,
        Some(401)
    );
    assert_eq!(upgrade_status(&server, "t1", &elsewhere).await, Some(403));
    assert_eq!(upgrade_status(&server, "t1", &viewer).await, None);
    let refused =
        Client::connect(ClientConfig::new(server.url(), "t1").with_token(expired.clone()));
    eventually("the client gives up", || {
        matches!(
            refused.last_refusal(),
            Some(Refusal::Rejected { status: 401, .. })
        )
    })
    .await;

    // A viewer syncs and sees presence, and its edits are refused and go nowhere.
    let ed = Client::connect(ClientConfig::new(server.url(), "t1").with_token(editor.clone()));
    let vic = Client::connect(ClientConfig::new(server.url(), "t1").with_token(viewer.clone()));
    ed.wait_synced().await;
    vic.wait_synced().await;
    assert_eq!(notes(&vic), seen);
    ed.set_awareness(r#"{"user":{"name":"Ed"}}"#);
    eventually("the viewer sees the editor's presence", || {
        vic.awareness_states().iter().any(|(_, s)| s.contains("Ed"))
    })
    .await;
    {
        let text = vic.doc().get_or_insert_text("notes");
        text.insert(&mut vic.doc().transact_mut(), 0, "VIEWER");
    }
    eventually("the viewer is told", || {
        matches!(vic.last_refusal(), Some(Refusal::PermissionDenied(_)))
    })
    .await;
    // The editor's next change reaches the viewer; the viewer's never reached the editor.
    {
        let text = ed.doc().get_or_insert_text("notes");
        text.insert(&mut ed.doc().transact_mut(), 0, "after");
    }
    eventually("the editor's change at the viewer", || {
        notes(&vic).contains("after")
    })
    .await;
    ed.wait_saved().await;
    assert!(!notes(&ed).contains("VIEWER"));
    let stored = rest.read_notes("t1", &owner).await.unwrap();
    assert!(
        stored.contains("after") && !stored.contains("VIEWER"),
        "{stored}"
    );

    // Deleting: owners only.
    let delete = |token: String| {
        let rest = &rest;
        async move {
            rest.send(
                reqwest::Method::DELETE,
                "/api/trips/t1",
                Some(&token),
                vec![],
            )
            .await
            .0
        }
    };
    assert_eq!(delete(editor.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(delete(viewer.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(delete(owner.clone()).await, StatusCode::NO_CONTENT);

    // Every refusal was logged with the trip, the user and the reason, and counted.
    eventually("the refusal of the viewer's edit in the log", || {
        server
            .log()
            .lines()
            .any(|l| l.contains("refused") && l.contains("user=vic") && l.contains("trip=t1"))
    })
    .await;
    assert!(
        server
            .log()
            .lines()
            .any(|l| l.contains("refused") && l.contains("user=late(unverified)")),
        "an expired token's user is named"
    );
    assert!(
        server
            .metric("caravan_errors_total{kind=\"read_only\"}")
            .await
            >= 2.0
    );
    assert!(
        server
            .metric("caravan_errors_total{kind=\"auth_expired\"}")
            .await
            >= 2.0
    );
    assert!(
        server
            .metric("caravan_errors_total{kind=\"auth_wrong_trip\"}")
            .await
            >= 3.0
    );
    assert!(
        server
            .metric("caravan_errors_total{kind=\"auth_invalid\"}")
            .await
            >= 4.0
    );
    assert!(
        server
            .metric("caravan_errors_total{kind=\"auth_missing\"}")
            .await
            >= 1.0
    );
    vic.close().await;
    ed.close().await;
}

/// An RSA or P-256 key pair as PEM (private PKCS#8, public SPKI).
fn key_pair(alg: &str) -> (Vec<u8>, Vec<u8>) {
    use openssl::pkey::PKey;
    let key = match alg {
        "RS256" => PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap(),
        _ => {
            let group =
                openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
            PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap()
        }
    };
    (
        key.private_key_to_pem_pkcs8().unwrap(),
        key.public_key_to_pem().unwrap(),
    )
}

fn signer(alg: &str, private_pem: &[u8]) -> Box<dyn JwsSigner> {
    match alg {
        "RS256" => Box::new(RS256.signer_from_pem(private_pem).unwrap()),
        _ => Box::new(ES256.signer_from_pem(private_pem).unwrap()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_signed_with_rs256_and_es256_keys() {
    for alg in ["RS256", "ES256"] {
        let dir = tempfile::tempdir().unwrap();
        let (private, public) = key_pair(alg);
        let key_file = dir.path().join("public.pem");
        std::fs::write(&key_file, public).unwrap();
        let server = Server::start_with(
            &dir.path().join("db"),
            0,
            &["--jwt-public-key", key_file.to_str().unwrap()],
            &[],
        );
        let rest = Rest::new(&server);
        let signer = signer(alg, &private);
        let token = |role: &str, exp: u64| sign(signer.as_ref(), claims("k", role, "kim", exp));
        let editor = token("editor", now_secs() + 600);

        assert_eq!(
            rest.post_update("k", Some(&editor), "hi").await,
            StatusCode::OK,
            "{alg}"
        );
        let client = Client::connect(ClientConfig::new(server.url(), "k").with_token(editor));
        client.wait_synced().await;
        assert_eq!(notes(&client), "hi", "{alg}");
        client.close().await;

        assert_eq!(
            rest.post_update("k", Some(&token("viewer", now_secs() + 600)), "x")
                .await,
            StatusCode::FORBIDDEN,
            "{alg}"
        );
        assert_eq!(
            rest.post_update("k", Some(&token("editor", now_secs() - 1)), "x")
                .await,
            StatusCode::UNAUTHORIZED,
            "{alg} expired"
        );
        let (other_private, _) = key_pair(alg);
        let other = self::signer(alg, &other_private);
        let forged = sign(
            other.as_ref(),
            claims("k", "owner", "eve", now_secs() + 600),
        );
        assert_eq!(
            rest.post_update("k", Some(&forged), "x").await,
            StatusCode::UNAUTHORIZED,
            "{alg} another key"
        );
        // HS256 is not accepted when only a public key is configured (no algorithm confusion).
        let hs = sign(
            &HS256.signer_from_bytes(SECRET).unwrap(),
            claims("k", "owner", "eve", now_secs() + 600),
        );
        let (status, body) = rest
            .send(
                reqwest::Method::POST,
                "/api/trips/k/update",
                Some(&hs),
                notes_update("x"),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{alg}");
        assert!(body.contains("algorithm"), "{body}");
        assert_eq!(upgrade_status(&server, "k", &forged).await, Some(401));
        assert_eq!(
            rest.read_notes("k", &token("viewer", now_secs() + 60))
                .await
                .unwrap(),
            "hi"
        );
    }
}

/// A raw WebSocket to `trip` (no token in the URL).
async fn raw_socket(
    server: &Server,
    trip: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    tokio_tungstenite::connect_async(format!("{}/{trip}", server.url()))
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_can_come_in_the_first_message_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        0,
        &["--jwt-secret", SECRET, "--auth-timeout-secs", "1"],
        &[],
    );
    // In time, as the first message: the sync starts.
    let mut socket = raw_socket(&server, "m").await;
    let auth = sync_server::protocol::messages::auth_token(&hs256("m", "viewer", "first"));
    socket.send(Message::Binary(auth.into())).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&first.into_data()[..2], &[0, 0], "sync step 1 follows");

    // Nothing is sent before authentication, and silence is closed with 4401.
    let started = std::time::Instant::now();
    let mut silent = raw_socket(&server, "m").await;
    let (code, reason) = close_of(&mut silent).await;
    assert_eq!(code, 4401, "{reason}");
    assert!(reason.contains("timed out"), "{reason}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Anything else first, or a bad token, is refused.
    let mut eager = raw_socket(&server, "m").await;
    eager
        .send(Message::Binary(vec![0, 0, 1, 0].into()))
        .await
        .unwrap();
    assert_eq!(close_of(&mut eager).await.0, 4401);
    let mut wrong = raw_socket(&server, "m").await;
    let other = sync_server::protocol::messages::auth_token(&hs256("elsewhere", "owner", "x"));
    wrong.send(Message::Binary(other.into())).await.unwrap();
    assert_eq!(close_of(&mut wrong).await.0, 4403);
    assert!(
        server
            .metric("caravan_errors_total{kind=\"auth_timeout\"}")
            .await
            >= 1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_ends_when_its_token_expires() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), 0, &["--jwt-secret", SECRET], &[]);
    let short = sign(
        &HS256.signer_from_bytes(SECRET).unwrap(),
        claims("e", "editor", "brief", now_secs() + 2),
    );
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("{}/e?token={short}", server.url()))
            .await
            .unwrap();
    let (code, reason) = close_of(&mut socket).await;
    assert_eq!(code, 4401);
    assert!(reason.contains("expired"), "{reason}");
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
