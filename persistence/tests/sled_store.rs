//! The sled store on a real database on disk: log, compaction, reload, delete, listing.

use persistence::{DocStore, SledStore, TripId};
use yrs::types::ToJson;
use yrs::updates::decoder::Decode;
use yrs::{Array, Doc, GetString, Map, ReadTxn, Text, Transact, Update};

mod common;

use common::{meta, rebuild, trip};

/// Makes `n` edits on a document, each logged as its own update, and returns the document.
fn edit_and_log(store: &SledStore, id: &TripId, n: usize, doc: &Doc) {
    let text = doc.get_or_insert_text("notes");
    let map = doc.get_or_insert_map("meta");
    let array = doc.get_or_insert_array("chat");
    for i in 0..n {
        let before = doc.transact().state_vector();
        {
            let mut txn = doc.transact_mut();
            let len = text.len(&txn);
            text.insert(&mut txn, len / 2, &format!("{i} "));
            if i % 3 == 0 && len > 4 {
                text.remove_range(&mut txn, 1, 2);
            }
            map.insert(&mut txn, format!("k{}", i % 7), i as i64);
            array.push_back(&mut txn, format!("m{i}"));
        }
        let update = doc.transact().encode_state_as_update_v1(&before);
        store.append(id, &update, &meta(i as u64)).unwrap();
    }
}

fn same_content(a: &Doc, b: &Doc) {
    let ta = a.transact();
    let tb = b.transact();
    let text_a = ta.get_text("notes").unwrap().get_string(&ta);
    let text_b = tb.get_text("notes").unwrap().get_string(&tb);
    assert_eq!(text_a, text_b);
    assert_eq!(ta.state_vector(), tb.state_vector());
    assert_eq!(
        ta.get_map("meta").unwrap().to_json(&ta),
        tb.get_map("meta").unwrap().to_json(&tb)
    );
    assert_eq!(
        ta.get_array("chat").unwrap().len(&ta),
        tb.get_array("chat").unwrap().len(&tb)
    );
}

#[test]
fn nothing_stored_loads_as_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.load(&trip("nope")).unwrap().is_none());
    assert!(!store.delete(&trip("nope")).unwrap());
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn log_reloads_to_the_same_document_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let id = trip("summer");
    let doc = Doc::new();
    {
        let store = SledStore::open(dir.path()).unwrap();
        edit_and_log(&store, &id, 200, &doc);
        store.flush().unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    let stored = store.load(&id).unwrap().unwrap();
    assert!(stored.snapshot.is_none());
    assert_eq!(stored.updates.len(), 200);
    same_content(&doc, &rebuild(&stored));
}

#[test]
fn compaction_folds_the_log_and_keeps_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let id = trip("t1");
    let doc = Doc::new();
    edit_and_log(&store, &id, 300, &doc);
    let before = store.load(&id).unwrap().unwrap();
    let report = store.compact(&id).unwrap();
    assert_eq!(report.folded, 300);
    assert_eq!(report.bytes_before, before.byte_len());
    assert!(report.bytes_after < report.bytes_before, "{report:?}");
    let after = store.load(&id).unwrap().unwrap();
    assert!(after.snapshot.is_some());
    assert!(after.updates.is_empty());
    same_content(&doc, &rebuild(&after));

    // More edits after the snapshot land in the log, and a second compaction folds both.
    edit_and_log(&store, &id, 50, &doc);
    let mixed = store.load(&id).unwrap().unwrap();
    assert_eq!(mixed.updates.len(), 50);
    same_content(&doc, &rebuild(&mixed));
    assert_eq!(store.compact(&id).unwrap().folded, 50);
    same_content(&doc, &rebuild(&store.load(&id).unwrap().unwrap()));
    // Nothing left to fold.
    assert_eq!(store.compact(&id).unwrap().folded, 0);
}

#[test]
fn snapshot_keeps_the_state_vector() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let id = trip("sv");
    let doc = Doc::new();
    edit_and_log(&store, &id, 20, &doc);
    store.compact(&id).unwrap();
    let stored = store.load(&id).unwrap().unwrap();
    let update = Update::decode_v1(stored.snapshot.as_ref().unwrap()).unwrap();
    assert_eq!(update.state_vector(), doc.transact().state_vector());
}

#[test]
fn trips_are_isolated_listed_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    // "a" is a prefix of "a-b": their keys must not mix.
    let (a, ab, z) = (trip("a"), trip("a-b"), trip("z"));
    let (da, dab, dz) = (Doc::new(), Doc::new(), Doc::new());
    edit_and_log(&store, &a, 5, &da);
    edit_and_log(&store, &ab, 7, &dab);
    edit_and_log(&store, &z, 3, &dz);
    store.compact(&z).unwrap();
    let list = store.list().unwrap();
    let ids: Vec<_> = list.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["a", "a-b", "z"]);
    assert_eq!(list[0].log_len, 5);
    assert_eq!(list[1].log_len, 7);
    assert_eq!(list[2].log_len, 0);
    assert!(list.iter().all(|t| t.bytes > 0));
    assert_eq!(list[0].updated_at_ms, 1_004);
    assert_eq!(list[2].updated_at_ms, 1_002, "kept through compaction");

    assert!(store.delete(&a).unwrap());
    assert!(store.load(&a).unwrap().is_none());
    same_content(&dab, &rebuild(&store.load(&ab).unwrap().unwrap()));
    let ids: Vec<_> = store
        .list()
        .unwrap()
        .into_iter()
        .map(|t| t.id.to_string())
        .collect();
    assert_eq!(ids, ["a-b", "z"]);
}

#[test]
fn an_undecodable_stored_update_is_kept_in_the_log_and_the_rest_is_folded() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let id = trip("bad");
    let doc = Doc::new();
    edit_and_log(&store, &id, 3, &doc);
    store.append(&id, &[0xff, 0xff, 0xff], &meta(0)).unwrap();
    let report = store
        .compact(&id)
        .expect("a bad entry does not fail the compaction");
    assert_eq!(report.folded, 3);
    let stored = store.load(&id).unwrap().unwrap();
    // The unreadable entry stays on disk; the good ones are in the snapshot.
    assert_eq!(stored.updates, vec![vec![0xff, 0xff, 0xff]]);
    let loaded = Doc::new();
    let snapshot = stored.snapshot.as_deref().unwrap();
    let replayed = persistence::replay::replay(
        &loaded,
        std::iter::once(snapshot).chain(stored.updates.iter().map(Vec::as_slice)),
    );
    assert_eq!((replayed.applied, replayed.unreadable.len()), (1, 1));
    same_content(&doc, &loaded);
}

#[test]
fn concurrent_appends_during_compaction_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(SledStore::open(dir.path()).unwrap());
    let id = trip("busy");
    let doc = Doc::new();
    edit_and_log(&store, &id, 100, &doc);
    let writer = {
        let store = store.clone();
        let id = id.clone();
        let doc = doc.clone();
        std::thread::spawn(move || edit_and_log(&store, &id, 300, &doc))
    };
    for _ in 0..20 {
        store.compact(&id).unwrap();
    }
    writer.join().unwrap();
    same_content(&doc, &rebuild(&store.load(&id).unwrap().unwrap()));
}

#[test]
fn a_compacted_snapshot_squashes_typing_and_drops_deleted_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let id = trip("typing");
    let doc = Doc::new();
    let text = doc.get_or_insert_text("notes");
    // Type 3,000 characters one by one, then delete most of them, one update each.
    for i in 0..3_000u32 {
        let before = doc.transact().state_vector();
        {
            let mut txn = doc.transact_mut();
            let len = text.len(&txn);
            text.insert(&mut txn, len, if i % 10 == 9 { " " } else { "a" });
        }
        store
            .append(
                &id,
                &doc.transact().encode_state_as_update_v1(&before),
                &meta(0),
            )
            .unwrap();
    }
    for _ in 0..2_900 {
        let before = doc.transact().state_vector();
        text.remove_range(&mut doc.transact_mut(), 0, 1);
        store
            .append(
                &id,
                &doc.transact().encode_state_as_update_v1(&before),
                &meta(0),
            )
            .unwrap();
    }
    let report = store.compact(&id).unwrap();
    assert_eq!(report.folded, 5_900);
    // A document squashes consecutive characters into runs and keeps only the positions of
    // deleted ones: far smaller than the updates it came from.
    assert!(
        report.bytes_after * 20 < report.bytes_before,
        "{} bytes from {}",
        report.bytes_after,
        report.bytes_before
    );
    let stored = store.load(&id).unwrap().unwrap();
    let loaded = rebuild(&stored);
    let expected = text.get_string(&doc.transact());
    let loaded_text = loaded.get_or_insert_text("notes");
    assert_eq!(loaded_text.get_string(&loaded.transact()), expected);
}
