//! Validation of everything written through the model, with typed errors.

use chrono::NaiveDate;

use crate::types::{Activity, Family, Location, Member, Meta};

/// Most families a trip may have (product brief).
pub const MAX_FAMILIES: usize = 6;
/// Most members a family may have (product brief).
pub const MAX_MEMBERS: usize = 12;
/// Longest title, name or label, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest free text (notes, chat, rationale), in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Largest amount of money: the largest integer a JavaScript number holds exactly, so that
/// every client reads the same amount.
pub const MAX_MONEY: u64 = (1 << 53) - 1;
/// Longest duration of one activity, in minutes.
pub const MAX_DURATION_MIN: u32 = 24 * 60;

/// Why a write was refused. Each names what was wrong in words a client can show.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The document holds no trip yet.
    #[error("this document holds no trip: create it first")]
    NoTrip,
    /// The document already holds a trip.
    #[error("this document already holds a trip")]
    TripExists,
    /// The trip ends before it starts.
    #[error("the end date {end} is before the start date {start}")]
    EndBeforeStart { start: NaiveDate, end: NaiveDate },
    /// A currency that ISO 4217 does not know.
    #[error("{0:?} is not an ISO 4217 currency code (such as EUR or USD)")]
    UnknownCurrency(String),
    /// A time zone that the IANA database does not know.
    #[error("{0:?} is not an IANA time zone (such as Europe/Paris)")]
    UnknownTimezone(String),
    /// An amount too large to be exact in every client.
    #[error("{field}: {value} is larger than {MAX_MONEY}")]
    MoneyTooLarge { field: &'static str, value: u64 },
    /// A required text is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A text is too long.
    #[error("{field} has {chars} characters; at most {max} are allowed")]
    TooLong {
        field: &'static str,
        chars: usize,
        max: usize,
    },
    /// A duration of zero or longer than a day.
    #[error("a duration of {0} minutes is not within 1 minute to a day")]
    BadDuration(u32),
    /// An activity that would run past midnight.
    #[error("starting at {start} for {minutes} minutes ends after midnight")]
    PastMidnight { start: String, minutes: u32 },
    /// Opening hours that close before they open.
    #[error("opening hours {opens}-{closes} close before they open")]
    BadOpeningHours { opens: String, closes: String },
    /// A latitude outside -90..90 or a longitude outside -180..180.
    #[error("{0}")]
    BadCoordinates(String),
    /// A date outside the trip.
    #[error("{date} is outside the trip ({start} to {end})")]
    OutsideTrip {
        date: NaiveDate,
        start: NaiveDate,
        end: NaiveDate,
    },
    /// Too many families.
    #[error("a trip has at most {MAX_FAMILIES} families")]
    TooManyFamilies,
    /// Too many members.
    #[error("a family has at most {MAX_MEMBERS} members")]
    TooManyMembers,
    /// A malformed id.
    #[error("{0:?} is not a valid id: 1 to 64 letters, digits, '-' or '_'")]
    BadId(String),
    /// A color that is not `#rrggbb`.
    #[error("{0:?} is not a color as #rrggbb")]
    BadColor(String),
    /// Something referred to does not exist.
    #[error("there is no {kind} {id:?}")]
    NotFound { kind: &'static str, id: String },
    /// Something to create exists already.
    #[error("{kind} {id:?} exists already")]
    AlreadyExists { kind: &'static str, id: String },
    /// A vote on a poll that is not open.
    #[error("poll {0:?} is not open")]
    PollNotOpen(String),
    /// A vote for an option the poll does not have.
    #[error("poll {poll:?} has no option {option:?}")]
    NoSuchOption { poll: String, option: String },
    /// A single vote on a ranked poll or a ranking on a single-choice poll.
    #[error("poll {poll:?} is {kind}: {hint}")]
    WrongVoteKind {
        poll: String,
        kind: &'static str,
        hint: &'static str,
    },
    /// A ranking naming an option twice, or none.
    #[error("a ranking must name each option at most once, and at least one")]
    BadRanking,
    /// A proposal in the wrong state for the request.
    #[error("proposal {id:?} is {status}; this needs it {needed}")]
    ProposalState {
        id: String,
        status: String,
        needed: &'static str,
    },
}

/// Checks an id used as a key of a map (families, members, activities, polls, ...).
pub fn id(value: &str) -> Result<(), ModelError> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ModelError::BadId(value.chars().take(80).collect()))
    }
}

/// Checks a required name: not blank, not too long.
pub fn name(field: &'static str, value: &str) -> Result<(), ModelError> {
    if value.trim().is_empty() {
        return Err(ModelError::Empty(field));
    }
    text(field, value, MAX_NAME_CHARS)
}

/// Checks a free text's length.
pub fn text(field: &'static str, value: &str, max: usize) -> Result<(), ModelError> {
    let chars = value.chars().count();
    if chars > max {
        return Err(ModelError::TooLong { field, chars, max });
    }
    Ok(())
}

/// Checks an amount of money (minor units).
pub fn money(field: &'static str, value: u64) -> Result<(), ModelError> {
    if value > MAX_MONEY {
        return Err(ModelError::MoneyTooLarge { field, value });
    }
    Ok(())
}

/// Checks the trip's meta.
pub fn meta(meta: &Meta) -> Result<(), ModelError> {
    name("title", &meta.title)?;
    text("destination", &meta.destination, MAX_NAME_CHARS)?;
    if meta.end_date < meta.start_date {
        return Err(ModelError::EndBeforeStart {
            start: meta.start_date,
            end: meta.end_date,
        });
    }
    if iso_currency::Currency::from_code(&meta.currency).is_none() {
        return Err(ModelError::UnknownCurrency(
            meta.currency.chars().take(20).collect(),
        ));
    }
    if meta.timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ModelError::UnknownTimezone(
            meta.timezone.chars().take(60).collect(),
        ));
    }
    money("budget", meta.budget)
}

/// Checks a display color.
pub fn color(value: &str) -> Result<(), ModelError> {
    let ok = value.is_empty()
        || (value.len() == 7
            && value.starts_with('#')
            && value[1..].bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(ModelError::BadColor(value.chars().take(20).collect()))
    }
}

/// Checks a family, its members included.
pub fn family(family: &Family) -> Result<(), ModelError> {
    name("family name", &family.name)?;
    color(&family.color)?;
    if family.members.len() > MAX_MEMBERS {
        return Err(ModelError::TooManyMembers);
    }
    for (member_id, m) in &family.members {
        id(member_id)?;
        member(m)?;
    }
    for interest in &family.preferences.interests {
        name("interest", interest)?;
    }
    Ok(())
}

/// Checks a member.
pub fn member(member: &Member) -> Result<(), ModelError> {
    name("member name", &member.name)?;
    for need in &member.dietary {
        name("dietary need", need)?;
    }
    if let Some(mobility) = &member.mobility {
        text("mobility", mobility, MAX_NAME_CHARS)?;
    }
    Ok(())
}

/// Checks a location's coordinates and names.
pub fn location(location: &Location) -> Result<(), ModelError> {
    text("location name", &location.name, MAX_NAME_CHARS)?;
    text("address", &location.address, MAX_NAME_CHARS)?;
    if !(-90.0..=90.0).contains(&location.lat) {
        return Err(ModelError::BadCoordinates(format!(
            "latitude {} is outside -90 to 90",
            location.lat
        )));
    }
    if !(-180.0..=180.0).contains(&location.lng) {
        return Err(ModelError::BadCoordinates(format!(
            "longitude {} is outside -180 to 180",
            location.lng
        )));
    }
    Ok(())
}

/// Checks an activity against itself and the trip's meta.
pub fn activity(activity: &Activity, meta: &Meta) -> Result<(), ModelError> {
    name("activity title", &activity.title)?;
    text("notes", &activity.notes, MAX_TEXT_CHARS)?;
    money("cost", activity.cost)?;
    if let Some(location) = &activity.location {
        self::location(location)?;
    }
    if let Some(date) = activity.date {
        within_trip(date, meta)?;
    }
    if let Some(hours) = activity.opening_hours {
        if hours.closes <= hours.opens {
            return Err(ModelError::BadOpeningHours {
                opens: hours.opens.to_string(),
                closes: hours.closes.to_string(),
            });
        }
    }
    if let Some(minutes) = activity.duration_min {
        if minutes == 0 || minutes > MAX_DURATION_MIN {
            return Err(ModelError::BadDuration(minutes));
        }
        if let Some(start) = activity.start {
            if u32::from(start.minutes()) + minutes > MAX_DURATION_MIN {
                return Err(ModelError::PastMidnight {
                    start: start.to_string(),
                    minutes,
                });
            }
        }
    }
    for family in &activity.families {
        id(family)?;
    }
    if let Some(booking) = &activity.booking {
        text("booking reference", &booking.reference, MAX_NAME_CHARS)?;
    }
    Ok(())
}

/// Checks that `date` is one of the trip's days.
pub fn within_trip(date: NaiveDate, meta: &Meta) -> Result<(), ModelError> {
    if date < meta.start_date || date > meta.end_date {
        return Err(ModelError::OutsideTrip {
            date,
            start: meta.start_date,
            end: meta.end_date,
        });
    }
    Ok(())
}
