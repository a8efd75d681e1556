//! A connection as the room sees it: an outbox and a way to hang up.

use std::sync::OnceLock;

use bytes::Bytes;
use caravan_wire::close;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Why and how a connection is closed: a WebSocket close code (`caravan_wire::close`) and a
/// short reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseReason {
    /// RFC 6455 close code.
    pub code: u16,
    /// Human-readable reason (cut to the 123 bytes a close frame allows).
    pub reason: String,
}

impl CloseReason {
    /// A close with `code` and `reason`.
    pub fn new(code: u16, reason: impl Into<String>) -> CloseReason {
        let mut reason = reason.into();
        if reason.len() > 123 {
            let mut cut = 123;
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            reason.truncate(cut);
        }
        CloseReason { code, reason }
    }
}

/// Ends a connection from anywhere (its room, its reader, the server's shutdown). The first
/// reason given wins; the connection's writer sends it as the close frame.
#[derive(Debug, Default)]
pub struct Hangup {
    reason: OnceLock<CloseReason>,
    token: CancellationToken,
}

impl Hangup {
    /// Asks the connection to close with `reason` (ignored if it is already closing).
    pub fn hang_up(&self, reason: CloseReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    /// Resolves once [`Hangup::hang_up`] was called.
    pub async fn requested(&self) {
        self.token.cancelled().await
    }

    /// The reason given, once hung up.
    pub fn reason(&self) -> Option<&CloseReason> {
        self.reason.get()
    }
}

/// What the room keeps of each connection.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Bounded queue of frames to send; a full queue means the client is too slow.
    pub outbox: mpsc::Sender<Bytes>,
    /// Closes the connection.
    pub hangup: std::sync::Arc<Hangup>,
    /// The assistant, not a person: trips open and close with people (see `TripEvent`).
    pub is_assistant: bool,
    /// Group-commit ticket of the newest update this connection sent, kept by the room's
    /// copy of the peer: its "saved?" questions wait for it (see `store::persist`).
    pub(crate) last_ticket: u64,
}

/// The result of offering a frame to a peer.
pub(crate) enum Delivery {
    Queued,
    /// The peer's queue is full: it must be dropped from the room and closed.
    TooSlow,
    /// The peer is already gone.
    Gone,
}

impl Peer {
    /// A connection that sends through `outbox` and is closed through `hangup`.
    pub fn new(
        outbox: mpsc::Sender<Bytes>,
        hangup: std::sync::Arc<Hangup>,
        is_assistant: bool,
    ) -> Peer {
        Peer {
            outbox,
            hangup,
            is_assistant,
            last_ticket: 0,
        }
    }

    /// Hangs up a connection whose outbox overflowed (1013): it must reconnect to resync.
    pub(crate) fn hang_up_too_slow(&self) {
        self.hangup.hang_up(CloseReason::new(
            close::TRY_AGAIN_LATER,
            "too slow: your outgoing queue overflowed; reconnect to resync",
        ));
    }

    /// Puts `frame` in the outbox, if there is room.
    pub(crate) fn offer(&self, frame: Bytes) -> Delivery {
        match self.outbox.try_send(frame) {
            Ok(()) => Delivery::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => Delivery::TooSlow,
            Err(mpsc::error::TrySendError::Closed(_)) => Delivery::Gone,
        }
    }
}
