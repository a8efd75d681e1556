//! Proposal operations: propose, reject, accept (apply every op in one transaction, or mark
//! the proposal stale with the reason when the plan changed underneath).

use yrs::{In, Map, MapPrelim, MapRef, Out, ReadTxn, Transact, TransactionMut};

use crate::convert::to_any;
use crate::trip_doc::{activity_prelim, TripDoc};
use crate::types::{EditOp, Placement};
use crate::types::{Proposal, ProposalStatus, Trip};
use crate::validate::{self, ModelError};

/// What accepting a proposal did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acceptance {
    /// Every op was applied, in one transaction.
    Applied,
    /// Nothing was applied: the plan changed since the proposal was written.
    Stale(String),
}

impl TripDoc {
    /// Writes a pending proposal. Its ops must make sense against the trip as it is now.
    pub fn propose(&self, origin: &str, id: &str, proposal: &Proposal) -> Result<(), ModelError> {
        validate::id(id)?;
        validate::name("proposal author", &proposal.author)?;
        if let Some(about) = &proposal.about {
            validate::text("proposal about", about, validate::MAX_NAME_CHARS)?;
        }
        validate::name("proposal summary", &proposal.summary)?;
        validate::text("rationale", &proposal.rationale, validate::MAX_TEXT_CHARS)?;
        let mut txn = self.doc().transact_mut_with(origin);
        let trip = crate::read::read_trip_in(&txn)
            .trip
            .ok_or(ModelError::NoTrip)?;
        if self.proposals.get(&txn, id).is_some() {
            return Err(ModelError::AlreadyExists {
                kind: "proposal",
                id: id.into(),
            });
        }
        simulate(&trip, &proposal.ops).map_err(|reason| match reason {
            Check::Invalid(e) => e,
            Check::Changed(reason) => ModelError::ProposalState {
                id: id.into(),
                status: reason,
                needed: "consistent with the plan",
            },
        })?;
        let pending = Proposal {
            status: ProposalStatus::Pending,
            decided_by: None,
            reason: None,
            ..proposal.clone()
        };
        self.proposals
            .insert(&mut txn, id, proposal_prelim(&pending));
        Ok(())
    }

    /// Rejects a pending proposal.
    pub fn reject_proposal(&self, origin: &str, id: &str, by: &str) -> Result<(), ModelError> {
        let mut txn = self.doc().transact_mut_with(origin);
        let (map, proposal) = self.proposal_in(&txn, id)?;
        if proposal.status != ProposalStatus::Pending {
            return Err(state_error(id, proposal.status, "pending"));
        }
        map.insert(&mut txn, "status", ProposalStatus::Rejected.as_str());
        map.insert(&mut txn, "decidedBy", by);
        Ok(())
    }

    /// Accepts a pending proposal on behalf of `by` and applies it at once.
    pub fn accept_proposal(
        &self,
        origin: &str,
        id: &str,
        by: &str,
    ) -> Result<Acceptance, ModelError> {
        let mut txn = self.doc().transact_mut_with(origin);
        let (map, proposal) = self.proposal_in(&txn, id)?;
        if proposal.status != ProposalStatus::Pending {
            return Err(state_error(id, proposal.status, "pending"));
        }
        map.insert(&mut txn, "decidedBy", by);
        self.apply_in(&mut txn, &map, &proposal)
    }

    /// Applies a proposal that a client marked `accepted` (any client may, a stock Yjs one
    /// included): every op in one transaction, or none and the proposal marked stale.
    pub fn apply_accepted(&self, origin: &str, id: &str) -> Result<Acceptance, ModelError> {
        let mut txn = self.doc().transact_mut_with(origin);
        let (map, proposal) = self.proposal_in(&txn, id)?;
        if proposal.status != ProposalStatus::Accepted {
            return Err(state_error(id, proposal.status, "accepted"));
        }
        self.apply_in(&mut txn, &map, &proposal)
    }

    fn apply_in(
        &self,
        txn: &mut TransactionMut,
        map: &MapRef,
        proposal: &Proposal,
    ) -> Result<Acceptance, ModelError> {
        let trip = crate::read::read_trip_in(txn)
            .trip
            .ok_or(ModelError::NoTrip)?;
        if let Err(check) = simulate(&trip, &proposal.ops) {
            let reason = match check {
                Check::Invalid(e) => format!("it no longer fits the plan: {e}"),
                Check::Changed(reason) => reason,
            };
            map.insert(txn, "status", ProposalStatus::Stale.as_str());
            map.insert(txn, "reason", reason.as_str());
            return Ok(Acceptance::Stale(reason));
        }
        for op in &proposal.ops {
            self.write_op(txn, op)?;
        }
        map.insert(txn, "status", ProposalStatus::Applied.as_str());
        Ok(Acceptance::Applied)
    }

    fn write_op(&self, txn: &mut TransactionMut, op: &EditOp) -> Result<(), ModelError> {
        match op {
            EditOp::AddActivity { id, activity } => {
                self.activities
                    .insert(txn, id.as_str(), activity_prelim(activity));
            }
            EditOp::ScheduleActivity {
                id,
                date,
                start,
                duration_min,
                ..
            } => {
                self.schedule_in(txn, id, *date, *start, *duration_min)?;
            }
            EditOp::UnscheduleActivity { id, .. } => {
                let (map, _) = self.activity_in(txn, id)?;
                map.remove(txn, "date");
                map.remove(txn, "start");
            }
            EditOp::RemoveActivity { id, .. } => {
                self.activities.remove(txn, id);
            }
            EditOp::SetDayTitle { date, title } => {
                let day = self.day_in(txn, *date);
                day.insert(txn, "title", title.as_str());
            }
            EditOp::AddPollOption { poll, id, option } => {
                let poll_map = self.entity(txn, &self.polls, "poll", poll)?;
                if let Some(Out::YMap(options)) = poll_map.get(txn, "options") {
                    options.insert(txn, id.as_str(), to_any(option));
                }
            }
        }
        Ok(())
    }

    fn proposal_in<T: ReadTxn>(&self, txn: &T, id: &str) -> Result<(MapRef, Proposal), ModelError> {
        let map = self.entity(txn, &self.proposals, "proposal", id)?;
        let proposal = self
            .read_part(txn, crate::roots::PROPOSALS, &self.proposals, Some(id))
            .proposals
            .remove(id)
            .ok_or_else(|| ModelError::NotFound {
                kind: "readable proposal",
                id: id.into(),
            })?;
        Ok((map, proposal))
    }
}

/// The Y.Map prelim of a proposal.
pub(crate) fn proposal_prelim(proposal: &Proposal) -> MapPrelim {
    let mut fields = vec![
        ("author", In::from(proposal.author.as_str())),
        ("summary", In::from(proposal.summary.as_str())),
        ("rationale", In::from(proposal.rationale.as_str())),
        ("ops", In::Any(to_any(&proposal.ops))),
        ("status", In::from(proposal.status.as_str())),
        ("createdAt", In::Any(to_any(&proposal.created_at))),
    ];
    if let Some(by) = &proposal.decided_by {
        fields.push(("decidedBy", In::from(by.as_str())));
    }
    if let Some(reason) = &proposal.reason {
        fields.push(("reason", In::from(reason.as_str())));
    }
    if let Some(about) = &proposal.about {
        fields.push(("about", In::from(about.as_str())));
    }
    MapPrelim::from_iter(fields)
}

fn state_error(id: &str, status: ProposalStatus, needed: &'static str) -> ModelError {
    ModelError::ProposalState {
        id: id.into(),
        status: status.to_string(),
        needed,
    }
}

/// Checks that `ops` apply to `trip` as it is (each op valid, each expectation met), writing
/// nothing: what `propose` checks, for ops that come from outside (a language model).
pub fn check_ops(trip: &Trip, ops: &[EditOp]) -> Result<(), String> {
    simulate(trip, ops).map_err(|e| match e {
        Check::Invalid(e) => e.to_string(),
        Check::Changed(reason) => reason,
    })
}

/// Why a proposal's ops cannot be applied to a trip.
enum Check {
    /// An op is invalid in itself or against the trip (validation error).
    Invalid(ModelError),
    /// What an op expected to find has changed.
    Changed(String),
}

/// Runs the ops on a copy of the trip, checking expectations and validity, writing nothing.
fn simulate(trip: &Trip, ops: &[EditOp]) -> Result<(), Check> {
    let mut trip = trip.clone();
    for op in ops {
        match op {
            EditOp::AddActivity { id, activity } => {
                validate::id(id).map_err(Check::Invalid)?;
                if trip.activities.contains_key(id) {
                    return Err(Check::Changed(format!("an activity {id:?} exists already")));
                }
                validate::activity(activity, &trip.meta).map_err(Check::Invalid)?;
                trip.activities.insert(id.clone(), activity.clone());
            }
            EditOp::ScheduleActivity {
                id,
                date,
                start,
                duration_min,
                expect,
            } => {
                let activity = expected(&mut trip, id, expect)?;
                activity.date = Some(*date);
                activity.start = start.or(activity.start);
                activity.duration_min = duration_min.or(activity.duration_min);
                let activity = activity.clone();
                validate::activity(&activity, &trip.meta).map_err(Check::Invalid)?;
            }
            EditOp::UnscheduleActivity { id, expect } => {
                let activity = expected(&mut trip, id, expect)?;
                activity.date = None;
                activity.start = None;
            }
            EditOp::RemoveActivity { id, expect } => {
                expected(&mut trip, id, expect)?;
                trip.activities.remove(id);
            }
            EditOp::SetDayTitle { date, title } => {
                validate::within_trip(*date, &trip.meta).map_err(Check::Invalid)?;
                validate::text("day title", title, validate::MAX_NAME_CHARS)
                    .map_err(Check::Invalid)?;
            }
            EditOp::AddPollOption { poll, id, option } => {
                validate::id(id).map_err(Check::Invalid)?;
                validate::name("option label", &option.label).map_err(Check::Invalid)?;
                let Some(current) = trip.polls.get_mut(poll) else {
                    return Err(Check::Changed(format!("poll {poll:?} is gone")));
                };
                if current.status != crate::types::PollStatus::Open {
                    return Err(Check::Changed(format!("poll {poll:?} is no longer open")));
                }
                if current.options.insert(id.clone(), option.clone()).is_some() {
                    return Err(Check::Changed(format!(
                        "poll {poll:?} has an option {id:?} already"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The activity `id`, if it is still where the proposal expects it.
fn expected<'t>(
    trip: &'t mut Trip,
    id: &str,
    expect: &Placement,
) -> Result<&'t mut crate::types::Activity, Check> {
    let Some(activity) = trip.activities.get_mut(id) else {
        return Err(Check::Changed(format!("activity {id:?} was removed")));
    };
    let now = Placement {
        date: activity.date,
        start: activity.start,
    };
    if now != *expect {
        return Err(Check::Changed(format!(
            "activity {:?} moved since the proposal was written (expected {}, found {})",
            activity.title,
            describe(expect),
            describe(&now)
        )));
    }
    Ok(activity)
}

fn describe(p: &Placement) -> String {
    match (p.date, p.start) {
        (None, _) => "an unscheduled idea".into(),
        (Some(d), None) => format!("{d}"),
        (Some(d), Some(t)) => format!("{d} {t}"),
    }
}
