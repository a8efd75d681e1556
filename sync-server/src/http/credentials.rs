//! Reading a request's [`Credentials`]: an `Authorization: Bearer` header, or the `token`
//! query parameter (browsers cannot set headers on a WebSocket). Never rejects: an absent
//! token is `None`, and `auth` decides what that means.

use axum::extract::{FromRequestParts, Query};
use axum::http::header;
use axum::http::request::Parts;
use serde::Deserialize;

use crate::auth::Credentials;

#[derive(Deserialize)]
struct TokenParam {
    token: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Credentials {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        let token = bearer.or_else(|| {
            Query::<TokenParam>::try_from_uri(&parts.uri)
                .ok()
                .and_then(|q| q.0.token)
        });
        Ok(Credentials {
            token: token.filter(|t| !t.is_empty()),
        })
    }
}
