//! The built-in planner's output checked against its constraints on generated trips: no
//! overlaps or impossible travel, within opening hours, the day window and number of
//! activities of each family's pace, meals at meal times and nothing else in them, within
//! the budget. Then fixes for conflicts, and poll options, on the sample trip.

use std::collections::BTreeMap;

use ai_bridge::planner::{fix_conflict, pace_rules, plan, poll_options, PlannerConfig};
use chrono::NaiveDate;
use doc_model::{
    activity_cost, detect_conflicts, participants, Activity, ActivityKind, ConflictKind, CostPer,
    EditOp, Family, LocalTime, Location, Meta, OpeningHours, Pace, Preferences, Trip, TripDoc,
};
use proptest::prelude::*;

fn start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 7, 1).unwrap()
}

fn time(minutes: u32) -> LocalTime {
    LocalTime::new((minutes / 60) as u16, (minutes % 60) as u16).unwrap()
}

prop_compose! {
    fn location()(dlat in -500i32..500, dlng in -500i32..500) -> Location {
        Location {
            name: format!("place {dlat} {dlng}"),
            lat: 45.9 + f64::from(dlat) / 10_000.0,
            lng: 6.87 + f64::from(dlng) / 10_000.0,
            address: String::new(),
        }
    }
}

prop_compose! {
    fn activity(days: u32, families: usize, scheduled: bool)(
        day in 0..days,
        start in 32u32..76,
        duration in 2u32..16,
        location in proptest::option::of(location()),
        cost in 0u64..6000,
        per in 0..3u8,
        kind in 0..3u8,
        with in proptest::collection::vec(0..families.max(1), 0..3),
        hours in proptest::option::of((28u32..48, 60u32..80)),
        order in 0..100u32,
    ) -> Activity {
        Activity {
            title: format!("thing {order}"),
            kind: [ActivityKind::Sight, ActivityKind::Meal, ActivityKind::Activity][kind as usize],
            date: scheduled.then(|| start_date() + chrono::Duration::days(i64::from(day))),
            start: scheduled.then(|| time(start * 15)),
            duration_min: Some(duration * 15),
            location,
            opening_hours: hours.map(|(o, c)| OpeningHours { opens: time(o * 15), closes: time(c * 15) }),
            cost,
            cost_per: [CostPer::Group, CostPer::Family, CostPer::Person][per as usize],
            families: with.into_iter().map(|f| format!("f{f}")).collect(),
            order: f64::from(order),
            ..Activity::default()
        }
    }
}

fn trip() -> impl Strategy<Value = Trip> {
    (1u32..4, 1usize..4).prop_flat_map(|(days, families)| {
        (
            Just(days),
            proptest::collection::vec((0..3u8, 1usize..4), families),
            proptest::collection::vec(activity(days, families, true), 0..6),
            proptest::collection::vec(activity(days, families, false), 0..10),
            prop_oneof![Just(0u64), 20_000u64..400_000],
        )
            .prop_map(|(days, families, scheduled, ideas, budget)| {
                let mut trip = Trip {
                    meta: Meta {
                        title: "generated".into(),
                        start_date: start_date(),
                        end_date: start_date() + chrono::Duration::days(i64::from(days) - 1),
                        timezone: "Europe/Paris".into(),
                        currency: "EUR".into(),
                        budget,
                        ..Meta::default()
                    },
                    ..Trip::default()
                };
                for (i, (pace, size)) in families.into_iter().enumerate() {
                    let mut family = Family {
                        name: format!("F{i}"),
                        preferences: Preferences {
                            pace: [Pace::Relaxed, Pace::Moderate, Pace::Packed][pace as usize],
                            ..Preferences::default()
                        },
                        ..Family::default()
                    };
                    for m in 0..size {
                        family.members.insert(format!("m{m}"), Default::default());
                    }
                    trip.families.insert(format!("f{i}"), family);
                }
                for (i, a) in scheduled.into_iter().enumerate() {
                    trip.activities.insert(format!("s{i}"), a);
                }
                for (i, a) in ideas.into_iter().enumerate() {
                    trip.activities.insert(format!("i{i}"), a);
                }
                trip
            })
    })
}

fn all_days(trip: &Trip) -> Vec<NaiveDate> {
    trip.meta
        .start_date
        .iter_days()
        .take_while(|d| *d <= trip.meta.end_date)
        .collect()
}

/// The trip after carrying out `ops` (schedule and unschedule).
fn apply(trip: &Trip, ops: &[EditOp]) -> Trip {
    let mut after = trip.clone();
    for op in ops {
        match op {
            EditOp::ScheduleActivity {
                id,
                date,
                start,
                duration_min,
                ..
            } => {
                let a = after.activities.get_mut(id).unwrap();
                a.date = Some(*date);
                a.start = *start;
                a.duration_min = duration_min.or(a.duration_min);
            }
            EditOp::UnscheduleActivity { id, .. } => {
                let a = after.activities.get_mut(id).unwrap();
                a.date = None;
                a.start = None;
            }
            other => panic!("the planner does not use {other:?}"),
        }
    }
    after
}

fn total(trip: &Trip) -> u64 {
    trip.activities
        .values()
        .filter(|a| a.date.is_some())
        .map(|a| activity_cost(trip, a))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn planned_days_respect_every_constraint(trip in trip()) {
        let config = PlannerConfig::default();
        let plan = plan(&trip, &all_days(&trip), &config);
        let after = apply(&trip, &plan.ops());
        let chosen: Vec<&str> = plan.choices.iter().map(|c| c.id.as_str()).collect();
        let mut seen = chosen.clone();
        seen.sort();
        seen.dedup();
        prop_assert_eq!(seen.len(), chosen.len(), "each idea placed once");
        prop_assert_eq!(plan.choices.len() + plan.left_out.len(),
            trip.activities.values().filter(|a| a.date.is_none()).count());

        for choice in &plan.choices {
            let idea = &trip.activities[&choice.id];
            prop_assert!(idea.date.is_none(), "only ideas are scheduled");
            let start = u32::from(choice.start.minutes());
            let end = start + choice.duration_min;
            if let Some(hours) = idea.opening_hours {
                prop_assert!(start >= u32::from(hours.opens.minutes()) && end <= u32::from(hours.closes.minutes()),
                    "{} at {}-{} outside {}-{}", idea.title, start, end, hours.opens, hours.closes);
            }
            let families = participants(&trip, idea);
            let pace = families.iter().filter_map(|f| trip.families.get(*f))
                .map(|f| pace_rules(f.preferences.pace))
                .fold(None::<(u32, u32, usize)>, |acc, r| Some(match acc {
                    None => (r.day_start, r.day_end, r.max_activities),
                    Some((s, e, m)) => (s.max(r.day_start), e.min(r.day_end), m.min(r.max_activities)),
                })).unwrap();
            let meals = [config.lunch, config.dinner];
            if idea.kind == ActivityKind::Meal {
                prop_assert!(meals.iter().any(|&(ms, me)| start >= ms && end <= me), "a meal at meal time");
            } else {
                prop_assert!(start >= pace.0 && end <= pace.1, "within the day of the slowest pace");
                prop_assert!(!meals.iter().any(|&(ms, me)| start < me && ms < end), "meal times stay free");
                for family in &families {
                    let own = pace_rules(trip.families[*family].preferences.pace).max_activities;
                    let before = trip.activities.values()
                        .filter(|a| a.date == Some(choice.date) && a.kind != ActivityKind::Meal)
                        .filter(|a| participants(&trip, a).contains(family))
                        .count();
                    let count = after.activities.values()
                        .filter(|a| a.date == Some(choice.date) && a.kind != ActivityKind::Meal)
                        .filter(|a| participants(&after, a).contains(family))
                        .count();
                    prop_assert!(count <= own.max(before), "{count} activities on a day of at most {own}");
                }
            }
        }

        // No overlap or impossible travel that involves a placed idea, and no budget problem
        // the plan caused.
        let before = detect_conflicts(&trip, &config.rules);
        for conflict in detect_conflicts(&after, &config.rules) {
            let involves = conflict.activities.iter().any(|a| chosen.contains(&a.as_str()));
            match conflict.kind {
                ConflictKind::Overlap | ConflictKind::ImpossibleTravel => {
                    prop_assert!(!involves, "{}", conflict.message)
                }
                ConflictKind::DayOverBudget => {
                    let placed_there = plan.choices.iter().any(|c| Some(c.date) == conflict.date);
                    prop_assert!(!placed_there || before.contains(&conflict), "{}", conflict.message)
                }
                ConflictKind::TripOverBudget => {
                    prop_assert!(total(&trip) > trip.meta.budget, "{}", conflict.message)
                }
                ConflictKind::OutsideTrip
                | ConflictKind::OutsideOpeningHours
                | ConflictKind::PastMidnight => prop_assert!(!involves, "{}", conflict.message),
            }
        }
        if trip.meta.budget > 0 && total(&trip) <= trip.meta.budget {
            prop_assert!(total(&after) <= trip.meta.budget);
        }
    }

    #[test]
    fn overlap_and_travel_fixes_remove_their_conflict(trip in trip()) {
        let config = PlannerConfig::default();
        let conflicts = detect_conflicts(&trip, &config.rules);
        for conflict in conflicts.iter().filter(|c| matches!(c.kind, ConflictKind::Overlap | ConflictKind::ImpossibleTravel)) {
            if let Some((_, _, ops)) = fix_conflict(&trip, conflict, &config) {
                let after = apply(&trip, &ops);
                let again = detect_conflicts(&after, &config.rules);
                prop_assert!(!again.iter().any(|c| c.kind == conflict.kind && c.activities == conflict.activities),
                    "still there after the fix: {}", conflict.message);
                let moved = match &ops[0] { EditOp::ScheduleActivity { id, .. } => id, _ => unreachable!() };
                prop_assert!(!again.iter().any(|c| matches!(c.kind, ConflictKind::Overlap | ConflictKind::ImpossibleTravel)
                    && c.activities.contains(moved)), "the moved activity has a new conflict");
            }
        }
    }
}

#[test]
fn the_sample_trip_gets_its_ideas_scheduled_with_reasons_and_the_proposal_applies() {
    let sample = doc_model::sample::sample_trip(start_date());
    let config = PlannerConfig::default();
    let plan = plan(&sample, &all_days(&sample), &config);
    let by_id: BTreeMap<&str, _> = plan.choices.iter().map(|c| (c.id.as_str(), c)).collect();
    let museum = by_id.get("alpine-museum").expect("the museum is scheduled");
    assert!(
        museum.start >= LocalTime::new(14, 0).unwrap(),
        "after it opens"
    );
    assert!(museum.why.contains("open 14:00–19:00"), "{}", museum.why);
    let rationale = plan.rationale();
    assert!(rationale.lines().count() >= plan.choices.len());

    // Through the document: proposed, accepted, applied in one go.
    let doc = yrs::Doc::new();
    let trip_doc = TripDoc::new(doc);
    trip_doc.import("test", &sample).unwrap();
    let proposal = doc_model::Proposal {
        author: "assistant".into(),
        summary: "Plan the ideas".into(),
        rationale,
        ops: plan.ops(),
        status: Default::default(),
        decided_by: None,
        created_at: chrono::Utc::now(),
        reason: None,
        about: None,
    };
    trip_doc.propose("assistant", "p1", &proposal).unwrap();
    trip_doc.accept_proposal("test", "p1", "claire").unwrap();
    let after = trip_doc.read().trip.unwrap();
    assert_eq!(
        after.proposals["p1"].status,
        doc_model::ProposalStatus::Applied
    );
    for choice in &plan.choices {
        assert_eq!(after.activities[&choice.id].date, Some(choice.date));
        assert_eq!(after.activities[&choice.id].start, Some(choice.start));
    }
}

#[test]
fn poll_options_come_from_the_trips_own_ideas() {
    let mut sample = doc_model::sample::sample_trip(start_date());
    sample.polls.insert(
        "p".into(),
        doc_model::Poll {
            question: "Which museum on the rainy day?".into(),
            options: BTreeMap::new(),
            wants_options: true,
            ..serde_json::from_value(
                serde_json::json!({"question": "q", "options": {}, "votes": {}, "status": "open"}),
            )
            .unwrap()
        },
    );
    let options = poll_options(&sample, "p", 3);
    assert!(!options.is_empty());
    assert_eq!(
        options[0].1.activity.as_deref(),
        Some("alpine-museum"),
        "{options:?}"
    );
    for (_, option) in &options {
        assert!(option.ai_generated);
        let id = option.activity.as_ref().unwrap();
        assert!(sample.activities[id].date.is_none(), "an idea of the trip");
    }
    assert!(poll_options(&sample, "missing", 3).is_empty());
}
