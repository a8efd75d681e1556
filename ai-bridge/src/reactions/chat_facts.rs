//! The assistant's answers in the chat that change nothing: what is planned, what the trip
//! costs, which ideas fit, a summary. Every figure comes from `doc_model`'s own rules
//! (`activity_cost`, `participants`, `money`), so the chat says what the app shows.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use doc_model::{
    activity_cost, money, participants, CostPer, PollStatus, ProposalStatus, Trip,
    DEFAULT_DURATION_MIN,
};

use crate::language::{fits, BudgetQuestion, Understood, Wanted};
use crate::planner::trip_days;

/// A day as people read it: `Sat 3 Jul`.
pub(super) fn day(date: NaiveDate) -> String {
    date.format("%a %-d %b").to_string()
}

/// The activities of `date` for `family` (every family when `None`), by start.
fn day_plan(trip: &Trip, date: NaiveDate, family: Option<&str>) -> Vec<String> {
    let mut planned: Vec<_> = trip
        .activities
        .values()
        .filter(|a| a.date == Some(date))
        .filter(|a| family.is_none_or(|f| participants(trip, a).contains(&f)))
        .collect();
    planned.sort_by_key(|a| (a.start.map_or(u16::MAX, |s| s.minutes()), a.title.clone()));
    planned
        .iter()
        .map(|a| match a.start {
            Some(start) => format!("{start} {}", a.title),
            None => a.title.clone(),
        })
        .collect()
}

/// "What are we doing tomorrow?": the named days' plan (every day when none is named).
pub fn whats_on(trip: &Trip, asked: &Understood) -> String {
    let days = if asked.days.is_empty() {
        trip_days(trip)
    } else {
        asked.days.clone()
    };
    let family = asked.family.as_deref();
    let lines: Vec<String> = days
        .iter()
        .map(|d| {
            let plan = day_plan(trip, *d, family);
            if plan.is_empty() {
                format!("{}: nothing planned yet", day(*d))
            } else {
                format!("{}: {}", day(*d), plan.join(", "))
            }
        })
        .collect();
    let whose = family
        .and_then(|f| trip.families.get(f))
        .map_or(String::new(), |f| format!(" for {}", f.name));
    format!("Planned{whose}: {}.", lines.join("; "))
}

/// What each family pays of an activity: per person, its members; per family, once; per
/// group, an equal share of the families taking part.
fn family_shares(trip: &Trip) -> BTreeMap<String, u64> {
    let mut shares: BTreeMap<String, u64> = BTreeMap::new();
    for activity in trip.activities.values().filter(|a| a.date.is_some()) {
        let families = participants(trip, activity);
        let count = families.len().max(1) as u64;
        for family in families {
            let people = trip
                .families
                .get(family)
                .map_or(1, |f| f.members.len().max(1)) as u64;
            let share = match activity.cost_per {
                CostPer::Person => activity.cost.saturating_mul(people),
                CostPer::Family => activity.cost,
                CostPer::Group => activity.cost / count,
            };
            *shares.entry(family.to_owned()).or_default() += share;
        }
    }
    shares
}

/// "How much have we spent?": the plan's cost (scheduled activities), against the budget,
/// by family, person or day when asked.
pub fn budget(trip: &Trip, asked: &Understood) -> String {
    let currency = &trip.meta.currency;
    let cost_of = |date: Option<NaiveDate>| -> u64 {
        trip.activities
            .values()
            .filter(|a| a.date.is_some() && (date.is_none() || a.date == date))
            .map(|a| activity_cost(trip, a))
            .sum()
    };
    // A family's share, or one day's cost, when that is what is asked.
    let family = asked
        .family
        .as_deref()
        .and_then(|f| Some((f, trip.families.get(f)?)));
    if let Some((id, f)) = family {
        let share = family_shares(trip).get(id).copied().unwrap_or(0);
        return format!(
            "{}'s share of the plan so far: {}.",
            f.name,
            money(share, currency)
        );
    }
    if let [date] = asked.days.as_slice() {
        return format!(
            "{} costs {}.",
            day(*date),
            money(cost_of(Some(*date)), currency)
        );
    }
    let total = cost_of(None);
    let against = if trip.meta.budget > 0 {
        let left = trip.meta.budget.saturating_sub(total);
        let over = total.saturating_sub(trip.meta.budget);
        if over > 0 {
            format!(
                ", {} over the budget of {}",
                money(over, currency),
                money(trip.meta.budget, currency)
            )
        } else {
            format!(
                ", {} of the budget of {} left",
                money(left, currency),
                money(trip.meta.budget, currency)
            )
        }
    } else {
        " (the trip has no budget)".to_owned()
    };
    let people: usize = trip.families.values().map(|f| f.members.len()).sum();
    let detail = match asked.budget.unwrap_or(BudgetQuestion::Total) {
        BudgetQuestion::PerFamily => {
            let shares = family_shares(trip);
            let list: Vec<String> = trip
                .families
                .iter()
                .map(|(id, f)| {
                    format!(
                        "{} {}",
                        f.name,
                        money(shares.get(id).copied().unwrap_or(0), currency)
                    )
                })
                .collect();
            format!(" By family: {}.", list.join(", "))
        }
        BudgetQuestion::PerPerson if people > 0 => {
            format!(
                " That is {} a person ({people} people).",
                money(total / people as u64, currency)
            )
        }
        BudgetQuestion::PerDay => {
            let list: Vec<String> = trip_days(trip)
                .into_iter()
                .map(|d| format!("{} {}", day(d), money(cost_of(Some(d)), currency)))
                .collect();
            format!(" By day: {}.", list.join(", "))
        }
        _ => String::new(),
    };
    format!(
        "The plan so far costs {}{against}.{detail}",
        money(total, currency)
    )
}

/// "Any indoor ideas?": the trip's own ideas (never invented places) of the kind wanted.
pub fn ideas(trip: &Trip, asked: &Understood) -> String {
    let found: Vec<String> = trip
        .activities
        .values()
        .filter(|a| a.date.is_none() && fits(a, asked.wanted))
        .map(|a| match a.duration_min {
            Some(m) => format!("{} ({m} min)", a.title),
            None => a.title.clone(),
        })
        .collect();
    let kind = match asked.wanted {
        Some(Wanted::Meal) => " for a meal",
        Some(Wanted::Indoor) => " indoors",
        None => "",
    };
    if found.is_empty() {
        return format!("The trip has no idea{kind} yet: add some (activities without a day), and I can plan them.");
    }
    let when = match asked.days.first() {
        Some(d) => format!("\"@assistant plan {}\"", day(*d)),
        None => "\"@assistant plan day 2\"".to_owned(),
    };
    format!(
        "Ideas{kind} from the trip: {}. Ask {when} and I propose a time for them.",
        found.join(", ")
    )
}

/// "Summarize the trip": its days, who comes, what is planned, open polls, the cost.
pub fn summary(trip: &Trip) -> String {
    let days = trip_days(trip);
    let people: usize = trip.families.values().map(|f| f.members.len()).sum();
    let planned = trip
        .activities
        .values()
        .filter(|a| a.date.is_some())
        .count();
    let ideas = trip.activities.len() - planned;
    let by_day: Vec<String> = days
        .iter()
        .map(|d| {
            let plan = day_plan(trip, *d, None);
            format!(
                "{} {}",
                day(*d),
                if plan.is_empty() {
                    "free".to_owned()
                } else {
                    plan.join(", ")
                }
            )
        })
        .collect();
    let polls: Vec<String> = trip
        .polls
        .values()
        .filter(|p| p.status == PollStatus::Open)
        .map(|p| format!("\"{}\" ({} votes)", p.question, p.votes.len()))
        .collect();
    let total: u64 = trip
        .activities
        .values()
        .filter(|a| a.date.is_some())
        .map(|a| activity_cost(trip, a))
        .sum();
    let mut text = format!(
        "{}: {} days from {} to {}, {} famil{} ({people} people). {planned} activities planned, {ideas} idea{} left. {}.",
        trip.meta.title,
        days.len(),
        day(trip.meta.start_date),
        day(trip.meta.end_date),
        trip.families.len(),
        if trip.families.len() == 1 { "y" } else { "ies" },
        if ideas == 1 { "" } else { "s" },
        by_day.join("; ")
    );
    if !polls.is_empty() {
        text.push_str(&format!(" Open polls: {}.", polls.join(", ")));
    }
    text.push_str(&format!(
        " Cost so far: {}.",
        money(total, &trip.meta.currency)
    ));
    text.push_str(&recap(trip));
    text
}

/// The family of a member, by its name.
fn family_of<'t>(trip: &'t Trip, member: &str) -> Option<&'t str> {
    trip.families
        .values()
        .find(|f| f.members.contains_key(member))
        .map(|f| f.name.as_str())
}

/// What the trip's story says (its "memory lane"): poll results, who proposed and decided
/// what, and a few superlatives computed from the trip itself. Empty when there is nothing
/// to tell yet.
pub fn recap(trip: &Trip) -> String {
    let mut parts = Vec::new();
    let results: Vec<String> = trip
        .polls
        .values()
        .filter(|p| p.status != PollStatus::Open)
        .filter_map(|p| {
            let winner = p.result.as_ref()?.get("winner")?.as_str()?;
            let label = p.options.get(winner).map_or(winner, |o| o.label.as_str());
            Some(format!("\"{}\": {label}", p.question))
        })
        .collect();
    if !results.is_empty() {
        parts.push(format!("Decided by vote: {}.", results.join("; ")));
    }
    let by_assistant = trip
        .proposals
        .values()
        .filter(|p| p.author == crate::identity::ASSISTANT)
        .count();
    let accepted = trip
        .proposals
        .values()
        .filter(|p| matches!(p.status, ProposalStatus::Applied | ProposalStatus::Accepted))
        .count();
    if !trip.proposals.is_empty() {
        parts.push(format!(
            "{} proposal{} ({by_assistant} by the assistant), {accepted} accepted.",
            trip.proposals.len(),
            if trip.proposals.len() == 1 { "" } else { "s" }
        ));
    }
    // The longest day: the most minutes planned.
    let minutes_on = |d: NaiveDate| -> u32 {
        trip.activities
            .values()
            .filter(|a| a.date == Some(d))
            .map(|a| a.duration_min.unwrap_or(DEFAULT_DURATION_MIN))
            .sum()
    };
    let longest = trip_days(trip)
        .into_iter()
        .map(|d| (d, minutes_on(d)))
        .filter(|(_, m)| *m > 0)
        .max_by_key(|(d, m)| (*m, std::cmp::Reverse(*d)));
    if let Some((longest, minutes)) = longest {
        parts.push(format!(
            "Longest day: {} ({} h {:02} min planned).",
            day(longest),
            minutes / 60,
            minutes % 60
        ));
    }
    // The most decisive family: the most votes cast and proposals decided by its members.
    let mut decisions: BTreeMap<&str, usize> = BTreeMap::new();
    let deciders = trip
        .polls
        .values()
        .flat_map(|p| p.votes.keys().map(String::as_str))
        .chain(
            trip.proposals
                .values()
                .filter_map(|p| p.decided_by.as_deref()),
        );
    for member in deciders {
        if let Some(family) = family_of(trip, member) {
            *decisions.entry(family).or_default() += 1;
        }
    }
    let most = decisions
        .iter()
        .max_by_key(|(family, count)| (**count, std::cmp::Reverse(**family)));
    if let Some((family, count)) = most {
        parts.push(format!(
            "Most decisive: {family} ({count} vote{} and decision{0}).",
            if *count == 1 { "" } else { "s" }
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" {}", parts.join(" "))
    }
}
