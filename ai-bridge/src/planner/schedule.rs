//! Scheduling ideas into the free time of days: [`plan`], and the book of what each day holds
//! ([`DayBook`]), which the conflict fixes use too.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use doc_model::{
    activity_cost, great_circle_km, participants, Activity, ActivityKind, EditOp, LocalTime, Pace,
    Placement, Trip,
};

use super::config::{pace_rules, PlannerConfig};

/// One idea the planner placed.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The activity.
    pub id: String,
    /// Its day.
    pub date: NaiveDate,
    /// Its start.
    pub start: LocalTime,
    /// Its duration.
    pub duration_min: u32,
    /// Why there and then, for people.
    pub why: String,
}

/// What [`plan`] proposes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// The ideas placed, in order.
    pub choices: Vec<Choice>,
    /// Ideas left out, with the reason.
    pub left_out: Vec<(String, String)>,
}

impl Plan {
    /// The proposal ops that carry out the plan.
    pub fn ops(&self) -> Vec<EditOp> {
        self.choices
            .iter()
            .map(|c| EditOp::ScheduleActivity {
                id: c.id.clone(),
                date: c.date,
                start: Some(c.start),
                duration_min: Some(c.duration_min),
                expect: Placement::default(),
            })
            .collect()
    }

    /// The rationale: one line per choice, then what was left out.
    pub fn rationale(&self) -> String {
        let mut lines: Vec<String> = self.choices.iter().map(|c| c.why.clone()).collect();
        for (_, reason) in &self.left_out {
            lines.push(format!("Left out: {reason}."));
        }
        lines.join("\n")
    }
}

/// A timed activity on a day, as the planner sees it.
#[derive(Clone, Debug)]
struct Busy {
    title: String,
    start: u32,
    end: u32,
    location: Option<(f64, f64)>,
    families: Vec<String>,
    is_meal: bool,
}

/// Schedules the trip's ideas into `dates` (each within the trip). Ideas are taken in their
/// `order`, then by id; each goes to the first date, earliest start, that fits.
pub fn plan(trip: &Trip, dates: &[NaiveDate], config: &PlannerConfig) -> Plan {
    plan_ideas(trip, dates, None, config)
}

/// Like [`plan`], for the ideas in `only` (all ideas when `None`).
pub fn plan_ideas(
    trip: &Trip,
    dates: &[NaiveDate],
    only: Option<&[String]>,
    config: &PlannerConfig,
) -> Plan {
    let mut planner = DayBook::new(trip, config);
    let mut ideas: Vec<(&String, &Activity)> = trip
        .activities
        .iter()
        .filter(|(id, a)| a.date.is_none() && only.is_none_or(|only| only.contains(id)))
        .filter(|(_, a)| !matches!(a.kind, ActivityKind::Lodging | ActivityKind::Transport))
        .collect();
    ideas.sort_by(|(ia, a), (ib, b)| {
        (a.order, ia.as_str())
            .partial_cmp(&(b.order, ib.as_str()))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let dates: Vec<NaiveDate> = dates
        .iter()
        .copied()
        .filter(|d| *d >= trip.meta.start_date && *d <= trip.meta.end_date)
        .collect();
    let mut result = Plan::default();
    for (id, idea) in ideas {
        match planner.place(id, idea, &dates) {
            Ok(choice) => result.choices.push(choice),
            Err(reason) => result.left_out.push((id.clone(), reason)),
        }
    }
    result
}

/// The days being planned: what is on them, and the money left.
pub(crate) struct DayBook<'t> {
    trip: &'t Trip,
    config: &'t PlannerConfig,
    busy: BTreeMap<NaiveDate, Vec<Busy>>,
    /// Activities (meals apart) per day and family, timed or not.
    counts: BTreeMap<(NaiveDate, String), usize>,
    day_cost: BTreeMap<NaiveDate, u64>,
    total_cost: u64,
}

impl<'t> DayBook<'t> {
    pub(crate) fn new(trip: &'t Trip, config: &'t PlannerConfig) -> DayBook<'t> {
        DayBook::without(trip, config, None)
    }

    /// The book of every scheduled activity but `moving` (which is about to be moved).
    pub(crate) fn without(
        trip: &'t Trip,
        config: &'t PlannerConfig,
        moving: Option<&str>,
    ) -> DayBook<'t> {
        let mut book = DayBook {
            trip,
            config,
            busy: BTreeMap::new(),
            counts: BTreeMap::new(),
            day_cost: BTreeMap::new(),
            total_cost: 0,
        };
        for (id, activity) in &trip.activities {
            if Some(id.as_str()) == moving {
                continue;
            }
            if let Some(date) = activity.date {
                book.add(
                    date,
                    activity,
                    activity.start.map(|s| u32::from(s.minutes())),
                );
            }
        }
        book
    }

    fn families_of(&self, activity: &Activity) -> Vec<String> {
        participants(self.trip, activity)
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn add(&mut self, date: NaiveDate, activity: &Activity, start: Option<u32>) {
        let families = self.families_of(activity);
        let cost = activity_cost(self.trip, activity);
        *self.day_cost.entry(date).or_default() += cost;
        self.total_cost += cost;
        let is_meal = activity.kind == ActivityKind::Meal;
        if !is_meal {
            for family in &families {
                *self.counts.entry((date, family.clone())).or_default() += 1;
            }
        }
        if let Some(start) = start {
            self.busy.entry(date).or_default().push(Busy {
                title: activity.title.clone(),
                start,
                end: start
                    + activity
                        .duration_min
                        .unwrap_or(doc_model::DEFAULT_DURATION_MIN),
                location: activity.location.as_ref().map(|l| (l.lat, l.lng)),
                families,
                is_meal,
            });
        }
    }

    /// The slowest pace among `families` (a trip without families plans at a moderate pace).
    fn pace(&self, families: &[String]) -> (Pace, String) {
        families
            .iter()
            .filter_map(|f| {
                self.trip
                    .families
                    .get(f)
                    .map(|fam| (fam.preferences.pace, fam))
            })
            .min_by_key(|(pace, _)| match pace {
                Pace::Relaxed => 0,
                Pace::Moderate => 1,
                Pace::Packed => 2,
            })
            .map(|(pace, fam)| {
                (
                    pace,
                    format!("the {} pace of {}", pace_name(pace), fam.name),
                )
            })
            .unwrap_or((Pace::Moderate, "a moderate pace".into()))
    }

    fn travel_min(&self, from: Option<(f64, f64)>, to: Option<(f64, f64)>) -> u32 {
        match (from, to) {
            (Some((a, b)), Some((c, d))) => {
                let km = great_circle_km(a, b, c, d);
                (km / self.config.rules.travel_speed_kmh * 60.0).ceil() as u32
            }
            _ => 0,
        }
    }

    fn day_cap(&self) -> Option<f64> {
        if self.trip.meta.budget == 0 {
            return None;
        }
        let days = (self.trip.meta.end_date - self.trip.meta.start_date)
            .num_days()
            .max(0) as f64
            + 1.0;
        Some(self.trip.meta.budget as f64 / days * self.config.rules.day_budget_factor)
    }

    /// Places `idea` on the first of `dates` where it fits, and books it.
    pub(crate) fn place(
        &mut self,
        id: &str,
        idea: &Activity,
        dates: &[NaiveDate],
    ) -> Result<Choice, String> {
        let cost = activity_cost(self.trip, idea);
        let budget = self.trip.meta.budget;
        if budget > 0 && self.total_cost + cost > budget {
            return Err(format!(
                "{} would take the plan over its budget ({} left, it costs {cost})",
                idea.title,
                budget.saturating_sub(self.total_cost)
            ));
        }
        let mut reasons = Vec::new();
        for &date in dates {
            match self.fit(idea, date, cost) {
                Ok((start, duration, why)) => {
                    self.add(date, idea, Some(start));
                    let mut why = format!(
                        "{} on {} at {}–{}: {why}",
                        idea.title,
                        date.format("%a %-d %b"),
                        hhmm(start),
                        hhmm(start + duration)
                    );
                    if budget > 0 {
                        let currency = &self.trip.meta.currency;
                        why.push_str(&format!(
                            "; costs {}, {} of the budget left after it",
                            doc_model::money(cost, currency),
                            doc_model::money(budget.saturating_sub(self.total_cost), currency)
                        ));
                    }
                    why.push('.');
                    return Ok(Choice {
                        id: id.to_owned(),
                        date,
                        start: LocalTime::new((start / 60) as u16, (start % 60) as u16)
                            .expect("a start within the day"),
                        duration_min: duration,
                        why,
                    });
                }
                Err(reason) => reasons.push(reason),
            }
        }
        Err(match reasons.first() {
            Some(first) if reasons.iter().all(|r| r == first) => format!("{}: {first}", idea.title),
            Some(_) => format!("{}: no day had room for it", idea.title),
            None => format!("{}: no day to plan", idea.title),
        })
    }

    /// The earliest start for `idea` on `date`, its duration and why, or why not.
    fn fit(
        &self,
        idea: &Activity,
        date: NaiveDate,
        cost: u64,
    ) -> Result<(u32, u32, String), String> {
        let families = self.families_of(idea);
        let (pace, pace_text) = self.pace(&families);
        let rules = pace_rules(pace);
        let is_meal = idea.kind == ActivityKind::Meal;
        if let Some(cap) = self.day_cap() {
            if (self.day_cost.get(&date).copied().unwrap_or(0) + cost) as f64 > cap {
                return Err("its day would go over its share of the budget".into());
            }
        }
        // Each family's day holds at most what its own pace allows.
        if !is_meal
            && families.iter().any(|f| {
                let own = self
                    .trip
                    .families
                    .get(f)
                    .map_or(rules, |fam| pace_rules(fam.preferences.pace));
                self.counts.get(&(date, f.clone())).copied().unwrap_or(0) >= own.max_activities
            })
        {
            return Err(format!("the day is full for {pace_text}"));
        }
        let duration = idea
            .duration_min
            .unwrap_or(self.config.default_duration_min);
        let (mut earliest, mut latest_end) = (rules.day_start, rules.day_end);
        if let Some(hours) = idea.opening_hours {
            earliest = earliest.max(u32::from(hours.opens.minutes()));
            latest_end = latest_end.min(u32::from(hours.closes.minutes()));
        }
        let windows: Vec<(u32, u32)> = if is_meal {
            vec![self.config.lunch, self.config.dinner]
        } else {
            vec![(earliest, latest_end)]
        };
        let location = idea.location.as_ref().map(|l| (l.lat, l.lng));
        let empty = Vec::new();
        let busy: Vec<&Busy> = self
            .busy
            .get(&date)
            .unwrap_or(&empty)
            .iter()
            .filter(|b| b.families.iter().any(|f| families.contains(f)))
            .collect();
        for (from, to) in windows {
            let from = from.max(earliest);
            let mut start = from.div_ceil(self.config.step_min) * self.config.step_min;
            while start + duration <= to.min(latest_end) {
                let end = start + duration;
                let meal_clash = !is_meal
                    && [self.config.lunch, self.config.dinner]
                        .iter()
                        .any(|&(ms, me)| start < me && ms < end);
                let mut after: Option<(&Busy, u32)> = None;
                let clash = busy.iter().any(|b| {
                    if b.end <= start {
                        let gap = self.travel_min(b.location, location) + rules.buffer_min;
                        if after.is_none_or(|(a, _)| a.end <= b.end) {
                            after = Some((b, self.travel_min(b.location, location)));
                        }
                        b.end + gap > start
                    } else if end <= b.start {
                        end + self.travel_min(location, b.location) + rules.buffer_min > b.start
                    } else {
                        true
                    }
                });
                if !meal_clash && !clash {
                    let mut why = Vec::new();
                    if let Some(hours) = idea.opening_hours {
                        why.push(format!("open {}–{}", hours.opens, hours.closes));
                    }
                    if let Some((prev, minutes)) = after {
                        if minutes > 0 {
                            why.push(format!("{minutes} min from {}", prev.title));
                        } else if !prev.is_meal {
                            why.push(format!("after {}", prev.title));
                        }
                    }
                    if is_meal {
                        why.push("at meal time".into());
                    } else {
                        why.push("clear of lunch and dinner".into());
                    }
                    why.push(format!(
                        "fits {pace_text} ({}–{}, at most {} activities a day)",
                        hhmm(rules.day_start),
                        hhmm(rules.day_end),
                        rules.max_activities
                    ));
                    return Ok((start, duration, why.join(", ")));
                }
                start += self.config.step_min;
            }
        }
        Err(if idea.opening_hours.is_some() {
            "no free time while it is open".into()
        } else {
            "no free time long enough".into()
        })
    }
}

fn pace_name(pace: Pace) -> &'static str {
    match pace {
        Pace::Relaxed => "relaxed",
        Pace::Moderate => "moderate",
        Pace::Packed => "packed",
    }
}

/// `HH:MM` of minutes after midnight.
pub fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The trip's days, first to last.
pub fn trip_days(trip: &Trip) -> Vec<NaiveDate> {
    trip.meta
        .start_date
        .iter_days()
        .take_while(|d| *d <= trip.meta.end_date)
        .collect()
}
