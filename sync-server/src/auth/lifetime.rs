//! How long a token lives: parsed from what `POST /api/tokens` and `caravan token` are given.

/// Longest lifetime a minted token may have.
pub const MAX_TTL_SECS: u64 = 30 * 24 * 3600;

/// Lifetime of a token when none is asked for: one hour.
pub const DEFAULT_TTL_SECS: u64 = 3600;

/// Parses a lifetime: seconds as a number, or a humantime duration (`90s`, `15m`, `1h`, `7d`).
pub fn parse_ttl(value: Option<&serde_json::Value>) -> Result<u64, String> {
    let secs = match value {
        None => DEFAULT_TTL_SECS,
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| "ttl must be a positive whole number of seconds".to_string())?,
        Some(serde_json::Value::String(text)) => humantime::parse_duration(text)
            .map_err(|e| format!("ttl {text:?} is not a duration: {e}"))?
            .as_secs(),
        Some(_) => return Err("ttl must be seconds or a duration such as \"1h\"".into()),
    };
    if secs == 0 || secs > MAX_TTL_SECS {
        return Err(format!(
            "ttl must be between 1 second and {} days",
            MAX_TTL_SECS / 86400
        ));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse_and_are_bounded() {
        assert_eq!(parse_ttl(None), Ok(3600));
        assert_eq!(parse_ttl(Some(&serde_json::json!(90))), Ok(90));
        assert_eq!(parse_ttl(Some(&serde_json::json!("15m"))), Ok(900));
        assert_eq!(parse_ttl(Some(&serde_json::json!("2d"))), Ok(172_800));
        assert!(parse_ttl(Some(&serde_json::json!(0))).is_err());
        assert!(parse_ttl(Some(&serde_json::json!(-5))).is_err());
        assert!(parse_ttl(Some(&serde_json::json!("forever"))).is_err());
        assert!(parse_ttl(Some(&serde_json::json!("400d"))).is_err());
        assert!(parse_ttl(Some(&serde_json::json!(true))).is_err());
    }
}
