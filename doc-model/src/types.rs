//! The trip as plain Rust values: what reading a document gives, what the JSON view holds.
//!
//! Field names follow the Yjs shape of `docs/schema.md` (camelCase). Money is an integer in
//! minor units of the trip's currency; dates are ISO `YYYY-MM-DD`; times are local `HH:MM`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Version of the document shape written by this crate (stored in `meta.schemaVersion`).
pub const SCHEMA_VERSION: u32 = 1;

/// A whole trip.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trip {
    /// Title, dates, money and status.
    pub meta: Meta,
    /// Families by id.
    #[serde(default)]
    pub families: BTreeMap<String, Family>,
    /// Activities by id, scheduled (with a date) or still ideas.
    #[serde(default)]
    pub activities: BTreeMap<String, Activity>,
    /// Day titles and notes by date.
    #[serde(default)]
    pub days: BTreeMap<NaiveDate, Day>,
    /// Polls by id.
    #[serde(default)]
    pub polls: BTreeMap<String, Poll>,
    /// Proposals by id.
    #[serde(default)]
    pub proposals: BTreeMap<String, Proposal>,
    /// Chat messages, oldest first.
    #[serde(default)]
    pub chat: Vec<ChatMessage>,
}

/// The `meta` map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Shape version; see [`SCHEMA_VERSION`].
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    /// Name of the trip.
    pub title: String,
    /// Where to.
    #[serde(default)]
    pub destination: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (not before the first).
    pub end_date: NaiveDate,
    /// IANA time zone of the destination; every time in the trip is local to it.
    pub timezone: String,
    /// ISO 4217 code of every amount in the trip.
    pub currency: String,
    /// Budget for the whole trip, in minor units.
    #[serde(default)]
    pub budget: u64,
    /// Where the trip stands.
    #[serde(default)]
    pub status: TripStatus,
}

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

impl Default for Meta {
    fn default() -> Self {
        let day = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
        Meta {
            schema_version: SCHEMA_VERSION,
            title: String::new(),
            destination: String::new(),
            start_date: day,
            end_date: day,
            timezone: "UTC".into(),
            currency: "EUR".into(),
            budget: 0,
            status: TripStatus::Planning,
        }
    }
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? } default $default:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The value as stored in the document.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl Default for $name {
            fn default() -> Self { $name::$default }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "{other:?} is not one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum!(
    /// Where a trip stands.
    TripStatus { Planning = "planning", Booked = "booked", Ongoing = "ongoing", Completed = "completed", Archived = "archived" } default Planning
);
string_enum!(
    /// Age group of a family member.
    AgeGroup { Adult = "adult", Teen = "teen", Child = "child", Infant = "infant" } default Adult
);
string_enum!(
    /// How busy a family likes its days.
    Pace { Relaxed = "relaxed", Moderate = "moderate", Packed = "packed" } default Moderate
);
string_enum!(
    /// How much a family likes to spend.
    BudgetLevel { Low = "low", Medium = "medium", High = "high" } default Medium
);
string_enum!(
    /// What an activity is.
    ActivityKind { Sight = "sight", Meal = "meal", Transport = "transport", Lodging = "lodging", Activity = "activity" } default Activity
);
string_enum!(
    /// What an activity's cost is counted per.
    CostPer { Group = "group", Family = "family", Person = "person" } default Group
);
string_enum!(
    /// State of a booking.
    BookingStatus { None = "none", Pending = "pending", Confirmed = "confirmed", Cancelled = "cancelled" } default None
);
string_enum!(
    /// How a poll is voted: one option each, or a ranking of options.
    PollKind { Single = "single", Ranked = "ranked" } default Single
);
string_enum!(
    /// Where a poll stands.
    PollStatus { Open = "open", Closed = "closed", Finalized = "finalized" } default Open
);
string_enum!(
    /// Where a proposal stands.
    ProposalStatus { Pending = "pending", Accepted = "accepted", Rejected = "rejected", Applied = "applied", Stale = "stale" } default Pending
);

/// A local time of day, `HH:MM`, kept as minutes after midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTime(u16);

impl LocalTime {
    /// `hours:minutes`, if it is a time of day.
    pub fn new(hours: u16, minutes: u16) -> Option<LocalTime> {
        (hours < 24 && minutes < 60).then_some(LocalTime(hours * 60 + minutes))
    }

    /// Minutes after midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl FromStr for LocalTime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a time of day as HH:MM");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        LocalTime::new(h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A family taking part in the trip.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Family {
    /// Display name.
    pub name: String,
    /// Display color (`#rrggbb`).
    #[serde(default)]
    pub color: String,
    /// Members by id.
    #[serde(default)]
    pub members: BTreeMap<String, Member>,
    /// What the family likes.
    #[serde(default)]
    pub preferences: Preferences,
}

/// A person in a family.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Name.
    pub name: String,
    /// Adult, teen, child or infant.
    #[serde(default)]
    pub age_group: AgeGroup,
    /// Dietary needs (`vegetarian`, `nut allergy`, ...).
    #[serde(default)]
    pub dietary: Vec<String>,
    /// Mobility needs, if any (`stroller`, `wheelchair`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobility: Option<String>,
}

/// A family's preferences.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// Interests (`museums`, `hiking`, ...).
    #[serde(default)]
    pub interests: Vec<String>,
    /// How busy a day may be.
    #[serde(default)]
    pub pace: Pace,
    /// How much to spend.
    #[serde(default)]
    pub budget_level: BudgetLevel,
}

/// Where an activity happens.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Name of the place.
    pub name: String,
    /// Latitude in degrees, -90 to 90.
    pub lat: f64,
    /// Longitude in degrees, -180 to 180.
    pub lng: f64,
    /// Street address.
    #[serde(default)]
    pub address: String,
}

/// A booking of an activity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    /// State of the booking.
    pub status: BookingStatus,
    /// Booking reference.
    #[serde(default, rename = "ref")]
    pub reference: String,
}

/// Something to do. Without a `date` it is an idea, not yet scheduled.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// What it is called.
    pub title: String,
    /// Sight, meal, transport, lodging or activity.
    #[serde(default)]
    pub kind: ActivityKind,
    /// Day it is scheduled on; `None` for an idea.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Local start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<LocalTime>,
    /// Duration in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_min: Option<u32>,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// When the place is open (local times), if it matters: the planner only schedules a
    /// visit that starts and ends within them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<OpeningHours>,
    /// Cost in minor units, counted per `cost_per`.
    #[serde(default)]
    pub cost: u64,
    /// What the cost is counted per.
    #[serde(default)]
    pub cost_per: CostPer,
    /// Families taking part; empty means everyone.
    #[serde(default)]
    pub families: Vec<String>,
    /// Booking, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<Booking>,
    /// Free text notes (a `Y.Text` in the document).
    #[serde(default)]
    pub notes: String,
    /// Who created it (a member id, or `assistant`).
    #[serde(default)]
    pub created_by: String,
    /// Tie-breaker for activities starting at the same time (fractional index).
    #[serde(default)]
    pub order: f64,
}

/// Opening hours of a place on the days of the trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    /// Opens at.
    pub opens: LocalTime,
    /// Closes at (after `opens`).
    pub closes: LocalTime,
}

/// A day's title and notes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    /// Title (`Hiking day`).
    #[serde(default)]
    pub title: String,
    /// Notes (a `Y.Text` in the document).
    #[serde(default)]
    pub notes: String,
}

/// One option of a poll.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollOption {
    /// Short label.
    pub label: String,
    /// Longer description.
    #[serde(default)]
    pub details: String,
    /// Whether the assistant suggested it.
    #[serde(default)]
    pub ai_generated: bool,
    /// The activity this option stands for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
}

/// A vote: one option, or options ranked best first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Vote {
    /// One option id.
    Single(String),
    /// Option ids, best first.
    Ranking(Vec<String>),
}

/// A question put to the families.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Poll {
    /// The question.
    pub question: String,
    /// Single choice or ranking.
    #[serde(default)]
    pub kind: PollKind,
    /// Options by id.
    #[serde(default)]
    pub options: BTreeMap<String, PollOption>,
    /// Votes by member id.
    #[serde(default)]
    pub votes: BTreeMap<String, Vote>,
    /// Open, closed or finalized.
    #[serde(default)]
    pub status: PollStatus,
    /// When voting ends, if set.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::time::flexible_option"
    )]
    pub closes_at: Option<DateTime<Utc>>,
    /// Who opened it.
    #[serde(default)]
    pub created_by: String,
    /// Whether the assistant is asked to suggest options.
    #[serde(default)]
    pub wants_options: bool,
    /// The tally, once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

/// A suggested change awaiting a decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// Who suggests it (a member id or `assistant`).
    pub author: String,
    /// One line: what would change.
    pub summary: String,
    /// Why.
    #[serde(default)]
    pub rationale: String,
    /// The edits, applied together on acceptance.
    pub ops: Vec<EditOp>,
    /// Pending, accepted, rejected, applied or stale.
    #[serde(default)]
    pub status: ProposalStatus,
    /// Who accepted or rejected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// When it was written.
    #[serde(deserialize_with = "crate::time::flexible")]
    pub created_at: DateTime<Utc>,
    /// Why it went stale or could not be applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What prompted it (`chat:ID`, `poll:ID`, `conflict:...`), so that the assistant
    /// proposes once per cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
}

/// A chat message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// Unique id.
    pub id: String,
    /// Member id, or `assistant`.
    pub author: String,
    /// The message.
    pub text: String,
    /// When it was sent (read from an RFC 3339 string or epoch milliseconds).
    #[serde(deserialize_with = "crate::time::flexible")]
    pub at: DateTime<Utc>,
    /// Who it mentions (member ids, `assistant`).
    #[serde(default)]
    pub mentions: Vec<String>,
    /// What this message answers: a chat message id, or (for the assistant's notes) what
    /// prompted it, such as `poll:ID`. The assistant never answers an id twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

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
