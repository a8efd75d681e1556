//! **Understand**: what a family member says to the assistant, with no language model: the
//! intent of a message and its entities (days, a family, a kind of activity, an activity or
//! a poll named loosely, a time, a budget question), tolerant of word order, politeness,
//! typos and emoji. The chat answers (`reactions/chat_answers.rs`) decide what to do with it;
//! `ai-bridge/tests/language.rs` scores it on a corpus of phrasings.
//!
//! | file | what it reads |
//! | --- | --- |
//! | [`words`] | a message's words, and matching them with a typo's tolerance |
//! | [`days`] | the trip's days a message names |
//! | `entities` | an activity, a poll, a family or a time a message names |
//! | this file | the intent, and the other entities |

pub mod days;
mod entities;
pub mod words;

use chrono::NaiveDate;
use doc_model::{ActivityKind, ChatMessage, LocalTime, Trip};

use crate::identity::ASSISTANT;
use crate::planner::trip_days;
use entities::{activity_named, family_named, only_open_poll, poll_named, time_named, POLL};
use words::{any, phrase, words};

/// What a message asks of the assistant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Plan days with the trip's ideas ("plan day 3", "what should we do on Sunday?").
    Plan,
    /// Check the plan for problems ("is anything wrong?", "any clashes?").
    Check,
    /// Move or schedule one activity ("move the cable car to day 3").
    Move,
    /// Take one activity off the plan ("remove the museum").
    Remove,
    /// Options for a poll ("suggest options for the dinner poll").
    PollOptions,
    /// A question about money ("how much have we spent?", "what's left per family?").
    Budget,
    /// What is planned ("what are we doing tomorrow?").
    WhatsOn,
    /// Ideas of a kind from the trip's own ideas ("any indoor ideas?").
    Ideas,
    /// A summary of the trip ("summarize the trip", "recap").
    Summary,
    /// Nothing the assistant understands, or a request for help.
    Help,
}

impl Intent {
    /// The intent's name, as the corpus writes it.
    pub fn name(self) -> &'static str {
        match self {
            Intent::Plan => "plan",
            Intent::Check => "check",
            Intent::Move => "move",
            Intent::Remove => "remove",
            Intent::PollOptions => "poll-options",
            Intent::Budget => "budget",
            Intent::WhatsOn => "whats-on",
            Intent::Ideas => "ideas",
            Intent::Summary => "summary",
            Intent::Help => "help",
        }
    }
}

/// A kind of activity a message asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// Somewhere to eat.
    Meal,
    /// Something indoors (for a rainy day).
    Indoor,
}

/// What a budget question asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetQuestion {
    /// Spent and left, for the whole trip.
    Total,
    /// By family.
    PerFamily,
    /// By person.
    PerPerson,
    /// By day.
    PerDay,
}

/// A message, understood.
#[derive(Clone, Debug, PartialEq)]
pub struct Understood {
    /// What it asks.
    pub intent: Intent,
    /// The trip's days it names, in order (empty: none).
    pub days: Vec<NaiveDate>,
    /// The family it is for (an id of the trip's families).
    pub family: Option<String>,
    /// The kind of activity it asks for.
    pub wanted: Option<Wanted>,
    /// The activity it names (an id of the trip's activities).
    pub activity: Option<String>,
    /// The poll it names (an id of the trip's polls).
    pub poll: Option<String>,
    /// A time of day it names ("at 14:00", "at 2pm").
    pub time: Option<LocalTime>,
    /// What a budget question asks.
    pub budget: Option<BudgetQuestion>,
}

impl Understood {
    /// The intent and entities in words, for a language model's context: `intent move;
    /// days 2027-07-03; activity aiguille (Aiguille du Midi cable car); time 14:00`.
    pub fn describe(&self, trip: &Trip) -> String {
        let mut parts = vec![format!("intent {}", self.intent.name())];
        if !self.days.is_empty() {
            let days: Vec<String> = self.days.iter().map(|d| d.to_string()).collect();
            parts.push(format!("days {}", days.join(", ")));
        }
        let named = |kind: &str, id: &Option<String>, title: Option<&str>| {
            id.as_ref().map(|id| match title {
                Some(title) => format!("{kind} {id} ({title})"),
                None => format!("{kind} {id}"),
            })
        };
        let activity_title = self
            .activity
            .as_ref()
            .and_then(|id| trip.activities.get(id))
            .map(|a| a.title.as_str());
        let poll_question = self
            .poll
            .as_ref()
            .and_then(|id| trip.polls.get(id))
            .map(|p| p.question.as_str());
        let family_name = self
            .family
            .as_ref()
            .and_then(|id| trip.families.get(id))
            .map(|f| f.name.as_str());
        parts.extend(named("activity", &self.activity, activity_title));
        parts.extend(named("poll", &self.poll, poll_question));
        parts.extend(named("family", &self.family, family_name));
        if let Some(wanted) = self.wanted {
            parts.push(format!(
                "wanted {}",
                match wanted {
                    Wanted::Meal => "meal",
                    Wanted::Indoor => "indoor",
                }
            ));
        }
        if let Some(time) = self.time {
            parts.push(format!("time {time}"));
        }
        parts.join("; ")
    }
}

/// Whether a message is addressed to the assistant.
pub fn mentions_assistant(message: &ChatMessage) -> bool {
    message.mentions.iter().any(|m| m == ASSISTANT) || addresses_assistant(&message.text)
}

/// Whether a text (a message, a poll's question) names the assistant: `@assistant`.
pub fn addresses_assistant(text: &str) -> bool {
    text.to_lowercase().contains("@assistant")
}

const SUMMARY: &[&str] = &[
    "summary",
    "summarize",
    "summarise",
    "recap",
    "overview",
    "memories",
];
const CHECK: &[&str] = &[
    "wrong",
    "problem*",
    "issue*",
    "conflict*",
    "clash*",
    "check",
    "overlap*",
    "feasible",
    "realistic",
    "doable",
    "mistake*",
    "broken",
    "errors",
];
const REMOVE: &[&str] = &[
    "remove", "delete", "cancel", "drop", "scrap", "ditch", "skip", "forget",
];
/// Words that move an activity ("reschedule" is matched exactly, apart: it is a typo's
/// distance from "schedule", which plans).
const MOVE: &[&str] = &[
    "move", "shift", "postpone", "swap", "bring", "put", "change",
];
const OPTIONS: &[&str] = &["option*", "choices", "alternatives"];
const BUDGET: &[&str] = &[
    "spent",
    "spend*",
    "cost*",
    "money",
    "budget",
    "expensive",
    "cheap*",
    "price*",
    "afford",
    "euro*",
    "dollar*",
    "paid",
    "pay*",
    "owe",
    "split",
    "total",
];
const WHATS_ON: &[&str] = &[
    "agenda",
    "programme",
    "program",
    "itinerary",
    "happening",
    "booked",
];
const PLAN: &[&str] = &["plan", "schedule", "fill", "organi*", "arrange", "sort"];
const IDEAS: &[&str] = &[
    "idea*",
    "indoor*",
    "inside",
    "rain*",
    "suggest*",
    "recommend*",
    "else",
];
const MEAL: &[&str] = &[
    "eat",
    "food",
    "restaurant*",
    "dinner",
    "lunch",
    "breakfast",
    "brunch",
    "meal*",
    "hungry",
];
const INDOOR: &[&str] = &[
    "indoor*", "inside", "rain*", "wet", "museum*", "cosy", "cozy",
];

/// What `text` asks, with what it names of `trip` (`today` places "tomorrow" and the like).
pub fn understand(trip: &Trip, text: &str, today: NaiveDate) -> Understood {
    let words = words(text);
    let days = days::days_named(&trip_days(trip), &words, today);
    let activity = activity_named(trip, &words);
    let poll = poll_named(trip, &words);
    let intent = intent(&words, activity.is_some(), !days.is_empty());
    let poll = match (&poll, intent) {
        (None, Intent::PollOptions) => only_open_poll(trip),
        _ => poll,
    };
    Understood {
        intent,
        wanted: if any(&words, MEAL) || phrase(&words, "somewhere to eat") {
            Some(Wanted::Meal)
        } else if any(&words, INDOOR) {
            Some(Wanted::Indoor)
        } else {
            None
        },
        family: family_named(trip, &words),
        time: time_named(&words),
        budget: (intent == Intent::Budget).then(|| budget_question(&words)),
        days,
        activity,
        poll,
    }
}

fn intent(words: &[String], names_activity: bool, names_day: bool) -> Intent {
    if any(words, SUMMARY) || phrase(words, "sum up") || phrase(words, "sum it up") {
        return Intent::Summary;
    }
    if any(words, CHECK) || phrase(words, "over budget") || phrase(words, "look ok") {
        return Intent::Check;
    }
    if any(words, REMOVE) || phrase(words, "get rid") || phrase(words, "take out") {
        return Intent::Remove;
    }
    let moves =
        any(words, MOVE) || words.iter().any(|w| w == "reschedule") || phrase(words, "push back");
    let says_move = words.iter().any(|w| w == "move" || w == "reschedule");
    if moves && (names_activity || names_day || says_move) {
        return Intent::Move;
    }
    if any(words, OPTIONS) || (any(words, POLL) && any(words, IDEAS)) {
        return Intent::PollOptions;
    }
    if any(words, BUDGET) || phrase(words, "how much") || phrase(words, "left over") {
        return Intent::Budget;
    }
    if phrase(words, "whats on")
        || phrase(words, "what is on")
        || phrase(words, "are we doing")
        || phrase(words, "do we have")
        || phrase(words, "is planned")
        || phrase(words, "whats planned")
        || phrase(words, "what did we plan")
        || phrase(words, "what time")
        || any(words, WHATS_ON)
    {
        return Intent::WhatsOn;
    }
    let plans = any(words, PLAN)
        || phrase(words, "what should we do")
        || phrase(words, "what can we do")
        || phrase(words, "what could we do")
        || phrase(words, "what shall we do");
    if plans && names_activity && names_day && !phrase(words, "what") {
        return Intent::Move;
    }
    if plans {
        return Intent::Plan;
    }
    if any(words, IDEAS) || phrase(words, "something to do") || phrase(words, "somewhere to eat") {
        return Intent::Ideas;
    }
    // "help", "what can you do?", and everything else.
    Intent::Help
}

fn budget_question(words: &[String]) -> BudgetQuestion {
    if any(words, &["family", "families"]) || phrase(words, "split") {
        BudgetQuestion::PerFamily
    } else if phrase(words, "per person")
        || phrase(words, "a head")
        || any(words, &["person", "people", "head", "each"])
    {
        BudgetQuestion::PerPerson
    } else if phrase(words, "per day")
        || phrase(words, "each day")
        || phrase(words, "a day")
        || phrase(words, "daily")
    {
        BudgetQuestion::PerDay
    } else {
        BudgetQuestion::Total
    }
}

/// True when an activity is of the kind wanted (any, without one): a meal for a meal; for something
/// indoors, a meal, or a title or notes that say so.
pub fn fits(activity: &doc_model::Activity, wanted: Option<Wanted>) -> bool {
    const INDOOR_WORDS: [&str; 10] = [
        "museum", "musée", "gallery", "indoor", "inside", "spa", "pool", "cinema", "aquarium",
        "church",
    ];
    match wanted {
        None => true,
        Some(Wanted::Meal) => activity.kind == ActivityKind::Meal,
        Some(Wanted::Indoor) => {
            let text = format!(
                "{} {} {}",
                activity.title,
                activity.notes,
                activity.location.as_ref().map_or("", |l| l.name.as_str())
            )
            .to_lowercase();
            activity.kind == ActivityKind::Meal || INDOOR_WORDS.iter().any(|w| text.contains(w))
        }
    }
}
