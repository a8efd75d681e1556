//! The records kept on disk, encoded with MessagePack (rmp-serde).
//!
//! Every stored value starts with one format byte: 1 for a plain MessagePack record, 2 for a
//! record sealed with AES-256-GCM (see [`crate::crypto`]), whose plaintext is a format-1 record.

use serde::{Deserialize, Serialize};

use crate::crypto::{Keyring, FORMAT_SEALED};
use crate::StoreError;

/// Format byte of a plain MessagePack record.
pub(crate) const FORMAT_PLAIN: u8 = 1;

/// Who wrote an update and when: kept next to every update in the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateMeta {
    /// When the server received it (ms since the Unix epoch).
    pub at_ms: u64,
    /// Where it came from: a connection (`conn:42`), a REST call (`rest:{user}`), or a
    /// command (`cli:import`).
    pub origin: Option<String>,
}

/// One entry of a trip's update log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRecord {
    /// The binary Yjs update (lib0 v1 encoding), exactly as applied.
    #[serde(with = "serde_bytes")]
    pub update: Vec<u8>,
    /// Who and when.
    pub meta: UpdateMeta,
}

/// [`UpdateRecord`] borrowed, for writing: it encodes to the same bytes without copying the
/// update (appending is on the relay's per-update path).
#[derive(Serialize)]
pub(crate) struct UpdateRecordRef<'a> {
    #[serde(with = "serde_bytes")]
    pub update: &'a [u8],
    pub meta: &'a UpdateMeta,
}

/// A trip's compacted state: every update up to the compaction merged into one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// The whole document as one binary Yjs update (lib0 v1).
    #[serde(with = "serde_bytes")]
    pub state: Vec<u8>,
    /// The document's state vector at the snapshot (lib0 v1). The server does not read it
    /// (a loaded trip's document has its own); it is written because every snapshot record
    /// on disk has it, and Caravans that read this format require the field.
    #[serde(with = "serde_bytes")]
    pub state_vector: Vec<u8>,
    /// Time of the newest update folded into this snapshot.
    pub updated_at_ms: u64,
    /// When this snapshot was written.
    pub compacted_at_ms: u64,
    /// How many log entries have been folded into snapshots of this trip, in total.
    pub folded_updates: u64,
}

/// Encodes a record stored under the sled key `key`: plain, or sealed with the keyring's
/// current key (the sled key is then the authenticated data, see [`crate::crypto`]).
pub(crate) fn encode<T: Serialize>(value: &T, keys: Option<&Keyring>, key: &[u8]) -> Vec<u8> {
    let mut out = vec![FORMAT_PLAIN];
    // Encoding plain structs into a Vec cannot fail.
    rmp_serde::encode::write_named(&mut out, value).expect("record encodes");
    match keys {
        Some(keys) => keys.seal(key, &out),
        None => out,
    }
}

/// Decodes a record read from the sled key `key`, plain or sealed.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(
    trip: &str,
    bytes: &[u8],
    keys: Option<&Keyring>,
    key: &[u8],
) -> Result<T, StoreError> {
    let corrupt = |reason: String| StoreError::CorruptRecord {
        trip: trip.to_owned(),
        reason,
    };
    match bytes.split_first() {
        Some((&FORMAT_PLAIN, body)) => {
            rmp_serde::from_slice(body).map_err(|e| corrupt(e.to_string()))
        }
        Some((&FORMAT_SEALED, _)) => {
            let Some(keys) = keys else {
                return Err(StoreError::Encrypted {
                    trip: trip.to_owned(),
                    reason: "the record is encrypted and no encryption key is configured".into(),
                });
            };
            let plain = keys.open(key, bytes).map_err(|e| StoreError::Encrypted {
                trip: trip.to_owned(),
                reason: e.to_string(),
            })?;
            match plain.split_first() {
                Some((&FORMAT_PLAIN, body)) => {
                    rmp_serde::from_slice(body).map_err(|e| corrupt(e.to_string()))
                }
                _ => Err(corrupt(
                    "an encrypted record holds an unknown format".into(),
                )),
            }
        }
        Some((other, _)) => Err(corrupt(format!("unknown record format {other}"))),
        None => Err(corrupt("empty record".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_borrowed_record_encodes_like_the_owned_one() {
        let meta = UpdateMeta {
            at_ms: 42,
            origin: Some("conn:7".into()),
        };
        let owned = UpdateRecord {
            update: vec![1, 2, 3],
            meta: meta.clone(),
        };
        let borrowed = UpdateRecordRef {
            update: &[1, 2, 3],
            meta: &meta,
        };
        assert_eq!(encode(&owned, None, b"k"), encode(&borrowed, None, b"k"));
        assert_eq!(
            decode::<UpdateRecord>("t", &encode(&borrowed, None, b"k"), None, b"k").unwrap(),
            owned
        );
    }
}
