//! Caravan's relay: y-protocols over WebSocket, rooms, persistence, HTTP API and metrics.
pub mod protocol;
