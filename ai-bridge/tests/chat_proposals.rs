//! Property: every proposal the chat's language makes (plans, moves, removals, however they
//! are phrased) passes `doc_model::check_ops`, is applied when accepted, and adds no
//! conflict the planner forbids (an overlap, impossible travel, a visit outside opening
//! hours, past midnight) to the trip.

use ai_bridge::Assistant;
use doc_model::{
    check_ops, detect_conflicts, Conflict, ConflictKind, ConflictRules, ProposalStatus,
};
use proptest::prelude::*;

mod common;

use common::{now, read, sample_doc, say};

/// The sample's activities as a family names them, loosely.
const NAMES: [&str; 5] = ["cable car", "lunch", "hike", "mer de glace", "museum"];
const POLITE: [&str; 4] = ["", "please ", "could you ", "hey, "];
const DAYS: [&str; 6] = [
    "day 1",
    "day 2",
    "saturday",
    "sunday",
    "the last day",
    "the weekend",
];

/// The conflicts the planner never makes.
fn forbidden(conflicts: Vec<Conflict>) -> Vec<Conflict> {
    conflicts
        .into_iter()
        .filter(|c| {
            matches!(
                c.kind,
                ConflictKind::Overlap
                    | ConflictKind::ImpossibleTravel
                    | ConflictKind::OutsideOpeningHours
                    | ConflictKind::PastMidnight
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn chat_proposals_apply_and_add_no_conflict_the_planner_forbids(
        verb in 0..3usize,
        name in 0..NAMES.len(),
        day in 0..DAYS.len(),
        polite in 0..POLITE.len(),
    ) {
        let doc = sample_doc();
        let text = match verb {
            0 => format!("@assistant {}plan {}", POLITE[polite], DAYS[day]),
            1 => format!("@assistant {}move the {} to {}", POLITE[polite], NAMES[name], DAYS[day]),
            _ => format!("@assistant {}remove the {}", POLITE[polite], NAMES[name]),
        };
        let before = forbidden(detect_conflicts(&read(&doc), &ConflictRules::default()));
        say(&doc, "ask", &text);
        let mut assistant = Assistant::new();
        let report = assistant.step(&doc, now()).unwrap();
        let trip = read(&doc);
        if verb == 2 {
            prop_assert_eq!(report.proposed.len(), 1, "{} names an activity to remove", text);
        }
        for id in &report.proposed {
            let proposal = &trip.proposals[id];
            prop_assert!(check_ops(&trip, &proposal.ops).is_ok(), "{text}: {:?}", proposal.ops);
            doc.accept_proposal("claire", id, "claire").unwrap();
        }
        assistant.step(&doc, now()).unwrap();
        let after = read(&doc);
        for id in &report.proposed {
            prop_assert_eq!(after.proposals[id].status, ProposalStatus::Applied, "{}", text);
        }
        for conflict in forbidden(detect_conflicts(&after, &ConflictRules::default())) {
            prop_assert!(before.contains(&conflict), "{text} added: {}", conflict.message);
        }
    }
}
