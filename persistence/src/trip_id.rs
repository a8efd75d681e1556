use std::fmt;

/// The id of a trip, which is also the name of its Yjs room and its key prefix on disk.
///
/// Any UTF-8 string of 1 to 256 bytes without control characters, and not `*` (a token's
/// "every trip"): the room names stock clients use (`trip@home`, `team:plans`, `famille-été`,
/// `org/team/plans`) all work, as with `@y/websocket-server`. Control characters are refused,
/// which keeps the store's keys unambiguous (a NUL byte separates the id from the rest of a key,
/// and the listing jumps from trip to trip past `\u{1}`) and the logs readable. Ids written by
/// earlier Caravans (`A-Z a-z 0-9 - _ .`) are a subset: their keys are unchanged.
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
    pub const MAX_LEN: usize = 256;

    /// Checks `s` and wraps it.
    pub fn parse(s: &str) -> Result<TripId, InvalidTripId> {
        let fail = |reason| InvalidTripId {
            shown: s.chars().filter(|c| !c.is_control()).take(40).collect(),
            reason,
        };
        if s.is_empty() {
            return Err(fail("it is empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(fail("it is longer than 256 bytes"));
        }
        if s.chars().any(char::is_control) {
            return Err(fail("it holds a control character"));
        }
        if s == "*" {
            return Err(fail("`*` means every trip in a token, and names none"));
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
    fn accepts_the_names_stock_clients_use() {
        for ok in [
            "a",
            "trip-1",
            "Summer_2027.v2",
            "trip@home:été",
            "team:plans",
            "famille-été",
            "org/team/plans",
            "a b",
            ".hidden",
            "東京 🗼",
            &"x".repeat(256),
            &"é".repeat(128),
        ] {
            assert!(TripId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_empty_huge_control_and_wildcard_ids() {
        for bad in [
            "",
            "a\0b",
            "a\nb",
            "tab\there",
            "\u{1}",
            "\u{7f}",
            "\u{85}",
            "*",
            &"x".repeat(257),
            &"é".repeat(129),
        ] {
            assert!(TripId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
