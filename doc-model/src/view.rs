//! The JSON view of a trip, as `GET /api/trips/{id}` and `caravan export` give it: the trip
//! (`Trip`) with its conflicts beside it (`conflicts`, by the rules of `docs/schema.md`, an
//! empty list when there are none), so that an integration sees the problems a family sees.
//! `POST /api/trips` and `caravan import` take the view back: `conflicts` is derived, and is
//! read past.

use serde_json::Value;

use crate::conflicts::{detect_conflicts, ConflictRules};
use crate::types::Trip;

/// The field of the view that is derived from the trip, not part of it.
pub const CONFLICTS_FIELD: &str = "conflicts";

/// The JSON view of `trip`: its fields, and its conflicts.
pub fn trip_view(trip: &Trip) -> Value {
    let mut view = serde_json::to_value(trip).expect("a trip serializes to JSON");
    let conflicts = detect_conflicts(trip, &ConflictRules::default());
    view[CONFLICTS_FIELD] = serde_json::to_value(conflicts).expect("conflicts serialize to JSON");
    view
}

/// The trip of a JSON view (or of a bare trip): `conflicts` is read past, any other field
/// that is not the trip's is an error.
pub fn trip_from_view(mut view: Value) -> Result<Trip, serde_json::Error> {
    if let Some(fields) = view.as_object_mut() {
        fields.remove(CONFLICTS_FIELD);
    }
    serde_json::from_value(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_lists_its_conflicts_and_reads_back_as_the_same_trip() {
        let start = chrono::NaiveDate::from_ymd_opt(2027, 7, 1).unwrap();
        let mut trip = crate::sample::sample_trip(start);
        let first = trip.activities.keys().next().unwrap().clone();
        trip.activities.get_mut(&first).unwrap().date = Some(start - chrono::Duration::days(30));
        let view = trip_view(&trip);
        let listed = view[CONFLICTS_FIELD].as_array().unwrap();
        assert!(
            listed
                .iter()
                .any(|c| c["kind"] == "outsideTrip" && c["activities"][0] == *first),
            "{listed:?}"
        );
        assert_eq!(trip_from_view(view).unwrap(), trip);
        let mut extra = trip_view(&trip);
        extra["other"] = Value::Bool(true);
        assert!(
            trip_from_view(extra).is_err(),
            "only `conflicts` is read past"
        );
    }
}
