//! Backups an operator can run live: `caravan backup --server` downloads every trip from a
//! running server (the admin key only) while a family keeps editing; `caravan restore` reads it
//! into an empty data directory, and every trip there reads as it did. Also offline (`caravan
//! backup --data`), and for an encrypted store, whose backup is sealed with its key.

use std::path::Path;
use std::process::Command;

mod common;

use common::{stored_notes, Rest, Server};
use persistence::DocStore;
use serde_json::Value;

const ADMIN: &str = "an-admin-key-for-the-backup-tests";
const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SECRET_WORD: &str = "the-door-code-is-4321";

fn caravan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_caravan"))
        .args(args)
        .env_remove("CARAVAN_ADMIN_KEY")
        .output()
        .unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every trip's JSON view (when it is one) and notes, by id.
async fn everything(server: &Server) -> Vec<(String, Value, String)> {
    let client = reqwest::Client::new();
    let listed: Vec<Value> = client
        .get(format!("{}/api/trips", server.http()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut all = Vec::new();
    for trip in listed {
        let id = trip["id"].as_str().unwrap().to_owned();
        let view = client
            .get(format!("{}/api/trips/{id}", server.http()))
            .send()
            .await
            .unwrap();
        let view = match view.status().is_success() {
            true => view.json().await.unwrap(),
            false => Value::Null,
        };
        let notes = stored_notes(server, &id, None).await.unwrap();
        all.push((id, view, notes));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

async fn fill(server: &Server) {
    let rest = Rest::new(server);
    for _ in 0..3 {
        let (status, _) = rest
            .send(
                reqwest::Method::POST,
                "/api/trips/sample",
                Some(ADMIN),
                Vec::new(),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED);
    }
    for (trip, text) in [("notes-a", "Passports! "), ("notes-b", SECRET_WORD)] {
        assert_eq!(
            rest.post_update(trip, None, text).await,
            reqwest::StatusCode::OK
        );
    }
}

fn serve_flags(encrypted: bool) -> Vec<&'static str> {
    let mut flags = vec!["--admin-key", ADMIN];
    if encrypted {
        flags.extend(["--encryption-keys", KEYS]);
    }
    flags
}

async fn round_trip(encrypted: bool) {
    let work = tempfile::tempdir().unwrap();
    let (data, restored) = (work.path().join("data"), work.path().join("restored"));
    let file = work.path().join("trips.backup");
    let server = Server::start_with(&data, 0, &serve_flags(encrypted), &[]);
    fill(&server).await;
    let before = everything(&server).await;
    assert_eq!(before.len(), 5);

    // Without the admin key: refused, and no file.
    let refused = caravan(&["backup", "--server", &server.http(), "--out", path(&file)]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("401"),
        "{refused:?}"
    );
    assert!(!file.exists());

    // Live, while someone keeps writing to another trip.
    let writer = {
        let rest = Rest::new(&server);
        tokio::spawn(async move {
            for i in 0..200 {
                rest.post_update("busy", None, &format!("{i} ")).await;
            }
        })
    };
    let backup = caravan(&[
        "backup",
        "--server",
        &server.http(),
        "--admin-key",
        ADMIN,
        "--out",
        path(&file),
    ]);
    assert!(backup.status.success(), "{backup:?}");
    assert!(
        String::from_utf8_lossy(&backup.stdout).contains("backed up"),
        "{backup:?}"
    );
    writer.await.unwrap();
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(
        bytes
            .windows(SECRET_WORD.len())
            .any(|w| w == SECRET_WORD.as_bytes()),
        !encrypted,
        "an encrypted store's backup must not hold its text in the clear (and a plain one does)"
    );
    drop(server);

    // Into an empty directory: every trip as it was.
    let mut args = vec!["restore", "--data", path(&restored), "--from", path(&file)];
    if encrypted {
        let without_key = caravan(&args);
        assert!(
            !without_key.status.success(),
            "restored a sealed backup without its key"
        );
        std::fs::remove_dir_all(&restored).ok();
        args.extend(["--encryption-keys", KEYS]);
    }
    let restore = caravan(&args);
    assert!(restore.status.success(), "{restore:?}");
    let server = Server::start_with(&restored, 0, &serve_flags(encrypted), &[]);
    let after = everything(&server).await;
    let busy = after.iter().find(|(id, ..)| id == "busy");
    let after: Vec<_> = after
        .iter()
        .filter(|(id, ..)| id != "busy")
        .cloned()
        .collect();
    assert_eq!(after, before);
    // The trip written during the backup is there as of some moment: whole updates only.
    if let Some((_, _, notes)) = busy {
        assert!(
            notes.split_whitespace().all(|n| n.parse::<u32>().is_ok()),
            "{notes}"
        );
    }
    drop(server);

    // Offline, from the stopped server's directory: the same.
    let offline = work.path().join("offline.backup");
    let mut args = vec!["backup", "--data", path(&data), "--out", path(&offline)];
    if encrypted {
        args.extend(["--encryption-keys", KEYS]);
    }
    let backup = caravan(&args);
    assert!(backup.status.success(), "{backup:?}");
    let again = work.path().join("again");
    let mut args = vec!["restore", "--data", path(&again), "--from", path(&offline)];
    if encrypted {
        args.extend(["--encryption-keys", KEYS]);
    }
    assert!(caravan(&args).status.success());
    let server = Server::start_with(&again, 0, &serve_flags(encrypted), &[]);
    let offline_trips: Vec<_> = everything(&server)
        .await
        .into_iter()
        .filter(|(id, ..)| id != "busy")
        .collect();
    assert_eq!(offline_trips, before);

    // A cut-off backup is refused, and restores nothing.
    let cut = work.path().join("cut.backup");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let partial = work.path().join("partial");
    let mut args = vec!["restore", "--data", path(&partial), "--from", path(&cut)];
    if encrypted {
        args.extend(["--encryption-keys", KEYS]);
    }
    let refused = caravan(&args);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("cut off"),
        "{refused:?}"
    );
    let keys = encrypted.then(|| persistence::Keyring::parse(KEYS).unwrap());
    let partial = persistence::SledStore::open_with_keys(&partial, keys).unwrap();
    assert!(
        partial.list().unwrap().is_empty(),
        "a cut-off backup restored some trips"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_backup_restores_every_trip_into_an_empty_directory() {
    round_trip(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_store_s_backup_is_sealed_and_restores_with_its_key() {
    round_trip(true).await;
}
