//! Message types and the frames of Caravan's extensions.
//!
//! A WebSocket binary frame holds one or more y-protocols messages, each starting with its
//! type as a lib0 varint. Standard types come from `yrs::sync::protocol` and are re-exported
//! here; Caravan's extensions use types of 100 and above (`docs/protocol.md`).

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;

pub use yrs::sync::protocol::{
    MSG_AUTH, MSG_AWARENESS, MSG_QUERY_AWARENESS, MSG_SYNC, MSG_SYNC_STEP_1, MSG_SYNC_STEP_2,
    MSG_SYNC_UPDATE, PERMISSION_DENIED, PERMISSION_GRANTED,
};

/// Extension: "are my changes saved?". The client sends `[102, len, n]`; the server sends the
/// same frame back once every update that connection sent before it is durable on disk.
pub const MSG_SAVED: u8 = 102;

/// The auth message's subtype that carries a client's token (`[2, 0, token]`, as Hocuspocus
/// clients send it, without the document name). It is the same number as
/// [`PERMISSION_DENIED`], which only the server sends.
pub const AUTH_TOKEN: u8 = 0;

/// `[102, len, n]`: a "saved?" question numbered `n`, or the server's answer to it.
pub fn saved(n: u64) -> Vec<u8> {
    let mut body = Vec::with_capacity(10);
    body.write_var(n);
    let mut out = Vec::with_capacity(body.len() + 2);
    out.write_var(MSG_SAVED);
    out.write_buf(&body);
    out
}

/// The number of a "saved" message's payload (what follows `[102, len]`).
pub fn read_saved(payload: &[u8]) -> Option<u64> {
    Cursor::new(payload).read_var::<u64>().ok()
}

/// A client's auth message `[2, 0, varString token]`.
pub fn auth_token(token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(token.len() + 4);
    out.write_var(MSG_AUTH);
    out.write_var(AUTH_TOKEN);
    out.write_string(token);
    out
}

/// The token of a client's auth message `[2, 0, varString token]` (a frame holding only that
/// message), or `None` when the frame is anything else.
pub fn read_auth_token(frame: &[u8]) -> Option<String> {
    let mut cursor = Cursor::new(frame);
    let kind: u64 = cursor.read_var().ok()?;
    let sub: u64 = cursor.read_var().ok()?;
    if kind != u64::from(MSG_AUTH) || sub != u64::from(AUTH_TOKEN) {
        return None;
    }
    let token = cursor.read_string().ok()?.to_owned();
    (cursor.next == frame.len() && !token.is_empty()).then_some(token)
}

/// `[2, 0, reason]`: the y-protocols auth message "permission denied", which stock
/// y-websocket clients report through their `permissionDeniedHandler`.
pub fn permission_denied(reason: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(reason.len() + 4);
    out.write_var(MSG_AUTH);
    out.write_var(PERMISSION_DENIED);
    out.write_string(reason);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_token_messages_round_trip_and_nothing_else_reads_as_one() {
        assert_eq!(
            read_auth_token(&auth_token("abc.def")),
            Some("abc.def".into())
        );
        assert_eq!(read_auth_token(&auth_token("")), None);
        assert_eq!(read_auth_token(&[0, 0, 1, 0]), None, "a sync message");
        let mut trailing = auth_token("t");
        trailing.push(9);
        assert_eq!(read_auth_token(&trailing), None);
        assert_eq!(read_auth_token(&[2, 0, 200]), None, "cut short");
        assert_eq!(read_auth_token(&[]), None);
    }

    #[test]
    fn saved_frames_carry_their_number() {
        let frame = saved(300);
        assert_eq!(frame[0], MSG_SAVED);
        assert_eq!(usize::from(frame[1]), frame.len() - 2);
        assert_eq!(read_saved(&frame[2..]), Some(300));
        assert_eq!(read_saved(&[]), None);
    }
}
