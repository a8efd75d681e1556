//! The y-protocols state machine for one connection, with no I/O in it.
//!
//! A [`DocConnection`] is fed the bytes of each binary frame a client sent and answers with
//! [`Effect`]s: bytes to send back, bytes to relay to the rest of the room, an update to
//! persist, a "saved?" question to answer once the store is durable. The room carries out
//! the effects; tests check them without a socket (`connection_tests.rs`).
//!
//! | file | what it holds |
//! | --- | --- |
//! | `room_doc.rs` | [`RoomDoc`]: a room's document, presence and size accounting |
//! | `connection.rs` | [`DocConnection`]: one client's protocol state, fed frames |
//! | `effect.rs` | [`Effect`]: what a frame asks the room to do |
//! | `decode.rs`, `messages.rs` | y-protocols frames in and out |
//! | `presence.rs` | who owns which awareness client id |
//! | `parts.rs` | which parts of a trip an update touches |
//! | `update_shape.rs` | the shape checks an update passes before it is applied |

mod connection;
mod decode;
mod effect;
mod error;
pub mod messages;
pub mod parts;
pub mod presence;
mod room_doc;
mod update_shape;

pub use connection::DocConnection;
pub use decode::{decode_frame, decode_update, Incoming};
pub use effect::Effect;
pub use error::ProtocolError;
pub use presence::{Identity, PresenceRefusal};
pub use room_doc::{RoomDoc, RootKind};
