//! Tokens and roles against a real `caravan` process: each role on WebSocket and REST, tokens
//! signed each way (HS256, RS256, ES256), expired, for another trip, tampered with; the first-
//! message authentication and its timeout; expiry during a connection. (The admin key, the
//! `caravan token` command and `--require-auth` are in `admin.rs`.)

mod common;

use std::time::Duration;

use caravan_client::{Client, ClientConfig, Refusal};
use common::{claims, close_of, eventually, notes_update, now_secs, sign, Rest, Server};
use futures_util::{SinkExt, StreamExt};
use josekit::jws::{JwsSigner, ES256, HS256, RS256};
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Message;
use yrs::{GetString, Text, Transact};

const SECRET: &str = "a test secret that is long enough for HS256!";
const ADMIN_KEY: &str = "the-admin-key";

fn hs256(trip: &str, role: &str, sub: &str) -> String {
    common::hs256(SECRET, trip, role, sub)
}

fn notes(client: &Client) -> String {
    let notes = client.doc().get_or_insert_text("notes");
    notes.get_string(&client.doc().transact())
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
    let auth = caravan_wire::messages::auth_token(&hs256("m", "viewer", "first"));
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
    let other = caravan_wire::messages::auth_token(&hs256("elsewhere", "owner", "x"));
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
