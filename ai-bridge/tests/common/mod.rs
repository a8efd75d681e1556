//! Helpers shared by the assistant's tests: the sample trip in a document, and a message.

#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use doc_model::{ChatMessage, Trip, TripDoc};

/// The first day of the sample trip in these tests.
pub fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 7, 1).unwrap()
}

/// The time of the tests: a month before the trip.
pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 6, 1, 12, 0, 0).unwrap()
}

/// The sample trip in a fresh document, its sample chat left out.
pub fn sample_doc() -> TripDoc {
    let mut trip = doc_model::sample::sample_trip(start());
    trip.chat.clear();
    trip.proposals.clear();
    trip.polls.clear();
    let doc = TripDoc::new(yrs::Doc::new());
    doc.import("test", &trip).unwrap();
    doc
}

/// The trip a document holds.
pub fn read(doc: &TripDoc) -> Trip {
    doc.read().trip.unwrap()
}

/// Claire posts `text` as message `id`.
pub fn say(doc: &TripDoc, id: &str, text: &str) {
    doc.post_chat(
        "claire",
        &ChatMessage {
            id: id.into(),
            author: "claire".into(),
            text: text.into(),
            at: now(),
            mentions: vec![],
            reply_to: None,
        },
    )
    .unwrap();
}
