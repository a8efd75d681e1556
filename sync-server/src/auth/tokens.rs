//! JWT verification and minting, through josekit (openssl).
//!
//! Tokens are verified with a shared secret (HS256), so that the app's backend and `caravan
//! token` can mint them, and/or a public key (RS256 or ES256, told apart by the PEM), so that
//! a backend holding the private key can mint them without sharing a secret. The algorithm
//! in the token's header must match a configured key: a token saying `none`, or `HS256` when
//! only a public key is configured, is refused.

use josekit::jws::{JwsHeader, JwsVerifier, ES256, HS256, RS256};
use josekit::jwt::{self, JwtPayload};
use josekit::JoseError;
use thiserror::Error;

use super::claims::Claims;

/// Shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: at least the hash's size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Why a token was refused, or a key could not be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a compact JWS (three base64url parts), or its JSON does not parse.
    #[error("the token is malformed")]
    Malformed,
    /// Signed with an algorithm that no configured key verifies.
    #[error("the token's algorithm {0:?} is not accepted by this server")]
    Algorithm(String),
    /// The signature does not verify: tampered with, or signed with another key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// `exp` has passed.
    #[error("the token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// A claim is missing or of the wrong type.
    #[error("the token's claims are invalid: {0}")]
    BadClaims(String),
    /// A configured key does not load.
    #[error("{0}")]
    Key(String),
}

impl TokenError {
    /// The metric label of the refusal.
    pub fn kind(&self) -> &'static str {
        match self {
            TokenError::Expired => "auth_expired",
            _ => "auth_invalid",
        }
    }
}

/// The keys tokens are checked (and, with a secret, minted) with.
pub struct TokenKeys {
    secret: Option<(josekit::jws::alg::hmac::HmacJwsVerifier, Vec<u8>)>,
    public: Option<(String, Box<dyn JwsVerifier>)>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("hs256", &self.secret.is_some())
            .field("public", &self.public.as_ref().map(|(alg, _)| alg))
            .finish()
    }
}

impl TokenKeys {
    /// Keys from an HS256 secret and/or a PEM public key (RSA for RS256, P-256 for ES256);
    /// `None` when neither is given (the server then runs open).
    pub fn new(
        secret: Option<&[u8]>,
        public_key_pem: Option<&[u8]>,
    ) -> Result<Option<TokenKeys>, TokenError> {
        let secret = match secret {
            None => None,
            Some(s) if s.len() < MIN_SECRET_BYTES => {
                return Err(TokenError::Key(format!(
                    "the JWT secret must be at least {MIN_SECRET_BYTES} bytes (got {}); \
                     `openssl rand -base64 48` makes a good one",
                    s.len()
                )))
            }
            Some(s) => Some((
                HS256
                    .verifier_from_bytes(s)
                    .map_err(|e| TokenError::Key(format!("the JWT secret does not load: {e}")))?,
                s.to_vec(),
            )),
        };
        let public = match public_key_pem {
            None => None,
            Some(pem) => {
                let verifier: (String, Box<dyn JwsVerifier>) =
                    if let Ok(v) = RS256.verifier_from_pem(pem) {
                        ("RS256".into(), Box::new(v))
                    } else if let Ok(v) = ES256.verifier_from_pem(pem) {
                        ("ES256".into(), Box::new(v))
                    } else {
                        return Err(TokenError::Key(
                            "the JWT public key is neither an RSA key (RS256) nor a P-256 EC key \
                             (ES256) in PEM"
                                .into(),
                        ));
                    };
                Some(verifier)
            }
        };
        if secret.is_none() && public.is_none() {
            return Ok(None);
        }
        Ok(Some(TokenKeys { secret, public }))
    }

    /// The public key's algorithm, if one is configured.
    pub fn public_algorithm(&self) -> Option<&str> {
        self.public.as_ref().map(|(alg, _)| alg.as_str())
    }

    /// Whether tokens can be minted here (an HS256 secret is configured).
    pub fn can_mint(&self) -> bool {
        self.secret.is_some()
    }

    /// Checks `token`'s signature and claims at time `now` (seconds since the Unix epoch).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let alg = jwt::decode_header(token)
            .map_err(|_| TokenError::Malformed)?
            .claim("alg")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let verifier: &dyn JwsVerifier = match (alg.as_str(), &self.secret, &self.public) {
            ("HS256", Some((v, _)), _) => v,
            (alg, _, Some((public_alg, v))) if alg == public_alg => v.as_ref(),
            _ => return Err(TokenError::Algorithm(alg)),
        };
        let (payload, _) = jwt::decode_with_verifier(token, verifier).map_err(|e| match e {
            JoseError::InvalidSignature(_) => TokenError::BadSignature,
            _ => TokenError::Malformed,
        })?;
        let claims: Claims =
            serde_json::from_value(serde_json::Value::Object(payload.claims_set().clone()))
                .map_err(|e| TokenError::BadClaims(e.to_string()))?;
        if claims.sub.is_empty() {
            return Err(TokenError::BadClaims("sub is empty".into()));
        }
        if claims.trip != "*" && persistence::TripId::parse(&claims.trip).is_err() {
            return Err(TokenError::BadClaims(format!(
                "trip {:?} is not a trip id or *",
                claims.trip
            )));
        }
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        // A minute of leeway for clocks that disagree.
        if claims.nbf.is_some_and(|nbf| nbf > now + 60) {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }

    /// Mints an HS256 token carrying `claims` (needs the secret).
    pub fn mint(&self, claims: &Claims) -> Result<String, TokenError> {
        let (_, secret) = self.secret.as_ref().ok_or_else(|| {
            TokenError::Key("minting tokens needs an HS256 secret (--jwt-secret)".into())
        })?;
        mint_hs256(secret, claims)
    }
}

/// Signs `claims` with an HS256 `secret` (for `caravan token` and `POST /api/tokens`).
pub fn mint_hs256(secret: &[u8], claims: &Claims) -> Result<String, TokenError> {
    let signer = HS256
        .signer_from_bytes(secret)
        .map_err(|e| TokenError::Key(format!("the JWT secret does not load: {e}")))?;
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    let map = match serde_json::to_value(claims) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => unreachable!("claims serialize to a JSON object"),
    };
    let payload = JwtPayload::from_map(map).map_err(|e| TokenError::BadClaims(e.to_string()))?;
    jwt::encode_with_signer(&payload, &header, &signer)
        .map_err(|e| TokenError::Key(format!("signing failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "alice".into(),
            trip: "lisbon".into(),
            role: Role::Editor,
            family: Some("silva".into()),
            exp,
            nbf: None,
        }
    }

    #[test]
    fn minted_tokens_verify_until_they_expire() {
        let keys = TokenKeys::new(Some(SECRET), None).unwrap().unwrap();
        let token = keys.mint(&claims(2_000)).unwrap();
        assert_eq!(keys.verify(&token, 1_000).unwrap(), claims(2_000));
        assert_eq!(keys.verify(&token, 2_000), Err(TokenError::Expired));
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_refused() {
        let keys = TokenKeys::new(Some(SECRET), None).unwrap().unwrap();
        let token = keys.mint(&claims(2_000)).unwrap();
        // Change the role inside the payload and keep the signature.
        let parts: Vec<&str> = token.split('.').collect();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
        let forged = b64.encode(payload.replace("editor", "owner"));
        let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert_eq!(keys.verify(&tampered, 1_000), Err(TokenError::BadSignature));
        let other = mint_hs256(b"another secret, also 32 bytes long!!", &claims(2_000)).unwrap();
        assert_eq!(keys.verify(&other, 1_000), Err(TokenError::BadSignature));
        let unsigned = format!("{}.{}.", b64.encode(r#"{"alg":"none"}"#), parts[1]);
        assert_eq!(
            keys.verify(&unsigned, 1_000),
            Err(TokenError::Algorithm("none".into()))
        );
        assert_eq!(
            keys.verify("not a token", 1_000),
            Err(TokenError::Malformed)
        );
        assert_eq!(keys.verify("", 1_000), Err(TokenError::Malformed));
    }

    #[test]
    fn claims_are_checked() {
        let keys = TokenKeys::new(Some(SECRET), None).unwrap().unwrap();
        let sign = |json: serde_json::Value| {
            let signer = HS256.signer_from_bytes(SECRET).unwrap();
            let payload = JwtPayload::from_map(json.as_object().unwrap().clone()).unwrap();
            jwt::encode_with_signer(&payload, &JwsHeader::new(), &signer).unwrap()
        };
        let no_exp = sign(serde_json::json!({"sub": "a", "trip": "t", "role": "editor"}));
        assert!(matches!(
            keys.verify(&no_exp, 1),
            Err(TokenError::BadClaims(_))
        ));
        let bad_role = sign(serde_json::json!({"sub": "a", "trip": "t", "role": "god", "exp": 9}));
        assert!(matches!(
            keys.verify(&bad_role, 1),
            Err(TokenError::BadClaims(_))
        ));
        let bad_trip =
            sign(serde_json::json!({"sub": "a", "trip": "bad\ttrip", "role": "owner", "exp": 9}));
        assert!(matches!(
            keys.verify(&bad_trip, 1),
            Err(TokenError::BadClaims(_))
        ));
        let later = sign(
            serde_json::json!({"sub": "a", "trip": "*", "role": "owner", "exp": 9999, "nbf": 5000}),
        );
        assert_eq!(keys.verify(&later, 1), Err(TokenError::NotYetValid));
        assert!(keys.verify(&later, 5000).is_ok());
    }

    #[test]
    fn short_secrets_and_bad_keys_are_refused() {
        assert!(matches!(
            TokenKeys::new(Some(b"short"), None),
            Err(TokenError::Key(_))
        ));
        assert!(matches!(
            TokenKeys::new(None, Some(b"-----BEGIN NONSENSE-----")),
            Err(TokenError::Key(_))
        ));
        assert!(TokenKeys::new(None, None).unwrap().is_none());
    }
}
