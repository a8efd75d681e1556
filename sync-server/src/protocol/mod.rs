//! The y-protocols state machine for one connection, with no I/O in it.
//!
//! A [`DocConnection`] is fed the bytes of each binary frame a client sent and answers with
//! [`Effect`]s: bytes to send back, bytes to relay to the rest of the room, an update to
//! persist, a "saved?" question to answer once the store is durable. The room executes the
//! effects; tests can check them without a socket (see `tests` in `connection.rs`).

mod connection;
mod decode;
mod error;
pub mod messages;
pub mod parts;
pub mod presence;
mod update_shape;

pub use connection::{DocConnection, Effect, RoomDoc, RootKind};
pub use decode::{decode_frame, decode_update, Incoming};
pub use error::ProtocolError;
pub use presence::{Identity, PresenceRefusal};
