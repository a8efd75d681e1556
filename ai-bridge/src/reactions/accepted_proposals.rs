//! Accepted proposals: applied to the trip, or marked stale when the trip moved on
//! (`doc_model::TripDoc::apply_accepted`).

use doc_model::{ModelError, ProposalStatus, Trip, TripDoc};

use super::{Assistant, StepReport, ASSISTANT};

impl Assistant {
    pub(super) fn apply_accepted(
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
}
