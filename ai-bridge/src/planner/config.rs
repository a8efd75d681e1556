//! The planner's settings, and how a family's pace shapes a day.

use doc_model::{ConflictRules, Pace};

/// How a family's pace shapes a day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaceRules {
    /// Earliest start, minutes after midnight.
    pub day_start: u32,
    /// Latest end, minutes after midnight.
    pub day_end: u32,
    /// Most activities (meals apart) in a day.
    pub max_activities: usize,
    /// Minutes kept free between two activities, on top of travel.
    pub buffer_min: u32,
}

/// The pace rules of each pace.
pub fn pace_rules(pace: Pace) -> PaceRules {
    match pace {
        Pace::Relaxed => PaceRules {
            day_start: 10 * 60,
            day_end: 18 * 60,
            max_activities: 3,
            buffer_min: 30,
        },
        Pace::Moderate => PaceRules {
            day_start: 9 * 60,
            day_end: 19 * 60 + 30,
            max_activities: 4,
            buffer_min: 15,
        },
        Pace::Packed => PaceRules {
            day_start: 8 * 60,
            day_end: 21 * 60,
            max_activities: 6,
            buffer_min: 10,
        },
    }
}

/// Settings of the planner.
#[derive(Clone, Debug)]
pub struct PlannerConfig {
    /// Travel speed and day-budget factor, shared with conflict detection.
    pub rules: ConflictRules,
    /// Duration given to an idea that has none: by default the one conflict detection
    /// assumes (`doc_model::DEFAULT_DURATION_MIN`), so a plan is checked as it was made.
    pub default_duration_min: u32,
    /// Lunch window, minutes after midnight (start, end).
    pub lunch: (u32, u32),
    /// Dinner window.
    pub dinner: (u32, u32),
    /// Granularity of start times, in minutes.
    pub step_min: u32,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        PlannerConfig {
            rules: ConflictRules::default(),
            default_duration_min: doc_model::DEFAULT_DURATION_MIN,
            lunch: (12 * 60 + 30, 13 * 60 + 30),
            dinner: (19 * 60 + 30, 20 * 60 + 30),
            step_min: 15,
        }
    }
}
