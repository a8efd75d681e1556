//! Proposals: written pending, accepted (ops applied in one transaction), rejected, or stale
//! when the plan changed underneath.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use doc_model::*;
use yrs::{Doc, Map, Out, Transact};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 7, d).unwrap()
}

fn trip() -> TripDoc {
    let trip = TripDoc::new(Doc::new());
    let meta = Meta {
        title: "T".into(),
        start_date: day(1),
        end_date: day(5),
        ..Meta::default()
    };
    trip.create("a", &meta).unwrap();
    for id in ["museum", "lake"] {
        let idea = Activity {
            title: id.into(),
            duration_min: Some(120),
            ..Activity::default()
        };
        trip.add_activity("a", id, &idea).unwrap();
    }
    trip
}

fn plan_day_two() -> Proposal {
    Proposal {
        author: "assistant".into(),
        summary: "Museum in the morning, lake after lunch".into(),
        rationale: "Both fit day 2; the museum opens at 9".into(),
        ops: vec![
            EditOp::ScheduleActivity {
                id: "museum".into(),
                date: day(2),
                start: LocalTime::new(9, 30),
                duration_min: None,
                expect: Placement::default(),
            },
            EditOp::ScheduleActivity {
                id: "lake".into(),
                date: day(2),
                start: LocalTime::new(14, 0),
                duration_min: Some(180),
                expect: Placement::default(),
            },
            EditOp::SetDayTitle {
                date: day(2),
                title: "Culture and water".into(),
            },
        ],
        status: ProposalStatus::Pending,
        decided_by: None,
        created_at: "2027-06-01T10:00:00Z".parse().unwrap(),
        reason: None,
        about: None,
    }
}

#[test]
fn an_accepted_proposal_is_applied_in_one_transaction() {
    let trip = trip();
    trip.propose("assistant", "p1", &plan_day_two()).unwrap();
    let before = trip.read().trip.unwrap();
    assert_eq!(before.proposals["p1"].status, ProposalStatus::Pending);
    assert_eq!(before.proposals["p1"].ops, plan_day_two().ops);
    assert_eq!(
        before.activities["museum"].date, None,
        "proposing changes nothing"
    );

    let updates = Arc::new(Mutex::new(0));
    let count = updates.clone();
    trip.doc()
        .observe_update_v1(
            "count",
            move |_: &yrs::TransactionMut, _: &yrs::UpdateEvent| *count.lock().unwrap() += 1,
        )
        .unwrap();
    assert_eq!(
        trip.accept_proposal("ann", "p1", "ann").unwrap(),
        Acceptance::Applied
    );
    assert_eq!(*updates.lock().unwrap(), 1, "one transaction");
    let after = trip.read().trip.unwrap();
    assert_eq!(after.proposals["p1"].status, ProposalStatus::Applied);
    assert_eq!(after.proposals["p1"].decided_by.as_deref(), Some("ann"));
    assert_eq!(
        after.activities["museum"].start.unwrap().to_string(),
        "09:30"
    );
    assert_eq!(after.activities["lake"].duration_min, Some(180));
    assert_eq!(after.days[&day(2)].title, "Culture and water");
    assert!(matches!(
        trip.accept_proposal("ann", "p1", "ann"),
        Err(ModelError::ProposalState { .. })
    ));
}

#[test]
fn rejecting_changes_nothing_else() {
    let trip = trip();
    trip.propose("assistant", "p1", &plan_day_two()).unwrap();
    trip.reject_proposal("bob", "p1", "bob").unwrap();
    let t = trip.read().trip.unwrap();
    assert_eq!(t.proposals["p1"].status, ProposalStatus::Rejected);
    assert_eq!(t.activities["museum"].date, None);
    assert!(matches!(
        trip.accept_proposal("bob", "p1", "bob"),
        Err(ModelError::ProposalState { .. })
    ));
}

#[test]
fn a_proposal_goes_stale_when_what_it_changes_moved() {
    let trip = trip();
    trip.propose("assistant", "p1", &plan_day_two()).unwrap();
    // Meanwhile somebody puts the lake on day 4.
    trip.schedule_activity("cy", "lake", day(4), LocalTime::new(10, 0), None)
        .unwrap();
    let outcome = trip.accept_proposal("ann", "p1", "ann").unwrap();
    let Acceptance::Stale(reason) = outcome else {
        panic!("expected stale, got {outcome:?}")
    };
    assert!(
        reason.contains("lake") && reason.contains("moved"),
        "{reason}"
    );
    let t = trip.read().trip.unwrap();
    assert_eq!(t.proposals["p1"].status, ProposalStatus::Stale);
    assert_eq!(t.proposals["p1"].reason.as_deref(), Some(reason.as_str()));
    // All or nothing: the museum was not scheduled either.
    assert_eq!(t.activities["museum"].date, None);
    assert_eq!(t.activities["lake"].date, Some(day(4)));
    assert!(!t.days.contains_key(&day(2)));
}

#[test]
fn a_stock_client_accepts_by_setting_the_status() {
    let trip = trip();
    trip.propose("assistant", "p1", &plan_day_two()).unwrap();
    // What any Yjs client can do: set status and decidedBy on the proposal's map.
    {
        let proposals = trip.doc().get_or_insert_map("proposals");
        let mut txn = trip.doc().transact_mut();
        let Some(Out::YMap(p)) = proposals.get(&txn, "p1") else {
            panic!()
        };
        p.insert(&mut txn, "status", "accepted");
        p.insert(&mut txn, "decidedBy", "dana");
    }
    assert_eq!(
        trip.apply_accepted("assistant", "p1").unwrap(),
        Acceptance::Applied
    );
    let t = trip.read().trip.unwrap();
    assert_eq!(t.proposals["p1"].status, ProposalStatus::Applied);
    assert_eq!(t.proposals["p1"].decided_by.as_deref(), Some("dana"));
    assert_eq!(t.activities["lake"].date, Some(day(2)));
    assert!(matches!(
        trip.apply_accepted("assistant", "p1"),
        Err(ModelError::ProposalState { .. })
    ));
}

#[test]
fn proposals_that_do_not_fit_are_refused_when_written() {
    let trip = trip();
    let mut outside = plan_day_two();
    outside.ops = vec![EditOp::ScheduleActivity {
        id: "museum".into(),
        date: day(9),
        start: None,
        duration_min: None,
        expect: Placement::default(),
    }];
    assert!(matches!(
        trip.propose("assistant", "p1", &outside),
        Err(ModelError::OutsideTrip { .. })
    ));
    let mut ghost = plan_day_two();
    ghost.ops = vec![EditOp::RemoveActivity {
        id: "ghost".into(),
        expect: Placement::default(),
    }];
    assert!(matches!(
        trip.propose("assistant", "p2", &ghost),
        Err(ModelError::ProposalState { .. })
    ));
    let mut nameless = plan_day_two();
    nameless.summary = String::new();
    assert_eq!(
        trip.propose("assistant", "p3", &nameless),
        Err(ModelError::Empty("proposal summary"))
    );
    assert!(trip.read().trip.unwrap().proposals.is_empty());
}

#[test]
fn new_activities_and_poll_options_can_be_proposed() {
    let trip = trip();
    trip.open_poll(
        "a",
        "dinner",
        &NewPoll {
            question: "Dinner?".into(),
            wants_options: true,
            ..NewPoll::default()
        },
    )
    .unwrap();
    let proposal = Proposal {
        ops: vec![
            EditOp::AddActivity {
                id: "boat".into(),
                activity: Activity {
                    title: "Boat trip".into(),
                    date: Some(day(3)),
                    ..Activity::default()
                },
            },
            EditOp::AddPollOption {
                poll: "dinner".into(),
                id: "fondue".into(),
                option: PollOption {
                    label: "Fondue".into(),
                    ai_generated: true,
                    ..PollOption::default()
                },
            },
            EditOp::RemoveActivity {
                id: "lake".into(),
                expect: Placement::default(),
            },
        ],
        ..plan_day_two()
    };
    trip.propose("assistant", "p1", &proposal).unwrap();
    assert_eq!(
        trip.accept_proposal("ann", "p1", "ann").unwrap(),
        Acceptance::Applied
    );
    let t = trip.read().trip.unwrap();
    assert_eq!(t.activities["boat"].date, Some(day(3)));
    assert!(!t.activities.contains_key("lake"));
    assert!(t.polls["dinner"].options["fondue"].ai_generated);
}
