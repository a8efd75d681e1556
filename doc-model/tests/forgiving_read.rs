//! Reading never panics, whatever another client wrote: it returns the trip it could read and
//! a list of what it skipped.

use doc_model::*;
use yrs::{Any, Array, Doc, In, Map, MapPrelim, Transact};

#[test]
fn missing_unknown_and_malformed_fields_are_skipped_and_listed() {
    let doc = Doc::new();
    let meta = doc.get_or_insert_map("meta");
    let activities = doc.get_or_insert_map("activities");
    let days = doc.get_or_insert_map("days");
    let chat = doc.get_or_insert_array("chat");
    let families = doc.get_or_insert_map("families");
    let polls = doc.get_or_insert_map("polls");
    let stranger = doc.get_or_insert_map("somethingElse");
    {
        let mut txn = doc.transact_mut();
        meta.insert(&mut txn, "title", "Messy trip");
        meta.insert(&mut txn, "startDate", "2027-07-10");
        meta.insert(&mut txn, "endDate", "not a date");
        meta.insert(&mut txn, "budget", "lots");
        meta.insert(&mut txn, "currency", "EUR");
        meta.insert(&mut txn, "mood", "great");
        activities.insert(
            &mut txn,
            "good",
            MapPrelim::from_iter([("title", In::from("Museum")), ("start", In::from("10:00"))]),
        );
        activities.insert(
            &mut txn,
            "bad",
            MapPrelim::from_iter([
                ("title", In::from(42i64)),
                ("start", In::from("25:00")),
                ("kind", In::from("party")),
                ("cost", In::from(-5i64)),
                ("location", In::from("somewhere")),
            ]),
        );
        activities.insert(&mut txn, "flat", "just a string");
        days.insert(
            &mut txn,
            "tuesday",
            MapPrelim::from_iter([("title", In::from("x"))]),
        );
        chat.push_back(&mut txn, "not an object");
        chat.push_back(
            &mut txn,
            Any::from_json(r#"{"id":"m1","author":"a","text":"hi","at":"2027-06-01T10:00:00Z"}"#)
                .unwrap(),
        );
        families.insert(
            &mut txn,
            "f",
            MapPrelim::from_iter([
                ("name", In::from("Smiths")),
                (
                    "members",
                    In::Map(MapPrelim::from_iter([
                        (
                            "ok",
                            In::Any(
                                Any::from_json(r#"{"name":"Ann","ageGroup":"adult"}"#).unwrap(),
                            ),
                        ),
                        (
                            "bad",
                            In::Any(
                                Any::from_json(r#"{"name":"Bo","ageGroup":"toddler"}"#).unwrap(),
                            ),
                        ),
                    ])),
                ),
            ]),
        );
        polls.insert(
            &mut txn,
            "p",
            MapPrelim::from_iter([
                ("question", In::from("Where?")),
                (
                    "votes",
                    In::Any(Any::from_json(r#"{"ann": "o1", "bo": {"x": 1}}"#).unwrap()),
                ),
            ]),
        );
        stranger.insert(&mut txn, "x", 1i64);
    }

    let read = read_trip(&doc);
    let trip = read.trip.expect("a trip is still read");
    let paths: Vec<&str> = read.skipped.iter().map(|s| s.path.as_str()).collect();
    for expected in [
        "meta.endDate",
        "meta.budget",
        "meta.mood",
        "activities.bad.title",
        "activities.bad.start",
        "activities.bad.kind",
        "activities.bad.cost",
        "activities.bad.location",
        "activities.flat",
        "days.tuesday",
        "chat.0",
        "families.f.members.bad",
        "polls.p.votes.bo",
        "somethingElse",
    ] {
        assert!(paths.contains(&expected), "{expected} not in {paths:?}");
    }
    assert!(
        !paths.iter().any(|p| p.starts_with("activities.good")),
        "{paths:?}"
    );
    // What could be read is there.
    assert_eq!(trip.meta.title, "Messy trip");
    assert_eq!(
        trip.meta.end_date, trip.meta.start_date,
        "a bad end date falls back to the start"
    );
    assert_eq!(trip.activities["good"].start.unwrap().to_string(), "10:00");
    assert_eq!(trip.activities["bad"].start, None);
    assert!(!trip.activities.contains_key("flat"));
    assert_eq!(trip.chat.len(), 1);
    assert_eq!(trip.families["f"].members.len(), 1);
    assert_eq!(trip.polls["p"].votes.len(), 1);
    // Each reason says what was wrong.
    let start = read
        .skipped
        .iter()
        .find(|s| s.path == "activities.bad.start")
        .unwrap();
    assert!(start.reason.contains("25:00"), "{}", start.reason);
}

#[test]
fn arbitrary_json_never_panics() {
    for text in [
        "null",
        "[]",
        "42",
        r#"{"meta": 1}"#,
        r#"{"meta": {}}"#,
        r#"{"meta": {"title": "x"}, "activities": []}"#,
        r#"{"meta": {"title": "x"}, "chat": {"a": 1}, "polls": {"p": {"options": 5}}}"#,
        r#"{"meta": {"title": "x"}, "proposals": {"p": {"author": "a", "summary": "s", "ops": [{"op": "explode"}]}}}"#,
    ] {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let _ = read_json(&value);
    }
    let proposals = read_json(
        &serde_json::from_str(
            r#"{"meta": {"title": "x"}, "proposals": {"p": {"author": "a", "summary": "s", "ops": [{"op": "explode"}]}}}"#,
        )
        .unwrap(),
    );
    assert!(
        proposals.trip.unwrap().proposals.is_empty(),
        "a proposal with unreadable ops is left out"
    );
    assert!(proposals
        .skipped
        .iter()
        .any(|s| s.path == "proposals.p.ops"));
}
