//! The shared conformance cases (`conformance/` at the workspace root, see its README): the
//! same files the family app's tests read, so that the Rust model and the TypeScript one find
//! the same conflicts in the same trip, count the same poll the same way, and refuse the same
//! trip for the same reasons.

use std::path::{Path, PathBuf};

use doc_model::types::Poll;
use doc_model::{
    detect_conflicts, tally, trip_from_view, validate_trip, ConflictRules, Tally, Trip, Weighting,
};
use serde_json::Value;

/// Every case of one folder of `conformance/`, with its file name.
fn cases(folder: &str) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../conformance")
        .join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let case =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                case,
            )
        })
        .collect()
}

#[test]
fn conflicts_are_found_as_the_shared_cases_say() {
    let cases = cases("conflicts");
    assert!(cases.len() >= 5, "the cases are there ({})", cases.len());
    for (name, case) in cases {
        let trip: Trip = serde_json::from_value(case["trip"].clone())
            .unwrap_or_else(|e| panic!("{name}: the trip does not read: {e}"));
        let found =
            serde_json::to_value(detect_conflicts(&trip, &ConflictRules::default())).unwrap();
        assert_eq!(
            found,
            case["conflicts"],
            "{name}: {}\nfound:    {}\nexpected: {}",
            case["about"],
            serde_json::to_string_pretty(&found).unwrap(),
            serde_json::to_string_pretty(&case["conflicts"]).unwrap()
        );
    }
}

#[test]
fn polls_are_tallied_as_the_shared_cases_say() {
    let cases = cases("tally");
    assert!(cases.len() >= 4, "the cases are there ({})", cases.len());
    for (name, case) in cases {
        let read = |field: &str| case[field].clone();
        let trip: Trip = serde_json::from_value(read("trip")).expect(&name);
        let poll: Poll = serde_json::from_value(read("poll")).expect(&name);
        let weighting: Weighting = serde_json::from_value(read("weighting")).expect(&name);
        let expected: Tally = serde_json::from_value(read("tally")).expect(&name);
        let found = tally(&trip, &poll, weighting);
        assert_eq!(found, expected, "{name}: {}", case["about"]);
    }
}

#[test]
fn trips_are_validated_as_the_shared_cases_say() {
    let cases = cases("validation");
    assert!(cases.len() >= 4, "the cases are there ({})", cases.len());
    for (name, case) in cases {
        let trip = trip_from_view(case["trip"].clone())
            .unwrap_or_else(|e| panic!("{name}: the trip does not read: {e}"));
        let found = serde_json::to_value(validate_trip(&trip)).unwrap();
        assert_eq!(
            found,
            case["invalid"],
            "{name}: {}\nfound:    {}",
            case["about"],
            serde_json::to_string_pretty(&found).unwrap()
        );
    }
}
