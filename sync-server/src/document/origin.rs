//! Who a change came from: recorded with every logged update, and used to route the replies
//! and to leave the sender out of its own broadcast.

/// Identifies a connection within the server.
pub type ConnId = u64;

/// Where a change (or an opening, or a leaving) came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A WebSocket connection: replies go to it, broadcasts to everyone else.
    Connection(ConnId),
    /// A call to the REST API by `user` (the token's `sub`, `admin` or `anonymous`):
    /// broadcasts go to every connection, there is no one to reply to.
    Rest {
        /// Who made the call.
        user: String,
    },
    /// The assistant inside the server, attached to the room (see `watch`) under a
    /// connection id of its own that no socket has: it is left out of its own broadcasts.
    Assistant(ConnId),
}

impl Origin {
    /// The connection to reply to and to leave out of broadcasts, if any.
    pub fn connection(&self) -> Option<ConnId> {
        match self {
            Origin::Connection(conn) | Origin::Assistant(conn) => Some(*conn),
            Origin::Rest { .. } => None,
        }
    }

    /// How the origin is written in the log (`UpdateMeta::origin`): `conn:{id}`,
    /// `rest:{user}` or `assistant`.
    pub fn label(&self) -> String {
        match self {
            Origin::Connection(conn) => format!("conn:{conn}"),
            Origin::Rest { user } => format!("rest:{user}"),
            Origin::Assistant(_) => "assistant".to_owned(),
        }
    }
}
