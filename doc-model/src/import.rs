//! The inverse of the JSON view: a whole [`Trip`] validated, then written into an empty
//! document in one transaction.

use yrs::{Array, In, Map, MapPrelim, TextPrelim, Transact};

use crate::convert::to_any;
use crate::trip_doc::meta::write_meta;
use crate::trip_doc::polls::poll_prelim;
use crate::trip_doc::proposals::proposal_prelim;
use crate::trip_doc::{activity_prelim, family_prelim, TripDoc};
use crate::types::{Trip, Vote};
use crate::validate::{self, ModelError};

/// One reason a trip is refused: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Invalid {
    /// Where: `activities.a1`.
    pub path: String,
    /// What.
    pub error: String,
}

/// Every problem of `trip`, not just the first.
pub fn validate_trip(trip: &Trip) -> Vec<Invalid> {
    let mut problems = Vec::new();
    let mut check = |path: String, result: Result<(), ModelError>| {
        if let Err(e) = result {
            problems.push(Invalid {
                path,
                error: e.to_string(),
            });
        }
    };
    check("meta".into(), validate::meta(&trip.meta));
    if trip.families.len() > validate::MAX_FAMILIES {
        check("families".into(), Err(ModelError::TooManyFamilies));
    }
    for (id, family) in &trip.families {
        let path = format!("families.{id}");
        check(path.clone(), validate::id(id));
        check(path, validate::family(family));
    }
    for (id, activity) in &trip.activities {
        let path = format!("activities.{id}");
        check(path.clone(), validate::id(id));
        check(path.clone(), validate::activity(activity, &trip.meta));
        for family in &activity.families {
            if !trip.families.contains_key(family) {
                check(
                    path.clone(),
                    Err(ModelError::NotFound {
                        kind: "family",
                        id: family.clone(),
                    }),
                );
            }
        }
    }
    for (date, day) in &trip.days {
        let path = format!("days.{date}");
        check(path.clone(), validate::within_trip(*date, &trip.meta));
        check(
            path.clone(),
            validate::text("day title", &day.title, validate::MAX_NAME_CHARS),
        );
        check(
            path,
            validate::text("day notes", &day.notes, validate::MAX_TEXT_CHARS),
        );
    }
    let is_member = |m: &str| trip.families.values().any(|f| f.members.contains_key(m));
    for (id, poll) in &trip.polls {
        let path = format!("polls.{id}");
        check(path.clone(), validate::id(id));
        check(path.clone(), validate::name("question", &poll.question));
        for (option_id, option) in &poll.options {
            check(
                format!("{path}.options.{option_id}"),
                validate::id(option_id),
            );
            check(
                format!("{path}.options.{option_id}"),
                validate::name("option label", &option.label),
            );
        }
        for (voter, vote) in &poll.votes {
            let vpath = format!("{path}.votes.{voter}");
            if !is_member(voter) {
                check(
                    vpath.clone(),
                    Err(ModelError::NotFound {
                        kind: "member",
                        id: voter.clone(),
                    }),
                );
            }
            let chosen: Vec<&String> = match vote {
                Vote::Single(o) => vec![o],
                Vote::Ranking(os) => os.iter().collect(),
            };
            for option in chosen {
                if !poll.options.contains_key(option) {
                    check(
                        vpath.clone(),
                        Err(ModelError::NoSuchOption {
                            poll: id.clone(),
                            option: option.clone(),
                        }),
                    );
                }
            }
        }
    }
    for (id, proposal) in &trip.proposals {
        let path = format!("proposals.{id}");
        check(path.clone(), validate::id(id));
        check(
            path.clone(),
            validate::name("proposal author", &proposal.author),
        );
        check(path, validate::name("proposal summary", &proposal.summary));
    }
    for (i, message) in trip.chat.iter().enumerate() {
        let path = format!("chat.{i}");
        check(path.clone(), validate::id(&message.id));
        check(path.clone(), validate::name("chat author", &message.author));
        check(
            path,
            validate::text("chat message", &message.text, validate::MAX_TEXT_CHARS),
        );
    }
    problems
}

impl TripDoc {
    /// Writes a whole trip into this (empty) document, in one transaction. Refused with every
    /// reason when the trip is invalid, or when the document already holds a trip.
    pub fn import(&self, origin: &str, trip: &Trip) -> Result<(), Vec<Invalid>> {
        let problems = validate_trip(trip);
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut txn = self.doc().transact_mut_with(origin);
        if self.meta.len(&txn) > 0 {
            return Err(vec![Invalid {
                path: "meta".into(),
                error: ModelError::TripExists.to_string(),
            }]);
        }
        write_meta(&self.meta, &mut txn, &trip.meta);
        for (id, family) in &trip.families {
            self.families
                .insert(&mut txn, id.as_str(), family_prelim(family));
        }
        for (id, activity) in &trip.activities {
            self.activities
                .insert(&mut txn, id.as_str(), activity_prelim(activity));
        }
        for (date, day) in &trip.days {
            let prelim = MapPrelim::from_iter([
                ("title", In::from(day.title.as_str())),
                ("notes", In::from(TextPrelim::new(day.notes.as_str()))),
            ]);
            self.days.insert(&mut txn, date.to_string(), prelim);
        }
        for (id, poll) in &trip.polls {
            self.polls.insert(&mut txn, id.as_str(), poll_prelim(poll));
        }
        for (id, proposal) in &trip.proposals {
            self.proposals
                .insert(&mut txn, id.as_str(), proposal_prelim(proposal));
        }
        for message in &trip.chat {
            self.chat.push_back(&mut txn, to_any(message));
        }
        Ok(())
    }
}

/// A whole trip as one Yjs update (lib0 v1), written into a new document through
/// [`TripDoc::import`]: what `POST /api/trips` and `caravan import` store.
pub fn encode_trip(trip: &Trip) -> Result<Vec<u8>, Vec<Invalid>> {
    use yrs::{ReadTxn, StateVector};
    let doc = yrs::Doc::new();
    TripDoc::new(doc.clone()).import("import", trip)?;
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    Ok(update)
}
