//! The sample trip for a first-time user: three families, four days in the Alps, a few
//! scheduled activities, some ideas, an open poll and a chat. It is one JSON file,
//! `conformance/sample-trip.json`, that the family app writes too (`clients/web/app/sample.ts`),
//! with its dates moved to the day it starts.

use chrono::{Duration, NaiveDate};

use crate::types::Trip;

/// The sample trip as written, starting on its own `meta.startDate`.
const SAMPLE_TRIP_JSON: &str = include_str!("../../conformance/sample-trip.json");

/// The sample trip, starting on `start` and lasting four days: every date and time of the
/// file moved by the same number of days.
pub fn sample_trip(start: NaiveDate) -> Trip {
    let mut trip: Trip = serde_json::from_str(SAMPLE_TRIP_JSON).expect("the sample trip reads");
    let by = start - trip.meta.start_date;
    shift(&mut trip, by);
    trip
}

/// Moves every date and time of `trip` by `by`.
fn shift(trip: &mut Trip, by: Duration) {
    trip.meta.start_date += by;
    trip.meta.end_date += by;
    for activity in trip.activities.values_mut() {
        activity.date = activity.date.map(|d| d + by);
    }
    trip.days = std::mem::take(&mut trip.days)
        .into_iter()
        .map(|(date, day)| (date + by, day))
        .collect();
    for poll in trip.polls.values_mut() {
        poll.closes_at = poll.closes_at.map(|t| t + by);
    }
    for proposal in trip.proposals.values_mut() {
        proposal.created_at += by;
    }
    for message in &mut trip.chat {
        message.at += by;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_starts_on_the_day_asked_and_keeps_its_shape() {
        let start = NaiveDate::from_ymd_opt(2031, 2, 27).unwrap();
        let trip = sample_trip(start);
        assert_eq!(trip.meta.start_date, start);
        assert_eq!(trip.meta.end_date, start + Duration::days(3));
        assert_eq!(
            trip.activities["aiguille"].date,
            Some(start + Duration::days(1))
        );
        assert!(trip.days.contains_key(&(start + Duration::days(1))));
        assert_eq!(trip.chat[0].at.date_naive(), start - Duration::days(14));
        assert!(crate::validate_trip(&trip).is_empty());
    }
}
