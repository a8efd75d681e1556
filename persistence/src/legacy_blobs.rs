//! **Blob files of format 1**, kept aside while the migration to format 2 rewrites them.
//!
//! Format 2 keeps no value large enough for sled to write a blob file (see `chunked`). A store
//! of format 1 may hold some; the migration rewrites their values in chunks, and sled then
//! removes the blob files, possibly before the rewrite is durable: a power cut at that moment
//! would leave a durable log pointing at blobs that are gone (see `chunked`). So before the
//! migration every blob file is copied aside, synced; once the migrated store is durable the
//! copies are removed. A store that opens with copies still aside was cut off during its
//! migration: the copies of blobs sled had removed are put back before sled opens, so that its
//! recovery finds every blob its durable log points at. If the migration had become durable
//! after all, what was put back is garbage, and is removed again.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::format::FormatCheck;
use crate::synced_files::sync_dir;

/// sled's directory of blob files.
const BLOBS_DIR: &str = "blobs";
/// Where the copies are kept during the migration.
const ASIDE_DIR: &str = "blobs-of-format-1";
/// Where they are copied before they count as kept.
const PARTIAL_DIR: &str = "blobs-of-format-1.partial";

/// The files in `dir` (none when it does not exist).
fn files_in(dir: &Path) -> io::Result<Vec<OsString>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| match entry {
                Ok(e) if e.path().is_file() => Some(Ok(e.file_name())),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Copies `from` to `to` and syncs the copy.
fn copy_synced(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::copy(from, to)?;
    File::open(to)?.sync_all()
}

/// Before sled opens the store in `store`: puts back the blob files a migration cut off had
/// removed, and returns their names.
pub(crate) fn put_back(store: &Path) -> io::Result<Vec<OsString>> {
    let partial = store.join(PARTIAL_DIR);
    if partial.exists() {
        // Cut off while copying, before the migration began: nothing was removed yet.
        std::fs::remove_dir_all(&partial)?;
        sync_dir(store)?;
    }
    let aside = store.join(ASIDE_DIR);
    let kept = files_in(&aside)?;
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let blobs = store.join(BLOBS_DIR);
    std::fs::create_dir_all(&blobs)?;
    let present = files_in(&blobs)?;
    let mut put_back = Vec::new();
    for name in kept {
        if !present.contains(&name) {
            copy_synced(&aside.join(&name), &blobs.join(&name))?;
            put_back.push(name);
        }
    }
    if !put_back.is_empty() {
        sync_dir(&blobs)?;
        tracing::warn!(
            files = put_back.len(),
            "the store's migration to format 2 was cut off: put back the blob files it had removed"
        );
    }
    Ok(put_back)
}

/// Before the migration rewrites the values of the store in `store`: copies every blob file
/// aside, synced (unless copies from an earlier attempt are there already).
pub(crate) fn set_aside(store: &Path) -> io::Result<()> {
    let aside = store.join(ASIDE_DIR);
    if aside.exists() {
        return Ok(());
    }
    let blobs = store.join(BLOBS_DIR);
    let names = files_in(&blobs)?;
    if names.is_empty() {
        return Ok(());
    }
    let partial = store.join(PARTIAL_DIR);
    std::fs::create_dir_all(&partial)?;
    for name in &names {
        copy_synced(&blobs.join(name), &partial.join(name))?;
    }
    sync_dir(&partial)?;
    std::fs::rename(&partial, &aside)?;
    sync_dir(store)
}

/// Once the store in `store` is durable after opening as `check` says: removes the copies, and
/// the blob files `put_back` if the migration they were kept for had become durable.
pub(crate) fn discard(store: &Path, put_back: &[OsString], check: FormatCheck) -> io::Result<()> {
    let aside: PathBuf = store.join(ASIDE_DIR);
    if !aside.exists() {
        return Ok(());
    }
    if check == FormatCheck::Current {
        let blobs = store.join(BLOBS_DIR);
        for name in put_back {
            std::fs::remove_file(blobs.join(name))?;
        }
        sync_dir(&blobs)?;
    }
    std::fs::remove_dir_all(&aside)?;
    sync_dir(store)
}
