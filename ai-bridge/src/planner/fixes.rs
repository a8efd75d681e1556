//! Fixes for conflicts, and poll options from the trip's own ideas.

use chrono::NaiveDate;
use doc_model::{
    activity_cost, money, Activity, ActivityKind, BookingStatus, Conflict, ConflictKind, EditOp,
    LocalTime, Placement, PollOption, Trip,
};

use super::config::PlannerConfig;
use super::schedule::DayBook;

/// A proposal's content: summary, rationale, ops.
pub type Fix = (String, String, Vec<EditOp>);

/// Where an activity is now, as an edit expects to find it (an edit made on a changed plan
/// is found stale instead of applied).
pub fn placement(activity: &Activity) -> Placement {
    Placement {
        date: activity.date,
        start: activity.start,
    }
}

fn is_booked(activity: &Activity) -> bool {
    activity
        .booking
        .as_ref()
        .is_some_and(|b| b.status == BookingStatus::Confirmed)
}

/// Every day of the trip, `first` first.
fn days_from(trip: &Trip, first: Option<NaiveDate>) -> Vec<NaiveDate> {
    let mut days: Vec<NaiveDate> = trip
        .meta
        .start_date
        .iter_days()
        .take_while(|d| *d <= trip.meta.end_date)
        .collect();
    if let Some(first) = first {
        days.retain(|d| *d != first);
        if first >= trip.meta.start_date && first <= trip.meta.end_date {
            days.insert(0, first);
        }
    }
    days
}

/// Moves activity `id` to `date`: at `start` when one is asked (keeping its duration), else at
/// the earliest free time of that day (as the planner places an idea). `None` when the day has
/// no room, or there is no such activity. The op and why.
pub fn move_to(
    trip: &Trip,
    id: &str,
    date: NaiveDate,
    start: Option<LocalTime>,
    config: &PlannerConfig,
) -> Option<(EditOp, String)> {
    let activity = trip.activities.get(id)?;
    if let Some(start) = start {
        let op = EditOp::ScheduleActivity {
            id: id.to_owned(),
            date,
            start: Some(start),
            duration_min: activity.duration_min,
            expect: placement(activity),
        };
        return Some((op, format!("at {start}, as asked")));
    }
    place_on(trip, id, activity, &[date], config)
}

/// Moves `id` to the earliest free time, its own day first: the ops and why.
fn reschedule(trip: &Trip, id: &str, config: &PlannerConfig) -> Option<(EditOp, String)> {
    let activity = trip.activities.get(id)?;
    place_on(trip, id, activity, &days_from(trip, activity.date), config)
}

/// Schedules `activity` (`id`) at the earliest free time of the first of `days` that has
/// room, as the planner places an idea: the op and why.
fn place_on(
    trip: &Trip,
    id: &str,
    activity: &Activity,
    days: &[NaiveDate],
    config: &PlannerConfig,
) -> Option<(EditOp, String)> {
    let mut book = DayBook::without(trip, config, Some(id));
    let mut idea = activity.clone();
    idea.date = None;
    idea.start = None;
    let choice = book.place(id, &idea, days).ok()?;
    Some((
        EditOp::ScheduleActivity {
            id: id.to_owned(),
            date: choice.date,
            start: Some(choice.start),
            duration_min: Some(choice.duration_min),
            expect: placement(activity),
        },
        choice.why,
    ))
}

fn unschedule(trip: &Trip, id: &str) -> Option<EditOp> {
    let activity = trip.activities.get(id)?;
    Some(EditOp::UnscheduleActivity {
        id: id.to_owned(),
        expect: placement(activity),
    })
}

/// A proposal that fixes `conflict`, if the planner finds one. It never touches a confirmed
/// booking.
pub fn fix_conflict(trip: &Trip, conflict: &Conflict, config: &PlannerConfig) -> Option<Fix> {
    let movable = |id: &&String| trip.activities.get(*id).is_some_and(|a| !is_booked(a));
    match conflict.kind {
        ConflictKind::Overlap | ConflictKind::ImpossibleTravel => {
            // Move the later one (the second), or the first when the second is booked.
            let id = conflict.activities.iter().rev().find(movable)?;
            let title = &trip.activities[id].title;
            let (op, why) = reschedule(trip, id, config)?;
            Some((
                format!("Move {title} to fix: {}", conflict.message),
                format!("{}\nNew time: {why}", conflict.message),
                vec![op],
            ))
        }
        ConflictKind::OutsideOpeningHours | ConflictKind::PastMidnight => {
            let id = conflict.activities.iter().find(movable)?;
            let title = &trip.activities[id].title;
            let (op, why) = reschedule(trip, id, config)?;
            Some((
                format!("Move {title} to a time that works"),
                format!(
                    "{}
New time: {why}",
                    conflict.message
                ),
                vec![op],
            ))
        }
        ConflictKind::OutsideTrip => {
            let id = conflict.activities.iter().find(movable)?;
            let title = &trip.activities[id].title;
            match reschedule(trip, id, config) {
                Some((op, why)) => Some((
                    format!("Move {title} into the trip's dates"),
                    format!("{}\nNew time: {why}", conflict.message),
                    vec![op],
                )),
                None => Some((
                    format!("Turn {title} back into an idea"),
                    format!("{}\nNo day of the trip has room for it.", conflict.message),
                    vec![unschedule(trip, id)?],
                )),
            }
        }
        ConflictKind::DayOverBudget | ConflictKind::TripOverBudget => {
            // The most expensive activity that is not booked.
            let id = conflict
                .activities
                .iter()
                .filter(movable)
                .max_by_key(|id| (activity_cost(trip, &trip.activities[*id]), id.as_str()))?;
            let activity = &trip.activities[id];
            let cost = money(activity_cost(trip, activity), &trip.meta.currency);
            if conflict.kind == ConflictKind::DayOverBudget {
                // Another day may afford it.
                let others: Vec<NaiveDate> = days_from(trip, None)
                    .into_iter()
                    .filter(|d| Some(*d) != activity.date)
                    .collect();
                let mut book = DayBook::without(trip, config, Some(id));
                let mut idea = activity.clone();
                idea.date = None;
                idea.start = None;
                if let Ok(choice) = book.place(id, &idea, &others) {
                    return Some((
                        format!("Move {} to a cheaper day", activity.title),
                        format!("{}\nNew time: {}", conflict.message, choice.why),
                        vec![EditOp::ScheduleActivity {
                            id: id.clone(),
                            date: choice.date,
                            start: Some(choice.start),
                            duration_min: Some(choice.duration_min),
                            expect: placement(activity),
                        }],
                    ));
                }
            }
            Some((
                format!("Make {} an idea again to save {cost}", activity.title),
                format!(
                    "{}\n{} is the most expensive activity not yet booked ({cost}).",
                    conflict.message, activity.title
                ),
                vec![unschedule(trip, id)?],
            ))
        }
    }
}

/// Words of a text, lower case.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect()
}

const MEAL_WORDS: &[&str] = &[
    "eat",
    "food",
    "lunch",
    "dinner",
    "breakfast",
    "restaurant",
    "meal",
    "brunch",
    "cafe",
];

/// Up to `max` options for `poll`, from the trip's ideas that fit its question (meals for a
/// question about food, words in common otherwise, any idea when nothing matches), leaving
/// out ideas already offered. Each is marked AI-generated and points to its activity. The
/// planner never invents a place.
pub fn poll_options(trip: &Trip, poll: &str, max: usize) -> Vec<(String, PollOption)> {
    let Some(poll) = trip.polls.get(poll) else {
        return Vec::new();
    };
    let question = words(&poll.question);
    let about_food = question.iter().any(|w| MEAL_WORDS.contains(&w.as_str()));
    let offered: Vec<&str> = poll
        .options
        .values()
        .filter_map(|o| o.activity.as_deref())
        .collect();
    let mut scored: Vec<(usize, &String, &Activity)> = trip
        .activities
        .iter()
        .filter(|(id, a)| a.date.is_none() && !offered.contains(&id.as_str()))
        .filter(|(_, a)| !about_food || a.kind == ActivityKind::Meal)
        .map(|(id, a)| {
            let text = words(&format!("{} {}", a.title, a.notes));
            let score = question.iter().filter(|w| text.contains(w)).count();
            (score, id, a)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    if scored.iter().any(|(score, _, _)| *score > 0) {
        scored.retain(|(score, _, _)| *score > 0);
    }
    scored
        .into_iter()
        .take(max)
        .map(|(_, id, activity)| {
            let mut details = Vec::new();
            if let Some(minutes) = activity.duration_min {
                details.push(format!("{minutes} min"));
            }
            if let Some(hours) = activity.opening_hours {
                details.push(format!("open {}–{}", hours.opens, hours.closes));
            }
            let cost = activity_cost(trip, activity);
            if cost > 0 {
                details.push(format!(
                    "about {} for the group",
                    money(cost, &trip.meta.currency)
                ));
            }
            if let Some(location) = &activity.location {
                details.push(location.name.clone());
            }
            (
                format!("ai-{id}"),
                PollOption {
                    label: activity.title.clone(),
                    details: format!("From the trip's ideas: {}", details.join(", ")),
                    ai_generated: true,
                    activity: Some(id.clone()),
                },
            )
        })
        .collect()
}
