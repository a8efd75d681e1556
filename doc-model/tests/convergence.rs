//! Property: replicas that apply random operations concurrently and exchange updates in any
//! order end equal, with the model's invariants intact.

use chrono::NaiveDate;
use doc_model::*;
use proptest::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

const ACTIVITIES: [&str; 4] = ["museum", "lake", "hike", "market"];
const MEMBERS: [&str; 4] = ["ann", "bob", "cy", "dee"];

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 7, d).unwrap()
}

#[derive(Clone, Debug)]
enum Op {
    Schedule {
        activity: usize,
        day: u32,
        hour: u16,
    },
    Unschedule {
        activity: usize,
    },
    Rename {
        activity: usize,
        title: String,
    },
    Vote {
        member: usize,
        option: usize,
    },
    DayTitle {
        day: u32,
        title: String,
    },
    Chat {
        text: String,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4usize, 1..=5u32, 6..20u16).prop_map(|(activity, day, hour)| Op::Schedule {
            activity,
            day,
            hour
        }),
        (0..4usize).prop_map(|activity| Op::Unschedule { activity }),
        (0..4usize, "[a-z]{1,8}").prop_map(|(activity, title)| Op::Rename { activity, title }),
        (0..4usize, 0..3usize).prop_map(|(member, option)| Op::Vote { member, option }),
        (1..=5u32, "[a-z ]{0,10}").prop_map(|(day, title)| Op::DayTitle { day, title }),
        "[a-z]{1,12}".prop_map(|text| Op::Chat { text }),
    ]
}

/// The common starting point: a trip with two families, four ideas and an open poll.
fn base() -> Vec<u8> {
    let trip = TripDoc::new(Doc::new());
    let meta = Meta {
        title: "T".into(),
        start_date: day(1),
        end_date: day(5),
        ..Meta::default()
    };
    trip.create("base", &meta).unwrap();
    for (family, members) in [("f1", &MEMBERS[..3]), ("f2", &MEMBERS[3..])] {
        let family_value = Family {
            name: family.into(),
            members: members
                .iter()
                .map(|m| {
                    (
                        m.to_string(),
                        Member {
                            name: m.to_string(),
                            ..Member::default()
                        },
                    )
                })
                .collect(),
            ..Family::default()
        };
        trip.add_family("base", family, &family_value).unwrap();
    }
    for id in ACTIVITIES {
        let idea = Activity {
            title: id.into(),
            duration_min: Some(60),
            ..Activity::default()
        };
        trip.add_activity("base", id, &idea).unwrap();
    }
    let options = ["x", "y", "z"]
        .iter()
        .map(|o| {
            (
                o.to_string(),
                PollOption {
                    label: o.to_string(),
                    ..PollOption::default()
                },
            )
        })
        .collect();
    trip.open_poll(
        "base",
        "poll",
        &NewPoll {
            question: "Q?".into(),
            options,
            ..NewPoll::default()
        },
    )
    .unwrap();
    let update = trip
        .doc()
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    update
}

fn apply(trip: &TripDoc, replica: usize, op: &Op, n: usize) {
    let origin = format!("r{replica}");
    // Refused operations are fine: they must simply change nothing.
    let _ = match op {
        Op::Schedule {
            activity,
            day: d,
            hour,
        } => trip.schedule_activity(
            &origin,
            ACTIVITIES[*activity],
            day(*d),
            LocalTime::new(*hour, 0),
            None,
        ),
        Op::Unschedule { activity } => trip.unschedule_activity(&origin, ACTIVITIES[*activity]),
        Op::Rename { activity, title } => trip.edit_activity(
            &origin,
            ACTIVITIES[*activity],
            &ActivityEdit {
                title: Some(title.clone()),
                ..ActivityEdit::default()
            },
        ),
        Op::Vote { member, option } => trip.vote(
            &origin,
            "poll",
            MEMBERS[*member],
            &Vote::Single(["x", "y", "z"][*option].into()),
        ),
        Op::DayTitle { day: d, title } => trip.set_day_title(&origin, day(*d), title),
        Op::Chat { text } => trip.post_chat(
            &origin,
            &ChatMessage {
                id: format!("r{replica}-{n}"),
                author: origin.clone(),
                text: text.clone(),
                at: "2027-06-01T10:00:00Z".parse().unwrap(),
                mentions: vec![],
                reply_to: None,
            },
        ),
    };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn replicas_converge(
        ops in proptest::collection::vec(proptest::collection::vec(op(), 0..15), 3),
        orders in proptest::collection::vec(Just([0usize, 1, 2]).prop_shuffle(), 3),
    ) {
        let base = base();
        let replicas: Vec<TripDoc> = (0..3)
            .map(|_| {
                let doc = Doc::new();
                doc.transact_mut().apply_update(Update::decode_v1(&base).unwrap()).unwrap();
                TripDoc::new(doc)
            })
            .collect();
        let base_sv = replicas[0].doc().transact().state_vector();
        for (r, (trip, ops)) in replicas.iter().zip(&ops).enumerate() {
            for (n, op) in ops.iter().enumerate() {
                apply(trip, r, op, n);
            }
        }
        let updates: Vec<Vec<u8>> = replicas
            .iter()
            .map(|t| t.doc().transact().encode_state_as_update_v1(&base_sv))
            .collect();
        // Each replica receives the others' updates in its own random order.
        for (r, trip) in replicas.iter().enumerate() {
            for &from in &orders[r] {
                if from != r {
                    trip.doc().transact_mut().apply_update(Update::decode_v1(&updates[from]).unwrap()).unwrap();
                }
            }
        }
        let reads: Vec<ReadTrip> = replicas.iter().map(|t| t.read()).collect();
        for read in &reads {
            prop_assert_eq!(&read.skipped, &vec![]);
        }
        let trips: Vec<Trip> = reads.into_iter().map(|r| r.trip.unwrap()).collect();
        prop_assert_eq!(&trips[0], &trips[1]);
        prop_assert_eq!(&trips[1], &trips[2]);
        // Concurrently moved activities exist once each, on one day within the trip.
        prop_assert_eq!(trips[0].activities.len(), ACTIVITIES.len());
        for activity in trips[0].activities.values() {
            if let Some(date) = activity.date {
                prop_assert!(date >= day(1) && date <= day(5));
            }
        }
        // The tally is the same everywhere.
        let tallies: Vec<Tally> = replicas.iter().map(|t| t.tally("poll", Weighting::PerFamily).unwrap()).collect();
        prop_assert_eq!(&tallies[0], &tallies[1]);
        prop_assert_eq!(&tallies[1], &tallies[2]);
        // All chat messages arrived everywhere.
        let sent: usize = ops.iter().flatten().filter(|o| matches!(o, Op::Chat { .. })).count();
        prop_assert_eq!(trips[0].chat.len(), sent);
    }
}
