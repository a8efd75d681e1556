//! What Caravan's server and its clients share on the wire, written once.
//!
//! | module | holds |
//! | --- | --- |
//! | [`messages`] | message types (y-protocols' and Caravan's extensions), the auth message, "saved" |
//! | [`close`] | every WebSocket close code the server sends, with what it means |
//! | [`events`] | the trip event feed's events (`GET /api/events`) |
//!
//! The server (`sync-server`), the Rust client (`clients/rust`), the assistant (`ai-bridge`)
//! and the benchmarks use these instead of copies of their own; `docs/protocol.md` describes
//! the same wire for other languages.

pub mod close;
pub mod events;
pub mod messages;

pub use events::TripEvent;
