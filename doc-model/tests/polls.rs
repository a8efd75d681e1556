//! Polls: operations, validation, and family-by-family tallies.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use doc_model::*;
use yrs::Doc;

fn trip_with_families(families: &[(&str, &[&str])]) -> TripDoc {
    let trip = TripDoc::new(Doc::new());
    trip.create(
        "a",
        &Meta {
            title: "T".into(),
            start_date: NaiveDate::from_ymd_opt(2027, 7, 1).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2027, 7, 5).unwrap(),
            ..Meta::default()
        },
    )
    .unwrap();
    for (id, members) in families {
        let family = Family {
            name: id.to_string(),
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
        trip.add_family("a", id, &family).unwrap();
    }
    trip
}

fn options(ids: &[&str]) -> BTreeMap<String, PollOption> {
    ids.iter()
        .map(|id| {
            (
                id.to_string(),
                PollOption {
                    label: id.to_uppercase(),
                    ..PollOption::default()
                },
            )
        })
        .collect()
}

fn open(trip: &TripDoc, id: &str, kind: PollKind, opts: &[&str]) {
    let poll = NewPoll {
        question: "Where?".into(),
        kind,
        options: options(opts),
        ..NewPoll::default()
    };
    trip.open_poll("a", id, &poll).unwrap();
}

fn single(option: &str) -> Vote {
    Vote::Single(option.into())
}

fn ranking(options: &[&str]) -> Vote {
    Vote::Ranking(options.iter().map(|s| s.to_string()).collect())
}

#[test]
fn open_vote_close_and_read() {
    let trip = trip_with_families(&[("smiths", &["ann", "bob"]), ("jones", &["cy"])]);
    open(&trip, "dinner", PollKind::Single, &["pizza", "sushi"]);
    trip.add_poll_option(
        "a",
        "dinner",
        "tacos",
        &PollOption {
            label: "Tacos".into(),
            ai_generated: true,
            ..PollOption::default()
        },
    )
    .unwrap();
    trip.vote("ann", "dinner", "ann", &single("tacos")).unwrap();
    trip.vote("bob", "dinner", "bob", &single("pizza")).unwrap();
    trip.vote("bob", "dinner", "bob", &single("tacos")).unwrap(); // changed his mind
    trip.vote("cy", "dinner", "cy", &single("sushi")).unwrap();
    let live = trip.tally("dinner", Weighting::PerFamily).unwrap();
    let result = trip
        .close_poll("a", "dinner", Weighting::PerFamily)
        .unwrap();
    assert_eq!(live, result, "closing stores the tally as it stood");
    // Smiths (both tacos) weigh 1, Jones (sushi) 1: a tie, broken on first preferences (equal),
    // then by option id: "sushi" sorts before "tacos".
    assert_eq!(result.rounds[0]["tacos"], 1.0);
    assert_eq!(result.rounds[0]["sushi"], 1.0);
    assert_eq!(result.winner.as_deref(), Some("sushi"));
    assert!(result
        .tie_break
        .as_deref()
        .unwrap()
        .contains("tie between sushi, tacos"));
    let poll = &trip.read().trip.unwrap().polls["dinner"];
    assert_eq!(poll.status, PollStatus::Closed);
    assert_eq!(poll.votes.len(), 3);
    assert!(poll.options["tacos"].ai_generated);
    assert_eq!(poll.result.as_ref().unwrap()["winner"], "sushi");
    // Closed: no more votes, options or closing.
    assert_eq!(
        trip.vote("ann", "dinner", "ann", &single("pizza")),
        Err(ModelError::PollNotOpen("dinner".into()))
    );
    assert!(trip
        .add_poll_option(
            "a",
            "dinner",
            "x",
            &PollOption {
                label: "X".into(),
                ..PollOption::default()
            }
        )
        .is_err());
    assert!(trip
        .close_poll("a", "dinner", Weighting::PerFamily)
        .is_err());
}

#[test]
fn vote_validation() {
    let trip = trip_with_families(&[("smiths", &["ann"])]);
    open(&trip, "one", PollKind::Single, &["x", "y"]);
    open(&trip, "rank", PollKind::Ranked, &["x", "y"]);
    assert!(matches!(
        trip.vote("a", "one", "ann", &single("z")),
        Err(ModelError::NoSuchOption { .. })
    ));
    assert!(matches!(
        trip.vote("a", "one", "ann", &ranking(&["x"])),
        Err(ModelError::WrongVoteKind { .. })
    ));
    assert!(matches!(
        trip.vote("a", "rank", "ann", &single("x")),
        Err(ModelError::WrongVoteKind { .. })
    ));
    assert_eq!(
        trip.vote("a", "rank", "ann", &ranking(&["x", "x"])),
        Err(ModelError::BadRanking)
    );
    assert_eq!(
        trip.vote("a", "rank", "ann", &ranking(&[])),
        Err(ModelError::BadRanking)
    );
    assert!(matches!(
        trip.vote("a", "rank", "ann", &ranking(&["x", "q"])),
        Err(ModelError::NoSuchOption { .. })
    ));
    assert!(matches!(
        trip.vote("a", "one", "stranger", &single("x")),
        Err(ModelError::NotFound { kind: "member", .. })
    ));
    assert!(matches!(
        trip.vote("a", "nope", "ann", &single("x")),
        Err(ModelError::NotFound { kind: "poll", .. })
    ));
    assert!(matches!(
        trip.open_poll(
            "a",
            "one",
            &NewPoll {
                question: "Again".into(),
                ..NewPoll::default()
            }
        ),
        Err(ModelError::AlreadyExists { .. })
    ));
    assert!(matches!(
        trip.open_poll("a", "q", &NewPoll::default()),
        Err(ModelError::Empty(_))
    ));
    assert!(
        trip.read().trip.unwrap().polls["rank"].votes.is_empty(),
        "refused votes leave nothing"
    );
}

#[test]
fn each_family_weighs_the_same_however_many_vote() {
    // Five Smiths vote x; one Jones votes y and one Lee votes y: y wins two families to one.
    let trip = trip_with_families(&[
        ("smiths", &["s1", "s2", "s3", "s4", "s5"]),
        ("jones", &["j1"]),
        ("lees", &["l1"]),
    ]);
    open(&trip, "p", PollKind::Single, &["x", "y"]);
    for s in ["s1", "s2", "s3", "s4", "s5"] {
        trip.vote(s, "p", s, &single("x")).unwrap();
    }
    trip.vote("j1", "p", "j1", &single("y")).unwrap();
    trip.vote("l1", "p", "l1", &single("y")).unwrap();
    let per_family = trip.tally("p", Weighting::PerFamily).unwrap();
    assert_eq!(per_family.winner.as_deref(), Some("y"));
    assert_eq!((per_family.voters, per_family.families), (7, 3));
    assert!((per_family.rounds[0]["x"] - 1.0).abs() < 1e-9);
    assert_eq!(per_family.tie_break, None);
    // Weighed by family size, the five Smiths win.
    let by_size = trip.tally("p", Weighting::ByFamilySize).unwrap();
    assert_eq!(by_size.winner.as_deref(), Some("x"));
    assert!((by_size.rounds[0]["x"] - 5.0).abs() < 1e-9);
}

#[test]
fn a_family_split_in_its_vote_splits_its_weight() {
    let trip = trip_with_families(&[("smiths", &["s1", "s2", "s3"]), ("jones", &["j1"])]);
    open(&trip, "p", PollKind::Single, &["x", "y", "z"]);
    trip.vote("a", "p", "s1", &single("x")).unwrap();
    trip.vote("a", "p", "s2", &single("x")).unwrap();
    trip.vote("a", "p", "s3", &single("y")).unwrap();
    trip.vote("a", "p", "j1", &single("z")).unwrap();
    let t = trip.tally("p", Weighting::PerFamily).unwrap();
    assert!((t.rounds[0]["x"] - 2.0 / 3.0).abs() < 1e-9);
    assert!((t.rounds[0]["y"] - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        t.winner.as_deref(),
        Some("z"),
        "one whole family beats two thirds of one"
    );
}

#[test]
fn ranked_polls_use_instant_runoff() {
    // First preferences: a 2 families, b 1.5, c 1.5 (of 5): no majority. c and b tie for last
    // and tie on first preferences: "c" (sorting last) goes out. c's ballots go to b: b 3 > a 2.
    let trip = trip_with_families(&[
        ("f1", &["m1"]),
        ("f2", &["m2"]),
        ("f3", &["m3"]),
        ("f4", &["m4", "m5"]),
        ("f5", &["m6"]),
    ]);
    open(&trip, "p", PollKind::Ranked, &["a", "b", "c"]);
    trip.vote("x", "p", "m1", &ranking(&["a", "b"])).unwrap();
    trip.vote("x", "p", "m2", &ranking(&["a", "c"])).unwrap();
    trip.vote("x", "p", "m3", &ranking(&["b", "a"])).unwrap();
    trip.vote("x", "p", "m4", &ranking(&["b", "c"])).unwrap();
    trip.vote("x", "p", "m5", &ranking(&["c", "b"])).unwrap();
    trip.vote("x", "p", "m6", &ranking(&["c", "b", "a"]))
        .unwrap();
    let t = trip.tally("p", Weighting::PerFamily).unwrap();
    assert_eq!(t.method, "instant-runoff");
    assert_eq!(t.rounds.len(), 2);
    assert!((t.rounds[0]["a"] - 2.0).abs() < 1e-9);
    assert!((t.rounds[0]["b"] - 1.5).abs() < 1e-9);
    assert!((t.rounds[0]["c"] - 1.5).abs() < 1e-9);
    assert!(!t.rounds[1].contains_key("c"));
    assert_eq!(t.winner.as_deref(), Some("b"));
    assert!(t.tie_break.unwrap().contains("c eliminated"));
}

#[test]
fn nobody_voted_means_no_winner_and_strangers_are_ignored() {
    let trip = trip_with_families(&[("smiths", &["ann"])]);
    open(&trip, "p", PollKind::Single, &["x"]);
    let t = trip.tally("p", Weighting::PerFamily).unwrap();
    assert_eq!((t.winner, t.voters), (None, 0));
    // A vote written around the model by a stranger is not counted.
    let mut read = trip.read().trip.unwrap();
    let mut poll = read.polls.remove("p").unwrap();
    poll.votes.insert("stranger".into(), single("x"));
    let t = tally(&read, &poll, Weighting::PerFamily);
    assert_eq!(t.ignored, ["stranger"]);
    assert_eq!(t.winner, None);
}
