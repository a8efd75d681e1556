//! Message types of the wire protocol and encoders for the frames the server sends.
//!
//! Standard y-protocols types come from `yrs::sync`; Caravan's extensions use types of 100
//! and above (see `docs/protocol.md`).

use yrs::encoding::write::Write;
use yrs::sync::protocol::{
    MSG_AWARENESS, MSG_SYNC, MSG_SYNC_STEP_1, MSG_SYNC_STEP_2, MSG_SYNC_UPDATE,
};
use yrs::sync::AwarenessUpdate;
use yrs::updates::encoder::Encode;
use yrs::StateVector;

/// Extension: "are my changes saved?". The client sends a number; the server sends the same
/// number back once every update that connection sent before it is durable on disk.
pub const MSG_SAVED: u8 = 102;

/// `[0, 0, sv]`: sync step 1, asking the peer for what `sv` lacks.
pub fn sync_step1(sv: &StateVector) -> Vec<u8> {
    frame(MSG_SYNC, Some(MSG_SYNC_STEP_1), &sv.encode_v1())
}

/// `[0, 1, update]`: sync step 2, the answer to a step 1.
pub fn sync_step2(update: &[u8]) -> Vec<u8> {
    frame(MSG_SYNC, Some(MSG_SYNC_STEP_2), update)
}

/// `[0, 2, update]`: an incremental update.
pub fn sync_update(update: &[u8]) -> Vec<u8> {
    frame(MSG_SYNC, Some(MSG_SYNC_UPDATE), update)
}

/// `[1, awareness update]`.
pub fn awareness(update: &AwarenessUpdate) -> Vec<u8> {
    frame(MSG_AWARENESS, None, &update.encode_v1())
}

/// `[102, len, n]`: the answer to a "saved?" question numbered `n`.
pub fn saved(n: u64) -> Vec<u8> {
    let mut body = Vec::with_capacity(10);
    body.write_var(n);
    frame(MSG_SAVED, None, &body)
}

fn frame(tag: u8, subtag: Option<u8>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.write_var(tag);
    if let Some(subtag) = subtag {
        out.write_var(subtag);
    }
    out.write_buf(payload);
    out
}

/// `[2, 0, reason]`: the y-protocols auth message "permission denied", which stock
/// y-websocket clients report through their `permissionDeniedHandler`.
pub fn permission_denied(reason: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(reason.len() + 4);
    out.write_var(yrs::sync::protocol::MSG_AUTH);
    out.write_var(yrs::sync::protocol::PERMISSION_DENIED);
    out.write_string(reason);
    out
}

/// The token of a client's auth message `[2, 0, varString token]` (a frame holding only that
/// message), or `None` when the frame is anything else.
pub fn read_auth_token(frame: &[u8]) -> Option<String> {
    use yrs::encoding::read::{Cursor, Read};
    let mut cursor = Cursor::new(frame);
    let kind: u64 = cursor.read_var().ok()?;
    let sub: u64 = cursor.read_var().ok()?;
    if kind != u64::from(yrs::sync::protocol::MSG_AUTH) || sub != 0 {
        return None;
    }
    let token = cursor.read_string().ok()?.to_owned();
    (cursor.next == frame.len() && !token.is_empty()).then_some(token)
}

/// A client's auth message `[2, 0, varString token]`.
pub fn auth_token(token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(token.len() + 4);
    out.write_var(yrs::sync::protocol::MSG_AUTH);
    out.write_var(0u8);
    out.write_string(token);
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
}
