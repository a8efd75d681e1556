//! The WebSocket endpoint `/sync/{tripId}`, one file per job:
//!
//! | file | job |
//! | --- | --- |
//! | [`admission`] | the upgrade: the trip id, credentials given in the request, the per-IP cap |
//! | [`session`] | one connection's life: first-message auth, join, read and write, leave |
//! | [`reader`] | frames in: rate limit, keep-alive, token expiry, size limit, into the room |
//! | [`writer`] | frames out: the outbox drained into the socket, pings, the close frame |
//!
//! Every close code comes from `caravan_wire::close`.

pub mod admission;
pub mod reader;
pub mod session;
pub mod writer;

pub use admission::sync_handler;
