//! Conflict detection over a trip: activities outside the trip's dates, outside their place's
//! opening hours or running past midnight, overlapping activities of one family, travel
//! between consecutive activities that the gap between them does not allow, days and trips
//! over budget. Each conflict names the activities and families.
//!
//! The rules are defined in `docs/schema.md` ("Conflicts"); the family app's twin is
//! `clients/web/model/conflicts.ts`, and both are held to the cases of `conformance/conflicts/`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::types::{Activity, CostPer, LocalTime, Trip};

/// Minutes an activity with a start but no duration is taken to last.
pub const DEFAULT_DURATION_MIN: u32 = 60;

/// Minutes in a day: an activity ending later runs past midnight.
const DAY_MINUTES: u32 = 24 * 60;

/// Thresholds of the checks.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictRules {
    /// A day is over budget when it costs more than this many times the budget's daily share
    /// (budget / number of days).
    pub day_budget_factor: f64,
    /// Speed assumed between two places, in km/h, along the great circle.
    pub travel_speed_kmh: f64,
}

impl Default for ConflictRules {
    fn default() -> Self {
        ConflictRules {
            day_budget_factor: 1.5,
            travel_speed_kmh: 40.0,
        }
    }
}

/// What kind of problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConflictKind {
    /// Two activities of one family overlap in time.
    Overlap,
    /// A day costs more than its share of the budget.
    DayOverBudget,
    /// The trip costs more than its budget.
    TripOverBudget,
    /// Not enough time to travel from one activity to the next.
    ImpossibleTravel,
    /// An activity is scheduled outside the trip's dates.
    OutsideTrip,
    /// An activity starts before its place opens or ends after it closes.
    OutsideOpeningHours,
    /// An activity ends after midnight.
    PastMidnight,
}

/// One problem in the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// What kind.
    pub kind: ConflictKind,
    /// The day, when the problem is on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Activity ids involved.
    pub activities: Vec<String>,
    /// Family ids involved.
    pub families: Vec<String>,
    /// A sentence for people.
    pub message: String,
}

/// Every conflict in `trip`, in a stable order.
pub fn detect_conflicts(trip: &Trip, rules: &ConflictRules) -> Vec<Conflict> {
    let mut conflicts = Vec::new();
    outside_trip(trip, &mut conflicts);
    timing(trip, &mut conflicts);
    overlaps_and_travel(trip, rules, &mut conflicts);
    budget(trip, rules, &mut conflicts);
    conflicts
}

/// Families taking part in `activity` (empty list: every family; a trip with no families has
/// one implicit group, `""`).
pub fn participants<'t>(trip: &'t Trip, activity: &'t Activity) -> Vec<&'t str> {
    if trip.families.is_empty() {
        return vec![""];
    }
    if activity.families.is_empty() {
        trip.families.keys().map(String::as_str).collect()
    } else {
        // A family listed twice takes part once (else an activity would overlap itself).
        let mut families: Vec<&str> = activity
            .families
            .iter()
            .map(String::as_str)
            .filter(|f| trip.families.contains_key(*f))
            .collect();
        families.sort_unstable();
        families.dedup();
        families
    }
}

/// Family ids as listed in a conflict (the implicit group `""` of a trip without families is
/// no family to name).
fn named<'t>(families: impl IntoIterator<Item = &'t str>) -> Vec<String> {
    families
        .into_iter()
        .filter(|f| !f.is_empty())
        .map(String::from)
        .collect()
}

/// What an activity costs the group, in minor units.
pub fn activity_cost(trip: &Trip, activity: &Activity) -> u64 {
    let families = participants(trip, activity);
    let multiplier = match activity.cost_per {
        CostPer::Group => 1,
        CostPer::Family => families.len().max(1) as u64,
        CostPer::Person => families
            .iter()
            .map(|f| trip.families.get(*f).map_or(1, |f| f.members.len().max(1)) as u64)
            .sum::<u64>()
            .max(1),
    };
    activity.cost.saturating_mul(multiplier)
}

fn outside_trip(trip: &Trip, out: &mut Vec<Conflict>) {
    for (id, activity) in &trip.activities {
        if let Some(date) = activity.date {
            if date < trip.meta.start_date || date > trip.meta.end_date {
                out.push(Conflict {
                    kind: ConflictKind::OutsideTrip,
                    date: Some(date),
                    activities: vec![id.clone()],
                    families: named(participants(trip, activity)),
                    message: format!(
                        "{} is on {date}, outside the trip ({} to {})",
                        activity.title, trip.meta.start_date, trip.meta.end_date
                    ),
                });
            }
        }
    }
}

/// Money in minor units as people read it: `4800` EUR is `48.00 EUR`.
pub fn money(minor: u64, currency: &str) -> String {
    format!("{}.{:02} {currency}", minor / 100, minor % 100)
}

/// The minutes after midnight at which a timed activity ends (its duration, or the default).
fn end_of(start: LocalTime, activity: &Activity) -> u32 {
    u32::from(start.minutes()) + activity.duration_min.unwrap_or(DEFAULT_DURATION_MIN)
}

fn timing(trip: &Trip, out: &mut Vec<Conflict>) {
    for (id, activity) in &trip.activities {
        let (Some(date), Some(start)) = (activity.date, activity.start) else {
            continue;
        };
        let end = end_of(start, activity);
        if let Some(hours) = &activity.opening_hours {
            let (opens, closes) = (hours.opens.minutes(), hours.closes.minutes());
            if start.minutes() < opens || end > u32::from(closes) {
                out.push(Conflict {
                    kind: ConflictKind::OutsideOpeningHours,
                    date: Some(date),
                    activities: vec![id.clone()],
                    families: named(participants(trip, activity)),
                    message: format!(
                        "{} is outside opening hours ({}–{})",
                        activity.title, hours.opens, hours.closes
                    ),
                });
            }
        }
        if end > DAY_MINUTES {
            out.push(Conflict {
                kind: ConflictKind::PastMidnight,
                date: Some(date),
                activities: vec![id.clone()],
                families: named(participants(trip, activity)),
                message: format!("{} runs past midnight", activity.title),
            });
        }
    }
}

/// A timed activity: start and end in minutes after midnight.
struct Slot<'t> {
    id: &'t str,
    activity: &'t Activity,
    start: u32,
    end: u32,
}

fn overlaps_and_travel(trip: &Trip, rules: &ConflictRules, out: &mut Vec<Conflict>) {
    // (date, family) -> timed activities, by start then order.
    let mut days: BTreeMap<(NaiveDate, &str), Vec<Slot>> = BTreeMap::new();
    for (id, activity) in &trip.activities {
        let (Some(date), Some(start)) = (activity.date, activity.start) else {
            continue;
        };
        let end = end_of(start, activity);
        let start = u32::from(start.minutes());
        for family in participants(trip, activity) {
            days.entry((date, family)).or_default().push(Slot {
                id,
                activity,
                start,
                end,
            });
        }
    }
    // One conflict per pair of activities, naming every family affected.
    let mut overlaps: BTreeMap<(NaiveDate, &str, &str), BTreeSet<&str>> = BTreeMap::new();
    let mut travel: BTreeMap<(NaiveDate, &str, &str), (BTreeSet<&str>, String)> = BTreeMap::new();
    for ((date, family), slots) in &mut days {
        slots.sort_by(|a, b| {
            (a.start, a.activity.order, a.id)
                .partial_cmp(&(b.start, b.activity.order, b.id))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for (i, a) in slots.iter().enumerate() {
            for b in &slots[i + 1..] {
                if b.start < a.end {
                    overlaps
                        .entry((*date, a.id, b.id))
                        .or_default()
                        .insert(family);
                }
            }
        }
        for pair in slots.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let (Some(from), Some(to)) = (&a.activity.location, &b.activity.location) else {
                continue;
            };
            if b.start < a.end {
                continue; // already an overlap
            }
            let km = great_circle_km(from.lat, from.lng, to.lat, to.lng);
            let needed = (km / rules.travel_speed_kmh * 60.0).ceil() as u32;
            let gap = b.start - a.end;
            if needed > gap {
                let message = format!(
                    "{} to {} is {km:.1} km: about {needed} min at {} km/h, but only {gap} min apart",
                    a.activity.title, b.activity.title, rules.travel_speed_kmh
                );
                travel
                    .entry((*date, a.id, b.id))
                    .or_insert_with(|| (BTreeSet::new(), message))
                    .0
                    .insert(family);
            }
        }
    }
    for ((date, a, b), families) in overlaps {
        let (ta, tb) = (&trip.activities[a].title, &trip.activities[b].title);
        out.push(Conflict {
            kind: ConflictKind::Overlap,
            date: Some(date),
            activities: vec![a.into(), b.into()],
            families: named(families),
            message: format!("{ta} and {tb} overlap on {date}"),
        });
    }
    for ((date, a, b), (families, message)) in travel {
        out.push(Conflict {
            kind: ConflictKind::ImpossibleTravel,
            date: Some(date),
            activities: vec![a.into(), b.into()],
            families: named(families),
            message,
        });
    }
}

fn budget(trip: &Trip, rules: &ConflictRules, out: &mut Vec<Conflict>) {
    if trip.meta.budget == 0 {
        return;
    }
    let days = (trip.meta.end_date - trip.meta.start_date)
        .num_days()
        .max(0) as f64
        + 1.0;
    let daily_share = trip.meta.budget as f64 / days;
    let mut per_day: BTreeMap<NaiveDate, (u64, Vec<String>)> = BTreeMap::new();
    let mut total = 0u64;
    let mut scheduled = Vec::new();
    for (id, activity) in &trip.activities {
        let Some(date) = activity.date else { continue };
        let cost = activity_cost(trip, activity);
        total = total.saturating_add(cost);
        scheduled.push(id.clone());
        let day = per_day.entry(date).or_default();
        day.0 = day.0.saturating_add(cost);
        if cost > 0 {
            day.1.push(id.clone());
        }
    }
    let currency = &trip.meta.currency;
    for (date, (cost, activities)) in per_day {
        if cost as f64 > daily_share * rules.day_budget_factor {
            out.push(Conflict {
                kind: ConflictKind::DayOverBudget,
                date: Some(date),
                activities,
                families: vec![],
                message: format!(
                    "{date} costs {}, more than {} times its share of the budget ({})",
                    money(cost, currency),
                    rules.day_budget_factor,
                    money(trip.meta.budget / days as u64, currency)
                ),
            });
        }
    }
    if total > trip.meta.budget {
        out.push(Conflict {
            kind: ConflictKind::TripOverBudget,
            date: None,
            activities: scheduled,
            families: vec![],
            message: format!(
                "the plan costs {}, over the budget of {}",
                money(total, currency),
                money(trip.meta.budget, currency)
            ),
        });
    }
}

/// Great-circle distance in km (haversine, mean Earth radius).
pub fn great_circle_km(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}
