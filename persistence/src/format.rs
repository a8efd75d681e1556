//! The store's format version, and the migrations between versions.
//!
//! The `meta` tree holds `format` = the version (u32, big-endian) of the layout the store's
//! records follow (`sled_store`'s key table, `record`'s records). A store opens when its
//! version is this Caravan's ([`FORMAT_VERSION`]) or older: each migration from an older one
//! runs at open, in order, and says so in the log. A store written by a newer Caravan is
//! refused (reading it could misread records, and writing could corrupt them), with a message
//! naming both versions.
//!
//! | version | since | layout |
//! | --- | --- | --- |
//! | 1 | 0.1.0 | `{trip}\0L{id}` update records, `{trip}\0S` snapshot records, MessagePack, optionally sealed |
//!
//! Stores written before versions were recorded have layout 1: at open, version 1 is recorded.

use sled::Tree;

use crate::StoreError;

/// The format this Caravan writes.
pub const FORMAT_VERSION: u32 = 1;

/// The key of the version in the `meta` tree.
const FORMAT_KEY: &[u8] = b"format";

/// A migration from version `n` to `n + 1` (index `n - 1`), over the `docs` and `meta` trees.
type Migration = fn(&Tree, &Tree) -> Result<(), StoreError>;

/// Every migration, in order; empty while there is one format.
const MIGRATIONS: &[Migration] = &[];

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

/// Checks the store's format at open and migrates it to [`FORMAT_VERSION`]; refuses a store of
/// a newer format.
pub fn check_and_migrate(docs: &Tree, meta: &Tree) -> Result<FormatCheck, StoreError> {
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
        None if docs.is_empty() => (FORMAT_VERSION, FormatCheck::New),
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
        MIGRATIONS[version as usize - 1](docs, meta)?;
        version += 1;
        record(meta, version)?;
    }
    record(meta, version)?;
    match check {
        FormatCheck::Unversioned => tracing::info!(
            version = FORMAT_VERSION,
            "the store was written before format versions were recorded; recorded format 1"
        ),
        FormatCheck::Migrated { from } => {
            tracing::info!(from, to = FORMAT_VERSION, "migrated the store's format")
        }
        _ => {}
    }
    Ok(check)
}

fn record(meta: &Tree, version: u32) -> Result<(), StoreError> {
    meta.insert(FORMAT_KEY, &version.to_be_bytes())?;
    meta.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trees() -> (sled::Db, Tree, Tree) {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let docs = db.open_tree("docs").unwrap();
        let meta = db.open_tree("meta").unwrap();
        (db, docs, meta)
    }

    #[test]
    fn a_new_store_records_the_current_format_and_an_old_unversioned_one_format_1() {
        let (_db, docs, meta) = trees();
        assert_eq!(check_and_migrate(&docs, &meta).unwrap(), FormatCheck::New);
        assert_eq!(
            check_and_migrate(&docs, &meta).unwrap(),
            FormatCheck::Current
        );

        let (_db, docs, meta) = trees();
        docs.insert(b"trip\0S", b"x").unwrap();
        assert_eq!(
            check_and_migrate(&docs, &meta).unwrap(),
            FormatCheck::Unversioned
        );
        assert_eq!(
            meta.get(FORMAT_KEY).unwrap().unwrap().as_ref(),
            &1u32.to_be_bytes()
        );
        assert_eq!(
            check_and_migrate(&docs, &meta).unwrap(),
            FormatCheck::Current
        );
    }

    #[test]
    fn a_store_of_a_newer_format_is_refused_and_left_as_it_was() {
        let (_db, docs, meta) = trees();
        meta.insert(FORMAT_KEY, &(FORMAT_VERSION + 1).to_be_bytes())
            .unwrap();
        let error = check_and_migrate(&docs, &meta).unwrap_err().to_string();
        assert!(error.contains("newer Caravan"), "{error}");
        assert_eq!(
            meta.get(FORMAT_KEY).unwrap().unwrap().as_ref(),
            &(FORMAT_VERSION + 1).to_be_bytes()
        );
    }
}
