//! [`DocStore`] on sled.
//!
//! One sled tree, `trips`, holds every trip. Keys start with the trip id and a NUL byte (which
//! no trip id contains), so one prefix scan reads a whole trip:
//!
//! | key                          | value                                   |
//! | ---------------------------- | --------------------------------------- |
//! | `{trip}\0L{id: u64 BE}`      | [`UpdateRecord`]: one logged update     |
//! | `{trip}\0S`                  | [`SnapshotRecord`]: the compacted state |
//! | `{trip}\0C...`               | chunks of a record over 4 KiB           |
//!
//! A record longer than 4 KiB is kept in chunks (see [`crate::chunked`]): a large value would
//! make sled write a blob file, which a power cut can take away from under a durable log.
//!
//! Log ids come from sled's monotonic id generator, so the log is in arrival order, also
//! across restarts. A compaction builds the document from the snapshot and the log, encodes
//! it as the new snapshot, and writes it and removes the folded log entries in one atomic
//! batch: a crash leaves either the old snapshot and log or the new snapshot. (A logged update
//! that cannot be read stays in the log: see [`crate::replay`].)
//!
//! The `meta` tree also holds the store's format version (see [`crate::format`]), checked
//! and migrated when the store opens.
//!
//! With a [`Keyring`], records are sealed with AES-256-GCM (see [`crate::crypto`]). A second
//! tree, `meta`, then holds one key-check record per key id ever used (`keycheck:{id}`): when
//! the store opens, each must decrypt with the configured key of its id, so a wrong or missing
//! key is a clear error at start instead of garbage (or a failure) at the first read.

use parking_lot::Mutex;
use std::path::{Path, PathBuf};

use sled::{Batch, Db, IVec, Tree};

use crate::chunked;
use crate::crypto::Keyring;
use crate::format::TRIPS_TREE;
use crate::legacy_blobs;
use crate::record::{decode, encode, UpdateRecordRef};
use crate::replay::fold;
use crate::store::{Compaction, DocStore, StoredDoc, TripSummary};
use crate::synced_files::SyncedFiles;
use crate::{now_ms, SnapshotRecord, StoreError, TripId, UpdateMeta, UpdateRecord};

const LOG_TAG: u8 = b'L';
const SNAPSHOT_TAG: u8 = b'S';

/// Bytes a compaction may write to disk per byte of the new snapshot before sled reclaims the
/// segments it replaced: each chunk inserted and each log chunk removed is a delta, and the
/// leaves around them are rewritten as they split, merge and consolidate (a trip of 4 MiB,
/// measured, wrote 3.5 times its size; sled's file did not shrink).
const COMPACTION_DISK_BYTES_PER_BYTE: u64 = 4;

/// Free space a compaction leaves, at least, for sled's own log and the appends meanwhile.
const COMPACTION_SPARE_BYTES: u64 = 1024 * 1024;

/// The sled-backed document store. Cheap to share behind an `Arc`.
pub struct SledStore {
    db: Db,
    docs: Tree,
    /// Per-trip locks (striped by hash) taken by `load`, `compact` and `delete`: a load must
    /// not read the old snapshot and then a log that a compaction has just folded away, and two
    /// compactions of one trip must not each remove entries the other did not fold. Appends
    /// need no lock: a compaction only removes the log entries it read.
    trip_locks: Vec<Mutex<()>>,
    /// Encryption keys; `None` stores records in the clear.
    keys: Option<Keyring>,
    /// sled's files, synced by [`DocStore::flush`] (sled's own flush does not `fsync`).
    files: SyncedFiles,
    /// The store's directory, whose free space a compaction checks first.
    dir: PathBuf,
}

/// One entry of a trip's log as read: its key, what the key holds (the record, or its chunks'
/// manifest), and the record.
struct LogEntry {
    key: IVec,
    stored: IVec,
    record: UpdateRecord,
}

const KEY_CHECK_PREFIX: &[u8] = b"keycheck:";
const KEY_CHECK_TEXT: &[u8] = b"caravan key check";

const TRIP_LOCK_STRIPES: usize = 64;

impl SledStore {
    /// Opens (or creates) the store in the directory `path`, records in the clear.
    pub fn open(path: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        SledStore::open_with_keys(path, None)
    }

    /// Opens (or creates) the store in `path`; with `keys`, new records are encrypted with the
    /// first key and old ones are read with any of them. Fails when the store holds records
    /// of a key that is not given, or when a key does not match the one of its id that wrote.
    pub fn open_with_keys(
        path: impl AsRef<Path>,
        keys: Option<Keyring>,
    ) -> Result<SledStore, StoreError> {
        let blobs_put_back = legacy_blobs::put_back(path.as_ref())?;
        let db = open_db(path.as_ref())?;
        let meta = db.open_tree("meta")?;
        check_keys(&meta, keys.as_ref())?;
        let check = crate::format::check_and_migrate(&db, &meta, path.as_ref())?;
        let docs = db.open_tree(TRIPS_TREE)?;
        db.flush()?;
        // Everything sled wrote while opening (a new store's files, the format record, a
        // migration, the key check) is durable before the store is used.
        let files = SyncedFiles::open(path.as_ref())?;
        legacy_blobs::discard(path.as_ref(), &blobs_put_back, check)?;
        Ok(SledStore {
            db,
            docs,
            trip_locks: (0..TRIP_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            keys,
            files,
            dir: path.as_ref().to_path_buf(),
        })
    }

    /// Rewrites every record with the current key (or in the clear, without keys) and forgets
    /// the other keys: after it, only the current key is needed. Returns the records rewritten.
    /// The server must be stopped (this is `caravan rekey`).
    pub fn rekey(&self) -> Result<usize, StoreError> {
        let mut rewritten = 0;
        let mut batch = Batch::default();
        for entry in self.docs.iter() {
            let (key, stored) = entry?;
            if chunked::is_chunk_key(&key) {
                continue;
            }
            let end = key.iter().position(|&b| b == 0).unwrap_or(key.len());
            let trip = String::from_utf8_lossy(&key[..end]).into_owned();
            let value = chunked::read(&self.docs, &trip, &key, stored.clone())?;
            let is_snapshot = key.get(end + 1) == Some(&SNAPSHOT_TAG);
            let fresh = if is_snapshot {
                let record: SnapshotRecord = decode(&trip, &value, self.keys.as_ref(), &key)?;
                encode(&record, self.keys.as_ref(), &key)
            } else {
                let record: UpdateRecord = decode(&trip, &value, self.keys.as_ref(), &key)?;
                encode(&record, self.keys.as_ref(), &key)
            };
            chunked::put(&mut batch, &key, &fresh, Some(&stored));
            rewritten += 1;
            if rewritten % 1024 == 0 {
                self.docs.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        self.docs.apply_batch(batch)?;
        let meta = self.db.open_tree("meta")?;
        let current = self.keys.as_ref().map(|k| key_check_key(k.current_id()));
        for key in meta.scan_prefix(KEY_CHECK_PREFIX).keys() {
            let key = key?;
            if Some(key.as_ref()) != current.as_deref() {
                meta.remove(key)?;
            }
        }
        self.flush()?;
        Ok(rewritten)
    }

    fn lock_trip(&self, trip: &TripId) -> parking_lot::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        trip.hash(&mut hasher);
        let stripe = &self.trip_locks[hasher.finish() as usize % TRIP_LOCK_STRIPES];
        stripe.lock()
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// Fails with [`StoreError::NoRoomToCompact`] when the disk has not room for a compaction
    /// writing a snapshot of `snapshot_len` bytes: a compaction that filled the disk would fail
    /// the store for good, while one not made keeps the log as it was (the trip loses nothing,
    /// and its next compaction tries again). Free space that cannot be measured does not stop it.
    fn check_room_to_compact(&self, trip: &TripId, snapshot_len: usize) -> Result<(), StoreError> {
        let needed = snapshot_len as u64 * COMPACTION_DISK_BYTES_PER_BYTE + COMPACTION_SPARE_BYTES;
        match fs2::available_space(&self.dir) {
            Ok(free) if free < needed => Err(StoreError::NoRoomToCompact {
                trip: trip.to_string(),
                needed,
                free,
            }),
            _ => Ok(()),
        }
    }

    fn prefix(trip: &TripId) -> Vec<u8> {
        let mut key = Vec::with_capacity(trip.as_str().len() + 10);
        key.extend_from_slice(trip.as_str().as_bytes());
        key.push(0);
        key
    }

    fn snapshot_key(trip: &TripId) -> Vec<u8> {
        let mut key = Self::prefix(trip);
        key.push(SNAPSHOT_TAG);
        key
    }

    fn log_prefix(trip: &TripId) -> Vec<u8> {
        let mut key = Self::prefix(trip);
        key.push(LOG_TAG);
        key
    }

    fn read_snapshot(&self, trip: &TripId) -> Result<Option<SnapshotRecord>, StoreError> {
        Ok(self.stored_snapshot(trip)?.map(|(_, snapshot)| snapshot))
    }

    /// The trip's snapshot, and the value its key holds (the record, or its chunks' manifest).
    fn stored_snapshot(&self, trip: &TripId) -> Result<Option<(IVec, SnapshotRecord)>, StoreError> {
        let key = Self::snapshot_key(trip);
        let Some(stored) = self.docs.get(&key)? else {
            return Ok(None);
        };
        let value = chunked::read(&self.docs, trip.as_str(), &key, stored.clone())?;
        let snapshot = decode(trip.as_str(), &value, self.keys.as_ref(), &key)?;
        Ok(Some((stored, snapshot)))
    }

    fn read_log(&self, trip: &TripId) -> Result<Vec<LogEntry>, StoreError> {
        self.docs
            .scan_prefix(Self::log_prefix(trip))
            .map(|entry| {
                let (key, stored) = entry?;
                let value = chunked::read(&self.docs, trip.as_str(), &key, stored.clone())?;
                let record = decode(trip.as_str(), &value, self.keys.as_ref(), &key)?;
                Ok(LogEntry {
                    key,
                    stored,
                    record,
                })
            })
            .collect()
    }

    /// What [`DocStore::list`] says of one trip. It holds the trip's lock, as every reader of a
    /// snapshot must: a compaction overwrites the snapshot's chunks in place.
    fn summarize(&self, trip: TripId) -> Result<TripSummary, StoreError> {
        let _trip = self.lock_trip(&trip);
        let mut summary = TripSummary {
            bytes: 0,
            log_len: 0,
            updated_at_ms: 0,
            id: trip,
        };
        if let Some(snapshot) = self.read_snapshot(&summary.id)? {
            summary.bytes += snapshot.state.len() as u64;
            summary.updated_at_ms = snapshot.updated_at_ms;
        }
        for entry in self.read_log(&summary.id)? {
            summary.bytes += entry.record.update.len() as u64;
            summary.log_len += 1;
            summary.updated_at_ms = summary.updated_at_ms.max(entry.record.meta.at_ms);
        }
        Ok(summary)
    }
}

/// Opens the sled database. A store of this process that was just dropped may still hold the
/// directory's lock for a moment (sled's flusher thread lets go asynchronously), so a lock
/// that is busy is tried again for up to two seconds before it counts as another process's.
fn open_db(path: &Path) -> Result<Db, StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let opened = sled::Config::new()
            .path(path)
            // No periodic flusher: the server flushes on its own schedule (group commit), and
            // each flush is followed by our fsyncs in their order (see `synced_files`): a
            // flusher of sled's could make the log's pointer to a blob durable before the blob.
            .flush_every_ms(None)
            .open();
        match opened {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

fn key_check_key(id: &str) -> Vec<u8> {
    [KEY_CHECK_PREFIX, id.as_bytes()].concat()
}

/// Checks the configured keys against the key-check records, and adds the current key's.
fn check_keys(meta: &Tree, keys: Option<&Keyring>) -> Result<(), StoreError> {
    let mut used = Vec::new();
    for entry in meta.scan_prefix(KEY_CHECK_PREFIX) {
        let (key, value) = entry?;
        let id = String::from_utf8_lossy(&key[KEY_CHECK_PREFIX.len()..]).into_owned();
        if let Some(keys) = keys {
            if keys.ids().any(|known| known == id) {
                match keys.open(&key, &value) {
                    Ok(text) if text == KEY_CHECK_TEXT => {}
                    _ => {
                        return Err(StoreError::Keys(format!(
                            "encryption key {id:?} is not the key that encrypted this store's \
                             records under that id (wrong key)"
                        )))
                    }
                }
            }
        }
        used.push(id);
    }
    match keys {
        None if !used.is_empty() => Err(StoreError::Keys(format!(
            "this store holds records encrypted with key(s) {}; give them with \
             --encryption-keys (CARAVAN_ENCRYPTION_KEYS)",
            used.join(", ")
        ))),
        None => Ok(()),
        Some(keys) => {
            let missing: Vec<&String> = used
                .iter()
                .filter(|id| !keys.ids().any(|known| known == id.as_str()))
                .collect();
            if !missing.is_empty() {
                return Err(StoreError::Keys(format!(
                    "this store may hold records encrypted with key(s) {:?}, which are not \
                     configured; keep old keys after the current one until `caravan rekey` \
                     has re-encrypted everything",
                    missing
                )));
            }
            let check = key_check_key(keys.current_id());
            if meta.get(&check)?.is_none() {
                meta.insert(check.as_slice(), keys.seal(&check, KEY_CHECK_TEXT))?;
                meta.flush()?;
            }
            Ok(())
        }
    }
}

impl DocStore for SledStore {
    fn load(&self, trip: &TripId) -> Result<Option<StoredDoc>, StoreError> {
        let _trip = self.lock_trip(trip);
        let snapshot = self.read_snapshot(trip)?.map(|s| s.state);
        let updates: Vec<Vec<u8>> = self
            .read_log(trip)?
            .into_iter()
            .map(|entry| entry.record.update)
            .collect();
        if snapshot.is_none() && updates.is_empty() {
            return Ok(None);
        }
        Ok(Some(StoredDoc { snapshot, updates }))
    }

    fn append(&self, trip: &TripId, update: &[u8], meta: &UpdateMeta) -> Result<(), StoreError> {
        let mut key = Self::log_prefix(trip);
        key.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
        let value = encode(&UpdateRecordRef { update, meta }, self.keys.as_ref(), &key);
        chunked::insert_new(&self.docs, &key, &value)
    }

    fn compact(&self, trip: &TripId) -> Result<Compaction, StoreError> {
        let _trip = self.lock_trip(trip);
        let log = self.read_log(trip)?;
        if log.is_empty() {
            return Ok(Compaction::default());
        }
        let stored_previous = self.stored_snapshot(trip)?;
        let previous = stored_previous.as_ref().map(|(_, snapshot)| snapshot);
        let bytes_before = previous.map_or(0, |s| s.state.len())
            + log.iter().map(|e| e.record.update.len()).sum::<usize>();
        let folded = fold(
            trip,
            previous.map(|s| s.state.as_slice()),
            log.iter().map(|e| e.record.update.as_slice()),
        )?;
        let updated_at_ms = log
            .iter()
            .map(|e| e.record.meta.at_ms)
            .chain(previous.map(|s| s.updated_at_ms))
            .max()
            .unwrap_or(0);
        let folded_count = log.len() - folded.kept.len();
        let snapshot = SnapshotRecord {
            state: folded.state,
            state_vector: folded.state_vector,
            updated_at_ms,
            compacted_at_ms: now_ms(),
            folded_updates: previous.map_or(0, |s| s.folded_updates) + folded_count as u64,
        };
        let bytes_after = snapshot.state.len()
            + folded
                .kept
                .iter()
                .map(|&i| log[i].record.update.len())
                .sum::<usize>();
        let mut batch = Batch::default();
        let snapshot_key = Self::snapshot_key(trip);
        let value = encode(&snapshot, self.keys.as_ref(), &snapshot_key);
        self.check_room_to_compact(trip, value.len())?;
        chunked::put(
            &mut batch,
            &snapshot_key,
            &value,
            stored_previous.as_ref().map(|(stored, _)| stored.as_ref()),
        );
        for (index, entry) in log.iter().enumerate() {
            if !folded.kept.contains(&index) {
                chunked::remove(&mut batch, &entry.key, &entry.stored);
            }
        }
        self.docs.apply_batch(batch)?;
        Ok(Compaction {
            folded: folded_count,
            bytes_before,
            bytes_after,
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.files.sync()?;
        Ok(())
    }

    fn delete(&self, trip: &TripId) -> Result<bool, StoreError> {
        let _trip = self.lock_trip(trip);
        let mut batch = Batch::default();
        let mut found = false;
        for key in self.docs.scan_prefix(Self::prefix(trip)).keys() {
            batch.remove(key?);
            found = true;
        }
        self.docs.apply_batch(batch)?;
        Ok(found)
    }

    fn list(&self) -> Result<Vec<TripSummary>, StoreError> {
        let mut trips = Vec::new();
        let mut from: Vec<u8> = Vec::new();
        // Jump from trip to trip: after trip X, continue at "X\x01", past all of X's keys.
        while let Some(entry) = self.docs.range(from.clone()..).next() {
            let (key, _) = entry?;
            let Some(end) = key.iter().position(|&b| b == 0) else {
                return Err(StoreError::CorruptRecord {
                    trip: String::from_utf8_lossy(&key).into_owned(),
                    reason: "key without a trip separator".into(),
                });
            };
            let id = std::str::from_utf8(&key[..end])
                .ok()
                .and_then(|s| TripId::parse(s).ok())
                .ok_or_else(|| StoreError::CorruptRecord {
                    trip: String::from_utf8_lossy(&key[..end]).into_owned(),
                    reason: "key with an invalid trip id".into(),
                })?;
            from = key[..end].to_vec();
            from.push(1);
            trips.push(self.summarize(id)?);
        }
        Ok(trips)
    }
}
