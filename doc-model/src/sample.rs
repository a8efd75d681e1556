//! A sample trip for a first-time user: three families, four days in the Alps, a few
//! scheduled activities, some ideas, an open poll and a chat.

use chrono::{Duration, NaiveDate, Utc};

use crate::types::*;

fn member(name: &str, age_group: AgeGroup, dietary: &[&str]) -> Member {
    Member {
        name: name.into(),
        age_group,
        dietary: dietary.iter().map(|d| d.to_string()).collect(),
        mobility: None,
    }
}

fn family(
    name: &str,
    color: &str,
    pace: Pace,
    members: Vec<(&str, Member)>,
    interests: &[&str],
) -> Family {
    Family {
        name: name.into(),
        color: color.into(),
        members: members
            .into_iter()
            .map(|(id, m)| (id.to_string(), m))
            .collect(),
        preferences: Preferences {
            interests: interests.iter().map(|i| i.to_string()).collect(),
            pace,
            budget_level: BudgetLevel::Medium,
        },
    }
}

fn place(name: &str, lat: f64, lng: f64) -> Option<Location> {
    Some(Location {
        name: name.into(),
        lat,
        lng,
        address: String::new(),
    })
}

/// The sample trip, starting on `start` and lasting four days.
pub fn sample_trip(start: NaiveDate) -> Trip {
    let day = |n: i64| start + Duration::days(n);
    let mut trip = Trip {
        meta: Meta {
            title: "Summer in Chamonix".into(),
            destination: "Chamonix-Mont-Blanc, France".into(),
            start_date: day(0),
            end_date: day(3),
            timezone: "Europe/Paris".into(),
            currency: "EUR".into(),
            budget: 600_000,
            ..Meta::default()
        },
        ..Trip::default()
    };
    trip.families.insert(
        "martins".into(),
        family(
            "The Martins",
            "#e4572e",
            Pace::Moderate,
            vec![
                ("claire", member("Claire", AgeGroup::Adult, &[])),
                ("paul", member("Paul", AgeGroup::Adult, &["vegetarian"])),
                ("lea", member("Léa", AgeGroup::Child, &[])),
            ],
            &["hiking", "food"],
        ),
    );
    trip.families.insert(
        "okafors".into(),
        family(
            "The Okafors",
            "#17bebb",
            Pace::Relaxed,
            vec![
                ("ngozi", member("Ngozi", AgeGroup::Adult, &[])),
                ("emeka", member("Emeka", AgeGroup::Adult, &["nut allergy"])),
                ("ada", member("Ada", AgeGroup::Infant, &[])),
            ],
            &["lakes", "museums"],
        ),
    );
    trip.families.insert(
        "berg".into(),
        family(
            "Berg & co",
            "#76b041",
            Pace::Packed,
            vec![
                ("ingrid", member("Ingrid", AgeGroup::Adult, &[])),
                ("sven", member("Sven", AgeGroup::Teen, &[])),
            ],
            &["climbing", "views"],
        ),
    );
    let mut add = |id: &str, activity: Activity| {
        trip.activities.insert(id.into(), activity);
    };
    add(
        "aiguille",
        Activity {
            title: "Aiguille du Midi cable car".into(),
            kind: ActivityKind::Sight,
            date: Some(day(1)),
            start: LocalTime::new(8, 30),
            duration_min: Some(180),
            location: place("Aiguille du Midi", 45.8786, 6.8874),
            cost: 7_500,
            cost_per: CostPer::Person,
            notes: "Book early; take warm clothes.".into(),
            created_by: "claire".into(),
            ..Activity::default()
        },
    );
    add(
        "lunch-day2",
        Activity {
            title: "Lunch at the Chalet".into(),
            kind: ActivityKind::Meal,
            date: Some(day(1)),
            start: LocalTime::new(12, 30),
            duration_min: Some(90),
            location: place("Chamonix centre", 45.9237, 6.8694),
            cost: 2_500,
            cost_per: CostPer::Person,
            created_by: "ngozi".into(),
            ..Activity::default()
        },
    );
    add(
        "lac-blanc",
        Activity {
            title: "Hike to Lac Blanc".into(),
            kind: ActivityKind::Activity,
            date: Some(day(2)),
            start: LocalTime::new(9, 0),
            duration_min: Some(300),
            location: place("Lac Blanc", 45.9813, 6.8886),
            families: vec!["martins".into(), "berg".into()],
            created_by: "ingrid".into(),
            ..Activity::default()
        },
    );
    add(
        "mer-de-glace",
        Activity {
            title: "Montenvers train to the Mer de Glace".into(),
            kind: ActivityKind::Sight,
            duration_min: Some(150),
            location: place("Montenvers", 45.9310, 6.9196),
            opening_hours: Some(OpeningHours {
                opens: LocalTime::new(10, 0).expect("valid time"),
                closes: LocalTime::new(16, 30).expect("valid time"),
            }),
            cost: 3_800,
            cost_per: CostPer::Person,
            created_by: "emeka".into(),
            ..Activity::default()
        },
    );
    add(
        "alpine-museum",
        Activity {
            title: "Alpine Museum".into(),
            kind: ActivityKind::Sight,
            duration_min: Some(90),
            location: place("Musée Alpin", 45.9243, 6.8701),
            opening_hours: Some(OpeningHours {
                opens: LocalTime::new(14, 0).expect("valid time"),
                closes: LocalTime::new(19, 0).expect("valid time"),
            }),
            cost: 600,
            cost_per: CostPer::Person,
            created_by: "ngozi".into(),
            ..Activity::default()
        },
    );
    trip.days.insert(
        day(1),
        Day {
            title: "Up the mountain".into(),
            notes: String::new(),
        },
    );
    trip.polls.insert(
        "last-dinner".into(),
        Poll {
            question: "Where do we have our last dinner?".into(),
            kind: PollKind::Single,
            options: [
                ("fondue", "Fondue in town"),
                ("picnic", "Picnic by the river"),
            ]
            .iter()
            .map(|(id, label)| {
                (
                    id.to_string(),
                    PollOption {
                        label: label.to_string(),
                        ..PollOption::default()
                    },
                )
            })
            .collect(),
            status: PollStatus::Open,
            created_by: "paul".into(),
            wants_options: true,
            ..Poll::default()
        },
    );
    trip.chat.push(ChatMessage {
        id: "welcome".into(),
        author: "claire".into(),
        text: "Welcome everyone! Add your ideas, and ask @assistant to plan a day.".into(),
        at: Utc::now(),
        mentions: vec![],
        reply_to: None,
    });
    trip
}
