//! A file system for power-cut tests: it keeps what is written in memory, makes it durable
//! only at `fsync`, and on [`PowerCut::cut`] drops everything that was never synced, as an
//! operating-system crash or a power cut drops a disk's page cache. (LazyFS, which Jepsen uses
//! for this fault, does the same in C++; this one is mounted by the tests themselves.)
//!
//! | file      | what it holds                                                          |
//! | --------- | ---------------------------------------------------------------------- |
//! | `tree.rs` | the files, each with a state now and a durable state; the cut itself   |
//! | `fuse.rs` | the kernel's FUSE requests answered from the tree                      |
//!
//! It is a real kernel file system (the machine's `/dev/fuse`): the program under test opens,
//! writes, syncs and renames through ordinary system calls, unchanged. Mounting needs root (or
//! `fusermount3`); a cut unmounts (which also empties the kernel's caches), rolls the tree back
//! to its durable state and mounts it again at the same place.

mod fuse;
pub mod tree;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use fuser::{BackgroundSession, Config, MountOption};

use tree::Tree;
pub use tree::{Counts, Names};

/// A mounted power-cut file system, unmounted when dropped.
pub struct PowerCut {
    mountpoint: PathBuf,
    tree: Arc<Mutex<Tree>>,
    session: Option<BackgroundSession>,
}

impl PowerCut {
    /// Mounts an empty file system at `mountpoint` (an existing, empty directory).
    pub fn mount(mountpoint: impl AsRef<Path>) -> std::io::Result<PowerCut> {
        let mut fs = PowerCut {
            mountpoint: mountpoint.as_ref().to_owned(),
            tree: Arc::new(Mutex::new(Tree::new())),
            session: None,
        };
        fs.session = Some(fs.spawn()?);
        Ok(fs)
    }

    fn spawn(&self) -> std::io::Result<BackgroundSession> {
        let mut config = Config::default();
        config.mount_options = vec![
            MountOption::FSName("caravan-power-cut".into()),
            MountOption::DefaultPermissions,
        ];
        config.n_threads = Some(2);
        fuser::spawn_mount(
            fuse::Fuse {
                tree: self.tree.clone(),
            },
            &self.mountpoint,
            &config,
        )
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// The power cut: unmounts, drops every byte and every directory change never synced,
    /// and mounts what survived again. Whoever had files open must be gone (killed) first.
    pub fn cut(&mut self) -> std::io::Result<()> {
        self.cut_with(Names::AsSynced)
    }

    /// A power cut that drops every byte never synced, and directory changes as `names` says.
    pub fn cut_with(&mut self, names: Names) -> std::io::Result<()> {
        if let Some(session) = self.session.take() {
            session.umount_and_join()?;
        }
        self.tree.lock().cut(names);
        self.session = Some(self.spawn()?);
        Ok(())
    }

    /// What the file system was asked so far (syncs, cuts, bytes dropped).
    pub fn counts(&self) -> Counts {
        self.tree.lock().counts
    }
}

impl Drop for PowerCut {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::FileExt;

    use super::*;

    #[test]
    fn through_the_kernel_a_cut_keeps_only_what_was_synced() {
        let dir = tempfile::tempdir().unwrap();
        let mut fs = PowerCut::mount(dir.path()).expect("mount the power-cut file system");
        let root = std::fs::File::open(fs.path()).unwrap();
        let path = fs.path().join("db");
        let mut file = std::fs::File::create(&path).unwrap();
        root.sync_all().unwrap();
        file.write_all(b"synced").unwrap();
        file.sync_data().unwrap();
        file.write_all_at(b" not synced", 6).unwrap();
        std::fs::write(fs.path().join("never-synced-name"), b"x").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"synced not synced");
        drop((file, root));

        fs.cut().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"synced");
        assert!(!fs.path().join("never-synced-name").exists());
        let counts = fs.counts();
        assert_eq!(counts.cuts, 1);
        assert!(
            counts.file_syncs >= 1 && counts.dir_syncs >= 1,
            "{counts:?}"
        );
    }
}
