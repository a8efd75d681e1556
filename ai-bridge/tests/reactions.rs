//! The assistant's reactions on a real trip document (no network): chat requests become
//! proposals and answers, accepted proposals are applied (also when a stock client accepts
//! by setting `status`), polls get options and are tallied when they close, conflicts get
//! fixes; and nothing is done twice, also by a fresh assistant after a restart.

use ai_bridge::{Assistant, ASSISTANT};
use chrono::Duration;
use doc_model::{
    detect_conflicts, ChatMessage, ConflictRules, NewPoll, PollKind, PollStatus, ProposalStatus,
    TripDoc, Vote,
};
use yrs::{Map, Transact};

mod common;

use common::{now, read, sample_doc, say, start};

/// What a stock Yjs client does to accept: set the proposal's `status` (and `decidedBy`).
fn accept_like_a_stock_client(doc: &TripDoc, id: &str) {
    let proposals = doc.doc().get_or_insert_map("proposals");
    let mut txn = doc.doc().transact_mut();
    let Some(yrs::Out::YMap(proposal)) = proposals.get(&txn, id) else {
        panic!("no proposal {id}");
    };
    proposal.insert(&mut txn, "status", "accepted");
    proposal.insert(&mut txn, "decidedBy", "claire");
}

#[test]
fn a_chat_request_becomes_a_proposal_that_a_stock_client_accepts() {
    let doc = sample_doc();
    let mut assistant = Assistant::new();
    say(&doc, "m1", "@assistant can you plan day 3 for us?");
    let report = assistant.step(&doc, now()).unwrap();
    assert_eq!(report.answered, ["m1"]);
    assert_eq!(report.proposed.len(), 1);
    let trip = read(&doc);
    let proposal = &trip.proposals[&report.proposed[0]];
    assert_eq!(proposal.about.as_deref(), Some("chat:m1"));
    assert_eq!(proposal.author, ASSISTANT);
    assert!(!proposal.ops.is_empty());
    let day3 = start() + Duration::days(2);
    for op in &proposal.ops {
        match op {
            doc_model::EditOp::ScheduleActivity { date, .. } => assert_eq!(*date, day3),
            other => panic!("unexpected {other:?}"),
        }
    }
    let reply = trip.chat.iter().find(|m| m.author == ASSISTANT).unwrap();
    assert_eq!(reply.reply_to.as_deref(), Some("m1"));
    assert!(reply.text.contains("proposed"), "{}", reply.text);
    // The itinerary did not change: only a proposal.
    let ideas_before = trip
        .activities
        .values()
        .filter(|a| a.date.is_none())
        .count();
    assert!(ideas_before >= proposal.ops.len());

    // Nothing twice, not even from a new assistant (a restart).
    assert!(assistant.step(&doc, now()).unwrap().is_empty());
    assert!(Assistant::new().step(&doc, now()).unwrap().is_empty());

    accept_like_a_stock_client(&doc, &report.proposed[0]);
    let applied = Assistant::new().step(&doc, now()).unwrap();
    assert_eq!(applied.applied, report.proposed);
    let trip = read(&doc);
    assert_eq!(
        trip.proposals[&report.proposed[0]].status,
        ProposalStatus::Applied
    );
    for op in &proposal.ops {
        if let doc_model::EditOp::ScheduleActivity {
            id, date, start, ..
        } = op
        {
            assert_eq!(trip.activities[id].date, Some(*date));
            assert_eq!(trip.activities[id].start, *start);
        }
    }
    assert!(detect_conflicts(&trip, &ConflictRules::default())
        .iter()
        .all(|c| !proposal.ops.iter().any(|op| matches!(op,
            doc_model::EditOp::ScheduleActivity { id, .. } if c.activities.contains(id)))));
}

#[test]
fn other_messages_get_help_and_messages_not_for_the_assistant_get_nothing() {
    let doc = sample_doc();
    let mut assistant = Assistant::new();
    say(&doc, "hello", "hello everyone");
    say(&doc, "q", "@assistant what can you do?");
    say(
        &doc,
        "check",
        "@Assistant please check the plan for problems",
    );
    let report = assistant.step(&doc, now()).unwrap();
    assert_eq!(report.answered, ["q", "check"]);
    let trip = read(&doc);
    let replies: Vec<&ChatMessage> = trip.chat.iter().filter(|m| m.author == ASSISTANT).collect();
    assert!(replies[0].text.contains("plan days"));
    assert!(replies[1].text.contains("checked") || replies[1].text.contains("problem"));
}

#[test]
fn a_poll_asking_for_options_gets_them_once() {
    let doc = sample_doc();
    doc.open_poll(
        "claire",
        "rain",
        &NewPoll {
            question: "Which museum if it rains?".into(),
            kind: PollKind::Single,
            options: Default::default(),
            closes_at: None,
            created_by: "claire".into(),
            wants_options: true,
        },
    )
    .unwrap();
    let mut assistant = Assistant::new();
    let report = assistant.step(&doc, now()).unwrap();
    assert_eq!(report.options_for, ["rain"]);
    let poll = &read(&doc).polls["rain"];
    assert!(!poll.options.is_empty());
    assert!(poll
        .options
        .values()
        .all(|o| o.ai_generated && o.activity.is_some()));
    assert!(Assistant::new().step(&doc, now()).unwrap().is_empty());
}

#[test]
fn a_poll_past_its_deadline_is_tallied_and_its_winner_proposed() {
    let doc = sample_doc();
    let options = [
        ("museum", "Alpine Museum", "alpine-museum"),
        ("train", "Mer de Glace", "mer-de-glace"),
    ]
    .into_iter()
    .map(|(id, label, activity)| {
        (
            id.to_string(),
            doc_model::PollOption {
                label: label.into(),
                details: String::new(),
                ai_generated: false,
                activity: Some(activity.into()),
            },
        )
    })
    .collect();
    doc.open_poll(
        "claire",
        "outing",
        &NewPoll {
            question: "Museum or glacier?".into(),
            kind: PollKind::Single,
            options,
            closes_at: Some(now() + Duration::hours(1)),
            created_by: "claire".into(),
            wants_options: false,
        },
    )
    .unwrap();
    let trip = read(&doc);
    // Two families for the glacier, one for the museum.
    let mut voters = trip
        .families
        .iter()
        .map(|(f, fam)| (f.clone(), fam.members.keys().next().unwrap().clone()));
    for choice in ["train", "train", "museum"] {
        let (_, member) = voters.next().unwrap();
        doc.vote("claire", "outing", &member, &Vote::Single(choice.into()))
            .unwrap();
    }
    let mut assistant = Assistant::new();
    assert!(
        assistant.step(&doc, now()).unwrap().tallied.is_empty(),
        "not yet due"
    );
    let later = now() + Duration::hours(2);
    let report = assistant.step(&doc, later).unwrap();
    assert_eq!(report.tallied, ["outing"]);
    let trip = read(&doc);
    assert_eq!(trip.polls["outing"].status, PollStatus::Closed);
    let note = trip
        .chat
        .iter()
        .find(|m| m.reply_to.as_deref() == Some("result:outing"))
        .unwrap();
    assert!(note.text.contains("Mer de Glace wins"), "{}", note.text);
    let proposal = trip
        .proposals
        .values()
        .find(|p| p.about.as_deref() == Some("poll:outing"))
        .expect("a proposal to schedule the winner");
    assert!(matches!(&proposal.ops[0],
        doc_model::EditOp::ScheduleActivity { id, .. } if id == "mer-de-glace"));
    assert!(Assistant::new().step(&doc, later).unwrap().is_empty());
}

#[test]
fn a_conflict_gets_one_proposed_fix() {
    let doc = sample_doc();
    // Put the museum on top of the cable car (the second day, 08:30-11:30).
    let day2 = start() + Duration::days(1);
    doc.schedule_activity(
        "claire",
        "alpine-museum",
        day2,
        doc_model::LocalTime::new(9, 0),
        Some(90),
    )
    .unwrap();
    let overlap = detect_conflicts(&read(&doc), &ConflictRules::default())
        .into_iter()
        .find(|c| c.kind == doc_model::ConflictKind::Overlap)
        .expect("an overlap");
    let mut assistant = Assistant::new();
    let report = assistant.step(&doc, now()).unwrap();
    let trip = read(&doc);
    let fix = trip
        .proposals
        .values()
        .find(|p| {
            p.about
                .as_deref()
                .is_some_and(|a| a.starts_with("conflict:overlap:"))
        })
        .expect("a fix for the overlap");
    assert!(!report.proposed.is_empty());
    assert!(fix.summary.contains("Move"), "{}", fix.summary);
    assert!(overlap.activities.len() == 2);
    // Rejected or not, the same conflict is not proposed again.
    assert!(Assistant::new()
        .step(&doc, now())
        .unwrap()
        .proposed
        .is_empty());
}
