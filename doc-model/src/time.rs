//! Times as clients write them. The schema's times are ISO-8601 / RFC 3339 strings, but the
//! obvious JavaScript (`at: Date.now()`) writes epoch milliseconds: both are read, wherever the
//! schema has a time (`docs/schema.md`). Written back, a time is always an RFC 3339 string.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A time read from an RFC 3339 string (`2027-01-02T10:00:00Z`; without an offset, UTC) or from
/// epoch milliseconds (a number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlexibleTime(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for FlexibleTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimeVisitor).map(FlexibleTime)
    }
}

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a time: an RFC 3339 string or epoch milliseconds")
    }

    fn visit_i64<E: de::Error>(self, ms: i64) -> Result<Self::Value, E> {
        Utc.timestamp_millis_opt(ms)
            .single()
            .ok_or_else(|| E::custom(format!("{ms} ms is out of range")))
    }

    fn visit_u64<E: de::Error>(self, ms: u64) -> Result<Self::Value, E> {
        let ms = i64::try_from(ms).map_err(|_| E::custom("out of range"))?;
        self.visit_i64(ms)
    }

    fn visit_f64<E: de::Error>(self, ms: f64) -> Result<Self::Value, E> {
        if !ms.is_finite() {
            return Err(E::custom("not a finite number"));
        }
        self.visit_i64(ms.round() as i64)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.with_timezone(&Utc));
        }
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .map(|t| t.and_utc())
            .map_err(|_| E::custom(format!("{s:?} is not an RFC 3339 time")))
    }
}

/// `#[serde(deserialize_with)]` for a required time.
pub fn flexible<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    FlexibleTime::deserialize(deserializer).map(|t| t.0)
}

/// `#[serde(deserialize_with)]` for an optional time.
pub fn flexible_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<FlexibleTime>::deserialize(deserializer).map(|t| t.map(|t| t.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<DateTime<Utc>, serde_json::Error> {
        serde_json::from_str::<FlexibleTime>(json).map(|t| t.0)
    }

    #[test]
    fn strings_and_epoch_milliseconds_are_the_same_time() {
        let iso = read("\"2027-01-02T10:00:00Z\"").unwrap();
        assert_eq!(read("1798884000000").unwrap(), iso);
        assert_eq!(read("1798884000000.4").unwrap(), iso);
        assert_eq!(read("\"2027-01-02T11:00:00+01:00\"").unwrap(), iso);
        assert_eq!(read("\"2027-01-02T10:00:00\"").unwrap(), iso);
        assert!(read("\"tomorrow\"").is_err());
        assert!(read("true").is_err());
    }
}
