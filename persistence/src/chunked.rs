//! **Large values in chunks**, so that sled never writes a blob file.
//!
//! sled 0.34 writes a log message larger than a quarter of a segment (the insert of a large
//! value, or a tree node holding one) to a file of its own under `blobs/`, and removes the
//! file it replaces once the segment holding the replacement has been *written*, not once it
//! is durable. A power cut can then leave a durable log pointing at a blob that is gone; sled's
//! recovery skips the node, and with it every key the node held: updates answered "saved" were
//! lost that way (a trip of megabytes, compacted while a writer went on). No order of fsyncs
//! prevents it: the removal and the new blob's name are changes of the same directory, and a
//! file system may make a removal durable without being asked. So values are kept small:
//! an encoded record longer than [`CHUNK_BYTES`] is stored as a manifest under its own key and
//! its bytes in chunks under keys of their own, written and removed in one batch with it.
//!
//! | key                                  | value                                        |
//! | ------------------------------------ | -------------------------------------------- |
//! | `{trip}\0{tag}{rest}`                | the record, or a manifest `[3, count: u32 BE, len: u64 BE]` |
//! | `{trip}\0C{tag}{rest}{index: u32 BE}`| chunk `index` of that record's bytes          |
//!
//! A leaf node of sled's tree holds at most 17 entries (it splits past 16), so with chunks of
//! 4 KiB a node stays under 80 KiB, below the 128 KiB at which sled would write a blob;
//! `tests/large_values.rs` checks that no blob file appears. A sealed record is chunked after
//! sealing: its authenticated data is still its own key.
//!
//! A new value's chunks overwrite the old one's under the same keys, and [`read`] takes the
//! manifest and each chunk with a `get` of its own: a reader racing a writer of the same key
//! could stitch two values together. The store holds a trip's lock around every read and
//! write of its snapshot (the only record rewritten in place; log records are written once).

use sled::{Batch, IVec, Tree};

use crate::StoreError;

/// Format byte of a manifest: the record's bytes are in chunks (see the module).
pub(crate) const FORMAT_CHUNKED: u8 = 3;

/// The longest value stored under its own key; longer ones are chunked.
pub(crate) const CHUNK_BYTES: usize = 4 * 1024;

/// The tag after the trip's NUL under which chunks are kept.
pub(crate) const CHUNK_TAG: u8 = b'C';

/// Length of a manifest: format byte, chunk count, total length.
const MANIFEST_LEN: usize = 1 + 4 + 8;

/// The key of chunk `index` of the record under `key`.
fn chunk_key(key: &[u8], index: u32) -> Vec<u8> {
    let split = key
        .iter()
        .position(|&b| b == 0)
        .map_or(key.len(), |i| i + 1);
    let mut chunk = Vec::with_capacity(key.len() + 5);
    chunk.extend_from_slice(&key[..split]);
    chunk.push(CHUNK_TAG);
    chunk.extend_from_slice(&key[split..]);
    chunk.extend_from_slice(&index.to_be_bytes());
    chunk
}

/// True for the key of a chunk (not of a record).
pub(crate) fn is_chunk_key(key: &[u8]) -> bool {
    key.iter()
        .position(|&b| b == 0)
        .is_some_and(|i| key.get(i + 1) == Some(&CHUNK_TAG))
}

/// The number of chunks of a stored value (0 when it is the record itself).
pub(crate) fn chunk_count(stored: &[u8]) -> u32 {
    match parse_manifest(stored) {
        Some((count, _)) => count,
        None => 0,
    }
}

fn parse_manifest(stored: &[u8]) -> Option<(u32, u64)> {
    if stored.len() != MANIFEST_LEN || stored[0] != FORMAT_CHUNKED {
        return None;
    }
    let count = u32::from_be_bytes(stored[1..5].try_into().ok()?);
    let len = u64::from_be_bytes(stored[5..13].try_into().ok()?);
    Some((count, len))
}

/// Adds to `batch` what stores `value` under `key`: the value itself when it is short, a
/// manifest and its chunks otherwise. `previous` is what the key held (its chunks that the new
/// value does not overwrite are removed).
pub(crate) fn put(batch: &mut Batch, key: &[u8], value: &[u8], previous: Option<&[u8]>) {
    let old_chunks = previous.map_or(0, chunk_count);
    let new_chunks = if value.len() <= CHUNK_BYTES {
        batch.insert(key, value);
        0
    } else {
        let mut manifest = Vec::with_capacity(MANIFEST_LEN);
        let count = value.len().div_ceil(CHUNK_BYTES) as u32;
        manifest.push(FORMAT_CHUNKED);
        manifest.extend_from_slice(&count.to_be_bytes());
        manifest.extend_from_slice(&(value.len() as u64).to_be_bytes());
        batch.insert(key, manifest);
        for (index, chunk) in value.chunks(CHUNK_BYTES).enumerate() {
            batch.insert(chunk_key(key, index as u32), chunk);
        }
        count
    };
    for index in new_chunks..old_chunks {
        batch.remove(chunk_key(key, index));
    }
}

/// Adds to `batch` the removal of `key`, which holds `stored`, and of its chunks.
pub(crate) fn remove(batch: &mut Batch, key: &[u8], stored: &[u8]) {
    batch.remove(key);
    for index in 0..chunk_count(stored) {
        batch.remove(chunk_key(key, index));
    }
}

/// Stores `value` under `key` in `tree` (which holds nothing there yet): one insert when it is
/// short, one batch with its chunks otherwise.
pub(crate) fn insert_new(tree: &Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    if value.len() <= CHUNK_BYTES {
        tree.insert(key, value)?;
    } else {
        let mut batch = Batch::default();
        put(&mut batch, key, value, None);
        tree.apply_batch(batch)?;
    }
    Ok(())
}

/// The record stored as `stored` under `key` in `tree`: `stored` itself, or the bytes of its
/// chunks put together. `trip` names the trip in the error when a chunk is missing.
pub(crate) fn read(tree: &Tree, trip: &str, key: &[u8], stored: IVec) -> Result<IVec, StoreError> {
    let Some((count, len)) = parse_manifest(&stored) else {
        return Ok(stored);
    };
    let corrupt = |reason: String| StoreError::CorruptRecord {
        trip: trip.to_owned(),
        reason,
    };
    let mut value = Vec::with_capacity(len.min(1 << 30) as usize);
    for index in 0..count {
        match tree.get(chunk_key(key, index))? {
            Some(chunk) => value.extend_from_slice(&chunk),
            None => return Err(corrupt(format!("chunk {index} of {count} is missing"))),
        }
    }
    if value.len() as u64 != len {
        return Err(corrupt(format!(
            "its chunks hold {} bytes, its manifest says {len}",
            value.len()
        )));
    }
    Ok(IVec::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (sled::Db, Tree) {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("docs").unwrap();
        (db, tree)
    }

    fn stored(tree: &Tree, key: &[u8]) -> Vec<u8> {
        let raw = tree.get(key).unwrap().unwrap();
        read(tree, "t", key, raw).unwrap().to_vec()
    }

    #[test]
    fn a_long_value_is_chunked_and_read_back_whole_and_a_shorter_one_removes_its_chunks() {
        let (_db, tree) = tree();
        let key = b"trip\0S";
        let long: Vec<u8> = (0..3 * CHUNK_BYTES + 17).map(|i| i as u8).collect();
        insert_new(&tree, key, &long).unwrap();
        assert_eq!(tree.get(key).unwrap().unwrap().len(), MANIFEST_LEN);
        assert_eq!(tree.len(), 1 + 4);
        assert_eq!(stored(&tree, key), long);

        let shorter: Vec<u8> = vec![1; CHUNK_BYTES + 1];
        let previous = tree.get(key).unwrap().unwrap();
        let mut batch = Batch::default();
        put(&mut batch, key, &shorter, Some(&previous));
        tree.apply_batch(batch).unwrap();
        assert_eq!(
            tree.len(),
            1 + 2,
            "the two chunks past the new value's are gone"
        );
        assert_eq!(stored(&tree, key), shorter);

        let previous = tree.get(key).unwrap().unwrap();
        let mut batch = Batch::default();
        remove(&mut batch, key, &previous);
        tree.apply_batch(batch).unwrap();
        assert!(tree.is_empty());
    }

    #[test]
    fn chunk_keys_sort_apart_from_records_and_a_missing_chunk_is_an_error() {
        assert_eq!(
            chunk_key(b"trip\0L12345678", 2),
            b"trip\0CL12345678\0\0\0\x02"
        );
        assert!(is_chunk_key(&chunk_key(b"trip\0S", 0)));
        assert!(!is_chunk_key(b"trip\0S"));
        let (_db, tree) = tree();
        let key = b"trip\0S";
        insert_new(&tree, key, &vec![7; 2 * CHUNK_BYTES]).unwrap();
        tree.remove(chunk_key(key, 1)).unwrap();
        let raw = tree.get(key).unwrap().unwrap();
        let error = read(&tree, "trip", key, raw).unwrap_err().to_string();
        assert!(error.contains("chunk 1 of 2 is missing"), "{error}");
    }
}
