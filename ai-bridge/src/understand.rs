//! Understanding what a family member says to the assistant: whether a message is addressed
//! to it, what it asks for, and which of the trip's days it names. Free of the trip's writes:
//! the chat answers (`reactions/chat_answers.rs`) decide what to do with it.

use chrono::{Datelike, NaiveDate};
use doc_model::{ChatMessage, Trip};

use crate::identity::ASSISTANT;
use crate::planner::trip_days;

/// What a message addressed to the assistant asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Check the plan for problems ("check", "conflict", "budget"...).
    Check,
    /// Plan days with the trip's ideas ("plan day 2", "schedule"...).
    Plan,
    /// Anything else: the language model's to answer, or the help text.
    Other,
}

/// Words that ask for a check of the plan.
const CHECK_WORDS: [&str; 5] = ["conflict", "problem", "check", "clash", "budget"];

/// Words that ask for a plan.
const PLAN_WORDS: [&str; 5] = ["plan", "schedule", "fill", "organise", "organize"];

/// What `text` asks for (a check wins over a plan: "check the plan" is a check).
pub fn request_in(text: &str) -> Request {
    let text = text.to_lowercase();
    if CHECK_WORDS.iter().any(|w| text.contains(w)) {
        Request::Check
    } else if PLAN_WORDS.iter().any(|w| text.contains(w)) {
        Request::Plan
    } else {
        Request::Other
    }
}

/// Whether a message is addressed to the assistant.
pub fn mentions_assistant(message: &ChatMessage) -> bool {
    message.mentions.iter().any(|m| m == ASSISTANT)
        || message.text.to_lowercase().contains("@assistant")
}

/// The trip's days a request names: "day 2", "2027-07-03", "tuesday", "first day", "last
/// day"; every day when it names none.
pub fn dates_named(trip: &Trip, text: &str) -> Vec<NaiveDate> {
    let days = trip_days(trip);
    let text = text.to_lowercase();
    let mut named: Vec<NaiveDate> = Vec::new();
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        if *word == "day" {
            if let Some(n) = words.get(i + 1).and_then(|n| n.parse::<usize>().ok()) {
                if let Some(d) = n.checked_sub(1).and_then(|n| days.get(n)) {
                    named.push(*d);
                }
            }
            if i > 0 && words[i - 1] == "first" {
                named.extend(days.first());
            }
            if i > 0 && words[i - 1] == "last" {
                named.extend(days.last());
            }
        }
        if let Ok(date) = NaiveDate::parse_from_str(word, "%Y-%m-%d") {
            if days.contains(&date) {
                named.push(date);
            }
        }
        for d in &days {
            let weekday = d.weekday();
            let full = format!("{weekday:?}").to_lowercase();
            let name = match full.as_str() {
                "mon" => "monday",
                "tue" => "tuesday",
                "wed" => "wednesday",
                "thu" => "thursday",
                "fri" => "friday",
                "sat" => "saturday",
                _ => "sunday",
            };
            if *word == name {
                named.push(*d);
            }
        }
    }
    named.sort();
    named.dedup();
    if named.is_empty() {
        days
    } else {
        named
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_wins_over_a_plan_and_anything_else_is_other() {
        assert_eq!(request_in("@assistant check the plan"), Request::Check);
        assert_eq!(request_in("Any CLASH on Tuesday?"), Request::Check);
        assert_eq!(request_in("@assistant plan day 2"), Request::Plan);
        assert_eq!(request_in("please Schedule the museum"), Request::Plan);
        assert_eq!(request_in("@assistant hello"), Request::Other);
    }
}
