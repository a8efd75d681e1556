//! `POST /api/tokens`: mints a token for an app's backend, guarded by the admin key.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use persistence::TripId;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::auth::lifetime::parse_ttl;
use crate::auth::{Action, Claims, Credentials, Role};
use crate::state::AppState;

/// Body of `POST /api/tokens`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// The trip, or `*`.
    pub trip: String,
    /// The role.
    pub role: Role,
    /// The user.
    pub sub: String,
    /// The user's family, if any.
    #[serde(default)]
    pub family: Option<String>,
    /// Lifetime: a number of seconds or a duration such as `"1h"` (default one hour).
    #[serde(default)]
    pub ttl: Option<serde_json::Value>,
}

/// Answer of `POST /api/tokens`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// The JWT.
    pub token: String,
    /// Its expiry, seconds since the Unix epoch.
    pub expires_at: u64,
}

/// `POST /api/tokens` (admin key): `{trip, role, sub, family?, ttl?}` → `{token, expiresAt}`.
pub async fn mint_token(
    State(app): State<AppState>,
    credentials: Credentials,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    app.authorize(&credentials, Action::MintTokens, None)?;
    let request: TokenRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a token request: {e}")))?;
    if request.trip != "*" {
        TripId::parse(&request.trip).map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    if request.sub.trim().is_empty() || request.sub.len() > 256 {
        return Err(ApiError::bad_request("sub must be 1 to 256 characters"));
    }
    let ttl = parse_ttl(request.ttl.as_ref()).map_err(ApiError::bad_request)?;
    let keys = app.auth().keys().filter(|k| k.can_mint()).ok_or_else(|| {
        ApiError::with_status(
            StatusCode::CONFLICT,
            "this server has no HS256 secret (--jwt-secret) to mint tokens with",
        )
    })?;
    let expires_at = persistence::now_ms() / 1000 + ttl;
    let claims = Claims {
        sub: request.sub,
        trip: request.trip,
        role: request.role,
        family: request.family,
        exp: expires_at,
        nbf: None,
    };
    let token = keys
        .mint(&claims)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    tracing::info!(trip = %claims.trip, user = %claims.sub, role = claims.role.as_str(), ttl, "minted a token");
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse { token, expires_at }),
    ))
}
