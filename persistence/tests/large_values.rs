//! Large trips on a real sled store: no value long enough for sled to write a blob file (a
//! power cut can take one away from under a durable log, see `chunked`), and stores of format
//! 1, which may hold blob files, migrated without losing a trip, even when the migration is cut
//! off after sled removed them.

use std::path::Path;

use persistence::{DocStore, SledStore, SnapshotRecord, StoredDoc};
use yrs::{Doc, GetString, ReadTxn, Text, Transact};

mod common;

use common::{meta, rebuild, trip};

/// A marker and `bytes` of filler: each update's text.
fn text(n: usize, bytes: usize) -> String {
    let mut text = format!("<{n}>");
    while text.len() < bytes {
        text.push(char::from(b'a' + (text.len() * 7 + n) as u8 % 26));
    }
    text
}

/// Appends `text` at the end of the document's notes; returns the update.
fn add(doc: &Doc, text: &str) -> Vec<u8> {
    let notes = doc.get_or_insert_text("notes");
    let before = doc.transact().state_vector();
    {
        let mut txn = doc.transact_mut();
        let len = notes.len(&txn);
        notes.insert(&mut txn, len, text);
    }
    doc.transact().encode_state_as_update_v1(&before)
}

/// The text of a stored trip's notes.
fn notes_of(stored: &StoredDoc) -> String {
    let doc = rebuild(stored);
    let notes = doc.get_or_insert_text("notes");
    let txn = doc.transact();
    notes.get_string(&txn)
}

/// The files in the store's `blobs/` directory.
fn blob_files(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir.join("blobs")) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_trip_of_megabytes_is_stored_without_a_blob_file_and_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let id = trip("big");
    let doc = Doc::new();
    {
        let store = SledStore::open(dir.path()).unwrap();
        for n in 0..800 {
            store
                .append(&id, &add(&doc, &text(n, 2048)), &meta(n as u64))
                .unwrap();
            if n % 100 == 99 {
                assert!(store.compact(&id).unwrap().folded > 0);
            }
        }
        // One update larger than a sled segment's quarter on its own.
        store
            .append(&id, &add(&doc, &text(800, 300 * 1024)), &meta(800))
            .unwrap();
        store.flush().unwrap();
        let stored = store.load(&id).unwrap().unwrap();
        assert!(stored.snapshot.as_ref().unwrap().len() > 1024 * 1024);
        assert_eq!(blob_files(dir.path()), Vec::<String>::new());
    }
    let store = SledStore::open(dir.path()).unwrap();
    let notes = notes_of(&store.load(&id).unwrap().unwrap());
    for n in 0..=800 {
        assert!(notes.contains(&format!("<{n}>")), "update {n} is kept");
    }
    assert_eq!(store.list().unwrap().len(), 1);
    store.compact(&id).unwrap();
    assert!(store.delete(&id).unwrap());
    assert!(store.load(&id).unwrap().is_none());
    assert!(store.list().unwrap().is_empty(), "no chunk is left behind");
}

/// Writes a store of format 1, as Caravan 0.1 did, with one trip whose snapshot is large
/// enough for sled to keep it in a blob file, and a log after it; returns the trip's notes.
fn format_1_store(dir: &Path) -> String {
    let doc = Doc::new();
    let mut big = String::new();
    for n in 0..200 {
        big.push_str(&text(n, 2048));
    }
    add(&doc, &big);
    let snapshot = SnapshotRecord {
        state: doc
            .transact()
            .encode_state_as_update_v1(&Default::default()),
        state_vector: Vec::new(),
        updated_at_ms: 1,
        compacted_at_ms: 1,
        folded_updates: 200,
    };
    let db = sled::Config::new()
        .path(dir)
        .flush_every_ms(None)
        .open()
        .unwrap();
    let docs = db.open_tree("docs").unwrap();
    let meta_tree = db.open_tree("meta").unwrap();
    meta_tree.insert(b"format", &1u32.to_be_bytes()).unwrap();
    let mut record = vec![1u8];
    rmp_serde::encode::write_named(&mut record, &snapshot).unwrap();
    docs.insert(b"old\0S", record).unwrap();
    for n in 0..3u64 {
        let update = add(&doc, &format!("[log {n}]"));
        let mut record = vec![1u8];
        let entry = persistence::UpdateRecord {
            update,
            meta: meta(n),
        };
        rmp_serde::encode::write_named(&mut record, &entry).unwrap();
        let mut key = b"old\0L".to_vec();
        key.extend_from_slice(&(n + 1).to_be_bytes());
        docs.insert(key, record).unwrap();
    }
    db.flush().unwrap();
    drop((docs, meta_tree, db));
    assert!(
        !blob_files(dir).is_empty(),
        "the format-1 store keeps its snapshot in a blob file"
    );
    let notes = doc.get_or_insert_text("notes");
    let txn = doc.transact();
    notes.get_string(&txn)
}

#[test]
fn a_format_1_store_with_blob_files_is_migrated_and_keeps_its_trip() {
    let dir = tempfile::tempdir().unwrap();
    let notes = format_1_store(dir.path());
    {
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(notes_of(&store.load(&trip("old")).unwrap().unwrap()), notes);
        store.compact(&trip("old")).unwrap();
        store.flush().unwrap();
    }
    assert!(!dir.path().join("blobs-of-format-1").exists());
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(notes_of(&store.load(&trip("old")).unwrap().unwrap()), notes);
}

/// The migration copies the blob files aside, and sled removes them as the old tree goes; a
/// power cut before the migrated store is durable leaves the old log pointing at blobs that
/// are gone (as here: aside, and removed). They are put back before sled reads its log.
#[test]
fn a_migration_cut_off_after_sled_removed_the_blob_files_puts_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let notes = format_1_store(dir.path());
    let aside = dir.path().join("blobs-of-format-1");
    std::fs::create_dir(&aside).unwrap();
    for name in blob_files(dir.path()) {
        std::fs::rename(dir.path().join("blobs").join(&name), aside.join(&name)).unwrap();
    }
    {
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(notes_of(&store.load(&trip("old")).unwrap().unwrap()), notes);
    }
    assert!(
        !aside.exists(),
        "the copies go once the migration is durable"
    );
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(notes_of(&store.load(&trip("old")).unwrap().unwrap()), notes);
}

#[test]
fn listing_trips_while_a_large_one_is_compacted_reads_each_snapshot_whole() {
    // A compaction overwrites the snapshot's chunks in place; a reader that took the
    // manifest of one snapshot and the chunks of the next would stitch a value that is
    // neither (its length or its decoding fails). Every reader holds the trip's lock.
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(SledStore::open(dir.path()).unwrap());
    let id = trip("busy");
    let doc = Doc::new();
    store
        .append(&id, &add(&doc, &text(0, 64 * 1024)), &meta(0))
        .unwrap();
    store.compact(&id).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut lists = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let trips = store.list().expect("a listing during a compaction");
                assert_eq!(trips.len(), 1);
                lists += 1;
            }
            lists
        })
    };
    for n in 1..200 {
        store
            .append(&id, &add(&doc, &text(n, 700 + n * 11)), &meta(n as u64))
            .unwrap();
        store.compact(&id).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let lists = reader.join().expect("the reader saw every snapshot whole");
    assert!(lists > 10, "the reader ran alongside ({lists} listings)");
}
