use std::fmt;

/// The id of a trip, which is also the name of its Yjs room and its key prefix on disk.
///
/// 1 to 128 characters from `A-Z a-z 0-9 - _ .`, not starting with a dot. The restriction keeps
/// ids safe in URLs, file names and store keys (a NUL byte separates the id from the rest of a
/// key), and makes a mistyped or hostile path a clear error instead of a new empty trip.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TripId(String);

/// Why a string is not a valid [`TripId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid trip id {shown:?}: {reason}")]
pub struct InvalidTripId {
    shown: String,
    reason: &'static str,
}

impl TripId {
    /// Longest accepted id, in bytes.
    pub const MAX_LEN: usize = 128;

    /// Checks `s` and wraps it.
    pub fn parse(s: &str) -> Result<TripId, InvalidTripId> {
        let fail = |reason| InvalidTripId {
            shown: s.chars().take(40).collect(),
            reason,
        };
        if s.is_empty() {
            return Err(fail("it is empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(fail("it is longer than 128 characters"));
        }
        if s.starts_with('.') {
            return Err(fail("it starts with a dot"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(fail("only letters, digits, '-', '_' and '.' are allowed"));
        }
        Ok(TripId(s.to_owned()))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TripId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TripId {
    type Err = InvalidTripId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TripId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        for ok in ["a", "trip-1", "Summer_2027.v2", &"x".repeat(128)] {
            assert!(TripId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_dangerous_ids() {
        for bad in [
            "",
            ".hidden",
            "a/b",
            "a\0b",
            "ä",
            "a b",
            "..",
            &"x".repeat(129),
        ] {
            assert!(TripId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
