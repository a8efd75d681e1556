use caravan_wire::close;
use thiserror::Error;

/// Why a client's frame was refused. Each ends (only) that client's connection; the
/// [`ProtocolError::close_code`] and the message become the WebSocket close frame.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// A binary frame with no bytes at all.
    #[error("empty frame: expected a y-protocols message")]
    EmptyFrame,
    /// The frame is not a sequence of y-protocols messages (bad varint, cut short, ...).
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A message type this server does not know.
    #[error("unknown message type {0}")]
    UnknownMessageType(u64),
    /// A sync message whose update does not decode as a Yjs update.
    #[error("invalid update: {0}")]
    InvalidUpdate(String),
    /// An awareness message that does not decode.
    #[error("invalid awareness update: {0}")]
    InvalidAwareness(String),
    /// yrs failed while integrating an update that decoded. The room's document may be
    /// inconsistent and must be reloaded from the store (see [`ProtocolError::needs_reload`]).
    #[error("invalid update: it could not be applied: {0}")]
    ApplyFailed(String),
    /// The update would take the trip past its size limit; it was not applied or stored.
    #[error("the trip is full: it may hold at most {limit} bytes, and this change was not saved")]
    DocumentTooLarge {
        /// The limit, in stored bytes.
        limit: usize,
    },
}

impl ProtocolError {
    /// The WebSocket close code for this error (see `caravan_wire::close`).
    pub fn close_code(&self) -> u16 {
        match self {
            ProtocolError::UnknownMessageType(_) => close::UNSUPPORTED_DATA,
            ProtocolError::InvalidUpdate(_)
            | ProtocolError::InvalidAwareness(_)
            | ProtocolError::ApplyFailed(_) => close::INVALID_PAYLOAD,
            ProtocolError::EmptyFrame | ProtocolError::Malformed(_) => close::PROTOCOL_ERROR,
            ProtocolError::DocumentTooLarge { .. } => close::TRIP_TOO_LARGE,
        }
    }

    /// A short label for metrics (`caravan_refusals_total{reason=...}`).
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolError::EmptyFrame => "empty_frame",
            ProtocolError::Malformed(_) => "malformed_message",
            ProtocolError::UnknownMessageType(_) => "unknown_message_type",
            ProtocolError::InvalidUpdate(_) => "invalid_update",
            ProtocolError::InvalidAwareness(_) => "invalid_awareness",
            ProtocolError::ApplyFailed(_) => "apply_failed",
            ProtocolError::DocumentTooLarge { .. } => "document_too_big",
        }
    }

    /// True when the room's in-memory document can no longer be trusted after this error and
    /// must be reloaded from the store (which never saw the failed update).
    pub fn needs_reload(&self) -> bool {
        matches!(self, ProtocolError::ApplyFailed(_))
    }
}
