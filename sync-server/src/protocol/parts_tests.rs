//! The part-touch analysis on real yrs updates of a trip's shape (`docs/schema.md`).

use super::*;
use yrs::types::ToJson;
use yrs::{Array, ArrayPrelim, Map, MapPrelim, MapRef, Text, TextPrelim, TransactionMut};

/// A server's copy of a trip and its index, and a client synced with it.
struct Trip {
    server: Doc,
    index: PartIndex,
    client: Doc,
}

impl Trip {
    /// A trip with one activity (`a1`, a title and a date), one poll (`p1`, with votes and
    /// options), a day with notes, and a chat message, written by client 1.
    fn new() -> Trip {
        let server = Doc::with_client_id(1);
        {
            let meta = server.get_or_insert_map("meta");
            let activities = server.get_or_insert_map("activities");
            let polls = server.get_or_insert_map("polls");
            let days = server.get_or_insert_map("days");
            let chat = server.get_or_insert_array("chat");
            let mut txn = server.transact_mut();
            meta.insert(&mut txn, "title", "Alps");
            meta.insert(&mut txn, "status", "planning");
            let a1: MapRef = activities.insert(&mut txn, "a1", MapPrelim::default());
            a1.insert(&mut txn, "title", "Lac Blanc hike");
            a1.insert(&mut txn, "date", "2027-01-02");
            let p1: MapRef = polls.insert(&mut txn, "p1", MapPrelim::default());
            p1.insert(&mut txn, "question", "Dinner?");
            let votes: MapRef = p1.insert(&mut txn, "votes", MapPrelim::default());
            votes.insert(&mut txn, "ana", "o1");
            p1.insert(&mut txn, "options", ArrayPrelim::default());
            let day: MapRef = days.insert(&mut txn, "2027-01-02", MapPrelim::default());
            let notes = day.insert(&mut txn, "notes", TextPrelim::new("bring boots"));
            notes.insert(&mut txn, 0, "Please ");
            chat.push_back(&mut txn, yrs::any!({"id": "m1", "text": "hello"}));
        }
        let index = PartIndex::of_doc(&server);
        let client = Doc::with_client_id(2);
        sync(&server, &client);
        Trip {
            server,
            index,
            client,
        }
    }

    /// What the client's edit `edit` would touch on the server, as a yjs client sends it (the
    /// transaction's own update); then the server applies it and records it.
    fn edit(&mut self, edit: impl FnOnce(&mut TransactionMut)) -> Analysis {
        let update = {
            let mut txn = self.client.transact_mut();
            edit(&mut txn);
            txn.encode_update_v1()
        };
        self.receive(&update)
    }

    /// Analyses `update` against the server, then applies and records it.
    fn receive(&mut self, update: &[u8]) -> Analysis {
        let known = self.server.transact().state_vector();
        let decoded = Update::decode_v1(update).unwrap();
        let analysis = self.index.analyze(update, &decoded, &known).unwrap();
        self.server
            .transact_mut()
            .apply_update(Update::decode_v1(update).unwrap())
            .unwrap();
        self.index.record(&analysis, &decoded);
        analysis
    }
}

/// Brings `to` up to date with `from`.
fn sync(from: &Doc, to: &Doc) {
    let diff = from
        .transact()
        .encode_state_as_update_v1(&to.transact().state_vector());
    to.transact_mut()
        .apply_update(Update::decode_v1(&diff).unwrap())
        .unwrap();
}

fn map(txn: &TransactionMut, root: &str, path: &[&str]) -> MapRef {
    let mut current = root_map(txn, root);
    for key in path {
        current = current
            .get(txn, key)
            .and_then(|v| v.cast::<MapRef>().ok())
            .expect("a nested map");
    }
    current
}

/// A root map of the document `txn` writes (a root cannot be made while a transaction is open).
fn root_map(txn: &TransactionMut, name: &str) -> MapRef {
    txn.get_map(name).expect("the trip has this root")
}

/// The parts touched, by name, sorted.
fn touched(analysis: &Analysis) -> Vec<String> {
    analysis.touched.iter().map(|p| part_name(p)).collect()
}

#[test]
fn a_field_set_touches_that_field_only() {
    let mut trip = Trip::new();
    let analysis = trip.edit(|txn| {
        map(txn, "activities", &["a1"]).insert(txn, "date", "2027-01-03");
    });
    assert_eq!(touched(&analysis), ["activities/a1/date"]);
    assert!(!analysis.unknown);
    // A field set again has the last value as its origin, and still lives there.
    let again = trip.edit(|txn| {
        map(txn, "activities", &["a1"]).insert(txn, "date", "2027-01-04");
    });
    assert_eq!(touched(&again), ["activities/a1/date"]);
}

#[test]
fn a_vote_touches_the_voter_s_ballot_and_nothing_else() {
    let mut trip = Trip::new();
    let analysis = trip.edit(|txn| {
        map(txn, "polls", &["p1", "votes"]).insert(txn, "ben", "o2");
    });
    assert_eq!(touched(&analysis), ["polls/p1/votes/ben"]);
    // Changing someone else's vote touches theirs.
    let other = trip.edit(|txn| {
        map(txn, "polls", &["p1", "votes"]).insert(txn, "ana", "o3");
    });
    assert_eq!(touched(&other), ["polls/p1/votes/ana"]);
}

#[test]
fn a_new_entity_touches_its_own_path_and_each_field() {
    let mut trip = Trip::new();
    let analysis = trip.edit(|txn| {
        let activities = root_map(txn, "activities");
        let a2: MapRef = activities.insert(txn, "a2", MapPrelim::default());
        a2.insert(txn, "title", "Museum");
        a2.insert(txn, "kind", "sight");
    });
    assert_eq!(
        touched(&analysis),
        ["activities/a2", "activities/a2/kind", "activities/a2/title"]
    );
}

#[test]
fn deleting_an_entity_or_a_field_touches_what_is_deleted() {
    let mut trip = Trip::new();
    let field = trip.edit(|txn| {
        map(txn, "activities", &["a1"]).remove(txn, "date");
    });
    assert_eq!(touched(&field), ["activities/a1/date"]);
    let whole = trip.edit(|txn| {
        root_map(txn, "activities").remove(txn, "a1");
    });
    // Deleting a nested map deletes what it holds (the date was deleted before).
    assert_eq!(touched(&whole), ["activities/a1", "activities/a1/title"]);
    assert!(!whole.unknown);
}

#[test]
fn typing_in_a_nested_text_touches_that_text_wherever_it_is_typed() {
    let mut trip = Trip::new();
    let analysis = trip.edit(|txn| {
        let day = map(txn, "days", &["2027-01-02"]);
        let notes = day
            .get(txn, "notes")
            .and_then(|v| v.cast::<yrs::TextRef>().ok())
            .unwrap();
        notes.insert(txn, 3, "ase, p");
        notes.push(txn, " and 🧦");
        notes.remove_range(txn, 0, 2);
    });
    assert_eq!(touched(&analysis), ["days/2027-01-02/notes"]);
    assert!(!analysis.unknown);
    // Keystroke after keystroke by one client stays one span per path.
    let spans = trip.index.span_count();
    for c in ["a", "b", "c", "d", "e"] {
        trip.edit(|txn| {
            let notes = map(txn, "days", &["2027-01-02"])
                .get(txn, "notes")
                .and_then(|v| v.cast::<yrs::TextRef>().ok())
                .unwrap();
            let len = notes.len(txn);
            notes.insert(txn, len, c);
        });
    }
    assert!(
        trip.index.span_count() <= spans + 1,
        "{}",
        trip.index.span_count()
    );
}

#[test]
fn a_chat_message_touches_chat_and_several_edits_touch_each_part() {
    let mut trip = Trip::new();
    let analysis = trip.edit(|txn| {
        txn.get_array("chat").unwrap().push_back(
            txn,
            yrs::any!({"id": "m2", "text": "@assistant plan day 3"}),
        );
        root_map(txn, "meta").insert(txn, "status", "booked");
    });
    assert_eq!(touched(&analysis), ["chat", "meta/status"]);
}

#[test]
fn what_the_server_already_has_is_no_touch() {
    let mut trip = Trip::new();
    trip.edit(|txn| {
        root_map(txn, "activities").remove(txn, "a1");
    });
    // A client that was offline resends everything on reconnect (sync step 2): the whole
    // state, with a delete set that holds what was deleted before.
    let offline = Doc::with_client_id(3);
    sync(&trip.server, &offline);
    let everything = offline
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let analysis = trip.receive(&everything);
    assert!(touched(&analysis).is_empty(), "{:?}", touched(&analysis));
    assert!(!analysis.unknown);
}

#[test]
fn an_update_that_needs_what_the_trip_lacks_is_unknown() {
    let mut trip = Trip::new();
    // Client 2 writes twice; the server gets only the second update, whose block follows
    // (has as origin) a block of the first.
    let first = {
        let mut txn = trip.client.transact_mut();
        map(&txn, "activities", &["a1"]).insert(&mut txn, "title", "first");
        txn.encode_update_v1()
    };
    let second = {
        let mut txn = trip.client.transact_mut();
        map(&txn, "activities", &["a1"]).insert(&mut txn, "title", "second");
        txn.encode_update_v1()
    };
    let analysis = trip.receive(&second);
    assert!(analysis.unknown);
    assert!(trip.index.is_stale());
    // Once the first arrives, yrs integrates both; the index, built again, places both.
    trip.receive(&first);
    trip.index = PartIndex::of_doc(&trip.server);
    let title = trip.edit(|txn| {
        map(txn, "activities", &["a1"]).remove(txn, "title");
    });
    assert_eq!(touched(&title), ["activities/a1/title"]);
    assert!(!title.unknown);
}

#[test]
fn an_index_built_from_a_document_places_what_was_recorded_one_update_at_a_time() {
    let mut trip = Trip::new();
    trip.edit(|txn| {
        map(txn, "polls", &["p1", "votes"]).insert(txn, "ben", "o2");
        let activities = root_map(txn, "activities");
        let a2: MapRef = activities.insert(txn, "a2", MapPrelim::default());
        a2.insert(txn, "title", "Museum");
    });
    let rebuilt = PartIndex::of_doc(&trip.server);
    // The same deletion, analysed against both, touches the same parts.
    let update = {
        let mut txn = trip.client.transact_mut();
        map(&txn, "polls", &["p1", "votes"]).remove(&mut txn, "ben");
        root_map(&txn, "activities").remove(&mut txn, "a2");
        txn.encode_update_v1()
    };
    let known = trip.server.transact().state_vector();
    let decoded = Update::decode_v1(&update).unwrap();
    let by_updates = trip.index.analyze(&update, &decoded, &known).unwrap();
    let by_doc = rebuilt.analyze(&update, &decoded, &known).unwrap();
    assert_eq!(
        touched(&by_updates),
        ["activities/a2", "activities/a2/title", "polls/p1/votes/ben"]
    );
    assert_eq!(touched(&by_doc), touched(&by_updates));
    // The trip read back is what the client wrote (the analysis changed nothing).
    let meta = trip.server.get_or_insert_map("meta");
    let meta = meta.to_json(&trip.server.transact());
    assert!(format!("{meta:?}").contains("Alps"));
}
