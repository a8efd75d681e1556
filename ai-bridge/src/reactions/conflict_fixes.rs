//! A proposal to fix each conflict of the plan, once per conflict, a few per step.

use chrono::{DateTime, Utc};
use doc_model::{detect_conflicts, ModelError, Trip, TripDoc};

use super::{Assistant, Done, StepReport};
use crate::planner;

/// Conflict fixes proposed in one step at most, so a broken plan is not buried in proposals.
const MAX_FIXES_PER_STEP: usize = 3;

impl Assistant {
    pub(super) fn fix_conflicts(
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
