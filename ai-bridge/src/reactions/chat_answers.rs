//! The assistant in the chat: answering the messages addressed to it (a check of the plan, a
//! plan on request, the help text), and (with a language model) the jobs the runner carries to
//! the model and back.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use doc_model::{detect_conflicts, ModelError, Trip, TripDoc};

use super::{Assistant, Done, LlmJob, StepReport, ASSISTANT};
use crate::planner;
use crate::understand::{dates_named, mentions_assistant, request_in, Request};

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
            let text = message.text.to_lowercase();
            let reply = match request_in(&text) {
                Request::Check => self.check_reply(trip),
                _ if self.use_model => {
                    self.in_flight.insert(message.id.clone());
                    report.jobs.push(LlmJob {
                        message_id: message.id.clone(),
                        user: message.author.clone(),
                        text: message.text.clone(),
                    });
                    continue;
                }
                Request::Plan => self.plan_reply(doc, trip, &message.id, &text, now, report)?,
                Request::Other => HELP.to_owned(),
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
        let text = job.text.to_lowercase();
        let fallback = |assistant: &mut Assistant, report: &mut StepReport, why: String| {
            let rest = if request_in(&text) == Request::Plan {
                assistant.plan_reply(doc, &trip, &job.message_id, &text, now, report)?
            } else {
                HELP.to_owned()
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

    /// Plans the days `text` names with the built-in planner, proposes the plan, and says so.
    fn plan_reply(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        message_id: &str,
        text: &str,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<String, ModelError> {
        let dates = dates_named(trip, text);
        let plan = planner::plan(trip, &dates, &self.config);
        if plan.choices.is_empty() {
            let why = plan
                .left_out
                .iter()
                .map(|(_, r)| r.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            return Ok(if why.is_empty() {
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
            .map(|c| c.date.format("%a %-d %b").to_string())
            .collect();
        let summary = format!(
            "Schedule {} idea{} on {}",
            plan.choices.len(),
            if plan.choices.len() == 1 { "" } else { "s" },
            days.into_iter().collect::<Vec<_>>().join(", ")
        );
        let proposal = self.propose(
            doc,
            now,
            format!("chat:{message_id}"),
            summary.clone(),
            plan.rationale(),
            plan.ops(),
        )?;
        report.proposed.push(proposal);
        Ok(format!(
            "I proposed a plan: {summary}. Accept it in the proposals to add it to the itinerary."
        ))
    }
}

/// What the assistant can do, said when a message asks for nothing it understands.
const HELP: &str = "I can plan days (\"@assistant plan day 2\", \"@assistant plan the trip\"), \
check the plan for problems (\"@assistant check the plan\"), suggest options for polls that ask \
for them, and count the votes when a poll closes.";
