//! **Store**, what it tells a room: the one way the store's background work (the log writer,
//! the compaction thread) reports to the room of a trip. Each job holds the room's
//! [`StoreNews`] and writes to it; the room reads it when it is next used. No callback, no
//! pointer back to the room: a room that is gone just never reads its news.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What the store has to tell one room.
#[derive(Debug, Default)]
pub struct StoreNews {
    /// An update the room relayed could not be stored: its document is ahead of the store.
    not_stored: AtomicBool,
    /// A compaction folded the trip's log: its sizes below are new.
    compacted: AtomicBool,
    /// Stored bytes before and after the newest compaction that folded something.
    bytes_before: AtomicU64,
    bytes_after: AtomicU64,
}

impl StoreNews {
    /// The log writer could not store an update of the room.
    pub fn not_stored(&self) {
        self.not_stored.store(true, Ordering::Release);
    }

    /// True (once) when an update could not be stored since the last call: the room's
    /// document must be rebuilt from the store.
    pub fn take_not_stored(&self) -> bool {
        self.not_stored.load(Ordering::Acquire) && self.not_stored.swap(false, Ordering::AcqRel)
    }

    /// A compaction replaced `before` stored bytes of the trip by `after`.
    pub fn compacted(&self, before: usize, after: usize) {
        self.bytes_before.store(before as u64, Ordering::Relaxed);
        self.bytes_after.store(after as u64, Ordering::Relaxed);
        self.compacted.store(true, Ordering::Release);
    }

    /// The newest compaction's (bytes before, bytes after), once, if there was one since the
    /// last call.
    pub fn take_compacted(&self) -> Option<(usize, usize)> {
        if !self.compacted.load(Ordering::Acquire) || !self.compacted.swap(false, Ordering::AcqRel)
        {
            return None;
        }
        Some((
            self.bytes_before.load(Ordering::Relaxed) as usize,
            self.bytes_after.load(Ordering::Relaxed) as usize,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_piece_of_news_is_read_once() {
        let news = StoreNews::default();
        assert!(!news.take_not_stored());
        assert_eq!(news.take_compacted(), None);
        news.not_stored();
        news.compacted(10, 4);
        news.compacted(12, 5);
        assert!(news.take_not_stored());
        assert!(!news.take_not_stored());
        assert_eq!(
            news.take_compacted(),
            Some((12, 5)),
            "the newest compaction"
        );
        assert_eq!(news.take_compacted(), None);
    }
}
