//! What the assistant does with a trip, free of I/O: [`Engine::step`] reads the trip, reacts,
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
//! - a conflict gets a proposal `about: conflict:KIND:IDS`, once, whatever becomes of it.
//!
//! Accepted proposals are applied (or marked stale) by `doc_model::TripDoc::apply_accepted`.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use doc_model::{
    detect_conflicts, ChatMessage, ModelError, PollStatus, Proposal, ProposalStatus, Trip, TripDoc,
    Weighting,
};

use crate::planner::{self, PlannerConfig};

mod chat;

pub use chat::{dates_named, mentions_assistant};

/// The member id the assistant writes as.
pub const ASSISTANT: &str = "assistant";

/// Conflict fixes proposed in one step at most, so a broken plan is not buried in proposals.
const MAX_FIXES_PER_STEP: usize = 3;

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
    /// [`Engine::finish_job`].
    pub jobs: Vec<ModelJob>,
}

/// A chat request that waits for the language model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelJob {
    /// The message's id.
    pub message_id: String,
    /// Who asked.
    pub user: String,
    /// What they asked.
    pub text: String,
}

impl StepReport {
    /// True when the step wrote nothing.
    pub fn is_empty(&self) -> bool {
        *self == StepReport::default()
    }
}

/// The assistant's reactions to one trip.
pub struct Engine {
    config: PlannerConfig,
    next_id: u64,
    /// Distinguishes this engine's ids from another run's.
    run: String,
    /// Whether chat requests go to a language model (as [`ModelJob`]s) first.
    use_model: bool,
    /// Jobs handed out and not finished.
    in_flight: BTreeSet<String>,
}

impl Engine {
    /// An engine with the planner's default settings.
    pub fn new() -> Engine {
        Engine::with_config(PlannerConfig::default())
    }

    /// An engine with these planner settings.
    pub fn with_config(config: PlannerConfig) -> Engine {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Engine {
            config,
            next_id: 0,
            run: format!("{:x}", nanos % 0xffff_ffff_ffff),
            use_model: false,
            in_flight: BTreeSet::new(),
        }
    }

    /// Sends chat requests to a language model first (see [`StepReport::jobs`]).
    pub fn with_model(mut self) -> Engine {
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
        Ok(report)
    }

    fn apply_accepted(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        report: &mut StepReport,
    ) -> Result<(), ModelError> {
        for (id, proposal) in &trip.proposals {
            if proposal.status == ProposalStatus::Accepted {
                match doc.apply_accepted(ASSISTANT, id)? {
                    doc_model::Acceptance::Applied => report.applied.push(id.clone()),
                    doc_model::Acceptance::Stale(_) => report.stale.push(id.clone()),
                }
            }
        }
        Ok(())
    }

    fn close_due_polls(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<(), ModelError> {
        for (id, poll) in &trip.polls {
            if poll.status == PollStatus::Open && poll.closes_at.is_some_and(|at| at <= now) {
                doc.close_poll(ASSISTANT, id, Weighting::PerFamily)?;
                report.tallied.push(id.clone());
            }
        }
        Ok(())
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

    fn tally_closed_polls(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        done: &Done,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<(), ModelError> {
        for (id, poll) in &trip.polls {
            let key = format!("result:{id}");
            if poll.status == PollStatus::Open || done.replies.contains(&key) {
                continue;
            }
            let tally = doc_model::tally(trip, poll, Weighting::PerFamily);
            let Some(winner) = tally
                .winner
                .as_ref()
                .and_then(|w| poll.options.get(w).map(|o| (w, o)))
            else {
                self.say(
                    doc,
                    now,
                    key,
                    format!("\"{}\" closed without votes.", poll.question),
                )?;
                continue;
            };
            let (_, option) = winner;
            let mut text = format!(
                "\"{}\" closed: {} wins, counting one vote per family ({} families, {} voters).",
                poll.question, option.label, tally.families, tally.voters
            );
            if let Some(tie) = &tally.tie_break {
                text.push_str(&format!(" There was a tie: {tie}."));
            }
            // Propose to schedule the winner when it is one of the trip's ideas.
            let about = format!("poll:{id}");
            if let Some(activity) = option
                .activity
                .as_ref()
                .filter(|a| trip.activities.get(*a).is_some_and(|a| a.date.is_none()))
            {
                if !done.proposals.contains(&about) {
                    let plan = planner::plan_ideas(
                        trip,
                        &trip_days(trip),
                        Some(std::slice::from_ref(activity)),
                        &self.config,
                    );
                    if plan.choices.is_empty() {
                        text.push_str(&format!(
                            " I found no free time for it: {}.",
                            plan.left_out
                                .first()
                                .map_or("no day has room", |(_, r)| r.as_str())
                        ));
                    } else {
                        let proposal = self.propose(
                            doc,
                            now,
                            about,
                            format!("Schedule {}, the poll's winner", option.label),
                            plan.rationale(),
                            plan.ops(),
                        )?;
                        report.proposed.push(proposal);
                        text.push_str(" I proposed a time for it.");
                    }
                }
            }
            self.say(doc, now, key, text)?;
            if !report.tallied.contains(id) {
                report.tallied.push(id.clone());
            }
        }
        Ok(())
    }

    fn offer_poll_options(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        done: &Done,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<(), ModelError> {
        for (id, poll) in &trip.polls {
            let key = format!("poll:{id}");
            if poll.status != PollStatus::Open
                || !poll.wants_options
                || poll.options.values().any(|o| o.ai_generated)
                || done.replies.contains(&key)
            {
                continue;
            }
            let options = planner::poll_options(trip, id, 4);
            if options.is_empty() {
                self.say(
                    doc,
                    now,
                    key,
                    format!(
                        "\"{}\" asks for options, but no idea in the trip fits it. Add ideas and \
                         I can suggest them.",
                        poll.question
                    ),
                )?;
            }
            for (option_id, option) in options {
                doc.add_poll_option(ASSISTANT, id, &option_id, &option)?;
            }
            report.options_for.push(id.clone());
        }
        Ok(())
    }

    fn fix_conflicts(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        done: &Done,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<(), ModelError> {
        let mut proposed = 0;
        for conflict in detect_conflicts(trip, &self.config.rules) {
            if proposed >= MAX_FIXES_PER_STEP {
                break;
            }
            let about = format!(
                "conflict:{}:{}",
                serde_json::to_value(conflict.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                conflict.activities.join(",")
            );
            if done.proposals.contains(&about) {
                continue;
            }
            let Some((summary, rationale, ops)) =
                planner::fix_conflict(trip, &conflict, &self.config)
            else {
                continue;
            };
            let id = self.propose(doc, now, about, summary, rationale, ops)?;
            report.proposed.push(id);
            proposed += 1;
        }
        Ok(())
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
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

fn trip_days(trip: &Trip) -> Vec<NaiveDate> {
    trip.meta
        .start_date
        .iter_days()
        .take_while(|d| *d <= trip.meta.end_date)
        .collect()
}
