//! Conflict detection: each kind, with the activities and families it names.

use chrono::NaiveDate;
use doc_model::conflicts::great_circle_km;
use doc_model::*;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 7, d).unwrap()
}

fn trip() -> Trip {
    let mut trip = Trip {
        meta: Meta {
            title: "T".into(),
            start_date: day(1),
            end_date: day(4),
            budget: 100_000,
            ..Meta::default()
        },
        ..Trip::default()
    };
    for (id, members) in [("smiths", 3), ("jones", 2)] {
        trip.families.insert(
            id.into(),
            Family {
                name: id.into(),
                members: (0..members)
                    .map(|i| {
                        (
                            format!("{id}{i}"),
                            Member {
                                name: "m".into(),
                                ..Member::default()
                            },
                        )
                    })
                    .collect(),
                ..Family::default()
            },
        );
    }
    trip
}

fn at(title: &str, date: u32, hh: u16, mm: u16, minutes: u32) -> Activity {
    Activity {
        title: title.into(),
        date: Some(day(date)),
        start: LocalTime::new(hh, mm),
        duration_min: Some(minutes),
        ..Activity::default()
    }
}

fn place(lat: f64, lng: f64) -> Option<Location> {
    Some(Location {
        name: "p".into(),
        lat,
        lng,
        address: String::new(),
    })
}

fn kinds(conflicts: &[Conflict]) -> Vec<ConflictKind> {
    conflicts.iter().map(|c| c.kind).collect()
}

#[test]
fn a_clean_plan_has_no_conflicts() {
    let mut t = trip();
    t.activities.insert("a".into(), at("Museum", 1, 9, 0, 120));
    t.activities.insert("b".into(), at("Lunch", 1, 11, 0, 60));
    t.activities.insert(
        "idea".into(),
        Activity {
            title: "Someday".into(),
            ..Activity::default()
        },
    );
    assert_eq!(detect_conflicts(&t, &ConflictRules::default()), []);
}

#[test]
fn overlaps_name_both_activities_and_the_families_affected() {
    let mut t = trip();
    t.activities
        .insert("museum".into(), at("Museum", 1, 9, 0, 120));
    t.activities.insert(
        "zoo".into(),
        Activity {
            families: vec!["smiths".into()],
            ..at("Zoo", 1, 10, 30, 60)
        },
    );
    // Different family on the same time: no overlap for anyone.
    t.activities.insert(
        "kart".into(),
        Activity {
            families: vec!["jones".into()],
            ..at("Karting", 2, 10, 0, 60)
        },
    );
    t.activities.insert(
        "cafe".into(),
        Activity {
            families: vec!["smiths".into()],
            ..at("Cafe", 2, 10, 0, 60)
        },
    );
    let c = detect_conflicts(&t, &ConflictRules::default());
    assert_eq!(kinds(&c), [ConflictKind::Overlap]);
    assert_eq!(c[0].activities, ["museum", "zoo"]);
    assert_eq!(c[0].families, ["smiths"]);
    assert_eq!(c[0].date, Some(day(1)));
    assert!(c[0].message.contains("Museum") && c[0].message.contains("Zoo"));
}

#[test]
fn travel_that_the_gap_does_not_allow() {
    let mut t = trip();
    // Chamonix to Geneva, about 60 km: 90 min at 40 km/h, but only 30 min apart.
    t.activities.insert(
        "a".into(),
        Activity {
            location: place(45.9237, 6.8694),
            ..at("Glacier", 1, 9, 0, 120)
        },
    );
    t.activities.insert(
        "b".into(),
        Activity {
            location: place(46.2044, 6.1432),
            ..at("Geneva lunch", 1, 11, 30, 60)
        },
    );
    let c = detect_conflicts(&t, &ConflictRules::default());
    assert_eq!(kinds(&c), [ConflictKind::ImpossibleTravel]);
    assert_eq!(c[0].activities, ["a", "b"]);
    assert_eq!(c[0].families, ["jones", "smiths"]);
    // Three hours apart is enough.
    t.activities.get_mut("b").unwrap().start = LocalTime::new(14, 0);
    assert_eq!(detect_conflicts(&t, &ConflictRules::default()), []);
    let km = great_circle_km(45.9237, 6.8694, 46.2044, 6.1432);
    assert!((60.0..66.0).contains(&km), "{km}");
}

#[test]
fn budgets_per_day_and_per_trip() {
    let mut t = trip();
    // Budget 100,000 over 4 days: a day's share is 25,000; flagged above 37,500.
    // Per person: 5 people x 8,000 = 40,000 on day 1.
    t.activities.insert(
        "a".into(),
        Activity {
            cost: 8_000,
            cost_per: CostPer::Person,
            ..at("Spa", 1, 9, 0, 60)
        },
    );
    let c = detect_conflicts(&t, &ConflictRules::default());
    assert_eq!(kinds(&c), [ConflictKind::DayOverBudget]);
    assert_eq!(c[0].date, Some(day(1)));
    assert_eq!(c[0].activities, ["a"]);
    assert_eq!(activity_cost_of(&t, "a"), 40_000);
    // Per family: 2 x 36,000 = 72,000 on day 2: that day too, and now the trip (112,000).
    t.activities.insert(
        "b".into(),
        Activity {
            cost: 36_000,
            cost_per: CostPer::Family,
            ..at("Boat", 2, 9, 0, 60)
        },
    );
    let c = detect_conflicts(&t, &ConflictRules::default());
    assert_eq!(
        kinds(&c),
        [
            ConflictKind::DayOverBudget,
            ConflictKind::DayOverBudget,
            ConflictKind::TripOverBudget
        ]
    );
    assert!(c[2].message.contains("1120.00"), "{}", c[2].message);
    // No budget set: no budget conflicts.
    t.meta.budget = 0;
    assert_eq!(detect_conflicts(&t, &ConflictRules::default()), []);
}

fn activity_cost_of(t: &Trip, id: &str) -> u64 {
    doc_model::conflicts::activity_cost(t, &t.activities[id])
}

#[test]
fn activities_outside_the_trip() {
    let mut t = trip();
    t.activities.insert("late".into(), at("Late", 9, 9, 0, 60));
    let c = detect_conflicts(&t, &ConflictRules::default());
    assert_eq!(kinds(&c), [ConflictKind::OutsideTrip]);
    assert_eq!(c[0].activities, ["late"]);
}
