//! The JSON view's inverse: a trip written whole, read back the same; invalid trips refused
//! with every reason; the sample trip is valid and clean.

use chrono::NaiveDate;
use doc_model::sample::sample_trip;
use doc_model::*;
use yrs::Doc;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 7, 10).unwrap()
}

#[test]
fn the_sample_trip_imports_and_reads_back_the_same() {
    let mut sample = sample_trip(start());
    // A closed poll with votes and a proposal in every state survive the round trip too.
    sample
        .polls
        .get_mut("last-dinner")
        .unwrap()
        .votes
        .insert("claire".into(), Vote::Single("fondue".into()));
    let trip = TripDoc::new(Doc::new());
    trip.import("import", &sample).unwrap();
    let read = trip.read();
    assert_eq!(read.skipped, []);
    assert_eq!(read.trip.unwrap(), sample);
    // Through JSON as well.
    let json = serde_json::to_string(&sample).unwrap();
    let back: Trip = serde_json::from_str(&json).unwrap();
    assert_eq!(back, sample);
    // Importing into a document that holds a trip is refused.
    assert!(trip.import("import", &sample).is_err());
}

#[test]
fn the_sample_trip_is_sensible() {
    let sample = sample_trip(start());
    assert_eq!(validate_trip(&sample), []);
    assert_eq!(sample.families.len(), 3);
    assert!(
        sample.activities.values().any(|a| a.date.is_none()),
        "it has ideas"
    );
    assert!(
        sample.activities.values().any(|a| a.date.is_some()),
        "and a schedule"
    );
    assert!(sample.polls.values().any(|p| p.status == PollStatus::Open));
    assert_eq!(
        detect_conflicts(&sample, &ConflictRules::default()),
        [],
        "it starts without conflicts"
    );
}

#[test]
fn an_invalid_trip_is_refused_with_every_reason() {
    let mut bad = sample_trip(start());
    bad.meta.currency = "XXX1".into();
    bad.activities.get_mut("aiguille").unwrap().start = LocalTime::new(23, 0);
    bad.activities
        .get_mut("lac-blanc")
        .unwrap()
        .families
        .push("nobody".into());
    bad.polls
        .get_mut("last-dinner")
        .unwrap()
        .votes
        .insert("stranger".into(), Vote::Single("caviar".into()));
    let problems = validate_trip(&bad);
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"meta"), "{problems:?}");
    assert!(paths.contains(&"activities.aiguille"), "{problems:?}");
    assert!(paths.contains(&"activities.lac-blanc"), "{problems:?}");
    assert_eq!(
        paths
            .iter()
            .filter(|p| **p == "polls.last-dinner.votes.stranger")
            .count(),
        2,
        "{problems:?}"
    );
    let trip = TripDoc::new(Doc::new());
    assert_eq!(trip.import("import", &bad).unwrap_err(), problems);
    assert!(trip.read().trip.is_none(), "nothing was written");
}
