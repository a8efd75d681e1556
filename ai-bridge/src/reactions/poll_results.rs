//! A closed poll's result, said in the chat, and a proposal to schedule its winner when the
//! winner is one of the trip's ideas.

use chrono::{DateTime, Utc};
use doc_model::{ModelError, PollStatus, Trip, TripDoc, Weighting};

use super::{Assistant, Done, StepReport};
use crate::planner;

impl Assistant {
    pub(super) fn tally_closed_polls(
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
            let plural = |n: usize, one: &str, many: &str| {
                format!("{n} {}", if n == 1 { one } else { many })
            };
            let mut text = format!(
                "\"{}\" closed: {} wins, counting one vote per family ({}, {}).",
                poll.question,
                option.label,
                plural(tally.families, "family", "families"),
                plural(tally.voters, "voter", "voters")
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
                        &planner::trip_days(trip),
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
}
