//! Caravan's relay: y-protocols over WebSocket, rooms, persistence, HTTP API and metrics.
//!
//! | module | holds |
//! | --- | --- |
//! | [`auth`] | tokens (JWT), roles, the admin key: who may do what |
//! | [`protocol`] | the per-connection y-protocols state machine, free of I/O |
//! | [`room`] | rooms (a loaded trip and its connections) and their registry |
//! | [`events`] | the trip event feed (opened, changed, closed) at `/api/events` |
//! | [`durability`] | group commit of the store's writes, for the "saved" acknowledgement |
//! | [`ws`] | the `/sync/{tripId}` WebSocket endpoint |
//! | [`api`] | the HTTP API of binary updates, health and metrics endpoints |
//! | [`trips_api`] | trips as JSON: read, create, the sample trip |
//! | [`tokens_api`] | `POST /api/tokens`: tokens minted for an app's backend |
//! | [`app`] | the router and the serve loop |
//! | [`limits`] | connections per IP, messages per second |
//! | [`config`], [`metrics`] | settings and Prometheus metrics |

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod durability;
pub mod events;
pub mod http_error;
pub mod limits;
pub mod metrics;
pub mod protocol;
pub mod room;
pub mod tokens_api;
pub mod trips_api;
pub mod ws;
