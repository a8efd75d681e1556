//! Backups: every trip of a store written to one file, and read back into a store.
//!
//! A backup holds each trip as one Yjs update of its whole state (its snapshot and log folded,
//! as a compaction would), so it is as small as the trips and restores on any later Caravan.
//! Each trip is copied as of one moment (its load takes the trip's lock, so no compaction can
//! interleave), while the server keeps running: a trip changed during the backup is copied
//! with or without the change, never half of it. Trips are copied one after another.
//!
//! The file: the magic line `CARAVAN-BACKUP\n`, a format byte (1), then one frame per trip and
//! an end frame. A frame is a u32 big-endian length, a tag byte (1 a trip, 0 the end) and a
//! record encoded as the store's own (`crate::record`: MessagePack, sealed with the store's
//! current key when the store is encrypted, the tag's name as authenticated data). The end
//! frame holds the number of trips, so a cut-off file is an error, never a silently smaller
//! restore.
//!
//! Restoring appends each trip's state to the target store as one update: into an empty store
//! it recreates every trip; into a store that holds the trip already, Yjs merges the two (no
//! content is lost either way).

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::crypto::Keyring;
use crate::record::{decode, encode};
use crate::replay::fold;
use crate::{DocStore, StoreError, TripId, UpdateMeta};

/// The first bytes of every backup file.
pub const BACKUP_MAGIC: &[u8] = b"CARAVAN-BACKUP\n";
/// The backup format this Caravan writes and reads.
const BACKUP_FORMAT: u8 = 1;
/// Largest frame accepted when reading (a trip's state).
const MAX_FRAME_BYTES: u32 = 1 << 30;
/// Tag of a trip's frame, and the authenticated data of its sealed record.
const TRIP_FRAME: (u8, &[u8]) = (1, b"caravan-backup:trip");
/// Tag of the end frame, and the authenticated data of its sealed record.
const END_FRAME: (u8, &[u8]) = (0, b"caravan-backup:end");

/// One trip in a backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupEntry {
    /// The trip's id.
    pub trip: String,
    /// The trip's whole state, one Yjs update (lib0 v1).
    #[serde(with = "serde_bytes")]
    pub state: Vec<u8>,
    /// Time of the newest stored change of the trip (ms since the Unix epoch).
    pub updated_at_ms: u64,
}

/// The last frame: how many trips came before it.
#[derive(Serialize, Deserialize)]
struct BackupEnd {
    trips: u64,
}

/// What a backup or a restore did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackupSummary {
    /// Trips written or restored.
    pub trips: usize,
    /// Bytes of trip state written or restored.
    pub bytes: u64,
    /// Trips deleted while the backup ran, and so not in it.
    pub vanished: usize,
}

/// Writes a backup of every trip in `store` to `out`, sealed with `keys`' current key when
/// given (pass the store's keys: a backup of an encrypted store is encrypted).
pub fn write_backup(
    store: &dyn DocStore,
    keys: Option<&Keyring>,
    out: &mut dyn Write,
) -> Result<BackupSummary, StoreError> {
    out.write_all(BACKUP_MAGIC)?;
    out.write_all(&[BACKUP_FORMAT])?;
    let mut summary = BackupSummary::default();
    for listed in store.list()? {
        let Some(stored) = store.load(&listed.id)? else {
            summary.vanished += 1;
            continue;
        };
        let folded = fold(
            &listed.id,
            stored.snapshot.as_deref(),
            stored.updates.iter().map(Vec::as_slice),
        )?;
        let entry = BackupEntry {
            trip: listed.id.to_string(),
            state: folded.state,
            updated_at_ms: listed.updated_at_ms,
        };
        summary.bytes += entry.state.len() as u64;
        write_frame(out, TRIP_FRAME.0, &encode(&entry, keys, TRIP_FRAME.1))?;
        summary.trips += 1;
    }
    let end = BackupEnd {
        trips: summary.trips as u64,
    };
    write_frame(out, END_FRAME.0, &encode(&end, keys, END_FRAME.1))?;
    out.flush()?;
    Ok(summary)
}

/// Reads a backup from `input`, calling `each` with every trip in it; fails on a file that is
/// not a backup, is cut off, or is sealed with a key not in `keys`.
pub fn read_backup(
    input: &mut dyn Read,
    keys: Option<&Keyring>,
    mut each: impl FnMut(BackupEntry) -> Result<(), StoreError>,
) -> Result<BackupSummary, StoreError> {
    read_header(input)?;
    let mut summary = BackupSummary::default();
    loop {
        let frame = read_frame(input).map_err(|_| bad("the backup is cut off"))?;
        let (&tag, record) = frame.split_first().ok_or_else(|| bad("an empty frame"))?;
        if tag == END_FRAME.0 {
            let end: BackupEnd = decode("(backup)", record, keys, END_FRAME.1)?;
            if end.trips != summary.trips as u64 {
                return Err(bad("the backup's trip count does not match its trips"));
            }
            return Ok(summary);
        }
        if tag != TRIP_FRAME.0 {
            return Err(bad("a frame of an unknown kind"));
        }
        let entry: BackupEntry = decode("(backup)", record, keys, TRIP_FRAME.1)?;
        summary.bytes += entry.state.len() as u64;
        summary.trips += 1;
        each(entry)?;
    }
}

/// Checks that `input` is a whole backup (its header, then frames up to its end frame and
/// nothing after) without decrypting it; returns the number of trips. A download is checked
/// so before it replaces an older backup.
pub fn check_backup(input: &mut dyn Read) -> Result<usize, StoreError> {
    read_header(input)?;
    let mut trips = 0;
    loop {
        let frame = read_frame(input).map_err(|_| bad("the backup is cut off"))?;
        match frame.first() {
            Some(&tag) if tag == TRIP_FRAME.0 => trips += 1,
            Some(&tag) if tag == END_FRAME.0 => {
                let mut rest = [0u8; 1];
                return match input.read(&mut rest)? {
                    0 => Ok(trips),
                    _ => Err(bad("bytes after the backup's end")),
                };
            }
            _ => return Err(bad("a frame of an unknown kind")),
        }
    }
}

/// Restores the backup in `input` into `store` (see the module's notes on merging) and
/// flushes it.
pub fn restore_backup(
    store: &dyn DocStore,
    keys: Option<&Keyring>,
    input: &mut dyn Read,
) -> Result<BackupSummary, StoreError> {
    let summary = read_backup(input, keys, |entry| {
        let trip = TripId::parse(&entry.trip).map_err(|e| StoreError::CorruptRecord {
            trip: entry.trip.clone(),
            reason: e.to_string(),
        })?;
        let meta = UpdateMeta {
            at_ms: entry.updated_at_ms,
            origin: Some("cli:restore".into()),
        };
        store.append(&trip, &entry.state, &meta)?;
        store.compact(&trip)?;
        Ok(())
    })?;
    store.flush()?;
    Ok(summary)
}

/// The error of a file that is not a whole backup.
fn bad(reason: &str) -> StoreError {
    StoreError::CorruptRecord {
        trip: "(backup)".into(),
        reason: reason.into(),
    }
}

/// Reads and checks the magic line and the format byte.
fn read_header(input: &mut dyn Read) -> Result<(), StoreError> {
    let mut head = vec![0; BACKUP_MAGIC.len() + 1];
    input
        .read_exact(&mut head)
        .map_err(|_| bad("the file is not a Caravan backup (too short)"))?;
    if &head[..BACKUP_MAGIC.len()] != BACKUP_MAGIC {
        return Err(bad("the file is not a Caravan backup"));
    }
    match head[BACKUP_MAGIC.len()] {
        BACKUP_FORMAT => Ok(()),
        other => Err(bad(&format!(
            "backup format {other} is not one this Caravan reads"
        ))),
    }
}

fn write_frame(out: &mut dyn Write, tag: u8, record: &[u8]) -> std::io::Result<()> {
    out.write_all(&(record.len() as u32 + 1).to_be_bytes())?;
    out.write_all(&[tag])?;
    out.write_all(record)
}

fn read_frame(input: &mut dyn Read) -> std::io::Result<Vec<u8>> {
    let mut len = [0; 4];
    input.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len);
    if len > MAX_FRAME_BYTES {
        return Err(std::io::Error::other("frame too large"));
    }
    let mut frame = vec![0; len as usize];
    input.read_exact(&mut frame)?;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::tests::typed;
    use crate::MemoryStore;
    use yrs::{GetString, Transact};

    fn notes(store: &dyn DocStore, trip: &str) -> String {
        let stored = store.load(&TripId::parse(trip).unwrap()).unwrap().unwrap();
        let doc = yrs::Doc::new();
        let text = doc.get_or_insert_text("notes");
        crate::replay::replay(
            &doc,
            stored
                .snapshot
                .iter()
                .chain(&stored.updates)
                .map(Vec::as_slice),
        );
        let notes = text.get_string(&doc.transact());
        notes
    }

    #[test]
    fn a_backup_restores_every_trip_and_a_cut_off_one_is_refused() {
        let store = MemoryStore::new();
        for (trip, text) in [("a", "alpha"), ("b", "beta")] {
            let trip = TripId::parse(trip).unwrap();
            store
                .append(&trip, &typed(text), &UpdateMeta::default())
                .unwrap();
            store.compact(&trip).unwrap();
            store
                .append(&trip, &typed("+"), &UpdateMeta::default())
                .unwrap();
        }
        let mut file = Vec::new();
        let written = write_backup(&store, None, &mut file).unwrap();
        assert_eq!(written.trips, 2);

        let restored = MemoryStore::new();
        let read = restore_backup(&restored, None, &mut file.as_slice()).unwrap();
        assert_eq!(read.trips, 2);
        assert_eq!(read.bytes, written.bytes);
        for trip in ["a", "b"] {
            assert_eq!(notes(&restored, trip), notes(&store, trip));
        }

        assert_eq!(check_backup(&mut file.as_slice()).unwrap(), 2);
        let cut = &file[..file.len() - 3];
        assert!(restore_backup(&MemoryStore::new(), None, &mut &cut[..]).is_err());
        assert!(check_backup(&mut &cut[..]).is_err());
        let not_a_backup = b"hello world, this is not a backup";
        assert!(restore_backup(&MemoryStore::new(), None, &mut &not_a_backup[..]).is_err());
    }

    #[test]
    fn a_backup_of_an_encrypted_store_is_sealed_and_needs_its_key() {
        let keys = Keyring::parse(&format!(
            "k1:{}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32])
        ))
        .unwrap();
        let store = MemoryStore::new();
        let trip = TripId::parse("secret").unwrap();
        store
            .append(
                &trip,
                &typed("the hotel code is 4321"),
                &UpdateMeta::default(),
            )
            .unwrap();
        let mut file = Vec::new();
        write_backup(&store, Some(&keys), &mut file).unwrap();
        assert!(
            !file.windows(4).any(|w| w == b"4321"),
            "the backup holds the text in the clear"
        );
        assert!(restore_backup(&MemoryStore::new(), None, &mut file.as_slice()).is_err());
        let restored = MemoryStore::new();
        restore_backup(&restored, Some(&keys), &mut file.as_slice()).unwrap();
        assert_eq!(notes(&restored, "secret"), "the hotel code is 4321");
    }
}
