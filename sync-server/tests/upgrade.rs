//! Data outlives versions: every data directory kept under `tests/fixtures/store-*` was
//! written by an earlier release of Caravan (see its `expected.json` for which, and the command
//! that made it), and this release must open it and read every trip as that release did.
//!
//! A fixture is made once, by the release it stands for (built in its own checkout with its
//! own target directory: a worktree sharing this one's `target/` overwrites this build's
//! artifacts of the same crates), with the ignored test below:
//! `CARAVAN_FIXTURE_BIN=path/to/that/caravan CARAVAN_FIXTURE_NAME=store-0.1.0 cargo test -p
//! sync_server --test upgrade -- --ignored make_fixture`. It holds a plain and an encrypted
//! store, each with trips compacted into snapshots, trips with a snapshot and a log after it,
//! and trips only in the log (written, answered "saved", then `kill -9`).

use std::path::{Path, PathBuf};
use std::time::Duration;

mod common;

use common::{notes_update, stored_notes, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sync_server::protocol::messages;
use tokio_tungstenite::tungstenite::Message;

/// The encryption key of the fixtures' encrypted stores (a test key, public on purpose).
const FIXTURE_KEYS: &str = "fixture:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Copies a fixture store to a fresh directory (opening a store writes to it: the committed
/// fixture is never opened in place).
fn copy_of(store: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", store.display()))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    copy
}

fn flags(encrypted: bool) -> Vec<&'static str> {
    let mut flags = vec!["--no-assistant"];
    if encrypted {
        flags.extend(["--encryption-keys", FIXTURE_KEYS]);
    }
    flags
}

/// What a release shows of a trip: its JSON view (if it is a trip) and its notes.
async fn read_trip(server: &Server, trip: &str) -> Value {
    let view = reqwest::get(format!("{}/api/trips/{trip}", server.http()))
        .await
        .unwrap();
    let view = match view.status().is_success() {
        true => view.json::<Value>().await.unwrap(),
        false => Value::Null,
    };
    let notes = stored_notes(server, trip, None).await.unwrap();
    json!({ "view": view, "notes": notes })
}

/// True when everything `old` has is in `new` with the same value (a later release may add
/// fields to the view, never lose or change one).
fn keeps(old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => o
            .iter()
            .all(|(k, v)| n.get(k).is_some_and(|nv| keeps(v, nv))),
        (Value::Array(o), Value::Array(n)) => {
            o.len() == n.len() && o.iter().zip(n).all(|(a, b)| keeps(a, b))
        }
        _ => old == new,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_earlier_release_s_store_opens_and_reads_as_it_did() {
    let mut checked = 0;
    for fixture in std::fs::read_dir(fixtures()).unwrap() {
        let fixture = fixture.unwrap().path();
        if !fixture
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("store-")
        {
            continue;
        }
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture.join("expected.json")).unwrap())
                .unwrap();
        for (kind, encrypted) in [("plain", false), ("encrypted", true)] {
            let data = copy_of(&fixture.join(kind));
            let server = Server::start_full(data.path(), 0, &flags(encrypted), &[]);
            let trips = expected["stores"][kind]["trips"].as_object().unwrap();
            assert!(trips.len() >= 4, "a fixture with few trips tests little");
            for (trip, was) in trips {
                let now = read_trip(&server, trip).await;
                assert!(
                    keeps(was, &now),
                    "{} ({kind}): trip {trip} reads differently\nwas: {was}\nnow: {now}",
                    fixture.display()
                );
            }
            let listed: Value = reqwest::get(format!("{}/api/trips", server.http()))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let listed = listed.to_string();
            for trip in trips.keys() {
                assert!(
                    listed.contains(trip.as_str()),
                    "{trip} not listed: {listed}"
                );
            }
            // The release that wrote it recorded no format version: this one takes it as
            // format 1 and migrates it.
            if expected["format_recorded"] == json!(false) {
                assert!(
                    server
                        .log()
                        .contains("before format versions were recorded (format 1)"),
                    "{}",
                    server.log()
                );
            }
            // And it keeps working: a write, a stop, a start.
            let rest = common::Rest::new(&server);
            assert_eq!(
                rest.post_update("after-upgrade", None, "new").await,
                reqwest::StatusCode::OK
            );
            drop(server);
            let server = Server::start_full(data.path(), 0, &flags(encrypted), &[]);
            assert_eq!(
                stored_notes(&server, "after-upgrade", None).await.unwrap(),
                "new"
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "no fixture store was checked");
}

/// Writes `texts` into the notes of `trip` over WebSocket, one update each, and waits for
/// "saved".
async fn write_notes(server: &Server, trip: &str, texts: &[&str]) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/{trip}", server.url()))
        .await
        .unwrap();
    let mut frame = Vec::new();
    for text in texts {
        frame.extend(messages::sync_update(&notes_update(text)));
    }
    frame.extend(messages::saved(1));
    ws.send(Message::binary(frame)).await.unwrap();
    let answer = messages::saved(1);
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) if b[..] == answer[..] => return,
                Some(Ok(_)) => {}
                other => panic!("no \"saved\": {other:?}"),
            }
        }
    })
    .await
    .unwrap();
}

async fn create_sample(server: &Server) -> String {
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/trips/sample", server.http()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// Makes a fixture with the release at `CARAVAN_FIXTURE_BIN` (see the module's notes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by hand, once per release, with that release's binary"]
async fn make_fixture() {
    let binary = PathBuf::from(std::env::var("CARAVAN_FIXTURE_BIN").expect("CARAVAN_FIXTURE_BIN"));
    let name = std::env::var("CARAVAN_FIXTURE_NAME").expect("CARAVAN_FIXTURE_NAME");
    let version = std::process::Command::new(&binary)
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8(version.stdout).unwrap().trim().to_owned();
    let out = fixtures().join(&name);
    assert!(!out.exists(), "{} exists", out.display());
    let mut stores = serde_json::Map::new();
    for (kind, encrypted) in [("plain", false), ("encrypted", true)] {
        let data = out.join(kind);
        std::fs::create_dir_all(&data).unwrap();
        // Compacted at the stop: a sample trip, a notes trip.
        let mut server = Server::start_binary(&binary, &data, 0, &flags(encrypted), &[]);
        let sample = create_sample(&server).await;
        write_notes(
            &server,
            "family-notes",
            &["Passports! ", "Sunscreen. ", "Été à la mer ☀️ "],
        )
        .await;
        server.kill("-TERM");
        // A log after the snapshot, and trips only in the log (kill -9 after "saved").
        let mut server = Server::start_binary(&binary, &data, 0, &flags(encrypted), &[]);
        write_notes(&server, "family-notes", &["Tickets. "]).await;
        let late_sample = create_sample(&server).await;
        write_notes(&server, "log-only.trip_2", &["only ", "in ", "the ", "log"]).await;
        let mut seen = serde_json::Map::new();
        for trip in [
            sample.as_str(),
            "family-notes",
            late_sample.as_str(),
            "log-only.trip_2",
        ] {
            seen.insert(trip.to_owned(), read_trip(&server, trip).await);
        }
        server.kill("-KILL");
        stores.insert(kind.to_owned(), json!({ "trips": seen }));
    }
    let expected = json!({
        "written_by": version,
        "made_with": "CARAVAN_FIXTURE_BIN=... CARAVAN_FIXTURE_NAME=... cargo test -p sync_server --test upgrade -- --ignored make_fixture",
        "format_recorded": false,
        "stores": stores,
    });
    std::fs::write(
        out.join("expected.json"),
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();
}
