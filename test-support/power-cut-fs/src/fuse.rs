//! **The kernel's requests**, answered from the [`Tree`]: FUSE operations translated into
//! its calls, with no state of their own.

use std::ffi::OsStr;
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

use crate::tree::{Content, Tree};

/// How long the kernel may keep names and attributes: short, as nothing else changes them
/// (the tree changes only through the kernel, and a cut happens while unmounted).
const TTL: Duration = Duration::from_secs(1);

/// Block size reported by `stat` and `statfs`.
const BLOCK: u32 = 4096;

/// Size the file system claims, so a free-space check sees plenty of room.
const CAPACITY_BLOCKS: u64 = 16 << 20;

/// The file system as the kernel sees it: a shared [`Tree`].
pub struct Fuse {
    pub(crate) tree: Arc<Mutex<Tree>>,
}

impl Fuse {
    fn tree(&self) -> MutexGuard<'_, Tree> {
        self.tree.lock()
    }
}

fn errno(code: i32) -> Errno {
    Errno::from_i32(code)
}

fn attr(tree: &Tree, ino: u64) -> Result<FileAttr, i32> {
    let node = tree.node(ino)?;
    let (kind, size, nlink) = match &node.content {
        Content::File { data, .. } => (FileType::RegularFile, data.len() as u64, 1),
        Content::Dir { .. } => (FileType::Directory, 0, 2),
    };
    Ok(FileAttr {
        ino: INodeNo(ino),
        size,
        blocks: size.div_ceil(512),
        atime: node.mtime,
        mtime: node.mtime,
        ctime: node.mtime,
        crtime: node.mtime,
        kind,
        perm: node.perm,
        nlink,
        uid: node.uid,
        gid: node.gid,
        rdev: 0,
        blksize: BLOCK,
        flags: 0,
    })
}

fn reply_entry(tree: &Tree, ino: Result<u64, i32>, reply: ReplyEntry) {
    match ino.and_then(|ino| attr(tree, ino)) {
        Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
        Err(code) => reply.error(errno(code)),
    }
}

fn reply_empty(result: Result<(), i32>, reply: ReplyEmpty) {
    match result {
        Ok(()) => reply.ok(),
        Err(code) => reply.error(errno(code)),
    }
}

impl Filesystem for Fuse {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let tree = self.tree();
        let ino = tree.lookup(parent.0, name);
        reply_entry(&tree, ino, reply);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match attr(&self.tree(), ino.0) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(code) => reply.error(errno(code)),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut tree = self.tree();
        let mut result = Ok(());
        if let Some(size) = size {
            result = tree.set_len(ino.0, size);
        }
        if let (Ok(()), Some(mode)) = (result, mode) {
            result = tree.set_perm(ino.0, (mode & 0o7777) as u16);
        }
        match result.and_then(|()| attr(&tree, ino.0)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(code) => reply.error(errno(code)),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        if mode & libc::S_IFMT != libc::S_IFREG {
            return reply.error(Errno::EPERM);
        }
        let mut tree = self.tree();
        let perm = (mode & !umask & 0o7777) as u16;
        let ino = tree.create(parent.0, name, false, perm, req.uid(), req.gid());
        reply_entry(&tree, ino, reply);
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let mut tree = self.tree();
        let perm = (mode & !umask & 0o7777) as u16;
        let ino = tree.create(parent.0, name, true, perm, req.uid(), req.gid());
        reply_entry(&tree, ino, reply);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty(self.tree().remove(parent.0, name, false), reply);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty(self.tree().remove(parent.0, name, true), reply);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let bits = flags.bits();
        if bits & !libc::RENAME_NOREPLACE != 0 {
            return reply.error(Errno::EINVAL);
        }
        let no_replace = bits & libc::RENAME_NOREPLACE != 0;
        let result = self
            .tree()
            .rename(parent.0, name, newparent.0, newname, no_replace);
        reply_empty(result, reply);
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.tree().node(ino.0) {
            Ok(_) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(code) => reply.error(errno(code)),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.tree().read(ino.0, offset, size) {
            Ok(bytes) => reply.data(bytes),
            Err(code) => reply.error(errno(code)),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.tree().write(ino.0, offset, data) {
            Ok(()) => reply.written(data.len() as u32),
            Err(code) => reply.error(errno(code)),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // close(2) is no durability point: only fsync is.
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply_empty(self.tree().sync(ino.0), reply);
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let tree = self.tree();
        let listed = match tree.list(ino.0) {
            Ok(listed) => listed,
            Err(code) => return reply.error(errno(code)),
        };
        let mut all = vec![
            (ino.0, FileType::Directory, OsStr::new(".").to_owned()),
            (ino.0, FileType::Directory, OsStr::new("..").to_owned()),
        ];
        for (name, child) in listed {
            let kind = match tree.node(child).map(|n| &n.content) {
                Ok(Content::Dir { .. }) => FileType::Directory,
                _ => FileType::RegularFile,
            };
            all.push((child, kind, name));
        }
        for (index, (child, kind, name)) in all.into_iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(child), index as u64 + 1, kind, &name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply_empty(self.tree().sync(ino.0), reply);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let tree = self.tree();
        let used = tree.used_bytes().div_ceil(BLOCK as u64);
        let free = CAPACITY_BLOCKS.saturating_sub(used);
        let files = 1 << 20;
        reply.statfs(
            CAPACITY_BLOCKS,
            free,
            free,
            files,
            files - tree.node_count(),
            BLOCK,
            255,
            BLOCK,
        );
    }

    fn access(&self, _req: &Request, ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        reply_empty(self.tree().node(ino.0).map(|_| ()), reply);
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut tree = self.tree();
        let perm = (mode & !umask & 0o7777) as u16;
        match tree
            .create(parent.0, name, false, perm, req.uid(), req.gid())
            .and_then(|ino| attr(&tree, ino))
        {
            Ok(attr) => reply.created(
                &TTL,
                &attr,
                Generation(0),
                FileHandle(0),
                FopenFlags::empty(),
            ),
            Err(code) => reply.error(errno(code)),
        }
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        if mode != 0 {
            return reply.error(Errno::EOPNOTSUPP);
        }
        let mut tree = self.tree();
        let end = offset.saturating_add(length);
        let result = match attr(&tree, ino.0) {
            Ok(attr) if attr.size < end => tree.set_len(ino.0, end),
            Ok(_) => Ok(()),
            Err(code) => Err(code),
        };
        reply_empty(result, reply);
    }
}
