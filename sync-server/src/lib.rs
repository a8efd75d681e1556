//! Caravan's relay: y-protocols over WebSocket, rooms, persistence, HTTP API and metrics.
//!
//! | module | holds |
//! | --- | --- |
//! | [`protocol`] | the per-connection y-protocols state machine, free of I/O |
//! | [`room`] | rooms (a loaded trip and its connections) and their registry |
//! | [`events`] | the trip event feed (opened, changed, closed) at `/api/events` |
//! | [`durability`] | group commit of the store's writes, for the "saved" acknowledgement |
//! | [`ws`] | the `/sync/{tripId}` WebSocket endpoint |
//! | [`api`] | the HTTP API of binary updates, health and metrics endpoints |
//! | [`trips_api`] | trips as JSON: read, create, the sample trip |
//! | [`app`] | the router and the serve loop |
//! | [`config`], [`metrics`] | settings and Prometheus metrics |

pub mod api;
pub mod app;
pub mod config;
pub mod durability;
pub mod events;
pub mod http_error;
pub mod metrics;
pub mod protocol;
pub mod room;
pub mod trips_api;
pub mod ws;
