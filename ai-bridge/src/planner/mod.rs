//! The built-in planner: deterministic, no network, no invented places.
//!
//! [`plan`] schedules a trip's ideas (activities without a date) into the free time of the
//! days asked for. A visit is placed at the earliest start that respects, for every family
//! taking part:
//! - its duration (an idea without one is given `default_duration_min`);
//! - the place's opening hours, when given: it starts and ends within them;
//! - the day window and the number of activities a day of the slowest family's pace;
//! - meal times: lunch and dinner stay free, except for meals, which go into them;
//! - travel time between consecutive places (great-circle distance at the travel speed of
//!   [`ConflictRules`], the speed conflict detection uses) plus a pace-dependent buffer;
//! - the budget: the trip's total, and each day's share as conflict detection counts it.
//!
//! Each choice carries a sentence saying why it was made, for the proposal's rationale.
//!
//! | file | holds |
//! | --- | --- |
//! | `config.rs` | [`PlannerConfig`], [`PaceRules`] |
//! | `schedule.rs` | [`plan`]: ideas into free time, and the day book |
//! | `fixes.rs` | [`fix_conflict`], [`move_to`], [`poll_options`] |

mod config;
mod fixes;
mod schedule;

pub use config::{pace_rules, PaceRules, PlannerConfig};
pub use fixes::{fix_conflict, move_to, placement, poll_options};
pub use schedule::{hhmm, plan, plan_ideas, trip_days, Choice, Plan};
