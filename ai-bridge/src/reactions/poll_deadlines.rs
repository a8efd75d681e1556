//! Polls whose deadline passed are closed, counting one vote per family.

use chrono::{DateTime, Utc};
use doc_model::{ModelError, PollStatus, Trip, TripDoc, Weighting};

use super::{Assistant, StepReport, ASSISTANT};

impl Assistant {
    pub(super) fn close_due_polls(
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
}
