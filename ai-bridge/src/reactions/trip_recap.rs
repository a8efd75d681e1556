//! The trip's recap, once it is over: the summary and its story (poll results, who proposed
//! and decided what, the longest day, the most decisive family), posted once in the chat.

use chrono::{DateTime, Utc};
use doc_model::{ModelError, Trip, TripDoc};

use super::{chat_facts, Assistant, Done, StepReport};

/// What the recap answers, as a `replyTo`: it is posted once, also after a restart.
pub(super) const RECAP_KEY: &str = "recap:trip";

impl Assistant {
    pub(super) fn recap_ended_trip(
        &mut self,
        doc: &TripDoc,
        trip: &Trip,
        done: &Done,
        now: DateTime<Utc>,
        report: &mut StepReport,
    ) -> Result<(), ModelError> {
        if now.date_naive() <= trip.meta.end_date || done.replies.contains(RECAP_KEY) {
            return Ok(());
        }
        let text = format!(
            "The trip is over, so here is its recap. {}",
            chat_facts::summary(trip)
        );
        self.say(doc, now, RECAP_KEY.to_owned(), text)?;
        report.answered.push(RECAP_KEY.to_owned());
        Ok(())
    }
}
