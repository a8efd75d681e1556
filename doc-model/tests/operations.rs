//! Every operation of `TripDoc`, and every validation error.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use doc_model::*;
use yrs::{Doc, Map, ReadTxn, Transact};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 7, d).unwrap()
}

fn meta() -> Meta {
    Meta {
        title: "Alps 2027".into(),
        destination: "Chamonix".into(),
        start_date: day(10),
        end_date: day(17),
        timezone: "Europe/Paris".into(),
        currency: "EUR".into(),
        budget: 500_000,
        ..Meta::default()
    }
}

fn trip() -> TripDoc {
    let trip = TripDoc::new(Doc::new());
    trip.create("alice", &meta()).unwrap();
    trip
}

fn read(trip: &TripDoc) -> Trip {
    let read = trip.read();
    assert_eq!(
        read.skipped,
        [],
        "a document written by the model reads cleanly"
    );
    read.trip.expect("a trip")
}

fn member(name: &str) -> Member {
    Member {
        name: name.into(),
        ..Member::default()
    }
}

fn family(name: &str, members: &[(&str, &str)]) -> Family {
    Family {
        name: name.into(),
        color: "#3366ff".into(),
        members: members
            .iter()
            .map(|(id, n)| (id.to_string(), member(n)))
            .collect(),
        preferences: Preferences {
            interests: vec!["hiking".into()],
            pace: Pace::Relaxed,
            budget_level: BudgetLevel::Medium,
        },
    }
}

fn idea(title: &str) -> Activity {
    Activity {
        title: title.into(),
        kind: ActivityKind::Sight,
        duration_min: Some(90),
        location: Some(Location {
            name: "Mer de Glace".into(),
            lat: 45.92,
            lng: 6.92,
            address: String::new(),
        }),
        cost: 4_500,
        cost_per: CostPer::Person,
        notes: "bring jackets".into(),
        created_by: "alice".into(),
        ..Activity::default()
    }
}

#[test]
fn create_and_read_back() {
    let trip = trip();
    assert_eq!(read(&trip).meta, meta());
    assert_eq!(trip.create("bob", &meta()), Err(ModelError::TripExists));
}

#[test]
fn writes_need_a_trip() {
    let empty = TripDoc::new(Doc::new());
    assert_eq!(
        empty.add_activity("a", "x", &idea("x")),
        Err(ModelError::NoTrip)
    );
    assert!(empty.read().trip.is_none());
}

#[test]
fn meta_validation() {
    let empty = || TripDoc::new(Doc::new());
    let bad = |change: fn(&mut Meta)| {
        let mut m = meta();
        change(&mut m);
        empty().create("a", &m).unwrap_err()
    };
    assert!(matches!(
        bad(|m| m.end_date = day(1)),
        ModelError::EndBeforeStart { .. }
    ));
    assert_eq!(
        bad(|m| m.currency = "EURO".into()),
        ModelError::UnknownCurrency("EURO".into())
    );
    assert_eq!(
        bad(|m| m.currency = "XYZ".into()),
        ModelError::UnknownCurrency("XYZ".into())
    );
    assert!(matches!(
        bad(|m| m.timezone = "Mars/Base".into()),
        ModelError::UnknownTimezone(_)
    ));
    assert_eq!(bad(|m| m.title = "  ".into()), ModelError::Empty("title"));
    assert!(matches!(
        bad(|m| m.title = "x".repeat(201)),
        ModelError::TooLong { .. }
    ));
    assert!(matches!(
        bad(|m| m.budget = 1 << 60),
        ModelError::MoneyTooLarge { .. }
    ));
    // A one-day trip is fine.
    let mut one_day = meta();
    one_day.end_date = one_day.start_date;
    empty().create("a", &one_day).unwrap();
}

#[test]
fn update_meta_keeps_activities_inside_the_trip() {
    let trip = trip();
    let mut a = idea("Hike");
    a.date = Some(day(16));
    trip.add_activity("alice", "hike", &a).unwrap();
    let mut shorter = meta();
    shorter.end_date = day(12);
    assert!(matches!(
        trip.update_meta("alice", &shorter),
        Err(ModelError::OutsideTrip { .. })
    ));
    let mut renamed = meta();
    renamed.title = "Alps!".into();
    renamed.status = TripStatus::Booked;
    trip.update_meta("alice", &renamed).unwrap();
    assert_eq!(read(&trip).meta, renamed);
}

#[test]
fn families_and_members() {
    let trip = trip();
    trip.add_family(
        "alice",
        "smiths",
        &family("Smiths", &[("alice", "Alice"), ("tom", "Tom")]),
    )
    .unwrap();
    assert!(matches!(
        trip.add_family("alice", "smiths", &family("Again", &[])),
        Err(ModelError::AlreadyExists { .. })
    ));
    trip.rename_family("bob", "smiths", "The Smiths").unwrap();
    trip.add_member("alice", "smiths", "kim", &member("Kim"))
        .unwrap();
    trip.rename_member("alice", "smiths", "tom", "Thomas")
        .unwrap();
    trip.remove_member("alice", "smiths", "alice").unwrap();
    let t = read(&trip);
    let smiths = &t.families["smiths"];
    assert_eq!(smiths.name, "The Smiths");
    assert_eq!(smiths.preferences.pace, Pace::Relaxed);
    let names: Vec<_> = smiths.members.values().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Kim", "Thomas"]);

    assert!(matches!(
        trip.remove_member("a", "smiths", "alice"),
        Err(ModelError::NotFound { .. })
    ));
    assert!(matches!(
        trip.rename_family("a", "nobody", "X"),
        Err(ModelError::NotFound { .. })
    ));
    assert!(matches!(
        trip.add_member("a", "nobody", "x", &member("X")),
        Err(ModelError::NotFound { .. })
    ));
    assert!(matches!(
        trip.add_family("a", "bad id", &family("X", &[])),
        Err(ModelError::BadId(_))
    ));
    let mut bad_color = family("X", &[]);
    bad_color.color = "blue".into();
    assert!(matches!(
        trip.add_family("a", "x", &bad_color),
        Err(ModelError::BadColor(_))
    ));

    trip.remove_family("alice", "smiths").unwrap();
    assert!(read(&trip).families.is_empty());
}

#[test]
fn at_most_six_families_and_twelve_members() {
    let trip = trip();
    for i in 0..6 {
        trip.add_family("a", &format!("f{i}"), &family("F", &[]))
            .unwrap();
    }
    assert_eq!(
        trip.add_family("a", "f6", &family("F", &[])),
        Err(ModelError::TooManyFamilies)
    );
    for i in 0..12 {
        trip.add_member("a", "f0", &format!("m{i}"), &member("M"))
            .unwrap();
    }
    assert_eq!(
        trip.add_member("a", "f0", "m12", &member("M")),
        Err(ModelError::TooManyMembers)
    );
    let members: Vec<(String, String)> = (0..13)
        .map(|i| (format!("m{i}"), "M".to_string()))
        .collect();
    let big = Family {
        name: "Big".into(),
        members: members
            .into_iter()
            .map(|(id, n)| (id, member(&n)))
            .collect(),
        ..Family::default()
    };
    let other = TripDoc::new(Doc::new());
    other.create("a", &meta()).unwrap();
    assert_eq!(
        other.add_family("a", "big", &big),
        Err(ModelError::TooManyMembers)
    );
}

#[test]
fn ideas_are_scheduled_moved_edited_unscheduled_and_removed() {
    let trip = trip();
    trip.add_activity("alice", "glacier", &idea("Glacier"))
        .unwrap();
    let t = read(&trip);
    assert_eq!(t.activities["glacier"], idea("Glacier"));
    assert_eq!(t.activities["glacier"].date, None, "an idea has no date");

    let nine = LocalTime::new(9, 0);
    trip.schedule_activity("bob", "glacier", day(11), nine, None)
        .unwrap();
    let a = &read(&trip).activities["glacier"];
    assert_eq!(
        (a.date, a.start, a.duration_min),
        (Some(day(11)), nine, Some(90))
    );

    // Move: another day, another time.
    trip.schedule_activity("bob", "glacier", day(12), LocalTime::new(14, 30), Some(120))
        .unwrap();
    let a = &read(&trip).activities["glacier"];
    assert_eq!(a.start.unwrap().to_string(), "14:30");
    assert_eq!((a.date, a.duration_min), (Some(day(12)), Some(120)));

    let edit = ActivityEdit {
        title: Some("Glacier walk".into()),
        cost: Some((9_000, CostPer::Family)),
        families: Some(vec!["smiths".into()]),
        booking: Some(Booking {
            status: BookingStatus::Confirmed,
            reference: "AB12".into(),
        }),
        ..ActivityEdit::default()
    };
    trip.edit_activity("carol", "glacier", &edit).unwrap();
    let a = &read(&trip).activities["glacier"];
    assert_eq!(a.title, "Glacier walk");
    assert_eq!((a.cost, a.cost_per), (9_000, CostPer::Family));
    assert_eq!(a.families, ["smiths"]);
    assert_eq!(a.booking.as_ref().unwrap().reference, "AB12");
    assert_eq!(a.notes, "bring jackets", "untouched fields stay");

    trip.unschedule_activity("bob", "glacier").unwrap();
    let a = &read(&trip).activities["glacier"];
    assert_eq!((a.date, a.start), (None, None));

    trip.remove_activity("bob", "glacier").unwrap();
    assert!(read(&trip).activities.is_empty());
    assert!(matches!(
        trip.remove_activity("bob", "glacier"),
        Err(ModelError::NotFound { .. })
    ));
}

#[test]
fn activity_validation() {
    let trip = trip();
    let refused = |change: fn(&mut Activity)| {
        let mut a = idea("X");
        change(&mut a);
        trip.add_activity("a", "x", &a).unwrap_err()
    };
    assert!(matches!(
        refused(|a| a.date = Some(day(30))),
        ModelError::OutsideTrip { .. }
    ));
    assert!(matches!(
        refused(|a| a.duration_min = Some(0)),
        ModelError::BadDuration(0)
    ));
    assert!(matches!(
        refused(|a| a.duration_min = Some(24 * 60 + 1)),
        ModelError::BadDuration(_)
    ));
    assert!(matches!(
        refused(|a| {
            a.start = LocalTime::new(23, 0);
            a.duration_min = Some(120);
        }),
        ModelError::PastMidnight { .. }
    ));
    assert!(matches!(
        refused(|a| a.location.as_mut().unwrap().lat = 91.0),
        ModelError::BadCoordinates(_)
    ));
    assert!(matches!(
        refused(|a| a.location.as_mut().unwrap().lng = -180.5),
        ModelError::BadCoordinates(_)
    ));
    assert!(matches!(
        refused(|a| a.cost = 1 << 54),
        ModelError::MoneyTooLarge { .. }
    ));
    assert!(matches!(
        refused(|a| a.title = String::new()),
        ModelError::Empty(_)
    ));
    assert!(matches!(
        refused(|a| a.notes = "x".repeat(10_001)),
        ModelError::TooLong { .. }
    ));
    trip.add_activity("a", "ok", &idea("Fine")).unwrap();
    assert!(matches!(
        trip.schedule_activity("a", "ok", day(9), None, None),
        Err(ModelError::OutsideTrip { .. })
    ));
    assert_eq!(
        read(&trip).activities["ok"].date,
        None,
        "a refused write changes nothing"
    );
    // Times parse strictly.
    for bad in ["9:00", "24:00", "12:60", "12-00", "ab:cd", ""] {
        assert!(bad.parse::<LocalTime>().is_err(), "{bad}");
    }
    assert_eq!(
        "07:05".parse::<LocalTime>().unwrap(),
        LocalTime::new(7, 5).unwrap()
    );
}

#[test]
fn days_and_chat() {
    let trip = trip();
    trip.set_day_title("alice", day(11), "Glacier day").unwrap();
    trip.append_day_notes("alice", day(11), "Early start. ")
        .unwrap();
    trip.append_day_notes("bob", day(11), "Pack lunch.")
        .unwrap();
    assert!(matches!(
        trip.set_day_title("a", day(1), "x"),
        Err(ModelError::OutsideTrip { .. })
    ));
    let message = ChatMessage {
        id: "m1".into(),
        author: "alice".into(),
        text: "@assistant plan day 2".into(),
        at: "2027-06-01T10:00:00Z".parse().unwrap(),
        mentions: vec!["assistant".into()],
        reply_to: None,
    };
    trip.post_chat("alice", &message).unwrap();
    let empty = ChatMessage {
        text: " ".into(),
        ..message.clone()
    };
    assert!(matches!(
        trip.post_chat("alice", &empty),
        Err(ModelError::Empty(_))
    ));
    let t = read(&trip);
    assert_eq!(t.days[&day(11)].title, "Glacier day");
    assert_eq!(t.days[&day(11)].notes, "Early start. Pack lunch.");
    assert_eq!(t.chat, [message]);
}

#[test]
fn every_write_is_one_transaction_with_its_origin() {
    let doc = Doc::new();
    let trip = TripDoc::new(doc.clone());
    let origins = Arc::new(Mutex::new(Vec::new()));
    let seen = origins.clone();
    doc.observe_update_v1(
        "test",
        move |txn: &yrs::TransactionMut, _: &yrs::UpdateEvent| {
            let origin = txn
                .origin()
                .map(|o| String::from_utf8_lossy(o.as_ref()).into_owned());
            seen.lock().unwrap().push(origin);
        },
    )
    .unwrap();
    trip.create("alice", &meta()).unwrap();
    trip.add_family("bob", "f", &family("F", &[("m", "M")]))
        .unwrap();
    trip.add_activity("carol", "a", &idea("A")).unwrap();
    trip.schedule_activity("dave", "a", day(11), LocalTime::new(9, 0), Some(60))
        .unwrap();
    // A refused write makes no transaction with changes.
    let _ = trip.schedule_activity("eve", "a", day(30), None, None);
    let origins: Vec<_> = origins.lock().unwrap().iter().flatten().cloned().collect();
    assert_eq!(origins, ["alice", "bob", "carol", "dave"]);
}

#[test]
fn the_json_view_round_trips() {
    let trip = trip();
    trip.add_family("a", "smiths", &family("Smiths", &[("alice", "Alice")]))
        .unwrap();
    trip.add_activity("a", "glacier", &idea("Glacier")).unwrap();
    let t = read(&trip);
    let json = serde_json::to_value(&t).unwrap();
    assert_eq!(json["meta"]["startDate"], "2027-07-10");
    assert_eq!(json["activities"]["glacier"]["costPer"], "person");
    let back: Trip = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, t);
    let forgiving = read_json(&json);
    assert_eq!(forgiving.skipped, []);
    assert_eq!(forgiving.trip.unwrap(), t);
    // Integers are stored as integers, as Yjs writes them.
    let txn = trip.doc().transact();
    let budget = txn.get_map("meta").unwrap().get(&txn, "budget").unwrap();
    assert_eq!(budget.to_string(&txn), "500000");
}
