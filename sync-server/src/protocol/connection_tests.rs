//! The protocol state machine, driven without any socket.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use yrs::encoding::read::{Cursor, Read};
use yrs::sync::protocol::{Message, SyncMessage};
use yrs::sync::Awareness;
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, Map, ReadTxn, StateVector, Text, Transact, Update};

use super::*;
use crate::protocol::messages;
use crate::protocol::{RoomDoc, RootKind};

fn decode_one(bytes: &[u8]) -> Message {
    let mut decoder = DecoderV1::from(bytes);
    Message::decode(&mut decoder).expect("server sent a valid message")
}

fn replies(effects: &[Effect]) -> Vec<Message> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Reply(b) => Some(decode_one(b)),
            _ => None,
        })
        .collect()
}

fn broadcasts(effects: &[Effect]) -> Vec<Message> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Broadcast(b) => Some(decode_one(b)),
            _ => None,
        })
        .collect()
}

/// A client document with some text; returns it and its full state as an update.
fn client_with_text(text: &str) -> (Doc, Vec<u8>) {
    let doc = Doc::new();
    let t = doc.get_or_insert_text("notes");
    t.push(&mut doc.transact_mut(), text);
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    (doc, update)
}

fn text_of(doc: &Doc) -> String {
    let txn = doc.transact();
    txn.get_text("notes")
        .map(|t| t.get_string(&txn))
        .unwrap_or_default()
}

/// 36 bytes on which `yrs::Update::decode_v1` (0.28.1) panics instead of returning an error.
const PANICKING_UPDATE: [u8; 36] = [
    1, 1, 201, 198, 195, 242, 136, 250, 249, 101, 13, 136, 201, 198, 195, 242, 136, 250, 249, 7,
    12, 1, 125, 42, 1, 201, 198, 195, 242, 136, 250, 249, 7, 1, 2, 3,
];

fn room() -> RoomDoc {
    RoomDoc::new(Doc::new())
}

#[test]
fn open_sends_step1_with_the_room_state_vector() {
    let mut room = room();
    let (_, update) = client_with_text("hello");
    room.apply(Update::decode_v1(&update).unwrap()).unwrap();
    let mut effects = Vec::new();
    DocConnection::new(true).open(&room, &mut effects);
    assert_eq!(
        replies(&effects),
        [Message::Sync(SyncMessage::SyncStep1(room.state_vector()))]
    );
}

#[test]
fn step1_is_answered_with_what_the_client_lacks() {
    let mut room = room();
    let (_, update) = client_with_text("from the room");
    room.apply(Update::decode_v1(&update).unwrap()).unwrap();

    let client = Doc::new();
    let frame = messages::sync_step1(&client.transact().state_vector());
    let mut effects = Vec::new();
    DocConnection::new(true)
        .handle_frame(&mut room, &frame, &mut effects)
        .unwrap();
    let [Message::Sync(SyncMessage::SyncStep2(diff))] = &replies(&effects)[..] else {
        panic!("expected one step 2, got {effects:?}");
    };
    client
        .transact_mut()
        .apply_update(Update::decode_v1(diff).unwrap())
        .unwrap();
    assert_eq!(text_of(&client), "from the room");
}

#[test]
fn an_update_is_applied_persisted_then_relayed() {
    let mut room = room();
    let (_, update) = client_with_text("hi");
    let mut effects = Vec::new();
    DocConnection::new(true)
        .handle_frame(&mut room, &messages::sync_update(&update), &mut effects)
        .unwrap();
    assert_eq!(text_of(room.doc()), "hi");
    assert_eq!(
        effects,
        [
            Effect::Persist(update.clone()),
            Effect::Broadcast(messages::sync_update(&update))
        ]
    );
    // Sync step 2 carries an update the same way.
    let (_, more) = client_with_text("!");
    effects.clear();
    DocConnection::new(true)
        .handle_frame(&mut room, &messages::sync_step2(&more), &mut effects)
        .unwrap();
    assert!(matches!(effects[0], Effect::Persist(_)));
    assert!(text_of(room.doc()).contains('!'));
}

#[test]
fn an_empty_update_is_neither_persisted_nor_relayed() {
    let mut room = room();
    let empty = Update::new().encode_v1();
    let mut effects = Vec::new();
    DocConnection::new(true)
        .handle_frame(&mut room, &messages::sync_step2(&empty), &mut effects)
        .unwrap();
    assert!(effects.is_empty(), "{effects:?}");
}

#[test]
fn a_read_only_connection_is_told_permission_denied_and_changes_nothing() {
    let mut room = room();
    let (_, update) = client_with_text("nope");
    let mut effects = Vec::new();
    DocConnection::new(false)
        .handle_frame(&mut room, &messages::sync_update(&update), &mut effects)
        .unwrap();
    assert_eq!(text_of(room.doc()), "");
    assert!(matches!(&replies(&effects)[..], [Message::Auth(Some(_))]));
    assert_eq!(effects.len(), 1);
}

fn awareness_frame(client: &Doc, state: &str) -> Vec<u8> {
    let mut awareness = Awareness::new(client.clone());
    awareness.set_local_state_raw(state.to_string());
    messages::awareness(&awareness.update().unwrap())
}

#[test]
fn awareness_is_relayed_answered_and_removed_on_close() {
    let mut room = room();
    let alice = Doc::new();
    let frame = awareness_frame(&alice, r#"{"user":{"name":"Alice"}}"#);
    let mut conn = DocConnection::new(true);
    let mut effects = Vec::new();
    conn.handle_frame(&mut room, &frame, &mut effects).unwrap();
    let [Message::Awareness(relayed)] = &broadcasts(&effects)[..] else {
        panic!("not relayed: {effects:?}")
    };
    assert!(relayed.clients[&alice.client_id()].json.contains("Alice"));

    // A newcomer gets Alice's state on open and on query.
    effects.clear();
    DocConnection::new(true).open(&room, &mut effects);
    let Message::Awareness(states) = &replies(&effects)[1] else {
        panic!("no awareness on open: {effects:?}")
    };
    assert!(states.clients[&alice.client_id()].json.contains("Alice"));
    effects.clear();
    DocConnection::new(true)
        .handle_frame(&mut room, &[3], &mut effects)
        .unwrap();
    assert!(matches!(&replies(&effects)[..], [Message::Awareness(_)]));

    // Closing removes it, and the others hear a null state.
    effects.clear();
    conn.close(&mut room, &mut effects);
    let [Message::Awareness(removal)] = &broadcasts(&effects)[..] else {
        panic!("no removal broadcast: {effects:?}")
    };
    assert_eq!(&*removal.clients[&alice.client_id()].json, "null");
    assert!(room.awareness_message().is_none());
}

/// An awareness frame for `client` with `clock` and the raw `json` (which need not be JSON).
fn raw_awareness_frame(client: yrs::ClientID, clock: u32, json: &str) -> Vec<u8> {
    let mut update = yrs::sync::AwarenessUpdate {
        clients: Default::default(),
    };
    update.clients.insert(
        client,
        yrs::sync::awareness::AwarenessUpdateEntry {
            clock,
            json: json.into(),
        },
    );
    messages::awareness(&update)
}

fn state_in(room: &RoomDoc, client: yrs::ClientID) -> Option<String> {
    let message = room.awareness_message()?;
    let Message::Awareness(states) = decode_one(&message) else {
        panic!("not awareness")
    };
    states.clients.get(&client).map(|e| e.json.to_string())
}

#[test]
fn presence_that_is_not_json_is_refused_to_its_sender_and_never_relayed() {
    let mut room = room();
    let mut mallory = DocConnection::new(true);
    let mut effects = Vec::new();
    let frame = raw_awareness_frame(yrs::ClientID::new(5), 1, "{not json");
    mallory
        .handle_frame(&mut room, &frame, &mut effects)
        .unwrap();
    assert!(broadcasts(&effects).is_empty(), "relayed: {effects:?}");
    assert!(
        matches!(&replies(&effects)[..], [Message::Auth(Some(reason))] if reason.contains("not JSON"))
    );
    assert_eq!(
        mallory.take_presence_refusals(),
        vec![PresenceRefusal::NotJson]
    );
    assert!(room.awareness_message().is_none());
}

#[test]
fn a_connection_cannot_rewrite_or_remove_another_s_presence_and_closes_only_its_own() {
    let mut room = room();
    let alice = Doc::new();
    let mut alice_conn = DocConnection::new(true);
    let mut effects = Vec::new();
    alice_conn
        .handle_frame(
            &mut room,
            &awareness_frame(&alice, r#"{"user":{"name":"Alice"}}"#),
            &mut effects,
        )
        .unwrap();
    let mut mallory = DocConnection::new(true);
    for json in [r#"{"user":{"name":"Mallory"}}"#, "null"] {
        effects.clear();
        let forged = raw_awareness_frame(alice.client_id(), 1000, json);
        mallory
            .handle_frame(&mut room, &forged, &mut effects)
            .unwrap();
        assert!(broadcasts(&effects).is_empty(), "relayed {json}");
        assert_eq!(
            mallory.take_presence_refusals(),
            vec![PresenceRefusal::NotYours]
        );
        assert!(state_in(&room, alice.client_id())
            .unwrap()
            .contains("Alice"));
    }
    // Alice's own next update (a low clock) still applies.
    effects.clear();
    alice_conn
        .handle_frame(
            &mut room,
            &raw_awareness_frame(alice.client_id(), 2, r#"{"user":{"name":"Alice B."}}"#),
            &mut effects,
        )
        .unwrap();
    assert!(state_in(&room, alice.client_id())
        .unwrap()
        .contains("Alice B."));
    // Mallory leaving takes nothing of Alice's with it.
    effects.clear();
    mallory.close(&mut room, &mut effects);
    assert!(effects.is_empty());
    assert!(state_in(&room, alice.client_id()).is_some());
}

#[test]
fn presence_carries_the_verified_identity() {
    let mut room = room();
    let ana = Doc::new();
    let mut conn = DocConnection::new(true).with_identity(presence::Identity {
        sub: Some("ana".into()),
        role: Some("editor".into()),
        family: Some("okafor".into()),
        is_assistant: false,
    });
    let mut effects = Vec::new();
    conn.handle_frame(
        &mut room,
        &awareness_frame(&ana, r#"{"user":{"name":"Ana"},"verified":{"sub":"root"}}"#),
        &mut effects,
    )
    .unwrap();
    let [Message::Awareness(relayed)] = &broadcasts(&effects)[..] else {
        panic!("not relayed: {effects:?}")
    };
    let state: serde_json::Value =
        serde_json::from_str(&relayed.clients[&ana.client_id()].json).unwrap();
    assert_eq!(state["verified"]["sub"], "ana");
    assert_eq!(state["user"]["name"], "Ana");
}

#[test]
fn awareness_not_renewed_expires() {
    let now = Arc::new(AtomicU64::new(1_000_000));
    let clock = {
        let now = now.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    };
    let mut room = RoomDoc::with_clock(Doc::new(), clock);
    let (alice, bob) = (Doc::new(), Doc::new());
    let mut effects = Vec::new();
    let mut conn = DocConnection::new(true);
    conn.handle_frame(&mut room, &awareness_frame(&alice, "{}"), &mut effects)
        .unwrap();
    now.fetch_add(20_000, Ordering::SeqCst);
    conn.handle_frame(&mut room, &awareness_frame(&bob, "{}"), &mut effects)
        .unwrap();
    assert!(
        room.expire_awareness(30_000).is_none(),
        "nothing is 30 s old yet"
    );
    now.fetch_add(15_000, Ordering::SeqCst);
    let message = room.expire_awareness(30_000).expect("alice expired");
    let Message::Awareness(update) = decode_one(&message) else {
        panic!()
    };
    assert_eq!(update.clients.len(), 1);
    assert_eq!(&*update.clients[&alice.client_id()].json, "null");
    let Message::Awareness(left) = decode_one(&room.awareness_message().unwrap()) else {
        panic!()
    };
    assert_eq!(left.clients.keys().collect::<Vec<_>>(), [&bob.client_id()]);
}

#[test]
fn saved_question_becomes_an_ack_effect() {
    let mut room = room();
    let mut effects = Vec::new();
    let mut frame = vec![messages::MSG_SAVED, 1, 42];
    // Two messages in one frame: an update, then the question.
    let (_, update) = client_with_text("x");
    let mut both = messages::sync_update(&update);
    both.append(&mut frame);
    DocConnection::new(true)
        .handle_frame(&mut room, &both, &mut effects)
        .unwrap();
    assert_eq!(effects.last(), Some(&Effect::AckWhenSaved(42)));
    let reply = messages::saved(42);
    let mut cursor = Cursor::new(&reply);
    assert_eq!(cursor.read_var::<u8>().unwrap(), messages::MSG_SAVED);
    assert_eq!(
        Cursor::new(cursor.read_buf().unwrap())
            .read_var::<u64>()
            .unwrap(),
        42
    );
}

#[test]
fn hostile_frames_are_refused_and_leave_the_document_alone() {
    let mut room = room();
    let (_, good) = client_with_text("keep me");
    room.apply(Update::decode_v1(&good).unwrap()).unwrap();
    let before = room.encode_state();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty frame", vec![], "empty_frame"),
        ("truncated varint", vec![0x80], "malformed_message"),
        (
            "truncated payload",
            vec![0, 2, 10, 1, 2],
            "malformed_message",
        ),
        ("unknown sync type", vec![0, 9, 0], "malformed_message"),
        ("unknown message type", vec![57, 0], "unknown_message_type"),
        (
            "garbage update",
            vec![0, 2, 4, 1, 0xff, 0xff, 0xff],
            "invalid_update",
        ),
        // Declares 2^28 clients in a 5-byte payload.
        (
            "count bomb",
            vec![0, 2, 5, 0x80, 0x80, 0x80, 0x80, 0x01],
            "invalid_update",
        ),
        (
            "awareness count bomb",
            vec![1, 5, 0xff, 0xff, 0xff, 0xff, 0x0f],
            "invalid_awareness",
        ),
        (
            "awareness garbage",
            vec![1, 3, 1, 5, 9],
            "invalid_awareness",
        ),
        (
            "bad state vector",
            vec![0, 0, 3, 5, 1, 1],
            "malformed_message",
        ),
        ("trailing garbage", vec![3, 0x80], "malformed_message"),
        // An update on which yrs' decoder panics (found by tests/fuzz_protocol.rs).
        (
            "decoder panic",
            messages::sync_update(&PANICKING_UPDATE),
            "invalid_update",
        ),
    ];
    for (name, frame, kind) in cases {
        let mut effects = Vec::new();
        let err = DocConnection::new(true)
            .handle_frame(&mut room, &frame, &mut effects)
            .expect_err(name);
        assert_eq!(err.kind(), kind, "{name}: {err}");
        assert!(!err.to_string().is_empty());
        assert!(
            effects
                .iter()
                .all(|e| !matches!(e, Effect::Persist(_) | Effect::Broadcast(_))),
            "{name}: {effects:?}"
        );
        assert_eq!(room.encode_state(), before, "{name} changed the document");
    }
    // The room still works for honest clients.
    let doc = Doc::new();
    doc.get_or_insert_map("meta")
        .insert(&mut doc.transact_mut(), "title", "Alps");
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let mut effects = Vec::new();
    DocConnection::new(true)
        .handle_frame(&mut room, &messages::sync_update(&update), &mut effects)
        .unwrap();
    assert_eq!(effects.len(), 2);
}

/// The roots the watch test edits, made before any transaction (yrs makes a root in a
/// transaction of its own).
struct Roots {
    notes: yrs::TextRef,
    chat: yrs::ArrayRef,
    activities: yrs::MapRef,
}

/// An update from a client of `client_id` built by `edit` on an empty document.
fn update_of(client_id: u64, edit: impl FnOnce(&Roots, &mut yrs::TransactionMut)) -> Vec<u8> {
    let doc = Doc::with_client_id(client_id);
    let roots = Roots {
        notes: doc.get_or_insert_text("notes"),
        chat: doc.get_or_insert_array("chat"),
        activities: doc.get_or_insert_map("activities"),
    };
    let mut txn = doc.transact_mut();
    edit(&roots, &mut txn);
    txn.encode_update_v1()
}

#[test]
fn an_update_to_a_watched_root_is_reported_and_others_are_not() {
    let mut room = RoomDoc::new(Doc::new());
    room.watch_roots(vec![
        (Arc::from("chat"), RootKind::Array),
        (Arc::from("activities"), RootKind::Map),
    ]);
    let mut connection = DocConnection::new(true);
    // Whether sending `update` through the connection reports a watched change.
    let mut watched = |room: &mut RoomDoc, update: &[u8]| {
        let mut effects = Vec::new();
        connection
            .handle_frame(room, &messages::sync_update(update), &mut effects)
            .unwrap();
        effects.contains(&Effect::WatchedChange)
    };

    // A root nobody watches.
    let notes = update_of(1, |roots, txn| roots.notes.insert(txn, 0, "hello"));
    assert!(!watched(&mut room, &notes));

    // A watched root, at the top.
    let chat = update_of(2, |roots, txn| {
        yrs::Array::push_back(&roots.chat, txn, "hi");
    });
    assert!(watched(&mut room, &chat));

    // A watched root, deep inside: a field of an activity's map.
    let nested = update_of(3, |roots, txn| {
        let hike = roots
            .activities
            .insert(txn, "hike", yrs::MapPrelim::default());
        hike.insert(txn, "title", "Lac Blanc");
    });
    assert!(watched(&mut room, &nested));

    // Nothing watched: nothing reported.
    room.watch_roots(Vec::new());
    let more = update_of(4, |roots, txn| {
        yrs::Array::push_back(&roots.chat, txn, "again");
    });
    assert!(!watched(&mut room, &more));
}
