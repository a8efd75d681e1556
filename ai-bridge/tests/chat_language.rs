//! The assistant's language end to end on a trip document (no model, no network): each
//! intent gets the right kind of answer, with figures that match `doc_model`'s own rules.

use ai_bridge::{Assistant, ASSISTANT};
use doc_model::{
    activity_cost, money, EditOp, NewPoll, PollKind, PollOption, ProposalStatus, Trip,
};

mod common;

use common::{now, read, sample_doc, say};

/// Paul opens poll `id` with `question` and one option (id, label), as the app does.
fn open_poll(doc: &doc_model::TripDoc, id: &str, question: &str, option: (&str, &str)) {
    let options = [(
        option.0.to_owned(),
        PollOption {
            label: option.1.into(),
            ..PollOption::default()
        },
    )];
    let poll = NewPoll {
        question: question.into(),
        kind: PollKind::Single,
        options: options.into(),
        closes_at: None,
        created_by: "paul".into(),
        wants_options: false,
    };
    doc.open_poll("paul", id, &poll).unwrap();
}

/// The assistant's reply to message `id`.
fn reply(trip: &Trip, id: &str) -> String {
    trip.chat
        .iter()
        .find(|m| m.author == ASSISTANT && m.reply_to.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no reply to {id}"))
        .text
        .clone()
}

#[test]
fn each_request_gets_its_kind_of_answer() {
    let doc = sample_doc();
    open_poll(
        &doc,
        "visit",
        "What shall we visit on Sunday?",
        ("market", "The market"),
    );
    say(&doc, "on", "@assistant what are we doing on friday? 🙂");
    say(&doc, "spent", "@assistant how much have we spent so far?");
    say(&doc, "families", "@assistant how much does each family pay");
    say(&doc, "move", "@assistant move the cable car to day 3");
    say(&doc, "remove", "@assistant please remove the alpine museum");
    say(
        &doc,
        "options",
        "@assistant can you suggest options for the visit poll?",
    );
    say(
        &doc,
        "rain",
        "@assistant we have a rainy day on day 4, any indoor ideas?",
    );
    say(&doc, "sum", "@assistant please summarize the trip");
    say(&doc, "what", "@assistant move it");
    let report = Assistant::new().step(&doc, now()).unwrap();
    assert_eq!(report.answered.len(), 9, "{report:?}");
    let trip = read(&doc);

    // What's on Friday (day 2): the cable car and lunch, by time.
    let on = reply(&trip, "on");
    assert!(
        on.contains("08:30 Aiguille du Midi cable car, 12:30 Lunch at the Chalet"),
        "{on}"
    );

    // The budget: doc_model's own cost of the scheduled activities, and what is left.
    let spent: u64 = trip
        .activities
        .values()
        .filter(|a| a.date.is_some())
        .map(|a| activity_cost(&trip, a))
        .sum();
    let text = reply(&trip, "spent");
    assert!(text.contains(&money(spent, "EUR")), "{text}");
    assert!(
        text.contains(&money(trip.meta.budget - spent, "EUR")),
        "{text}"
    );
    assert!(reply(&trip, "families").contains("The Okafors"));

    // A move and a removal are proposals with that op, pending.
    let proposal_for = |id: &str| {
        trip.proposals
            .values()
            .find(|p| p.about.as_deref() == Some(&format!("chat:{id}")))
            .unwrap_or_else(|| panic!("no proposal for {id}"))
    };
    let moved = proposal_for("move");
    assert_eq!(moved.status, ProposalStatus::Pending);
    assert!(
        matches!(&moved.ops[..], [EditOp::ScheduleActivity { id, date, .. }]
        if id == "aiguille" && *date == trip.meta.start_date + chrono::Duration::days(2))
    );
    assert!(
        matches!(&proposal_for("remove").ops[..], [EditOp::RemoveActivity { id, .. }] if id == "alpine-museum")
    );

    // Options from the trip's own ideas, added to the poll named.
    let options = &trip.polls["visit"].options;
    assert!(
        options.len() > 1 && options.values().any(|o| o.ai_generated),
        "{options:?}"
    );
    assert!(reply(&trip, "options").contains("I added"));

    // Indoor ideas are the trip's own: the museum is one, the hike is not.
    let rain = reply(&trip, "rain");
    assert!(
        rain.contains("Alpine Museum") && !rain.contains("Lac Blanc"),
        "{rain}"
    );

    // The summary names the trip and its days; a move of nothing named asks which.
    assert!(reply(&trip, "sum").contains("Summer in the Alps: 4 days"));
    assert!(reply(&trip, "what").contains("Which activity should I move?"));
}

#[test]
fn a_request_asked_again_points_to_the_pending_proposal_instead_of_a_second_one() {
    let doc = sample_doc();
    let mut assistant = Assistant::new();
    say(&doc, "first", "@assistant plan day 3");
    assistant.step(&doc, now()).unwrap();
    say(&doc, "again", "@assistant please plan saturday 🙏");
    say(&doc, "move", "@assistant move the cable car to day 3");
    assistant.step(&doc, now()).unwrap();
    say(
        &doc,
        "move-again",
        "@assistant move the cable car to saturday",
    );
    let report = assistant.step(&doc, now()).unwrap();
    assert_eq!(report.proposed.len(), 0, "{report:?}");
    let trip = read(&doc);
    assert_eq!(trip.proposals.len(), 2, "one plan and one move");
    assert!(reply(&trip, "again").contains("I already proposed that"));
    // The plan's rationale writes money as people read it.
    let plan = trip
        .proposals
        .values()
        .find(|p| p.about.as_deref() == Some("chat:first"))
        .unwrap();
    assert!(
        plan.rationale.contains(" EUR of the budget left after it"),
        "{}",
        plan.rationale
    );
    assert!(reply(&trip, "move-again").contains("I already proposed that: Move"));
}

#[test]
fn a_poll_whose_question_asks_the_assistant_gets_options() {
    // What a stock client writes: no `wantsOptions`, the request in the question.
    let doc = sample_doc();
    doc.open_poll(
        "paul",
        "sunday",
        &NewPoll {
            question: "Sunday afternoon? @assistant suggest options".into(),
            kind: PollKind::Single,
            options: Default::default(),
            closes_at: None,
            created_by: "paul".into(),
            wants_options: false,
        },
    )
    .unwrap();
    let report = Assistant::new().step(&doc, now()).unwrap();
    assert_eq!(report.options_for, ["sunday"]);
    assert!(!read(&doc).polls["sunday"].options.is_empty());
}

#[test]
fn a_trip_that_is_over_gets_its_recap_once() {
    let doc = sample_doc();
    open_poll(&doc, "dinner", "Last dinner?", ("fondue", "Fondue in town"));
    doc.vote(
        "ngozi",
        "dinner",
        "ngozi",
        &doc_model::Vote::Single("fondue".into()),
    )
    .unwrap();
    doc.vote(
        "emeka",
        "dinner",
        "emeka",
        &doc_model::Vote::Single("fondue".into()),
    )
    .unwrap();
    doc.close_poll("paul", "dinner", doc_model::Weighting::PerFamily)
        .unwrap();
    let mut assistant = Assistant::new();
    let during = read(&doc)
        .meta
        .end_date
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    assistant.step(&doc, during).unwrap();
    assert!(read(&doc)
        .chat
        .iter()
        .all(|m| m.reply_to.as_deref() != Some("recap:trip")));
    let after = during + chrono::Duration::days(1);
    let report = assistant.step(&doc, after).unwrap();
    assert!(
        report.answered.contains(&"recap:trip".to_owned()),
        "{report:?}"
    );
    let recap = reply(&read(&doc), "recap:trip");
    assert!(
        recap.contains("\"Last dinner?\": Fondue in town"),
        "{recap}"
    );
    // Saturday's hike (300 min) is longer than Friday's cable car and lunch (270 min).
    assert!(
        recap.contains("Longest day: Sat 3 Jul (5 h 00 min planned)"),
        "{recap}"
    );
    assert!(
        recap.contains("Most decisive: The Okafors (2 votes"),
        "{recap}"
    );
    assert!(
        Assistant::new()
            .step(&doc, after)
            .unwrap()
            .answered
            .is_empty(),
        "once"
    );
    let result = reply(&read(&doc), "result:dinner");
    assert!(result.contains("(1 family, 2 voters)"), "{result}");
}

#[test]
fn a_plan_asked_for_a_kind_or_a_family_schedules_only_such_ideas() {
    let doc = sample_doc();
    say(
        &doc,
        "indoors",
        "@assistant plan something indoors on sunday",
    );
    say(&doc, "eat", "@assistant plan somewhere to eat on day 3");
    Assistant::new().step(&doc, now()).unwrap();
    let trip = read(&doc);
    let scheduled = |id: &str| -> Vec<String> {
        trip.proposals
            .values()
            .filter(|p| p.about.as_deref() == Some(&format!("chat:{id}")))
            .flat_map(|p| &p.ops)
            .filter_map(|op| match op {
                EditOp::ScheduleActivity { id, .. } => Some(id.clone()),
                _ => None,
            })
            .collect()
    };
    // Of the two ideas, the museum is indoors and the Mer de Glace train is not.
    assert_eq!(scheduled("indoors"), ["alpine-museum"]);
    // The sample has no meal idea: nothing is proposed, and the reply says why.
    assert!(scheduled("eat").is_empty());
    assert!(reply(&trip, "eat").contains("no idea of that kind"));
}
