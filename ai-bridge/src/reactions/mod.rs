//! What the assistant does with a trip, free of I/O: [`Assistant::step`] reads the trip, reacts,
//! and writes its reactions through `doc_model` (origin `assistant`). The runner calls it
//! whenever the trip changed (and now and then, for poll deadlines); the tests call it on a
//! plain document.
//!
//! Every reaction is recorded in the trip itself, so the assistant never reacts twice to the
//! same thing, also after a restart:
//! - a chat message is answered by a message with `replyTo` = its id;
//! - a poll that wants options gets options marked `aiGenerated` (or a note `replyTo:
//!   poll:ID` when the trip has no idea that fits);
//! - a closed poll gets a note `replyTo: result:ID`, and a proposal `about: poll:ID` when its
//!   winner can be scheduled;
//! - a conflict gets a proposal `about: conflict:KIND:IDS`, once, whatever becomes of it;
//! - a trip that is over gets its recap, a message with `replyTo: recap:trip`.
//!
//! Accepted proposals are applied (or marked stale) by `doc_model::TripDoc::apply_accepted`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use doc_model::{ChatMessage, ModelError, Proposal, ProposalStatus, Trip, TripDoc};

use crate::planner::PlannerConfig;

mod accepted_proposals;
mod chat_answers;
mod chat_facts;
mod conflict_fixes;
mod poll_deadlines;
mod poll_options;
mod poll_results;
mod trip_recap;

pub use crate::identity::ASSISTANT;

/// What one step did, for logs, metrics and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Chat messages answered.
    pub answered: Vec<String>,
    /// Proposals written.
    pub proposed: Vec<String>,
    /// Accepted proposals applied.
    pub applied: Vec<String>,
    /// Accepted proposals found stale.
    pub stale: Vec<String>,
    /// Polls given options.
    pub options_for: Vec<String>,
    /// Polls closed (deadline passed) or tallied.
    pub tallied: Vec<String>,
    /// Chat requests for the language model: the runner asks it, then calls
    /// [`Assistant::finish_job`].
    pub jobs: Vec<LlmJob>,
}

/// A chat request that waits for the language model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LlmJob {
    /// The message's id.
    pub message_id: String,
    /// Who asked.
    pub user: String,
    /// What they asked.
    pub text: String,
    /// What the built-in understanding read in it (`language::Understood::describe`), for the
    /// model as context.
    pub understood: String,
}

impl StepReport {
    /// True when the step wrote nothing.
    pub fn is_empty(&self) -> bool {
        *self == StepReport::default()
    }
}

/// The assistant's reactions to one trip.
pub struct Assistant {
    config: PlannerConfig,
    next_id: u64,
    /// Distinguishes this assistant's ids from another run's.
    run: String,
    /// Whether chat requests go to a language model (as [`LlmJob`]s) first.
    use_model: bool,
    /// Jobs handed out and not finished.
    in_flight: BTreeSet<String>,
}

impl Assistant {
    /// An assistant with the planner's default settings.
    pub fn new() -> Assistant {
        Assistant::with_config(PlannerConfig::default())
    }

    /// An assistant with these planner settings.
    pub fn with_config(config: PlannerConfig) -> Assistant {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Assistant {
            config,
            next_id: 0,
            run: format!("{:x}", nanos % 0xffff_ffff_ffff),
            use_model: false,
            in_flight: BTreeSet::new(),
        }
    }

    /// Sends chat requests to a language model first (see [`StepReport::jobs`]).
    pub fn with_model(mut self) -> Assistant {
        self.use_model = true;
        self
    }

    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}-{}", self.run, self.next_id)
    }

    /// Reads the trip and reacts to everything not yet reacted to. A trip that does not read
    /// (no trip in the document yet) is left alone.
    pub fn step(&mut self, doc: &TripDoc, now: DateTime<Utc>) -> Result<StepReport, ModelError> {
        let mut report = StepReport::default();
        let Some(trip) = doc.read().trip else {
            return Ok(report);
        };
        self.apply_accepted(doc, &trip, &mut report)?;
        self.close_due_polls(doc, &trip, now, &mut report)?;
        // Re-read: closing polls and applying proposals changed the trip.
        let trip = doc.read().trip.ok_or(ModelError::NoTrip)?;
        let done = Done::of(&trip);
        self.tally_closed_polls(doc, &trip, &done, now, &mut report)?;
        self.offer_poll_options(doc, &trip, &done, now, &mut report)?;
        self.answer_chat(doc, &trip, &done, now, &mut report)?;
        self.fix_conflicts(doc, &trip, &done, now, &mut report)?;
        self.recap_ended_trip(doc, &trip, &done, now, &mut report)?;
        Ok(report)
    }

    fn say(
        &mut self,
        doc: &TripDoc,
        now: DateTime<Utc>,
        reply_to: String,
        text: String,
    ) -> Result<(), ModelError> {
        let message = ChatMessage {
            id: self.id("ai-msg"),
            author: ASSISTANT.into(),
            text,
            at: now,
            mentions: Vec::new(),
            reply_to: Some(reply_to),
        };
        doc.post_chat(ASSISTANT, &message)
    }

    fn propose(
        &mut self,
        doc: &TripDoc,
        now: DateTime<Utc>,
        about: String,
        summary: String,
        rationale: String,
        ops: Vec<doc_model::EditOp>,
    ) -> Result<String, ModelError> {
        let id = self.id("ai-proposal");
        let proposal = Proposal {
            author: ASSISTANT.into(),
            summary,
            rationale,
            ops,
            status: ProposalStatus::Pending,
            decided_by: None,
            created_at: now,
            reason: None,
            about: Some(about),
        };
        doc.propose(ASSISTANT, &id, &proposal)?;
        Ok(id)
    }
}

impl Default for Assistant {
    fn default() -> Self {
        Assistant::new()
    }
}

/// What the assistant already did, read from the trip.
struct Done {
    /// `replyTo` of the assistant's messages.
    replies: BTreeSet<String>,
    /// `about` of every proposal.
    proposals: BTreeSet<String>,
}

impl Done {
    fn of(trip: &Trip) -> Done {
        Done {
            replies: trip
                .chat
                .iter()
                .filter(|m| m.author == ASSISTANT)
                .filter_map(|m| m.reply_to.clone())
                .collect(),
            proposals: trip
                .proposals
                .values()
                .filter_map(|p| p.about.clone())
                .collect(),
        }
    }
}
