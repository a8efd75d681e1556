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
