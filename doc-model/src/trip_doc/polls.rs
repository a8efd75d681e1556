//! Poll operations: open, add options, vote, close (with the tally stored in `result`).

use std::collections::BTreeMap;

use yrs::{In, Map, MapPrelim, MapRef, Out, ReadTxn, Transact};

use crate::convert::to_any;
use crate::tally::{tally, Tally, Weighting};
use crate::trip_doc::TripDoc;
use crate::types::{Poll, PollKind, PollOption, PollStatus, Vote};
use crate::validate::{self, ModelError};

/// What opening a poll needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewPoll {
    /// The question.
    pub question: String,
    /// Single choice or ranking.
    pub kind: PollKind,
    /// Options by id (may be empty when the assistant is asked for options).
    pub options: BTreeMap<String, PollOption>,
    /// When voting ends.
    pub closes_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who opens it.
    pub created_by: String,
    /// Whether the assistant is asked to suggest options.
    pub wants_options: bool,
}

fn option_checks(id: &str, option: &PollOption) -> Result<(), ModelError> {
    validate::id(id)?;
    validate::name("option label", &option.label)?;
    validate::text("option details", &option.details, validate::MAX_TEXT_CHARS)
}

impl TripDoc {
    /// Opens a poll.
    pub fn open_poll(&self, origin: &str, id: &str, poll: &NewPoll) -> Result<(), ModelError> {
        validate::id(id)?;
        validate::name("question", &poll.question)?;
        for (option_id, option) in &poll.options {
            option_checks(option_id, option)?;
        }
        let mut txn = self.doc().transact_mut_with(origin);
        self.meta_in(&txn)?;
        if self.polls.get(&txn, id).is_some() {
            return Err(ModelError::AlreadyExists {
                kind: "poll",
                id: id.into(),
            });
        }
        let poll = Poll {
            question: poll.question.clone(),
            kind: poll.kind,
            options: poll.options.clone(),
            votes: BTreeMap::new(),
            status: PollStatus::Open,
            closes_at: poll.closes_at,
            created_by: poll.created_by.clone(),
            wants_options: poll.wants_options,
            result: None,
        };
        self.polls.insert(&mut txn, id, poll_prelim(&poll));
        Ok(())
    }

    /// Adds an option to an open poll.
    pub fn add_poll_option(
        &self,
        origin: &str,
        poll: &str,
        id: &str,
        option: &PollOption,
    ) -> Result<(), ModelError> {
        option_checks(id, option)?;
        let mut txn = self.doc().transact_mut_with(origin);
        let (map, current) = self.poll_in(&txn, poll)?;
        if current.status != PollStatus::Open {
            return Err(ModelError::PollNotOpen(poll.into()));
        }
        if current.options.contains_key(id) {
            return Err(ModelError::AlreadyExists {
                kind: "poll option",
                id: id.into(),
            });
        }
        sub_map(&map, &txn, "options", poll)?.insert(&mut txn, id, to_any(option));
        Ok(())
    }

    /// Records (or replaces) the vote of member `voter`.
    pub fn vote(
        &self,
        origin: &str,
        poll: &str,
        voter: &str,
        vote: &Vote,
    ) -> Result<(), ModelError> {
        let mut txn = self.doc().transact_mut_with(origin);
        let (map, current) = self.poll_in(&txn, poll)?;
        let trip = crate::read::read_trip_in(&txn)
            .trip
            .ok_or(ModelError::NoTrip)?;
        if !trip
            .families
            .values()
            .any(|f| f.members.contains_key(voter))
        {
            return Err(ModelError::NotFound {
                kind: "member",
                id: voter.into(),
            });
        }
        if current.status != PollStatus::Open {
            return Err(ModelError::PollNotOpen(poll.into()));
        }
        let chosen: Vec<&String> = match (current.kind, vote) {
            (PollKind::Single, Vote::Single(option)) => vec![option],
            (PollKind::Ranked, Vote::Ranking(options)) => {
                let mut seen = std::collections::BTreeSet::new();
                if options.is_empty() || !options.iter().all(|o| seen.insert(o)) {
                    return Err(ModelError::BadRanking);
                }
                options.iter().collect()
            }
            (PollKind::Single, Vote::Ranking(_)) => {
                return Err(ModelError::WrongVoteKind {
                    poll: poll.into(),
                    kind: "single choice",
                    hint: "vote for one option",
                })
            }
            (PollKind::Ranked, Vote::Single(_)) => {
                return Err(ModelError::WrongVoteKind {
                    poll: poll.into(),
                    kind: "ranked",
                    hint: "rank the options, best first",
                })
            }
        };
        for option in chosen {
            if !current.options.contains_key(option) {
                return Err(ModelError::NoSuchOption {
                    poll: poll.into(),
                    option: option.clone(),
                });
            }
        }
        sub_map(&map, &txn, "votes", poll)?.insert(&mut txn, voter, to_any(vote));
        Ok(())
    }

    /// Tallies a poll as it stands (open or not), without writing anything.
    pub fn tally(&self, poll: &str, weighting: Weighting) -> Result<Tally, ModelError> {
        let txn = self.doc().transact();
        let (_, current) = self.poll_in(&txn, poll)?;
        let trip = crate::read::read_trip_in(&txn)
            .trip
            .ok_or(ModelError::NoTrip)?;
        Ok(tally(&trip, &current, weighting))
    }

    /// Closes an open poll and stores its tally in `result`.
    pub fn close_poll(
        &self,
        origin: &str,
        poll: &str,
        weighting: Weighting,
    ) -> Result<Tally, ModelError> {
        let mut txn = self.doc().transact_mut_with(origin);
        let (map, current) = self.poll_in(&txn, poll)?;
        if current.status != PollStatus::Open {
            return Err(ModelError::PollNotOpen(poll.into()));
        }
        let trip = crate::read::read_trip_in(&txn)
            .trip
            .ok_or(ModelError::NoTrip)?;
        let result = tally(&trip, &current, weighting);
        map.insert(&mut txn, "status", PollStatus::Closed.as_str());
        map.insert(&mut txn, "result", to_any(&result));
        Ok(result)
    }

    fn poll_in<T: ReadTxn>(&self, txn: &T, id: &str) -> Result<(MapRef, Poll), ModelError> {
        let map = self.entity(txn, &self.polls, "poll", id)?;
        let poll = self
            .read_part(txn, crate::roots::POLLS, &self.polls, Some(id))
            .polls
            .remove(id)
            .unwrap_or_default();
        Ok((map, poll))
    }
}

/// The Y.Map prelim of a poll: `options` and `votes` are shared maps, so options added and
/// votes cast at once by several people are all kept.
pub(crate) fn poll_prelim(poll: &Poll) -> MapPrelim {
    let options: MapPrelim = poll
        .options
        .iter()
        .map(|(k, v)| (k.as_str(), In::Any(to_any(v))))
        .collect();
    let votes: MapPrelim = poll
        .votes
        .iter()
        .map(|(k, v)| (k.as_str(), In::Any(to_any(v))))
        .collect();
    let mut fields = vec![
        ("question", In::from(poll.question.as_str())),
        ("kind", In::from(poll.kind.as_str())),
        ("options", In::Map(options)),
        ("votes", In::Map(votes)),
        ("status", In::from(poll.status.as_str())),
        ("createdBy", In::from(poll.created_by.as_str())),
        ("wantsOptions", In::from(poll.wants_options)),
    ];
    if let Some(at) = poll.closes_at {
        fields.push(("closesAt", In::Any(to_any(&at))));
    }
    if let Some(result) = &poll.result {
        fields.push(("result", In::Any(to_any(result))));
    }
    MapPrelim::from_iter(fields)
}

fn sub_map<T: ReadTxn>(poll: &MapRef, txn: &T, key: &str, id: &str) -> Result<MapRef, ModelError> {
    match poll.get(txn, key) {
        Some(Out::YMap(map)) => Ok(map),
        _ => Err(ModelError::NotFound {
            kind: "poll with a shared map of",
            id: format!("{id}.{key}"),
        }),
    }
}
