//! Forgiving reads: a document written by any client may hold missing, unknown or malformed
//! fields. Reading never panics: it returns what it could read and a list of what it skipped.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Map as JsonMap, Value};
use yrs::{Doc, ReadTxn, Transact};

use crate::convert::out_to_json;
use crate::roots;
use crate::time::FlexibleTime;
use crate::types::*;

/// Something a read had to leave out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where: `activities.a1.start`.
    pub path: String,
    /// Why: `"25:00" is not a time of day as HH:MM`.
    pub reason: String,
}

/// The result of reading a trip.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadTrip {
    /// The trip as far as it could be read; `None` when the document has no `meta` at all.
    pub trip: Option<Trip>,
    /// What was left out.
    pub skipped: Vec<Skipped>,
}

/// Reads the trip held by `doc`.
pub fn read_trip(doc: &Doc) -> ReadTrip {
    read_trip_in(&doc.transact())
}

/// Reads the trip within an open transaction.
pub fn read_trip_in<T: ReadTxn>(txn: &T) -> ReadTrip {
    let mut root = JsonMap::new();
    for name in roots::ALL {
        let value = match name {
            roots::CHAT => txn
                .get_array(name)
                .map(|a| out_to_json(txn, yrs::Out::YArray(a))),
            _ => txn
                .get_map(name)
                .map(|m| out_to_json(txn, yrs::Out::YMap(m))),
        };
        if let Some(value) = value {
            root.insert(name.to_string(), value);
        }
    }
    // Roots this model does not know are listed as skipped (not read: their type is unknown).
    for (name, _) in txn.root_refs() {
        if !roots::ALL.contains(&name) {
            root.insert(name.to_string(), Value::Null);
        }
    }
    read_json(&Value::Object(root))
}

/// Reads a trip from its JSON view, just as forgivingly as from a document.
pub fn read_json(json: &Value) -> ReadTrip {
    let mut skipped = Vec::new();
    let Some(root) = json.as_object() else {
        skipped.push(Skipped {
            path: String::new(),
            reason: "a trip is a JSON object".into(),
        });
        return ReadTrip {
            trip: None,
            skipped,
        };
    };
    let mut r = Reader {
        skipped: &mut skipped,
    };
    let Some(meta) = root
        .get(roots::META)
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    else {
        return ReadTrip {
            trip: None,
            skipped,
        };
    };
    let meta = r.meta(meta);
    let trip = Trip {
        meta,
        families: r.entities(root, roots::FAMILIES, Reader::family),
        activities: r.entities(root, roots::ACTIVITIES, Reader::activity),
        days: r
            .entities(root, roots::DAYS, Reader::day)
            .into_iter()
            .filter_map(
                |(date, day)| match NaiveDate::parse_from_str(&date, "%Y-%m-%d") {
                    Ok(date) => Some((date, day)),
                    Err(_) => {
                        r.skip(
                            format!("days.{date}"),
                            "the key is not a date as YYYY-MM-DD",
                        );
                        None
                    }
                },
            )
            .collect(),
        polls: r.entities(root, roots::POLLS, Reader::poll),
        proposals: r
            .entities(root, roots::PROPOSALS, Reader::proposal)
            .into_iter()
            .filter_map(|(id, p)| p.map(|p| (id, p)))
            .collect(),
        chat: r.chat(root.get(roots::CHAT)),
    };
    for key in root.keys() {
        if !roots::ALL.contains(&key.as_str()) {
            r.skip(key.clone(), "unknown top-level type");
        }
    }
    ReadTrip {
        trip: Some(trip),
        skipped,
    }
}

/// Reads only the meta of a trip's JSON view (`{...meta fields}`), defaulting what is bad.
pub(crate) fn read_json_meta(meta: &Value) -> Meta {
    let mut skipped = Vec::new();
    match meta.as_object() {
        Some(object) => Reader {
            skipped: &mut skipped,
        }
        .meta(object),
        None => Meta::default(),
    }
}

struct Reader<'a> {
    skipped: &'a mut Vec<Skipped>,
}

/// The fields of one object being read, with the path to report skips under.
struct Fields<'o> {
    path: String,
    object: &'o JsonMap<String, Value>,
    known: Vec<&'static str>,
}

impl<'o> Fields<'o> {
    /// The fields of `object`, reported under `path`.
    fn new(path: String, object: &'o JsonMap<String, Value>) -> Fields<'o> {
        Fields {
            path,
            object,
            known: Vec::new(),
        }
    }
}

impl Reader<'_> {
    fn skip(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            path: path.into(),
            reason: reason.into(),
        });
    }

    /// A field of type `T`: `None` when absent or null; skipped (and `None`) when malformed.
    fn field<T: DeserializeOwned>(&mut self, f: &mut Fields<'_>, key: &'static str) -> Option<T> {
        f.known.push(key);
        match f.object.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => match serde_json::from_value(value.clone()) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.skip(format!("{}.{key}", f.path), e.to_string());
                    None
                }
            },
        }
    }

    /// A time field: an RFC 3339 string or epoch milliseconds (`crate::time`).
    fn time(&mut self, f: &mut Fields<'_>, key: &'static str) -> Option<DateTime<Utc>> {
        self.field::<FlexibleTime>(f, key).map(|t| t.0)
    }

    /// A field that must be there: reported when missing or malformed, then defaulted.
    fn required<T: DeserializeOwned + Default>(
        &mut self,
        f: &mut Fields<'_>,
        key: &'static str,
    ) -> T {
        if f.object.get(key).is_none_or(Value::is_null) {
            self.skip(format!("{}.{key}", f.path), "missing");
        }
        self.field(f, key).unwrap_or_default()
    }

    /// Reports fields nobody asked for.
    fn done(&mut self, f: Fields<'_>) {
        for key in f.object.keys() {
            if !f.known.contains(&key.as_str()) {
                self.skip(format!("{}.{key}", f.path), "unknown field");
            }
        }
    }

    fn entities<T>(
        &mut self,
        root: &JsonMap<String, Value>,
        name: &'static str,
        read: fn(&mut Self, &mut Fields<'_>) -> T,
    ) -> BTreeMap<String, T> {
        let mut out = BTreeMap::new();
        let Some(value) = root.get(name) else {
            return out;
        };
        let Some(map) = value.as_object() else {
            self.skip(name, "expected a map");
            return out;
        };
        for (id, entity) in map {
            let path = format!("{name}.{id}");
            let Some(object) = entity.as_object() else {
                self.skip(path, "expected a map");
                continue;
            };
            let mut f = Fields::new(path, object);
            let value = read(self, &mut f);
            self.done(f);
            out.insert(id.clone(), value);
        }
        out
    }

    fn meta(&mut self, object: &JsonMap<String, Value>) -> Meta {
        let mut f = Fields::new(roots::META.into(), object);
        let defaults = Meta::default();
        let start_date = self.field(&mut f, "startDate");
        let meta = Meta {
            schema_version: self
                .field(&mut f, "schemaVersion")
                .unwrap_or(SCHEMA_VERSION),
            title: self.required(&mut f, "title"),
            destination: self.field(&mut f, "destination").unwrap_or_default(),
            start_date: start_date.unwrap_or(defaults.start_date),
            end_date: self
                .field(&mut f, "endDate")
                .or(start_date)
                .unwrap_or(defaults.end_date),
            timezone: self.field(&mut f, "timezone").unwrap_or(defaults.timezone),
            currency: self.field(&mut f, "currency").unwrap_or(defaults.currency),
            budget: self.field(&mut f, "budget").unwrap_or_default(),
            status: self.field(&mut f, "status").unwrap_or_default(),
        };
        self.done(f);
        meta
    }

    fn family(&mut self, f: &mut Fields<'_>) -> Family {
        let members: BTreeMap<String, Value> = self.field(f, "members").unwrap_or_default();
        let mut family = Family {
            name: self.required(f, "name"),
            color: self.field(f, "color").unwrap_or_default(),
            members: BTreeMap::new(),
            preferences: self.field(f, "preferences").unwrap_or_default(),
        };
        for (id, member) in members {
            match serde_json::from_value(member) {
                Ok(member) => {
                    family.members.insert(id, member);
                }
                Err(e) => self.skip(format!("{}.members.{id}", f.path), e.to_string()),
            }
        }
        family
    }

    fn activity(&mut self, f: &mut Fields<'_>) -> Activity {
        Activity {
            title: self.required(f, "title"),
            kind: self.field(f, "kind").unwrap_or_default(),
            date: self.field(f, "date"),
            start: self.field(f, "start"),
            duration_min: self.field(f, "durationMin"),
            location: self.field(f, "location"),
            opening_hours: self.field(f, "openingHours"),
            cost: self.field(f, "cost").unwrap_or_default(),
            cost_per: self.field(f, "costPer").unwrap_or_default(),
            families: self.field(f, "families").unwrap_or_default(),
            booking: self.field(f, "booking"),
            notes: self.field(f, "notes").unwrap_or_default(),
            created_by: self.field(f, "createdBy").unwrap_or_default(),
            order: self.field(f, "order").unwrap_or_default(),
        }
    }

    fn day(&mut self, f: &mut Fields<'_>) -> Day {
        Day {
            title: self.field(f, "title").unwrap_or_default(),
            notes: self.field(f, "notes").unwrap_or_default(),
        }
    }

    fn poll(&mut self, f: &mut Fields<'_>) -> Poll {
        let options: BTreeMap<String, Value> = self.field(f, "options").unwrap_or_default();
        let votes: BTreeMap<String, Value> = self.field(f, "votes").unwrap_or_default();
        let mut poll = Poll {
            question: self.required(f, "question"),
            kind: self.field(f, "kind").unwrap_or_default(),
            status: self.field(f, "status").unwrap_or_default(),
            closes_at: self.time(f, "closesAt"),
            created_by: self.field(f, "createdBy").unwrap_or_default(),
            wants_options: self.field(f, "wantsOptions").unwrap_or_default(),
            result: self.field(f, "result"),
            ..Poll::default()
        };
        for (id, option) in options {
            match serde_json::from_value(option) {
                Ok(option) => {
                    poll.options.insert(id, option);
                }
                Err(e) => self.skip(format!("{}.options.{id}", f.path), e.to_string()),
            }
        }
        for (voter, vote) in votes {
            match serde_json::from_value(vote) {
                Ok(vote) => {
                    poll.votes.insert(voter, vote);
                }
                Err(e) => self.skip(format!("{}.votes.{voter}", f.path), e.to_string()),
            }
        }
        poll
    }

    fn proposal(&mut self, f: &mut Fields<'_>) -> Option<Proposal> {
        let proposal = Proposal {
            author: self.required(f, "author"),
            summary: self.required(f, "summary"),
            rationale: self.field(f, "rationale").unwrap_or_default(),
            status: self.field(f, "status").unwrap_or_default(),
            decided_by: self.field(f, "decidedBy"),
            reason: self.field(f, "reason"),
            about: self.field(f, "about"),
            created_at: self.time(f, "createdAt").unwrap_or_default(),
            // Ops are all or nothing: a proposal whose ops cannot be read cannot be applied.
            ops: self.field(f, "ops")?,
        };
        Some(proposal)
    }

    fn chat(&mut self, value: Option<&Value>) -> Vec<ChatMessage> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(items) = value.as_array() else {
            self.skip(roots::CHAT, "expected an array");
            return Vec::new();
        };
        let mut messages = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("chat.{i}");
            let Some(object) = item.as_object() else {
                self.skip(path, "expected a map");
                continue;
            };
            let mut f = Fields::new(path, object);
            // Field by field: a field of the wrong type costs that field, not the message. A
            // message without its id, author, text or time is not a message.
            let id: Option<String> = self.field(&mut f, "id");
            let author: Option<String> = self.field(&mut f, "author");
            let text: Option<String> = self.field(&mut f, "text");
            let at = self.time(&mut f, "at");
            let mentions = self.field(&mut f, "mentions").unwrap_or_default();
            let reply_to = self.field(&mut f, "replyTo");
            let path = f.path.clone();
            self.done(f);
            match (id, author, text, at) {
                (Some(id), Some(author), Some(text), Some(at)) => messages.push(ChatMessage {
                    id,
                    author,
                    text,
                    at,
                    mentions,
                    reply_to,
                }),
                _ => self.skip(
                    path,
                    "a chat message needs an id, an author, a text and a time",
                ),
            }
        }
        messages
    }
}
