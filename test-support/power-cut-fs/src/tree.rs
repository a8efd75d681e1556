//! **The files in memory**, each with two states: what was written (what a reader sees now)
//! and what was made durable (what a power cut leaves).
//!
//! The model is the strict one POSIX allows and crash-consistency tools (ALICE, CrashMonkey,
//! LazyFS) test against:
//! - a file's data and size become durable at `fsync`/`fdatasync` of that file, page by page
//!   (only the pages written since are copied, so a sync costs what it flushes);
//! - a directory's entries (a create, an unlink, a rename, a mkdir) become durable at `fsync`
//!   of that directory; a file created and synced but whose directory was not is gone after
//!   the cut;
//! - at [`Tree::cut`], every file and directory goes back to its durable state, and what is no
//!   longer reachable from the root's durable entries is forgotten.
//!
//! A cut of [`Names::KeptAsWritten`] is the other crash POSIX allows and file systems show
//! (LazyFS's model, and ext4's journal without `auto_da_alloc`): every directory change
//! survives, synced or not, while files' data still goes back to what was synced. A rename of
//! a file whose data was not synced then leaves the new name on the old, or no, data: what a
//! program that forgot to sync before renaming loses.
//!
//! Nothing here knows about FUSE: `fuse.rs` translates kernel requests into these calls.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::time::SystemTime;

/// The root directory's inode number (FUSE's).
pub const ROOT: u64 = 1;

/// The granularity at which written data is tracked and made durable.
const PAGE: u64 = 4096;

/// Why an operation failed, as an errno.
pub type Errno = i32;

/// A file or a directory.
#[derive(Debug)]
pub struct Node {
    /// Permission bits.
    pub perm: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Last modification.
    pub mtime: SystemTime,
    /// What it holds.
    pub content: Content,
}

/// A node's content, now and as it is durable.
#[derive(Debug)]
pub enum Content {
    /// A regular file.
    File {
        /// The bytes a reader sees now.
        data: Vec<u8>,
        /// The bytes a power cut leaves.
        durable: Vec<u8>,
        /// Pages of `data` written since the last sync (by index).
        dirty: BTreeSet<u64>,
    },
    /// A directory.
    Dir {
        /// Entries now.
        entries: BTreeMap<OsString, u64>,
        /// Entries a power cut leaves.
        durable: BTreeMap<OsString, u64>,
    },
}

/// Counts of what the file system was asked, for tests that check the syncs happen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `fsync`/`fdatasync` of files.
    pub file_syncs: u64,
    /// `fsync` of directories.
    pub dir_syncs: u64,
    /// Bytes made durable by file syncs.
    pub synced_bytes: u64,
    /// Power cuts so far.
    pub cuts: u64,
    /// Bytes written but never synced that the cuts dropped.
    pub dropped_bytes: u64,
}

/// What a cut does to directory entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Names {
    /// Back to what each directory's last `fsync` made durable (the strict model).
    AsSynced,
    /// As they were written, synced or not (files' data still as synced).
    KeptAsWritten,
}

/// Every node of the file system.
#[derive(Debug)]
pub struct Tree {
    nodes: HashMap<u64, Node>,
    next_ino: u64,
    /// What was asked so far.
    pub counts: Counts,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// An empty file system: a root directory, durable.
    pub fn new() -> Tree {
        let mut nodes = HashMap::new();
        nodes.insert(
            ROOT,
            Node {
                perm: 0o755,
                uid: 0,
                gid: 0,
                mtime: SystemTime::now(),
                content: Content::Dir {
                    entries: BTreeMap::new(),
                    durable: BTreeMap::new(),
                },
            },
        );
        Tree {
            nodes,
            next_ino: ROOT + 1,
            counts: Counts::default(),
        }
    }

    /// The node `ino`.
    pub fn node(&self, ino: u64) -> Result<&Node, Errno> {
        self.nodes.get(&ino).ok_or(libc::ENOENT)
    }

    fn node_mut(&mut self, ino: u64) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino).ok_or(libc::ENOENT)
    }

    fn entries(&self, dir: u64) -> Result<&BTreeMap<OsString, u64>, Errno> {
        match &self.node(dir)?.content {
            Content::Dir { entries, .. } => Ok(entries),
            Content::File { .. } => Err(libc::ENOTDIR),
        }
    }

    fn entries_mut(&mut self, dir: u64) -> Result<&mut BTreeMap<OsString, u64>, Errno> {
        let node = self.node_mut(dir)?;
        node.mtime = SystemTime::now();
        match &mut node.content {
            Content::Dir { entries, .. } => Ok(entries),
            Content::File { .. } => Err(libc::ENOTDIR),
        }
    }

    /// The inode named `name` in directory `dir`.
    pub fn lookup(&self, dir: u64, name: &OsStr) -> Result<u64, Errno> {
        self.entries(dir)?.get(name).copied().ok_or(libc::ENOENT)
    }

    /// The entries of directory `dir`, in name order.
    pub fn list(&self, dir: u64) -> Result<Vec<(OsString, u64)>, Errno> {
        Ok(self
            .entries(dir)?
            .iter()
            .map(|(name, &ino)| (name.clone(), ino))
            .collect())
    }

    /// Creates an empty file or directory `name` in `dir`; returns its inode number.
    pub fn create(
        &mut self,
        dir: u64,
        name: &OsStr,
        is_dir: bool,
        perm: u16,
        uid: u32,
        gid: u32,
    ) -> Result<u64, Errno> {
        if self.entries(dir)?.contains_key(name) {
            return Err(libc::EEXIST);
        }
        if name.len() > 255 {
            return Err(libc::ENAMETOOLONG);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        let content = if is_dir {
            Content::Dir {
                entries: BTreeMap::new(),
                durable: BTreeMap::new(),
            }
        } else {
            Content::File {
                data: Vec::new(),
                durable: Vec::new(),
                dirty: BTreeSet::new(),
            }
        };
        self.nodes.insert(
            ino,
            Node {
                perm,
                uid,
                gid,
                mtime: SystemTime::now(),
                content,
            },
        );
        self.entries_mut(dir)?.insert(name.to_owned(), ino);
        Ok(ino)
    }

    /// Removes the entry `name` from `dir` (a directory only when it is empty).
    pub fn remove(&mut self, dir: u64, name: &OsStr, want_dir: bool) -> Result<(), Errno> {
        let ino = self.lookup(dir, name)?;
        match (&self.node(ino)?.content, want_dir) {
            (Content::Dir { entries, .. }, true) if !entries.is_empty() => {
                return Err(libc::ENOTEMPTY)
            }
            (Content::Dir { .. }, false) => return Err(libc::EISDIR),
            (Content::File { .. }, true) => return Err(libc::ENOTDIR),
            _ => {}
        }
        self.entries_mut(dir)?.remove(name);
        Ok(())
    }

    /// Renames `name` in `dir` to `new_name` in `new_dir`, replacing what was there (an
    /// empty directory only by a directory); `no_replace` fails instead when the target exists.
    pub fn rename(
        &mut self,
        dir: u64,
        name: &OsStr,
        new_dir: u64,
        new_name: &OsStr,
        no_replace: bool,
    ) -> Result<(), Errno> {
        let ino = self.lookup(dir, name)?;
        self.entries(new_dir)?;
        if let Ok(target) = self.lookup(new_dir, new_name) {
            if target == ino {
                return Ok(());
            }
            if no_replace {
                return Err(libc::EEXIST);
            }
            let moving_dir = matches!(self.node(ino)?.content, Content::Dir { .. });
            match &self.node(target)?.content {
                Content::Dir { entries, .. } if !entries.is_empty() => return Err(libc::ENOTEMPTY),
                Content::Dir { .. } if !moving_dir => return Err(libc::EISDIR),
                Content::File { .. } if moving_dir => return Err(libc::ENOTDIR),
                _ => {}
            }
        }
        self.entries_mut(dir)?.remove(name);
        self.entries_mut(new_dir)?.insert(new_name.to_owned(), ino);
        Ok(())
    }

    /// Reads up to `size` bytes of file `ino` at `offset`.
    pub fn read(&self, ino: u64, offset: u64, size: u32) -> Result<&[u8], Errno> {
        match &self.node(ino)?.content {
            Content::File { data, .. } => {
                let start = (offset as usize).min(data.len());
                let end = start.saturating_add(size as usize).min(data.len());
                Ok(&data[start..end])
            }
            Content::Dir { .. } => Err(libc::EISDIR),
        }
    }

    /// Writes `bytes` into file `ino` at `offset` (growing it, zero-filled, if needed).
    pub fn write(&mut self, ino: u64, offset: u64, bytes: &[u8]) -> Result<(), Errno> {
        let node = self.node_mut(ino)?;
        node.mtime = SystemTime::now();
        let Content::File { data, dirty, .. } = &mut node.content else {
            return Err(libc::EISDIR);
        };
        let end = offset.checked_add(bytes.len() as u64).ok_or(libc::EFBIG)?;
        let old_len = data.len() as u64;
        if end > old_len {
            data.resize(end as usize, 0);
            mark(dirty, old_len, end);
        }
        data[offset as usize..end as usize].copy_from_slice(bytes);
        mark(dirty, offset, end);
        Ok(())
    }

    /// Sets file `ino`'s size (truncating, or growing zero-filled).
    pub fn set_len(&mut self, ino: u64, len: u64) -> Result<(), Errno> {
        let node = self.node_mut(ino)?;
        node.mtime = SystemTime::now();
        let Content::File { data, dirty, .. } = &mut node.content else {
            return Err(libc::EISDIR);
        };
        let old_len = data.len() as u64;
        data.resize(len as usize, 0);
        mark(dirty, old_len.min(len), old_len.max(len));
        Ok(())
    }

    /// Sets a node's permission bits.
    pub fn set_perm(&mut self, ino: u64, perm: u16) -> Result<(), Errno> {
        self.node_mut(ino)?.perm = perm;
        Ok(())
    }

    /// `fsync` of file or directory `ino`: what it holds now becomes durable.
    pub fn sync(&mut self, ino: u64) -> Result<(), Errno> {
        let node = self.nodes.get_mut(&ino).ok_or(libc::ENOENT)?;
        match &mut node.content {
            Content::File {
                data,
                durable,
                dirty,
            } => {
                durable.resize(data.len(), 0);
                let mut synced = 0;
                for page in std::mem::take(dirty) {
                    let start = (page * PAGE) as usize;
                    if start >= data.len() {
                        continue;
                    }
                    let end = (start + PAGE as usize).min(data.len());
                    durable[start..end].copy_from_slice(&data[start..end]);
                    synced += (end - start) as u64;
                }
                self.counts.file_syncs += 1;
                self.counts.synced_bytes += synced;
            }
            Content::Dir { entries, durable } => {
                *durable = entries.clone();
                self.counts.dir_syncs += 1;
            }
        }
        Ok(())
    }

    /// The power cut: every file's data goes back to its durable state, every directory's
    /// entries as `names` says; nodes the root no longer reaches are forgotten.
    pub fn cut(&mut self, names: Names) {
        if names == Names::KeptAsWritten {
            for node in self.nodes.values_mut() {
                if let Content::Dir { entries, durable } = &mut node.content {
                    *durable = entries.clone();
                }
            }
        }
        let mut reachable = BTreeSet::new();
        let mut to_visit = vec![ROOT];
        while let Some(ino) = to_visit.pop() {
            if !reachable.insert(ino) {
                continue;
            }
            if let Some(Node {
                content: Content::Dir { durable, .. },
                ..
            }) = self.nodes.get(&ino)
            {
                to_visit.extend(durable.values().copied());
            }
        }
        let mut dropped = 0;
        self.nodes.retain(|ino, node| {
            if !reachable.contains(ino) {
                if let Content::File { data, .. } = &node.content {
                    dropped += data.len() as u64;
                }
                return false;
            }
            match &mut node.content {
                Content::File {
                    data,
                    durable,
                    dirty,
                } => {
                    dropped += dirty.len() as u64 * PAGE;
                    *data = durable.clone();
                    dirty.clear();
                }
                Content::Dir { entries, durable } => *entries = durable.clone(),
            }
            true
        });
        self.counts.cuts += 1;
        self.counts.dropped_bytes += dropped;
    }

    /// Bytes held now by all files (for `statfs`).
    pub fn used_bytes(&self) -> u64 {
        self.nodes
            .values()
            .map(|node| match &node.content {
                Content::File { data, .. } => data.len() as u64,
                Content::Dir { .. } => 0,
            })
            .sum()
    }

    /// Number of nodes (for `statfs`).
    pub fn node_count(&self) -> u64 {
        self.nodes.len() as u64
    }
}

/// Marks the pages holding bytes `[start, end)` as written.
fn mark(dirty: &mut BTreeSet<u64>, start: u64, end: u64) {
    if end <= start {
        return;
    }
    dirty.extend(start / PAGE..end.div_ceil(PAGE));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tree: &mut Tree, dir: u64, name: &str) -> u64 {
        tree.create(dir, OsStr::new(name), false, 0o644, 0, 0)
            .unwrap()
    }

    fn contents(tree: &Tree, ino: u64) -> Vec<u8> {
        tree.read(ino, 0, u32::MAX).unwrap().to_vec()
    }

    #[test]
    fn unsynced_writes_are_dropped_and_synced_ones_kept() {
        let mut tree = Tree::new();
        let f = file(&mut tree, ROOT, "log");
        tree.sync(ROOT).unwrap();
        tree.write(f, 0, b"saved").unwrap();
        tree.sync(f).unwrap();
        tree.write(f, 5, b" and lost").unwrap();
        tree.write(f, 0, b"S").unwrap();
        assert_eq!(contents(&tree, f), b"Saved and lost");
        tree.cut(Names::AsSynced);
        assert_eq!(contents(&tree, f), b"saved");
        assert_eq!(tree.counts.cuts, 1);
    }

    #[test]
    fn a_sync_copies_only_the_pages_written_since() {
        let mut tree = Tree::new();
        let f = file(&mut tree, ROOT, "big");
        tree.sync(ROOT).unwrap();
        tree.write(f, 0, &vec![1; 10 * PAGE as usize]).unwrap();
        tree.sync(f).unwrap();
        assert_eq!(tree.counts.synced_bytes, 10 * PAGE);
        tree.write(f, 3 * PAGE + 1, b"xy").unwrap();
        tree.sync(f).unwrap();
        assert_eq!(tree.counts.synced_bytes, 11 * PAGE);
        tree.cut(Names::AsSynced);
        let data = contents(&tree, f);
        assert_eq!(&data[3 * PAGE as usize + 1..3 * PAGE as usize + 3], b"xy");
    }

    #[test]
    fn a_new_file_needs_its_directory_synced() {
        let mut tree = Tree::new();
        let f = file(&mut tree, ROOT, "new");
        tree.write(f, 0, b"data").unwrap();
        tree.sync(f).unwrap();
        tree.cut(Names::AsSynced);
        assert_eq!(tree.lookup(ROOT, OsStr::new("new")), Err(libc::ENOENT));

        let f = file(&mut tree, ROOT, "new");
        tree.write(f, 0, b"data").unwrap();
        tree.sync(f).unwrap();
        tree.sync(ROOT).unwrap();
        tree.cut(Names::AsSynced);
        let f = tree.lookup(ROOT, OsStr::new("new")).unwrap();
        assert_eq!(contents(&tree, f), b"data");
    }

    #[test]
    fn an_unsynced_rename_goes_back_to_the_old_name() {
        let mut tree = Tree::new();
        let old = file(&mut tree, ROOT, "current");
        tree.write(old, 0, b"old").unwrap();
        tree.sync(old).unwrap();
        let new = file(&mut tree, ROOT, "current.partial");
        tree.sync(ROOT).unwrap();
        tree.write(new, 0, b"new").unwrap();
        tree.sync(new).unwrap();
        tree.rename(
            ROOT,
            OsStr::new("current.partial"),
            ROOT,
            OsStr::new("current"),
            false,
        )
        .unwrap();
        assert_eq!(tree.lookup(ROOT, OsStr::new("current")), Ok(new));
        tree.cut(Names::AsSynced);
        assert_eq!(tree.lookup(ROOT, OsStr::new("current")), Ok(old));
        assert_eq!(contents(&tree, old), b"old");
        assert_eq!(tree.lookup(ROOT, OsStr::new("current.partial")), Ok(new));
    }

    #[test]
    fn a_cut_keeping_names_shows_a_rename_of_unsynced_data() {
        let mut tree = Tree::new();
        let old = file(&mut tree, ROOT, "backup");
        tree.write(old, 0, b"old, whole").unwrap();
        tree.sync(old).unwrap();
        tree.sync(ROOT).unwrap();
        let new = file(&mut tree, ROOT, "backup.partial");
        tree.write(new, 0, b"new, never synced").unwrap();
        tree.rename(
            ROOT,
            OsStr::new("backup.partial"),
            ROOT,
            OsStr::new("backup"),
            false,
        )
        .unwrap();
        tree.cut(Names::KeptAsWritten);
        assert_eq!(tree.lookup(ROOT, OsStr::new("backup")), Ok(new));
        assert_eq!(contents(&tree, new), b"", "the new name, none of the data");
        assert_eq!(
            tree.lookup(ROOT, OsStr::new("backup.partial")),
            Err(libc::ENOENT)
        );
    }

    #[test]
    fn truncation_is_undone_by_a_cut_and_kept_by_a_sync() {
        let mut tree = Tree::new();
        let f = file(&mut tree, ROOT, "f");
        tree.sync(ROOT).unwrap();
        tree.write(f, 0, b"0123456789").unwrap();
        tree.sync(f).unwrap();
        tree.set_len(f, 4).unwrap();
        tree.cut(Names::AsSynced);
        assert_eq!(contents(&tree, f), b"0123456789");
        tree.set_len(f, 4).unwrap();
        tree.sync(f).unwrap();
        tree.cut(Names::AsSynced);
        assert_eq!(contents(&tree, f), b"0123");
    }

    #[test]
    fn directories_refuse_what_posix_refuses() {
        let mut tree = Tree::new();
        let d = tree
            .create(ROOT, OsStr::new("d"), true, 0o755, 0, 0)
            .unwrap();
        file(&mut tree, d, "inside");
        assert_eq!(
            tree.remove(ROOT, OsStr::new("d"), true),
            Err(libc::ENOTEMPTY)
        );
        assert_eq!(tree.remove(ROOT, OsStr::new("d"), false), Err(libc::EISDIR));
        assert_eq!(
            tree.create(ROOT, OsStr::new("d"), false, 0o644, 0, 0),
            Err(libc::EEXIST)
        );
        tree.remove(d, OsStr::new("inside"), false).unwrap();
        tree.remove(ROOT, OsStr::new("d"), true).unwrap();
        assert_eq!(tree.list(ROOT).unwrap(), vec![]);
    }
}
