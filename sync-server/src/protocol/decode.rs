//! Splits a client's frame into y-protocols messages, defensively.
//!
//! yrs' own `MessageReader` ends quietly at a truncated message; here a message cut short is an
//! error. Counts declared inside a payload (clients in an update or an awareness message) are
//! checked against the payload's length before yrs reserves memory for them, so a few bytes
//! cannot make the server reserve gigabytes, and an update whose shape no Yjs encoder writes
//! is refused before yrs integrates it (`update_shape`).

use yrs::encoding::read::{Cursor, Read};
use yrs::sync::protocol::{
    MSG_AUTH, MSG_AWARENESS, MSG_QUERY_AWARENESS, MSG_SYNC, MSG_SYNC_STEP_1, MSG_SYNC_STEP_2,
    MSG_SYNC_UPDATE,
};
use yrs::sync::AwarenessUpdate;
use yrs::updates::decoder::Decode;
use yrs::{StateVector, Update};

use super::messages::{read_saved, MSG_SAVED};
use super::update_shape::check_update_shape;
use super::ProtocolError;

/// One message of a client's frame, borrowing the frame's bytes.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// Sync step 1: the client's state vector.
    SyncStep1(StateVector),
    /// Sync step 2 or an update: `raw` is the lib0 v1 update as sent.
    Update { update: Update, raw: &'a [u8] },
    /// An awareness update (checked by `presence` before it applies or is relayed).
    Awareness(AwarenessUpdate),
    /// "Send me every awareness state."
    AwarenessQuery,
    /// An auth message. Clients have no business sending one; it is ignored.
    Auth,
    /// Caravan's "saved?" question with its number.
    Saved(u64),
}

/// Decodes every message of `frame`. Never panics: a panic inside yrs' decoders on hostile
/// input is turned into [`ProtocolError::Malformed`].
pub fn decode_frame(frame: &[u8]) -> Result<Vec<Incoming<'_>>, ProtocolError> {
    std::panic::catch_unwind(|| decode_messages(frame)).unwrap_or_else(|_| {
        Err(ProtocolError::Malformed(
            "the message could not be decoded".into(),
        ))
    })
}

fn decode_messages(frame: &[u8]) -> Result<Vec<Incoming<'_>>, ProtocolError> {
    if frame.is_empty() {
        return Err(ProtocolError::EmptyFrame);
    }
    let mut cursor = Cursor::new(frame);
    let mut messages = Vec::with_capacity(1);
    while cursor.has_content() {
        let tag: u64 = cursor.read_var().map_err(malformed)?;
        let message = match tag {
            t if t == MSG_SYNC as u64 => {
                let subtag: u64 = cursor.read_var().map_err(malformed)?;
                let payload = read_slice(frame, &mut cursor)?;
                match subtag {
                    s if s == MSG_SYNC_STEP_1 as u64 => Incoming::SyncStep1(
                        StateVector::decode_v1(payload)
                            .map_err(|e| ProtocolError::Malformed(format!("state vector: {e}")))?,
                    ),
                    s if s == MSG_SYNC_STEP_2 as u64 || s == MSG_SYNC_UPDATE as u64 => {
                        Incoming::Update {
                            update: decode_update(payload)?,
                            raw: payload,
                        }
                    }
                    other => {
                        return Err(ProtocolError::Malformed(format!(
                            "unknown sync message type {other}"
                        )))
                    }
                }
            }
            t if t == MSG_AWARENESS as u64 => {
                let payload = read_slice(frame, &mut cursor)?;
                check_count(payload, 3).map_err(ProtocolError::InvalidAwareness)?;
                let update = AwarenessUpdate::decode_v1(payload)
                    .map_err(|e| ProtocolError::InvalidAwareness(e.to_string()))?;
                Incoming::Awareness(update)
            }
            t if t == MSG_QUERY_AWARENESS as u64 => Incoming::AwarenessQuery,
            t if t == MSG_AUTH as u64 => {
                let granted: u64 = cursor.read_var().map_err(malformed)?;
                if granted == 0 {
                    cursor.read_string().map_err(malformed)?;
                }
                Incoming::Auth
            }
            t if t == MSG_SAVED as u64 => {
                let payload = read_slice(frame, &mut cursor)?;
                let n = read_saved(payload).ok_or_else(|| {
                    ProtocolError::Malformed("saved message: not a number".into())
                })?;
                Incoming::Saved(n)
            }
            other => return Err(ProtocolError::UnknownMessageType(other)),
        };
        messages.push(message);
    }
    Ok(messages)
}

/// Decodes a lib0 v1 update after checking its declared client count.
pub fn decode_update(payload: &[u8]) -> Result<Update, ProtocolError> {
    // Each client section takes at least 3 bytes (block count, client id, clock).
    check_count(payload, 3).map_err(ProtocolError::InvalidUpdate)?;
    // yrs asserts on some malformed input instead of returning an error (found by
    // `tests/fuzz_protocol.rs`): a panic here is a refused update, not a dead connection task.
    let update = std::panic::catch_unwind(|| Update::decode_v1(payload))
        .map_err(|_| ProtocolError::InvalidUpdate("the update is malformed".into()))?
        .map_err(|e| ProtocolError::InvalidUpdate(e.to_string()))?;
    check_update_shape(payload).map_err(ProtocolError::InvalidUpdate)?;
    Ok(update)
}

/// Reads the count at the start of `payload` and refuses one that could not fit in it, each
/// item taking at least `min_item_len` bytes.
fn check_count(payload: &[u8], min_item_len: usize) -> Result<(), String> {
    let mut cursor = Cursor::new(payload);
    let count: u64 = cursor.read_var().map_err(|e| e.to_string())?;
    let room = (payload.len() - cursor.next) / min_item_len;
    if count > room as u64 {
        return Err(format!(
            "declares {count} entries in {} bytes",
            payload.len()
        ));
    }
    Ok(())
}

/// Reads a length-prefixed byte string, borrowing it from `frame` (which `cursor` reads).
fn read_slice<'a>(frame: &'a [u8], cursor: &mut Cursor<'_>) -> Result<&'a [u8], ProtocolError> {
    let len: u64 = cursor.read_var().map_err(malformed)?;
    let start = cursor.next;
    let end = usize::try_from(len)
        .ok()
        .and_then(|len| start.checked_add(len))
        .filter(|&end| end <= frame.len())
        .ok_or_else(|| {
            ProtocolError::Malformed(format!("message declares {len} bytes, frame has fewer"))
        })?;
    cursor.next = end;
    Ok(&frame[start..end])
}

fn malformed(e: yrs::encoding::read::Error) -> ProtocolError {
    ProtocolError::Malformed(e.to_string())
}
