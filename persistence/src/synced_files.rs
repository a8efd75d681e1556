//! **Synced files**: what makes sled's writes survive a power cut, not only a killed process.
//!
//! sled 0.34.7's `flush()` ends in `sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER)` on
//! Linux: it starts writing the pages and waits for them, but flushes neither the file's
//! metadata nor the drive's write cache, and its man page says the data may not be there
//! after a crash. Only sled's periodic flusher calls `sync_all`. Large values (over a quarter
//! of a segment: 128 KiB) go to files of their own under `blobs/`, written and never synced;
//! the files sled creates (`db`, `conf`, `blobs/`, its snapshots' renames) are never followed
//! by a sync of their directory.
//!
//! So after sled's flush, [`SyncedFiles::sync`] does what PostgreSQL does before it says
//! "committed": `fsync` of every blob file not synced yet and then of `blobs/` (a blob must be
//! durable before the log entry pointing at it), `fdatasync` of `db` (its size is data that
//! `fdatasync` flushes), and `fsync` of the store's directory when its entries changed.
//! `fsync` works per file, whatever descriptor it is called on, so descriptors of our own
//! serve. [`SyncedFiles::open`] syncs everything once, right after sled opened (or created)
//! the store, and the directory holding it.
//!
//! Since format 2 no record is long enough for sled to write a blob (see `chunked`: a blob
//! sled removes can vanish from under a durable log, whatever is synced); the blob syncs stay
//! for the blob files a format-1 store still has.
//!
//! A failed `fsync` is final (the kernel may have dropped the pages it could not write, and a
//! second `fsync` would report success): the caller treats it as the store's failure.

use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// sled's main file, its log and pages.
const DB_FILE: &str = "db";
/// sled's directory of values too large for the log.
const BLOBS_DIR: &str = "blobs";

/// The files of one sled store, and which of them are synced.
pub(crate) struct SyncedFiles {
    dir: PathBuf,
    db: File,
    known: Mutex<Known>,
}

/// The names seen at the last sync, of the store's directory and of `blobs/`.
#[derive(Default)]
struct Known {
    dir: BTreeSet<OsString>,
    blobs: BTreeSet<OsString>,
}

impl SyncedFiles {
    /// Syncs every file of the store in `dir` (which sled has just opened), `dir` itself and
    /// the directory holding it, and keeps what it needs for later syncs.
    pub(crate) fn open(dir: &Path) -> io::Result<SyncedFiles> {
        let db = File::open(dir.join(DB_FILE))?;
        let files = SyncedFiles {
            dir: dir.to_owned(),
            db,
            known: Mutex::new(Known::default()),
        };
        for name in names(dir)? {
            let path = dir.join(&name);
            if path.is_file() {
                File::open(&path)?.sync_all()?;
            }
        }
        files.sync()?;
        sync_dir(dir)?;
        if let Some(parent) = dir.canonicalize()?.parent() {
            sync_dir(parent)?;
        }
        Ok(files)
    }

    /// Makes what sled wrote so far durable (after `Db::flush`): new blobs and their
    /// directory, then `db`, then the store's directory if its entries changed.
    pub(crate) fn sync(&self) -> io::Result<()> {
        let mut known = self.known.lock();
        let blobs_dir = self.dir.join(BLOBS_DIR);
        match names(&blobs_dir) {
            Ok(blobs) => {
                if blobs != known.blobs {
                    for name in blobs.difference(&known.blobs) {
                        match File::open(blobs_dir.join(name)) {
                            Ok(blob) => blob.sync_all()?,
                            // Removed since it was listed (sled collects old blobs).
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                            Err(e) => return Err(e),
                        }
                    }
                    sync_dir(&blobs_dir)?;
                    known.blobs = blobs;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.db.sync_data()?;
        let entries = names(&self.dir)?;
        if entries != known.dir {
            sync_dir(&self.dir)?;
            known.dir = entries;
        }
        Ok(())
    }
}

/// The names in directory `dir`.
fn names(dir: &Path) -> io::Result<BTreeSet<OsString>> {
    std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect()
}

/// `fsync` of a directory: its entries (files created, renamed, removed) become durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_blobs_are_noticed_and_removed_ones_are_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DB_FILE), b"").unwrap();
        let files = SyncedFiles::open(dir.path()).unwrap();
        std::fs::create_dir(dir.path().join(BLOBS_DIR)).unwrap();
        std::fs::write(dir.path().join(BLOBS_DIR).join("17"), b"large value").unwrap();
        files.sync().unwrap();
        assert!(files.known.lock().blobs.contains(&OsString::from("17")));
        assert!(files.known.lock().dir.contains(&OsString::from(BLOBS_DIR)));
        std::fs::remove_file(dir.path().join(BLOBS_DIR).join("17")).unwrap();
        files.sync().unwrap();
        assert!(files.known.lock().blobs.is_empty());
    }
}
