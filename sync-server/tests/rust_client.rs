//! The Rust client (`caravan_client`) against a real `caravan` process: sync both ways,
//! awareness, the "saved" acknowledgement surviving SIGKILL, reconnection after a restart
//! with the changes made while offline.

use std::time::Duration;

use caravan_client::{Client, ClientConfig, Status};
use yrs::{Array, GetString, Map, Text, Transact};

mod common;

use common::{eventually, Server};

fn text(client: &Client) -> String {
    let notes = client.doc().get_or_insert_text("notes");
    notes.get_string(&client.doc().transact())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_sync_share_presence_and_leave() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), 0);
    let a = Client::connect(ClientConfig::new(server.url(), "rust-trip"));
    let b = Client::connect(ClientConfig::new(server.url(), "rust-trip"));
    a.wait_synced().await;
    b.wait_synced().await;
    assert_eq!(a.status(), Status::Synced);

    {
        let notes = a.doc().get_or_insert_text("notes");
        notes.insert(&mut a.doc().transact_mut(), 0, "from a");
    }
    {
        let meta = b.doc().get_or_insert_map("meta");
        meta.insert(&mut b.doc().transact_mut(), "title", "from b");
    }
    eventually("a's text at b", || text(&b) == "from a").await;
    eventually("b's title at a", || {
        let meta = a.doc().get_or_insert_map("meta");
        let txn = a.doc().transact();
        meta.get(&txn, "title").map(|v| v.to_string(&txn)) == Some("from b".into())
    })
    .await;

    // A late joiner gets everything.
    let c = Client::connect(ClientConfig::new(server.url(), "rust-trip"));
    c.wait_synced().await;
    assert_eq!(text(&c), "from a");

    // Presence comes and goes (and a person cannot pass for the assistant).
    c.set_awareness(r#"{"user":{"name":"Impostor","isAssistant":true}}"#);
    a.set_awareness(r#"{"user":{"name":"Ann"}}"#);
    eventually("ann at b", || {
        b.awareness_states().iter().any(|(_, s)| s.contains("Ann"))
    })
    .await;
    assert!(!b
        .awareness_states()
        .iter()
        .any(|(_, s)| s.contains("Impostor")));
    a.close().await;
    eventually("ann gone at b", || {
        !b.awareness_states().iter().any(|(_, s)| s.contains("Ann"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_means_durable_and_offline_changes_merge_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), 0);
    let port = server.port;

    // "Saved" means on disk: the writer leaves, the server is killed, the data is there.
    let writer = Client::connect(ClientConfig::new(server.url(), "offline-trip"));
    writer.wait_synced().await;
    let log = writer.doc().get_or_insert_array("log");
    for i in 0..50 {
        log.push_back(&mut writer.doc().transact_mut(), i);
    }
    writer.wait_saved().await;
    writer.close().await;
    server.kill("-KILL");
    let mut server = Server::start(dir.path(), port);
    let mut config = ClientConfig::new(server.url(), "offline-trip");
    config.max_backoff = Duration::from_millis(300);
    let a = Client::connect(config);
    a.wait_synced().await;
    let log = a.doc().get_or_insert_array("log");
    assert_eq!(
        log.len(&a.doc().transact()),
        50,
        "every saved update survived SIGKILL"
    );

    // Edits while the server is away stay local...
    server.kill("-TERM");
    eventually("a notices", || a.status() != Status::Synced).await;
    for i in 50..60 {
        log.push_back(&mut a.doc().transact_mut(), i);
    }
    // ... and a "saved?" asked meanwhile is answered once they are on disk.
    let server = Server::start(dir.path(), port);
    tokio::time::timeout(Duration::from_secs(10), a.wait_saved())
        .await
        .expect("saved after reconnecting");
    a.close().await;
    let b = Client::connect(ClientConfig::new(server.url(), "offline-trip"));
    b.wait_synced().await;
    let b_log = b.doc().get_or_insert_array("log");
    assert_eq!(b_log.len(&b.doc().transact()), 60);
}
