//! Who may do what: tokens, roles, the admin key.
//!
//! A request (WebSocket or REST) carries a token in the `token` query parameter or an
//! `Authorization: Bearer` header. [`Auth::authorize`] turns it into an [`Access`] for one
//! [`Action`], or a refusal that is logged (trip, user, reason), counted in
//! `caravan_errors_total{kind}`, and answered 401 (no or bad token) or 403 (not allowed).
//!
//! With no token key configured, the server runs open: everyone may do everything on trips,
//! and admin routes are open unless an admin key is set.

mod claims;
pub mod lifetime;
mod tokens;

pub use claims::{Claims, Role};
pub use tokens::{mint_hs256, TokenError, TokenKeys, MIN_SECRET_BYTES};

use axum::http::StatusCode;
use caravan_wire::close;
use persistence::TripId;

use crate::metrics::Metrics;

/// What a request wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Sync (read) a trip, read it over REST, see presence.
    Read,
    /// Change a trip.
    Write,
    /// Delete a trip.
    Delete,
    /// Create a new trip with a server-chosen id.
    Create,
    /// List every trip.
    List,
    /// Follow the trip event feed.
    Events,
    /// Mint tokens (`POST /api/tokens`).
    MintTokens,
    /// Download a backup of every trip (`GET /api/backup`).
    Backup,
}

impl Action {
    fn is_admin(self) -> bool {
        matches!(
            self,
            Action::List | Action::Events | Action::MintTokens | Action::Backup
        )
    }
}

/// Who is asking, once their credentials are checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// The server runs open (no token key configured).
    Open,
    /// The admin key was given.
    Admin,
    /// A verified token.
    Token(Claims),
}

impl Access {
    /// The user, for logs: the token's `sub`, `admin`, or `anonymous`.
    pub fn user(&self) -> &str {
        match self {
            Access::Open => "anonymous",
            Access::Admin => "admin",
            Access::Token(claims) => &claims.sub,
        }
    }

    /// Whether this access may change documents.
    pub fn can_write(&self) -> bool {
        match self {
            Access::Open | Access::Admin => true,
            Access::Token(claims) => claims.role.can_write(),
        }
    }

    /// Whether this is the assistant (a token with role `assistant`).
    pub fn is_assistant(&self) -> bool {
        matches!(self, Access::Token(claims) if claims.role == Role::Assistant)
    }

    /// Who this is, as verified, for presence (see `protocol::presence`): a token's `sub`,
    /// role and family; nobody on an open server or with the admin key.
    pub fn identity(&self) -> crate::protocol::Identity {
        let mut identity = crate::protocol::Identity {
            is_assistant: self.is_assistant(),
            ..Default::default()
        };
        if let Access::Token(claims) = self {
            identity.sub = Some(claims.sub.clone());
            identity.role = Some(claims.role.as_str().to_owned());
            identity.family = claims.family.clone();
        }
        identity
    }

    /// When the access ends (the token's `exp`), if it does.
    pub fn expires_at(&self) -> Option<u64> {
        match self {
            Access::Token(claims) => Some(claims.exp),
            _ => None,
        }
    }
}

/// The credentials a request carries: a bearer header, or the `token` query parameter
/// (browsers cannot set headers on a WebSocket); `http::credentials` reads them from a
/// request. An absent token is `None`.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// The token or admin key, as given.
    pub token: Option<String>,
}

/// A refused request: the status, the metric label, and the message the client gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// 401 (no or bad credentials) or 403 (not allowed).
    pub status: StatusCode,
    /// Label in `caravan_errors_total{kind}`.
    pub kind: &'static str,
    /// What the client is told.
    pub message: String,
}

impl Refusal {
    fn unauthenticated(kind: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            kind,
            message: message.into(),
        }
    }

    fn forbidden(kind: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            kind,
            message: message.into(),
        }
    }

    /// The WebSocket close code for this refusal (after an upgrade): 4401 or 4403.
    pub fn close_code(&self) -> u16 {
        if self.status == StatusCode::UNAUTHORIZED {
            close::UNAUTHENTICATED
        } else {
            close::FORBIDDEN
        }
    }
}

/// The server's token keys and admin key.
#[derive(Debug)]
pub struct Auth {
    keys: Option<TokenKeys>,
    admin_key: Option<String>,
}

impl Default for Auth {
    fn default() -> Self {
        Auth::new(None, None)
    }
}

impl Auth {
    /// Auth with these keys; `keys: None` runs open.
    pub fn new(keys: Option<TokenKeys>, admin_key: Option<String>) -> Auth {
        Auth {
            keys,
            admin_key: admin_key.filter(|k| !k.is_empty()),
        }
    }

    /// True when no token key is configured: trips are open to everyone.
    pub fn is_open(&self) -> bool {
        self.keys.is_none()
    }

    /// The token keys, if any.
    pub fn keys(&self) -> Option<&TokenKeys> {
        self.keys.as_ref()
    }

    /// Whether an admin key is configured.
    pub fn has_admin_key(&self) -> bool {
        self.admin_key.is_some()
    }

    fn is_admin_key(&self, given: &str) -> bool {
        self.admin_key.as_deref().is_some_and(|key| {
            key.len() == given.len() && openssl::memcmp::eq(key.as_bytes(), given.as_bytes())
        })
    }

    /// Checks `credentials` for `action` on `trip` (when the action is about one trip).
    /// Refusals are logged and counted here.
    pub fn authorize(
        &self,
        credentials: &Credentials,
        action: Action,
        trip: Option<&TripId>,
        metrics: &Metrics,
    ) -> Result<Access, Refusal> {
        let decided = self.decide(credentials, action, trip);
        if let Err(refusal) = &decided {
            refused(metrics, refusal, trip, &self.user_hint(credentials));
        }
        decided
    }

    /// Who the credentials claim to be, for the log of a refusal (not verified).
    fn user_hint(&self, credentials: &Credentials) -> String {
        match credentials.token.as_deref() {
            None => "anonymous".into(),
            Some(t) if self.is_admin_key(t) => "admin".into(),
            Some(t) => match self
                .keys
                .as_ref()
                .map(|k| k.verify(t, persistence::now_ms() / 1000))
            {
                Some(Ok(claims)) => claims.sub,
                _ => claimed_sub(t)
                    .map_or_else(|| "unknown".into(), |sub| format!("{sub}(unverified)")),
            },
        }
    }

    fn decide(
        &self,
        credentials: &Credentials,
        action: Action,
        trip: Option<&TripId>,
    ) -> Result<Access, Refusal> {
        let given = credentials.token.as_deref();
        if given.is_some_and(|t| self.is_admin_key(t)) {
            return Ok(Access::Admin);
        }
        if action == Action::MintTokens || (action.is_admin() && self.has_admin_key()) {
            return Err(match given {
                None => Refusal::unauthenticated("auth_missing", "this route needs the admin key"),
                Some(_) if !self.has_admin_key() => Refusal::forbidden(
                    "auth_forbidden",
                    "this route needs the admin key, and none is configured (--admin-key)",
                ),
                Some(_) if action == Action::MintTokens || self.is_open() => {
                    Refusal::forbidden("auth_forbidden", "this route needs the admin key")
                }
                Some(token) => return self.token_access(token, action, trip),
            });
        }
        if self.is_open() {
            return Ok(Access::Open);
        }
        match given {
            None => Err(Refusal::unauthenticated(
                "auth_missing",
                "a token is needed: pass ?token= or an Authorization: Bearer header",
            )),
            Some(token) => self.token_access(token, action, trip),
        }
    }

    /// The access a verified token gives for `action`.
    fn token_access(
        &self,
        token: &str,
        action: Action,
        trip: Option<&TripId>,
    ) -> Result<Access, Refusal> {
        let Some(keys) = &self.keys else {
            return Err(Refusal::forbidden(
                "auth_forbidden",
                "this server verifies no tokens; this route needs the admin key",
            ));
        };
        let claims = keys
            .verify(token, persistence::now_ms() / 1000)
            .map_err(|e| Refusal::unauthenticated(e.kind(), e.to_string()))?;
        claims_access(claims, action, trip)
    }
}

/// The access verified `claims` give for `action` on `trip`.
fn claims_access(claims: Claims, action: Action, trip: Option<&TripId>) -> Result<Access, Refusal> {
    if let Some(trip) = trip {
        if !claims.covers(trip) {
            return Err(Refusal::forbidden(
                "auth_wrong_trip",
                format!("the token is for trip {}, not {trip}", claims.trip),
            ));
        }
    }
    let role = claims.role;
    let allowed = match action {
        Action::Read => true,
        Action::Write => role.can_write(),
        Action::Delete => role == Role::Owner,
        Action::Create => claims.is_global() && role.can_write(),
        Action::List => claims.is_global(),
        Action::Events => claims.is_global() && role == Role::Assistant,
        Action::MintTokens | Action::Backup => false,
    };
    if allowed {
        Ok(Access::Token(claims))
    } else {
        let what = match action {
            Action::Read => "read",
            Action::Write => "change this trip",
            Action::Delete => "delete this trip (owners only)",
            Action::Create => "create trips (needs a token for trip *)",
            Action::List => "list trips (needs a token for trip *)",
            Action::Events => "follow the event feed (needs an assistant token for trip *)",
            Action::MintTokens => "mint tokens",
            Action::Backup => "download a backup (the admin key only)",
        };
        Err(Refusal::forbidden(
            if action == Action::Write {
                "read_only"
            } else {
                "auth_forbidden"
            },
            format!("a {} may not {what}", role.as_str()),
        ))
    }
}

/// The `sub` a token claims, read without checking anything (for logs only).
fn claimed_sub(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&json).ok()?;
    let sub = value.get("sub")?.as_str()?;
    // Keep log lines sane whatever the token says.
    Some(sub.chars().filter(|c| !c.is_control()).take(64).collect())
}

/// Logs and counts a refusal: every refusal names the trip, the user and the reason.
pub fn refused(metrics: &Metrics, refusal: &Refusal, trip: Option<&TripId>, user: &str) {
    metrics.error(refusal.kind);
    tracing::warn!(
        trip = %trip.map_or("-", |t| t.as_str()),
        user = %user,
        reason = %refusal.message,
        kind = %refusal.kind,
        "refused"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn auth() -> Auth {
        Auth::new(
            TokenKeys::new(Some(SECRET), None).unwrap(),
            Some("admin-key".into()),
        )
    }

    fn token(trip: &str, role: Role) -> Credentials {
        let claims = Claims {
            sub: "u".into(),
            trip: trip.into(),
            role,
            family: None,
            exp: persistence::now_ms() / 1000 + 600,
            nbf: None,
        };
        Credentials {
            token: Some(mint_hs256(SECRET, &claims).unwrap()),
        }
    }

    fn allowed(auth: &Auth, creds: &Credentials, action: Action, trip: &str) -> bool {
        let trip = TripId::parse(trip).unwrap();
        auth.decide(creds, action, Some(&trip)).is_ok()
    }

    #[test]
    fn each_role_may_do_what_it_should_and_no_more() {
        let auth = auth();
        use Action::*;
        let table = [
            (Role::Owner, [true, true, true]),
            (Role::Editor, [true, true, false]),
            (Role::Assistant, [true, true, false]),
            (Role::Viewer, [true, false, false]),
        ];
        for (role, expected) in table {
            let creds = token("t1", role);
            let got = [Read, Write, Delete].map(|a| allowed(&auth, &creds, a, "t1"));
            assert_eq!(got, expected, "{role:?}");
            assert!(
                !allowed(&auth, &creds, Read, "t2"),
                "{role:?} on another trip"
            );
            assert!(!allowed(&auth, &creds, List, "t1"));
        }
        let global = token("*", Role::Assistant);
        assert!(allowed(&auth, &global, Write, "anything"));
        assert!(auth.decide(&global, Events, None).is_ok());
        assert!(auth
            .decide(&token("*", Role::Editor), Events, None)
            .is_err());
        assert!(auth.decide(&Credentials::default(), Events, None).is_err());
        assert!(auth.decide(&global, MintTokens, None).is_err());
        let admin = Credentials {
            token: Some("admin-key".into()),
        };
        assert_eq!(auth.decide(&admin, MintTokens, None), Ok(Access::Admin));
        let wrong_admin = Credentials {
            token: Some("admin-kex".into()),
        };
        assert_eq!(
            auth.decide(&wrong_admin, MintTokens, None)
                .unwrap_err()
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            auth.decide(&Credentials::default(), Read, None)
                .unwrap_err()
                .status,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn without_an_admin_key_global_tokens_reach_the_feed_and_the_listing() {
        let auth = Auth::new(TokenKeys::new(Some(SECRET), None).unwrap(), None);
        let assistant = token("*", Role::Assistant);
        assert!(auth.decide(&assistant, Action::Events, None).is_ok());
        assert!(auth.decide(&assistant, Action::List, None).is_ok());
        assert!(auth
            .decide(&token("*", Role::Editor), Action::Events, None)
            .is_err());
        assert!(auth
            .decide(&token("t", Role::Owner), Action::List, None)
            .is_err());
        assert!(auth.decide(&assistant, Action::MintTokens, None).is_err());
    }

    #[test]
    fn an_open_server_lets_everyone_in_but_keeps_admin_routes_behind_a_set_admin_key() {
        let open = Auth::new(None, None);
        let nobody = Credentials::default();
        for action in [Action::Read, Action::Write, Action::Delete, Action::List] {
            assert_eq!(open.decide(&nobody, action, None), Ok(Access::Open));
        }
        assert!(open.decide(&nobody, Action::MintTokens, None).is_err());
        let open_with_admin = Auth::new(None, Some("k".into()));
        assert_eq!(
            open_with_admin.decide(&nobody, Action::Write, None),
            Ok(Access::Open)
        );
        assert!(open_with_admin.decide(&nobody, Action::List, None).is_err());
    }
}
