//! The HTTP API, one file per resource (`server::router` puts the routes together with the
//! WebSocket endpoint and the family app).
//!
//! | route | file |
//! | --- | --- |
//! | `GET/POST /api/trips`, `GET/DELETE /api/trips/{id}`, `POST /api/trips/sample` | [`trips`] |
//! | `GET/POST /api/trips/{id}/update` | [`updates`] |
//! | `POST /api/tokens` | [`tokens`] |
//! | `GET /api/backup` | [`backup`] |
//! | `GET /api/events` | [`events`] |
//! | `GET /healthz`, `/readyz`, `/metrics` | [`health`] |
//! | `GET /sync/{id}` | `ws` |
//! | anything else: the family app | [`web_app`] |
//!
//! [`error`] holds `ApiError` and every conversion into it; [`credentials`] reads a request's
//! token; [`client_address`] who a request comes from, behind trusted proxies.

pub mod backup;
pub mod client_address;
pub mod credentials;
pub mod error;
pub mod events;
pub mod health;
pub mod tokens;
pub mod trips;
pub mod updates;
pub mod web_app;

pub use error::ApiError;
