//! The things of the trip a message names, loosely: an activity ("the cable car"), a poll
//! ("the dinner poll", or the only open one), a family ("for the Okafors"), a time ("at 2pm").

use doc_model::{LocalTime, PollStatus, Trip};

use super::words::{any, is, words, FILLER};

/// Words that name a poll.
pub(super) const POLL: &[&str] = &["poll", "polls", "vote", "voting"];

/// Words that name what a message is about, not which activity or poll.
pub(super) fn is_generic(word: &str) -> bool {
    FILLER.contains(&word)
        || word
            .chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '-')
        || [
            "day",
            "days",
            "trip",
            "poll",
            "plan",
            "move",
            "remove",
            "time",
            "morning",
            "afternoon",
            "evening",
            "tomorrow",
            "today",
            "weekend",
            "options",
            "option",
            "suggest",
            "ideas",
            "idea",
            "schedule",
            "reschedule",
            "cancel",
            "delete",
            "drop",
            "first",
            "last",
            "next",
            "instead",
            "later",
            "earlier",
            "please",
            "from",
            "into",
            "back",
            "onto",
            "should",
            "when",
            "where",
            "which",
            "who",
            "will",
            "how",
            "much",
            "many",
            "going",
            "lets",
            "family",
            "families",
            "put",
            "want",
            "like",
            "think",
        ]
        .contains(&word)
}

/// The words of a title, as a name is matched against them.
pub(super) fn title_words(title: &str) -> Vec<String> {
    words(title)
        .into_iter()
        .filter(|w| !is_generic(w) && w.chars().count() > 2)
        .collect()
}

/// How many of `asked` name a word of `title` (a typo, or a plural, tolerated).
pub(super) fn overlap(asked: &[&String], title: &[String]) -> usize {
    asked
        .iter()
        .filter(|a| {
            title.iter().any(|t| {
                is(a, t)
                    || (t.len() >= 4 && a.starts_with(t.as_str()))
                    || (a.len() >= 4 && t.starts_with(a.as_str()))
            })
        })
        .count()
}

pub(super) fn asked_words(words: &[String]) -> Vec<&String> {
    words
        .iter()
        .filter(|w| !is_generic(w) && w.chars().count() > 2)
        .collect()
}

/// The activity `words` name loosely: the one whose title shares the most words with them.
pub(super) fn activity_named(trip: &Trip, words: &[String]) -> Option<String> {
    let asked = asked_words(words);
    best(
        trip.activities
            .iter()
            .map(|(id, a)| (id, overlap(&asked, &title_words(&a.title)))),
    )
}

/// The poll `words` name loosely, by its question or its options.
pub(super) fn poll_named(trip: &Trip, words: &[String]) -> Option<String> {
    if !any(words, POLL) {
        return None;
    }
    let asked = asked_words(words);
    best(trip.polls.iter().map(|(id, p)| {
        let mut text = title_words(&p.question);
        text.extend(words_of_id(id));
        (id, overlap(&asked, &text))
    }))
}

pub(super) fn words_of_id(id: &str) -> Vec<String> {
    id.split(['-', '_'])
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect()
}

/// The one open poll, if there is exactly one.
pub(super) fn only_open_poll(trip: &Trip) -> Option<String> {
    let mut open = trip
        .polls
        .iter()
        .filter(|(_, p)| p.status == PollStatus::Open);
    match (open.next(), open.next()) {
        (Some((id, _)), None) => Some(id.clone()),
        _ => None,
    }
}

/// The id with the highest score above zero, if one alone has it.
pub(super) fn best<'a>(scores: impl Iterator<Item = (&'a String, usize)>) -> Option<String> {
    let mut ranked: Vec<(&String, usize)> = scores.filter(|(_, s)| *s > 0).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    match ranked.as_slice() {
        [(id, _)] => Some((*id).clone()),
        [(id, top), (_, second), ..] if top > second => Some((*id).clone()),
        _ => None,
    }
}

/// The family `words` name: by its name ("the Okafors", "the Okafor family") or its id.
pub(super) fn family_named(trip: &Trip, words: &[String]) -> Option<String> {
    let singular = |w: &str| w.trim_end_matches('s').to_owned();
    trip.families.iter().find_map(|(id, family)| {
        let names: Vec<String> = words_of_name(&family.name)
            .into_iter()
            .chain(words_of_id(id))
            .map(|w| singular(&w))
            .filter(|w| w.len() >= 3)
            .collect();
        words
            .iter()
            .any(|w| w.len() >= 3 && names.contains(&singular(w)))
            .then(|| id.clone())
    })
}

pub(super) fn words_of_name(name: &str) -> Vec<String> {
    words(name)
        .into_iter()
        .filter(|w| !["the", "family", "and", "co"].contains(&w.as_str()))
        .collect()
}

/// A time of day: "14:30", "at 10", "2pm", "2 pm", "10am".
pub(super) fn time_named(words: &[String]) -> Option<LocalTime> {
    for (i, word) in words.iter().enumerate() {
        if let Ok(time) = word.parse::<LocalTime>() {
            return Some(time);
        }
        if let Some((h, m)) = word.split_once(':') {
            if let (Ok(h), Ok(m)) = (h.parse::<u16>(), m.parse::<u16>()) {
                return LocalTime::new(h, m);
            }
        }
        let next = words.get(i + 1).map(String::as_str);
        let (digits, suffix) = word.split_at(
            word.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(word.len()),
        );
        let Ok(hour) = digits.parse::<u16>() else {
            continue;
        };
        let meridiem = match (suffix, next) {
            ("am", _) | ("", Some("am")) => Some(false),
            ("pm", _) | ("", Some("pm")) => Some(true),
            _ => None,
        };
        match meridiem {
            Some(pm) if (1..=12).contains(&hour) => {
                return LocalTime::new(hour % 12 + if pm { 12 } else { 0 }, 0);
            }
            None if suffix.is_empty() && i > 0 && words[i - 1] == "at" && hour < 24 => {
                return LocalTime::new(hour, 0);
            }
            _ => {}
        }
    }
    None
}
