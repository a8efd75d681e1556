//! The assistant in the chat: answering the messages addressed to it by what they ask
//! (`language`): a check of the plan, a plan, a move or a removal (proposals), poll options,
//! and the answers that change nothing (`chat_facts`: what's on, the budget, ideas, a
//! summary); and (with a language model) the jobs the runner carries to the model and back.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use doc_model::{
    detect_conflicts, EditOp, ModelError, PollStatus, Proposal, ProposalStatus, Trip, TripDoc,
};

use super::{chat_facts, Assistant, Done, LlmJob, StepReport, ASSISTANT};
use crate::language::{fits, mentions_assistant, understand, Intent, Understood};
use crate::planner;

impl Assistant {
    pub(super) fn answer_chat(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        done: &Done,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<(), ModelError> {
        for message in &trip.chat {
            if message.author == ASSISTANT
                || !mentions_assistant(message)
                || done.replies.contains(&message.id)
                || self.in_flight.contains(&message.id)
            {
                continue;
            }
            let asked = understand(trip, &message.text, now.date_naive());
            let reply = match asked.intent {
                Intent::Check => self.check_reply(trip),
                Intent::WhatsOn => chat_facts::whats_on(trip, &asked),
                Intent::Budget => chat_facts::budget(trip, &asked),
                Intent::Summary => chat_facts::summary(trip),
                // With a model, it answers what is open-ended; the figures above are the
                // model's own rules' and are answered here.
                _ if self.use_model => {
                    self.in_flight.insert(message.id.clone());
                    report.jobs.push(LlmJob {
                        message_id: message.id.clone(),
                        user: message.author.clone(),
                        text: message.text.clone(),
                        understood: asked.describe(trip),
                    });
                    continue;
                }
                Intent::Plan => self.plan_reply(doc, trip, &message.id, &asked, now, report)?,
                Intent::Move => self.move_reply(doc, trip, &message.id, &asked, now, report)?,
                Intent::Remove => self.remove_reply(doc, trip, &message.id, &asked, now, report)?,
                Intent::PollOptions => self.poll_options_reply(doc, trip, &asked)?,
                Intent::Ideas => chat_facts::ideas(trip, &asked),
                Intent::Help => help(trip, &asked),
            };
            self.say(doc, now, message.id.clone(), reply)?;
            report.answered.push(message.id.clone());
        }
        Ok(())
    }

    /// Answers a [`LlmJob`] with what the model said, or with the built-in planner when it
    /// said nothing usable.
    pub fn finish_job(
        &mut self,
        doc: &TripDoc,
        job: &LlmJob,
        outcome: crate::llm::LlmOutcome,
        now: DateTime<Utc>,
    ) -> Result<StepReport, ModelError> {
        use crate::llm::LlmOutcome;
        self.in_flight.remove(&job.message_id);
        let mut report = StepReport::default();
        let trip = doc.read().trip.ok_or(ModelError::NoTrip)?;
        if Done::of(&trip).replies.contains(&job.message_id) {
            return Ok(report);
        }
        let asked = understand(&trip, &job.text, now.date_naive());
        let fallback = |assistant: &mut Assistant, report: &mut StepReport, why: String| {
            let id = &job.message_id;
            let rest = match asked.intent {
                Intent::Plan => assistant.plan_reply(doc, &trip, id, &asked, now, report)?,
                Intent::Move => assistant.move_reply(doc, &trip, id, &asked, now, report)?,
                Intent::Remove => assistant.remove_reply(doc, &trip, id, &asked, now, report)?,
                Intent::PollOptions => assistant.poll_options_reply(doc, &trip, &asked)?,
                Intent::Ideas => chat_facts::ideas(&trip, &asked),
                _ => help(&trip, &asked),
            };
            Ok::<String, ModelError>(format!("{why} {rest}"))
        };
        let reply = match outcome {
            LlmOutcome::Answer(answer) if answer.ops.is_empty() => answer.reply,
            LlmOutcome::Answer(answer) => match doc_model::check_ops(&trip, &answer.ops) {
                Ok(()) => {
                    let id = self.propose(
                        doc,
                        now,
                        format!("chat:{}", job.message_id),
                        answer.summary.clone(),
                        answer.rationale,
                        answer.ops,
                    )?;
                    report.proposed.push(id);
                    format!("{} I proposed: {}.", answer.reply, answer.summary)
                }
                Err(reason) => format!(
                    "{} (The plan changed meanwhile, so I proposed nothing: {reason}.)",
                    answer.reply
                ),
            },
            LlmOutcome::OverBudget(reason) => fallback(
                self,
                &mut report,
                format!("I cannot ask the language model now: {reason}. The built-in planner answers instead."),
            )?,
            LlmOutcome::Dropped(message) => fallback(self, &mut report, message)?,
            LlmOutcome::Unavailable => fallback(
                self,
                &mut report,
                "The language model is not answering, so the built-in planner answers.".into(),
            )?,
        };
        self.say(doc, now, job.message_id.clone(), reply)?;
        report.answered.push(job.message_id.clone());
        Ok(report)
    }

    fn check_reply(&self, trip: &Trip) -> String {
        let conflicts = detect_conflicts(trip, &self.config.rules);
        if conflicts.is_empty() {
            "I checked the plan: no overlaps, no impossible travel, and it is within budget."
                .to_owned()
        } else {
            let list: Vec<String> = conflicts
                .iter()
                .take(5)
                .map(|c| c.message.clone())
                .collect();
            format!(
                "I found {} problem{}: {}. I propose fixes in the proposals.",
                conflicts.len(),
                if conflicts.len() == 1 { "" } else { "s" },
                list.join("; ")
            )
        }
    }

    /// Plans the days asked (every day when none is named) with the built-in planner,
    /// proposes the plan, and says so.
    fn plan_reply(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        message_id: &str,
        asked: &Understood,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<String, ModelError> {
        let dates = if asked.days.is_empty() {
            planner::trip_days(trip)
        } else {
            asked.days.clone()
        };
        // Only the ideas asked for: of the kind wanted, for the family named.
        let mut ideas = trip.clone();
        ideas.activities.retain(|_, a| {
            a.date.is_some()
                || (fits(a, asked.wanted)
                    && asked
                        .family
                        .as_deref()
                        .is_none_or(|f| doc_model::participants(trip, a).contains(&f)))
        });
        let plan = planner::plan(&ideas, &dates, &self.config);
        if plan.choices.is_empty() {
            let why = plan
                .left_out
                .iter()
                .map(|(_, r)| r.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            let filtered = asked.wanted.is_some() || asked.family.is_some();
            return Ok(if why.is_empty() && filtered {
                "The trip has no idea of that kind, or for that family, to schedule: add some \
                 (activities without a day) and ask me again."
                    .to_owned()
            } else if why.is_empty() {
                "There are no ideas to schedule yet: add some (activities without a day) and ask \
                 me again."
                    .to_owned()
            } else {
                format!("I could not fit any idea in: {why}.")
            });
        }
        let days: BTreeSet<String> = plan
            .choices
            .iter()
            .map(|c| chat_facts::day(c.date))
            .collect();
        let summary = format!(
            "Schedule {} idea{} on {}",
            plan.choices.len(),
            if plan.choices.len() == 1 { "" } else { "s" },
            days.into_iter().collect::<Vec<_>>().join(", ")
        );
        let ops = plan.ops();
        if let Some(pending) = pending_with(doc, &ops) {
            return Ok(already_proposed(pending));
        }
        let proposal = self.propose(
            doc,
            now,
            format!("chat:{message_id}"),
            summary.clone(),
            plan.rationale(),
            ops,
        )?;
        report.proposed.push(proposal);
        Ok(format!(
            "I proposed a plan: {summary}. Accept it in the proposals to add it to the itinerary."
        ))
    }

    /// Proposes one edit of the plan, after checking it applies to the trip as it is.
    #[allow(clippy::too_many_arguments)]
    fn propose_one(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        message_id: &str,
        summary: String,
        rationale: String,
        op: EditOp,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<String, ModelError> {
        if let Err(reason) = doc_model::check_ops(trip, std::slice::from_ref(&op)) {
            return Ok(format!("I cannot propose that: {reason}."));
        }
        if let Some(pending) = pending_with(doc, std::slice::from_ref(&op)) {
            return Ok(already_proposed(pending));
        }
        let id = self.propose(
            doc,
            now,
            format!("chat:{message_id}"),
            summary.clone(),
            rationale,
            vec![op],
        )?;
        report.proposed.push(id);
        Ok(format!(
            "I proposed: {summary}. Accept it in the proposals to change the itinerary."
        ))
    }

    /// "Move the cable car to day 3": a proposal scheduling that activity on the day (and at
    /// the time) asked.
    fn move_reply(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        message_id: &str,
        asked: &Understood,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<String, ModelError> {
        let (id, activity) = match named_activity(trip, asked, "move") {
            Ok(named) => named,
            Err(question) => return Ok(question),
        };
        let Some(date) = asked.days.first().copied().or(activity.date) else {
            return Ok(format!(
                "To which day should I move {}? Say \"to day 2\" or \"to Saturday\".",
                activity.title
            ));
        };
        let Some((op, why)) = planner::move_to(trip, id, date, asked.time, &self.config) else {
            return Ok(format!(
                "{} does not fit on {}: that day has no room for it.",
                activity.title,
                chat_facts::day(date)
            ));
        };
        let summary = format!("Move {} to {}", activity.title, chat_facts::day(date));
        self.propose_one(doc, trip, message_id, summary, why, op, now, report)
    }

    /// "Remove the museum": a proposal removing that activity.
    fn remove_reply(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        message_id: &str,
        asked: &Understood,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<String, ModelError> {
        let (id, activity) = match named_activity(trip, asked, "remove") {
            Ok(named) => named,
            Err(question) => return Ok(question),
        };
        let op = EditOp::RemoveActivity {
            id: id.clone(),
            expect: planner::placement(activity),
        };
        let summary = format!("Remove {}", activity.title);
        self.propose_one(
            doc,
            trip,
            message_id,
            summary,
            "As asked in the chat.".into(),
            op,
            now,
            report,
        )
    }

    /// "Suggest options for the dinner poll": options from the trip's own ideas, added to the
    /// poll named (or the only open one).
    fn poll_options_reply(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        asked: &Understood,
    ) -> Result<String, ModelError> {
        let Some(id) = &asked.poll else {
            let open: Vec<&str> = trip
                .polls
                .values()
                .filter(|p| p.status == PollStatus::Open)
                .map(|p| p.question.as_str())
                .collect();
            return Ok(if open.is_empty() {
                "There is no open poll: open one in the Polls tab, and ask me for options."
                    .to_owned()
            } else {
                format!("For which poll? Open: {}.", open.join("; "))
            });
        };
        let poll = &trip.polls[id];
        if poll.status != PollStatus::Open {
            return Ok(format!(
                "\"{}\" is closed: it takes no more options.",
                poll.question
            ));
        }
        let options = planner::poll_options(trip, id, 4);
        if options.is_empty() {
            return Ok(format!("No idea in the trip fits \"{}\" that is not already an option: add ideas, and I can suggest them.", poll.question));
        }
        let labels: Vec<String> = options.iter().map(|(_, o)| o.label.clone()).collect();
        for (option_id, option) in options {
            doc.add_poll_option(ASSISTANT, id, &option_id, &option)?;
        }
        Ok(format!(
            "I added {} to \"{}\".",
            labels.join(", "),
            poll.question
        ))
    }
}

/// A pending proposal that makes exactly `ops`, in the document as it is now (a proposal
/// made for an earlier message of the same step included): asked again, the assistant points
/// to it instead of proposing it twice.
fn pending_with(doc: &TripDoc, ops: &[EditOp]) -> Option<Proposal> {
    doc.read()
        .trip?
        .proposals
        .into_values()
        .find(|p| p.status == ProposalStatus::Pending && p.ops == ops)
}

fn already_proposed(pending: Proposal) -> String {
    format!(
        "I already proposed that: {}. It waits in the proposals for someone to accept it.",
        pending.summary
    )
}

/// The activity a request names (its id and itself), or the question back: which one to
/// `verb`, with the trip's activities named.
fn named_activity<'t>(
    trip: &'t Trip,
    asked: &Understood,
    verb: &str,
) -> Result<(&'t String, &'t doc_model::Activity), String> {
    if let Some(found) = asked
        .activity
        .as_ref()
        .and_then(|id| trip.activities.get_key_value(id))
    {
        return Ok(found);
    }
    let names: Vec<&str> = trip.activities.values().map(|a| a.title.as_str()).collect();
    Err(if names.is_empty() {
        format!("Which activity should I {verb}? The trip has no activity yet.")
    } else {
        format!(
            "Which activity should I {verb}? The trip has: {}.",
            names.join(", ")
        )
    })
}

/// The help text, with what was understood of the message (the days and activity it names).
fn help(trip: &Trip, asked: &Understood) -> String {
    let mut understood = Vec::new();
    if !asked.days.is_empty() {
        let days: Vec<String> = asked.days.iter().map(|d| chat_facts::day(*d)).collect();
        understood.push(format!(
            "the day{} {}",
            if days.len() == 1 { "" } else { "s" },
            days.join(", ")
        ));
    }
    if let Some(a) = asked
        .activity
        .as_ref()
        .and_then(|id| trip.activities.get(id))
    {
        understood.push(format!("the activity {}", a.title));
    }
    match understood.is_empty() {
        true => HELP.to_owned(),
        false => format!(
            "I understood {}, but not what to do with it. {HELP}",
            understood.join(" and ")
        ),
    }
}

/// What the assistant can do, said when a message asks for nothing it understands.
const HELP: &str = "I can plan days (\"plan day 2\", \"what should we do on Sunday?\"), check the \
plan (\"is anything wrong?\"), move or remove an activity (\"move the cable car to day 3\"), \
suggest poll options (\"options for the dinner poll\"), say what's on (\"what are we doing \
tomorrow?\"), what it costs (\"how much have we spent?\", \"per family\"), which ideas fit \
(\"any indoor ideas?\"), and sum the trip up (\"summarize the trip\"). Write @assistant first; \
the Assistant tab lists examples.";
