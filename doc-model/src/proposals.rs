//! Typed edit operations carried by a proposal.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::types::{Activity, LocalTime, PollOption};

/// Where an activity sits: its day and start time (`None`: an idea, or no time yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// Its day, if scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Its start time, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<LocalTime>,
}

/// One edit of a proposal. Edits of something that exists carry what they expect to find
/// (`expect`): if the plan changed underneath, the proposal goes stale instead of overwriting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum EditOp {
    /// Adds a new activity (an idea or scheduled).
    #[serde(rename_all = "camelCase")]
    AddActivity { id: String, activity: Activity },
    /// Puts an activity on a day and time, for a duration.
    #[serde(rename_all = "camelCase")]
    ScheduleActivity {
        id: String,
        date: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<LocalTime>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_min: Option<u32>,
        /// Where the activity was when the proposal was written.
        #[serde(default)]
        expect: Placement,
    },
    /// Turns a scheduled activity back into an idea.
    #[serde(rename_all = "camelCase")]
    UnscheduleActivity {
        id: String,
        #[serde(default)]
        expect: Placement,
    },
    /// Removes an activity.
    #[serde(rename_all = "camelCase")]
    RemoveActivity {
        id: String,
        #[serde(default)]
        expect: Placement,
    },
    /// Sets a day's title.
    #[serde(rename_all = "camelCase")]
    SetDayTitle { date: NaiveDate, title: String },
    /// Adds an option to a poll.
    #[serde(rename_all = "camelCase")]
    AddPollOption {
        poll: String,
        id: String,
        option: PollOption,
    },
}
