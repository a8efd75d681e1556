//! The store's format version, and the migrations between versions.
//!
//! The `meta` tree holds `format` = the version (u32, big-endian) of the layout the store's
//! records follow (`sled_store`'s key table, `record`'s records, `chunked`'s chunks). A store opens when its
//! version is this Caravan's ([`FORMAT_VERSION`]) or older: each migration from an older one
//! runs at open, in order, and says so in the log. A store written by a newer Caravan is
//! refused (reading it could misread records, and writing could corrupt them), with a message
//! naming both versions.
//!
//! | version | since | layout |
//! | --- | --- | --- |
//! | 1 | 0.1.0 | tree `docs`: `{trip}\0L{id}` update records, `{trip}\0S` snapshot records, MessagePack, optionally sealed |
//! | 2 | after 0.1.0 | tree `trips`: the same keys and records, each longer than 4 KiB in chunks (`{trip}\0C...`) |
//!
//! Stores written before versions were recorded have layout 1: at open, version 1 is recorded.
//!
//! From 1 to 2, every record is copied into the new tree (chunked when long) and the old tree
//! is dropped: format 1 lets sled keep long values, and tree nodes holding them, in blob
//! files, which a power cut can take away from under a durable log (see `chunked`); a new
//! tree has no node that refers to one. sled removes the old blob files as the old tree goes,
//! maybe before the new one is durable, so they are copied aside first (see `legacy_blobs`).

use std::path::Path;

use sled::{Batch, Db, Tree};

use crate::{chunked, legacy_blobs, StoreError};

/// The format this Caravan writes.
pub const FORMAT_VERSION: u32 = 2;

/// The tree of every trip's records, in this format.
pub(crate) const TRIPS_TREE: &str = "trips";

/// The tree of every trip's records in format 1.
const FORMAT_1_TREE: &str = "docs";

/// Records copied per batch by the migration to format 2.
const COPY_BATCH: usize = 1024;

/// The key of the version in the `meta` tree.
const FORMAT_KEY: &[u8] = b"format";

/// A migration from version `n` to `n + 1` (index `n - 1`), over the database in the
/// directory given.
type Migration = fn(&Db, &Path) -> Result<(), StoreError>;

/// Every migration, in order.
const MIGRATIONS: &[Migration] = &[chunk_into_a_new_tree];

/// Format 1 to 2: every record of tree `docs` copied into tree `trips`, chunked when long
/// (see the module), then `docs` dropped.
fn chunk_into_a_new_tree(db: &Db, dir: &Path) -> Result<(), StoreError> {
    legacy_blobs::set_aside(dir)?;
    let old = db.open_tree(FORMAT_1_TREE)?;
    let new = db.open_tree(TRIPS_TREE)?;
    let mut batch = Batch::default();
    let mut copied = 0usize;
    for entry in old.iter() {
        let (key, value) = entry?;
        chunked::put(&mut batch, &key, &value, None);
        copied += 1;
        if copied.is_multiple_of(COPY_BATCH) {
            new.apply_batch(std::mem::take(&mut batch))?;
        }
    }
    new.apply_batch(batch)?;
    drop(old);
    db.drop_tree(FORMAT_1_TREE)?;
    tracing::info!(
        records = copied,
        "copied every record into the format-2 tree"
    );
    Ok(())
}

/// What opening did to the store's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatCheck {
    /// The store was at this Caravan's version.
    Current,
    /// A new, empty store: the version was recorded.
    New,
    /// A store from before versions were recorded: version 1 was recorded.
    Unversioned,
    /// Migrated from this version to [`FORMAT_VERSION`].
    Migrated {
        /// The version the store was at.
        from: u32,
    },
}

/// Checks the format of the store in `dir` (opened as `db`, whose `meta` tree is `meta`) and
/// migrates it to [`FORMAT_VERSION`]; refuses a store of a newer format.
pub fn check_and_migrate(db: &Db, meta: &Tree, dir: &Path) -> Result<FormatCheck, StoreError> {
    let recorded = match meta.get(FORMAT_KEY)? {
        Some(bytes) => Some(u32::from_be_bytes(bytes.as_ref().try_into().map_err(
            |_| {
                StoreError::Format(format!(
                    "the store's format record is {} bytes, not 4",
                    bytes.len()
                ))
            },
        )?)),
        None => None,
    };
    let (mut version, check) = match recorded {
        None if !has_format_1_records(db)? => (FORMAT_VERSION, FormatCheck::New),
        None => (1, FormatCheck::Unversioned),
        Some(v) if v > FORMAT_VERSION => {
            return Err(StoreError::Format(format!(
                "this store was written by a newer Caravan (store format {v}; this one reads \
                 formats up to {FORMAT_VERSION}): run the newer release, or restore a backup"
            )))
        }
        Some(v) if v == FORMAT_VERSION => return Ok(FormatCheck::Current),
        Some(0) => return Err(StoreError::Format("store format 0 does not exist".into())),
        Some(v) => (v, FormatCheck::Migrated { from: v }),
    };
    while version < FORMAT_VERSION {
        tracing::warn!(
            from = version,
            to = version + 1,
            "migrating the store's format"
        );
        MIGRATIONS[version as usize - 1](db, dir)?;
        version += 1;
        record(meta, version)?;
    }
    record(meta, version)?;
    match check {
        FormatCheck::Unversioned => tracing::info!(
            version = FORMAT_VERSION,
            "the store was written before format versions were recorded (format 1); migrated it"
        ),
        FormatCheck::Migrated { from } => {
            tracing::info!(from, to = FORMAT_VERSION, "migrated the store's format")
        }
        _ => {}
    }
    Ok(check)
}

/// True when `db` holds a tree `docs` with records: a store written before versions were
/// recorded.
fn has_format_1_records(db: &Db) -> Result<bool, StoreError> {
    let exists = db
        .tree_names()
        .iter()
        .any(|name| name.as_ref() == FORMAT_1_TREE.as_bytes());
    Ok(exists && !db.open_tree(FORMAT_1_TREE)?.is_empty())
}

fn record(meta: &Tree, version: u32) -> Result<(), StoreError> {
    meta.insert(FORMAT_KEY, &version.to_be_bytes())?;
    meta.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Db, Tree) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let meta = db.open_tree("meta").unwrap();
        (dir, db, meta)
    }

    #[test]
    fn a_new_store_records_the_current_format() {
        let (dir, db, meta) = store();
        let check = check_and_migrate(&db, &meta, dir.path()).unwrap();
        assert_eq!(check, FormatCheck::New);
        assert_eq!(
            check_and_migrate(&db, &meta, dir.path()).unwrap(),
            FormatCheck::Current
        );
        assert_eq!(
            meta.get(FORMAT_KEY).unwrap().unwrap().as_ref(),
            &FORMAT_VERSION.to_be_bytes()
        );
    }

    #[test]
    fn an_unversioned_store_is_format_1_and_moves_to_the_new_tree_chunked() {
        let (dir, db, meta) = store();
        let docs = db.open_tree(FORMAT_1_TREE).unwrap();
        let long = vec![1u8; 3 * chunked::CHUNK_BYTES];
        docs.insert(b"trip\0S", long.as_slice()).unwrap();
        docs.insert(b"trip\0L\0\0\0\0\0\0\0\x01", b"short".as_slice())
            .unwrap();
        drop(docs);
        assert_eq!(
            check_and_migrate(&db, &meta, dir.path()).unwrap(),
            FormatCheck::Unversioned
        );
        assert_eq!(
            meta.get(FORMAT_KEY).unwrap().unwrap().as_ref(),
            &FORMAT_VERSION.to_be_bytes()
        );
        assert!(!db
            .tree_names()
            .iter()
            .any(|name| name.as_ref() == FORMAT_1_TREE.as_bytes()));
        let trips = db.open_tree(TRIPS_TREE).unwrap();
        assert_eq!(
            trips.len(),
            2 + 3,
            "two records, the long one in three chunks"
        );
        let stored = trips.get(b"trip\0S").unwrap().unwrap();
        assert_eq!(
            chunked::read(&trips, "trip", b"trip\0S", stored)
                .unwrap()
                .as_ref(),
            long.as_slice()
        );
        assert_eq!(
            check_and_migrate(&db, &meta, dir.path()).unwrap(),
            FormatCheck::Current
        );
    }

    #[test]
    fn a_store_of_format_1_is_migrated() {
        let (dir, db, meta) = store();
        meta.insert(FORMAT_KEY, &1u32.to_be_bytes()).unwrap();
        db.open_tree(FORMAT_1_TREE)
            .unwrap()
            .insert(b"trip\0S", b"x".as_slice())
            .unwrap();
        assert_eq!(
            check_and_migrate(&db, &meta, dir.path()).unwrap(),
            FormatCheck::Migrated { from: 1 }
        );
        let trips = db.open_tree(TRIPS_TREE).unwrap();
        assert_eq!(trips.get(b"trip\0S").unwrap().unwrap().as_ref(), b"x");
    }

    #[test]
    fn a_store_of_a_newer_format_is_refused_and_left_as_it_was() {
        let (dir, db, meta) = store();
        meta.insert(FORMAT_KEY, &(FORMAT_VERSION + 1).to_be_bytes())
            .unwrap();
        let error = check_and_migrate(&db, &meta, dir.path())
            .unwrap_err()
            .to_string();
        assert!(error.contains("newer Caravan"), "{error}");
        assert_eq!(
            meta.get(FORMAT_KEY).unwrap().unwrap().as_ref(),
            &(FORMAT_VERSION + 1).to_be_bytes()
        );
    }
}
