//! Options for an open poll that asks for them (`wantsOptions`, or `@assistant` in its
//! question, as a stock client writes it), from the trip's own ideas.

use chrono::{DateTime, Utc};
use doc_model::{ModelError, PollStatus, Trip, TripDoc};

use super::{Assistant, Done, StepReport, ASSISTANT};
use crate::language::addresses_assistant;
use crate::planner;

impl Assistant {
    pub(super) fn offer_poll_options(
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
                || !(poll.wants_options || addresses_assistant(&poll.question))
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
}
