//! What a connection's frame asks the room to do.

/// What the room must do after a connection's frame. Effects come out in the order they must
/// happen: an update is queued for the log before it is relayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send these bytes to this connection only.
    Reply(Vec<u8>),
    /// Send these bytes to every other connection of the room.
    Broadcast(Vec<u8>),
    /// Append this update (lib0 v1) to the trip's log.
    Persist(Vec<u8>),
    /// Send `saved(n)` to this connection once every update it sent so far is durable.
    AckWhenSaved(u64),
    /// The update just applied changed a watched root (see [`RoomDoc::watch_roots`]): wake
    /// whoever watches the room.
    WatchedChange,
}
