//! Message types of the wire protocol and encoders for the frames the server sends.
//!
//! The message types, the auth message and "saved" are shared with the clients and live in
//! `caravan_wire::messages` (re-exported here); this file adds the server's encoders of the
//! y-protocols frames it sends.

use yrs::encoding::write::Write;

pub use caravan_wire::messages::{
    permission_denied, read_auth_token, read_saved, saved, MSG_SAVED,
};
use yrs::sync::protocol::{
    MSG_AWARENESS, MSG_SYNC, MSG_SYNC_STEP_1, MSG_SYNC_STEP_2, MSG_SYNC_UPDATE,
};
use yrs::sync::AwarenessUpdate;
use yrs::updates::encoder::Encode;
use yrs::StateVector;

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

fn frame(tag: u8, subtag: Option<u8>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.write_var(tag);
    if let Some(subtag) = subtag {
        out.write_var(subtag);
    }
    out.write_buf(payload);
    out
}
