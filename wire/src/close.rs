//! Every WebSocket close code Caravan's server sends, in one place (RFC 6455 §7.4 for the
//! 1000s; 4400 to 4499 are Caravan's, modelled on HTTP statuses, and mean "refused: do not
//! reconnect with the same credentials"). `docs/protocol.md` has the same table.

/// The connection ended normally (the client left, or its session ended).
pub const NORMAL: u16 = 1000;
/// The server is shutting down, or the connection showed no sign of life (keep-alive).
pub const GOING_AWAY: u16 = 1001;
/// The client broke the protocol: an empty frame or a malformed message.
pub const PROTOCOL_ERROR: u16 = 1002;
/// The client sent data of a kind the server does not take: a text frame, an unknown
/// message type.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// Never sent: RFC 6455's code for a connection that ended without a close frame. The
/// server uses it internally to mark a socket that failed, so no close frame is attempted.
pub const ABNORMAL: u16 = 1006;
/// An update or awareness message that does not decode or apply.
pub const INVALID_PAYLOAD: u16 = 1007;
/// A message over `--max-message-bytes`.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The server could not do its part: a change could not be saved, or the trip loaded.
pub const SERVER_ERROR: u16 = 1011;
/// Try again later: the connection's outgoing queue overflowed (too slow a reader), or the
/// server holds as many trips as it may.
pub const TRY_AGAIN_LATER: u16 = 1013;
/// Not authenticated: no token in time, a bad token, or one that expired.
pub const UNAUTHENTICATED: u16 = 4401;
/// Authenticated, but the token does not allow this (another trip, for instance).
pub const FORBIDDEN: u16 = 4403;
/// The trip was deleted while the connection was open.
pub const TRIP_DELETED: u16 = 4404;
/// The change would take the trip past its size limit; it was not saved.
pub const TRIP_TOO_LARGE: u16 = 4413;

/// True for Caravan's refusals (4400 to 4499): reconnecting with the same credentials would
/// be refused again, so clients stop retrying.
pub fn is_refusal(code: u16) -> bool {
    (4400..4500).contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_the_4400s_only() {
        for code in [UNAUTHENTICATED, FORBIDDEN, TRIP_DELETED, TRIP_TOO_LARGE] {
            assert!(is_refusal(code), "{code}");
        }
        for code in [
            NORMAL,
            GOING_AWAY,
            SERVER_ERROR,
            TRY_AGAIN_LATER,
            4500,
            4399,
        ] {
            assert!(!is_refusal(code), "{code}");
        }
    }
}
