//! Encryption at rest on a real sled database: the bytes on disk hide the data, a wrong or
//! missing key is an error when the store opens, and keys rotate (old records stay readable,
//! `rekey` re-encrypts them so the old key can go).

use persistence::{DocStore, Keyring, SledStore, StoreError, TripId, UpdateMeta, KEY_LEN};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, ReadTxn, Text, Transact, Update};

const MARKER: &str = "Grandma-Ingrid-allergic-to-peanuts";

fn ring(keys: &[(&str, u8)]) -> Keyring {
    Keyring::new(
        keys.iter()
            .map(|(id, fill)| (id.to_string(), [*fill; KEY_LEN]))
            .collect(),
    )
    .unwrap()
}

fn meta() -> UpdateMeta {
    UpdateMeta {
        at_ms: 1,
        origin: Some("test".into()),
    }
}

/// Appends one update inserting `text` at the end of the `notes` of `doc`.
fn write(store: &SledStore, trip: &TripId, doc: &Doc, text: &str) {
    let before = doc.transact().state_vector();
    {
        let notes = doc.get_or_insert_text("notes");
        let mut txn = doc.transact_mut();
        let len = notes.len(&txn);
        notes.insert(&mut txn, len, text);
    }
    let update = doc.transact().encode_state_as_update_v1(&before);
    store.append(trip, &update, &meta()).unwrap();
}

fn notes(store: &SledStore, trip: &TripId) -> String {
    let stored = store.load(trip).unwrap().expect("the trip is stored");
    let doc = Doc::new();
    let notes = doc.get_or_insert_text("notes");
    {
        let mut txn = doc.transact_mut();
        if let Some(s) = &stored.snapshot {
            txn.apply_update(Update::decode_v1(s).unwrap()).unwrap();
        }
        for u in &stored.updates {
            txn.apply_update(Update::decode_v1(u).unwrap()).unwrap();
        }
    }
    let txn = doc.transact();
    notes.get_string(&txn)
}

/// Whether any file under `dir` contains `needle`.
fn disk_contains(dir: &std::path::Path, needle: &[u8]) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if std::fs::read(&path)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            return true;
        }
    }
    false
}

fn keys_error(result: Result<SledStore, StoreError>) -> String {
    match result {
        Err(StoreError::Keys(reason)) => reason,
        Err(other) => panic!("expected a key error, got {other}"),
        Ok(_) => panic!("expected a key error, the store opened"),
    }
}

#[test]
fn the_same_data_is_visible_on_disk_in_the_clear_and_hidden_when_encrypted() {
    // The control: without a key the marker is on disk, so the search below can find it.
    let plain_dir = tempfile::tempdir().unwrap();
    let trip = TripId::parse("fjords").unwrap();
    {
        let store = SledStore::open(plain_dir.path()).unwrap();
        write(&store, &trip, &Doc::new(), MARKER);
        store.flush().unwrap();
    }
    assert!(disk_contains(plain_dir.path(), MARKER.as_bytes()));

    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open_with_keys(dir.path(), Some(ring(&[("k1", 1)]))).unwrap();
        let doc = Doc::new();
        write(&store, &trip, &doc, MARKER);
        write(&store, &trip, &doc, " and more");
        store.compact(&trip).unwrap();
        write(&store, &trip, &doc, " after the snapshot");
        store.flush().unwrap();
        assert_eq!(
            notes(&store, &trip),
            format!("{MARKER} and more after the snapshot")
        );
    }
    assert!(!disk_contains(dir.path(), MARKER.as_bytes()));
    let store = SledStore::open_with_keys(dir.path(), Some(ring(&[("k1", 1)]))).unwrap();
    assert_eq!(
        notes(&store, &trip),
        format!("{MARKER} and more after the snapshot")
    );
}

#[test]
fn a_missing_or_wrong_key_is_an_error_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let trip = TripId::parse("t").unwrap();
    {
        let store = SledStore::open_with_keys(dir.path(), Some(ring(&[("k1", 1)]))).unwrap();
        write(&store, &trip, &Doc::new(), MARKER);
        store.flush().unwrap();
    }
    let no_key = keys_error(SledStore::open(dir.path()));
    assert!(no_key.contains("k1"), "{no_key}");
    let wrong = keys_error(SledStore::open_with_keys(
        dir.path(),
        Some(ring(&[("k1", 2)])),
    ));
    assert!(wrong.contains("wrong key"), "{wrong}");
    let other_id = keys_error(SledStore::open_with_keys(
        dir.path(),
        Some(ring(&[("k2", 2)])),
    ));
    assert!(other_id.contains("k1"), "{other_id}");
    // None of these attempts damaged anything.
    let store = SledStore::open_with_keys(dir.path(), Some(ring(&[("k1", 1)]))).unwrap();
    assert_eq!(notes(&store, &trip), MARKER);
}

#[test]
fn keys_rotate_old_records_stay_readable_and_rekey_retires_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let trip = TripId::parse("rotation").unwrap();
    let doc = Doc::new();
    {
        let store = SledStore::open_with_keys(dir.path(), Some(ring(&[("k1", 1)]))).unwrap();
        write(&store, &trip, &doc, "old ");
        store.compact(&trip).unwrap();
        write(&store, &trip, &doc, "log ");
        store.flush().unwrap();
    }
    {
        // The new key first, the old one kept for reading.
        let store =
            SledStore::open_with_keys(dir.path(), Some(ring(&[("k2", 2), ("k1", 1)]))).unwrap();
        assert_eq!(notes(&store, &trip), "old log ");
        write(&store, &trip, &doc, "new");
        assert_eq!(notes(&store, &trip), "old log new");
        store.flush().unwrap();
    }
    // Without the old key the store refuses to open: it still holds k1's records.
    let refused = keys_error(SledStore::open_with_keys(
        dir.path(),
        Some(ring(&[("k2", 2)])),
    ));
    assert!(refused.contains("k1"), "{refused}");
    {
        let store =
            SledStore::open_with_keys(dir.path(), Some(ring(&[("k2", 2), ("k1", 1)]))).unwrap();
        assert_eq!(
            store.rekey().unwrap(),
            3,
            "the snapshot and two log entries"
        );
    }
    let store = SledStore::open_with_keys(dir.path(), Some(ring(&[("k2", 2)]))).unwrap();
    assert_eq!(notes(&store, &trip), "old log new");
    assert!(!disk_contains(dir.path(), b"old log"));
}

#[test]
fn a_plain_store_can_be_encrypted_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let trip = TripId::parse("legacy").unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        write(&store, &trip, &Doc::new(), MARKER);
        store.flush().unwrap();
    }
    let store = SledStore::open_with_keys(dir.path(), Some(ring(&[("k1", 1)]))).unwrap();
    assert_eq!(notes(&store, &trip), MARKER, "plain records stay readable");
    assert_eq!(store.rekey().unwrap(), 1);
    drop(store);
    let store = SledStore::open_with_keys(dir.path(), Some(ring(&[("k1", 1)]))).unwrap();
    assert_eq!(notes(&store, &trip), MARKER);
    drop(store);
    assert!(SledStore::open(dir.path()).is_err(), "now it needs the key");
}

#[test]
fn a_record_moved_to_another_trip_does_not_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let keys = ring(&[("k1", 1)]);
    {
        let store = SledStore::open_with_keys(dir.path(), Some(keys.clone())).unwrap();
        write(&store, &TripId::parse("a").unwrap(), &Doc::new(), MARKER);
        store.flush().unwrap();
    }
    // Copy trip a's record under trip b's key with sled directly.
    {
        let db = open_sled(dir.path());
        let docs = db.open_tree("trips").unwrap();
        let (key, value) = docs.iter().next().unwrap().unwrap();
        let mut moved = b"b".to_vec();
        moved.extend_from_slice(&key[1..]);
        docs.insert(moved, value).unwrap();
        db.flush().unwrap();
    }
    let store = SledStore::open_with_keys(dir.path(), Some(keys)).unwrap();
    assert_eq!(notes(&store, &TripId::parse("a").unwrap()), MARKER);
    match store.load(&TripId::parse("b").unwrap()) {
        Err(StoreError::Encrypted { trip, .. }) => assert_eq!(trip, "b"),
        other => panic!("expected a decryption error, got {other:?}"),
    }
}

/// Opens the sled database directly. The store dropped just before may hold the directory's
/// lock for a moment (sled's flusher lets go asynchronously): a busy lock is tried again.
fn open_sled(path: &std::path::Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(e) if std::time::Instant::now() < deadline => {
                assert!(e.to_string().contains("could not acquire lock"), "{e}");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    }
}
