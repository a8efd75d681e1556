//! Encryption at rest through the `caravan` binary: what a server writes with a key is not on
//! disk in the clear; without the key, or with a wrong one, the server refuses to start with a
//! clear error; after a key rotation (and `caravan rekey`) everything is readable with the new
//! key alone.

mod common;

use std::process::Command;

use common::{notes_update, stored_notes, Server};

const MARKER: &str = "passport-numbers-of-the-whole-family";

fn key(fill: u8) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([fill; 32])
}

async fn write(server: &Server, text: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/trips/vault/update", server.http()))
        .body(notes_update(text))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

fn on_disk(dir: &std::path::Path, needle: &str) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if std::fs::read(&path)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
        {
            return true;
        }
    }
    false
}

/// Runs `caravan serve` expecting it to refuse to start; returns what it said.
fn refused_start(data: &std::path::Path, keys: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_caravan"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("NO_COLOR", "1")
        .env_remove("CARAVAN_ENCRYPTION_KEYS");
    if let Some(keys) = keys {
        command.env("CARAVAN_ENCRYPTION_KEYS", keys);
    }
    let out = command.output().unwrap();
    assert!(!out.status.success(), "the server must not start");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_data_needs_its_key_and_survives_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let old = format!("k1:{}", key(1));
    let both = format!("k2:{},k1:{}", key(2), key(1));
    let new = format!("k2:{}", key(2));

    let mut server = Server::start_with(dir.path(), 0, &[], &[("CARAVAN_ENCRYPTION_KEYS", &old)]);
    write(&server, MARKER).await;
    server.kill("-TERM");
    assert!(
        !on_disk(dir.path(), MARKER),
        "the marker is encrypted on disk"
    );

    let without = refused_start(dir.path(), None);
    assert!(
        without.contains("k1") && without.contains("--encryption-keys"),
        "{without}"
    );
    let wrong = refused_start(dir.path(), Some(&format!("k1:{}", key(9))));
    assert!(wrong.contains("wrong key"), "{wrong}");

    // Rotation: the new key first, the old one kept to read.
    let mut server = Server::start_with(dir.path(), 0, &[], &[("CARAVAN_ENCRYPTION_KEYS", &both)]);
    assert_eq!(stored_notes(&server, "vault", None).await.unwrap(), MARKER);
    write(&server, "new ").await;
    server.kill("-TERM");
    let premature = refused_start(dir.path(), Some(&new));
    assert!(premature.contains("k1"), "{premature}");

    let rekey = Command::new(env!("CARGO_BIN_EXE_caravan"))
        .args(["rekey", "--data"])
        .arg(dir.path())
        .env("CARAVAN_ENCRYPTION_KEYS", &both)
        .output()
        .unwrap();
    assert!(
        rekey.status.success(),
        "{}",
        String::from_utf8_lossy(&rekey.stderr)
    );
    assert!(String::from_utf8_lossy(&rekey.stdout).contains("re-encrypted"));

    let server = Server::start_with(dir.path(), 0, &[], &[("CARAVAN_ENCRYPTION_KEYS", &new)]);
    let text = stored_notes(&server, "vault", None).await.unwrap();
    assert!(text.contains(MARKER) && text.contains("new "), "{text}");
    drop(server);
    assert!(!on_disk(dir.path(), MARKER));
}
