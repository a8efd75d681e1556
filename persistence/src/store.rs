use crate::{StoreError, TripId, UpdateMeta};

/// What is stored for one trip: its last snapshot and the updates logged after it.
///
/// Applying `snapshot` and then every entry of `updates` (in order) to an empty document gives
/// the trip's current state.
#[derive(Clone, Debug, Default)]
pub struct StoredDoc {
    /// The compacted state, if the trip was ever compacted.
    pub snapshot: Option<Vec<u8>>,
    /// Updates appended since that snapshot, oldest first.
    pub updates: Vec<Vec<u8>>,
}

impl StoredDoc {
    /// Bytes held by the snapshot and the log together.
    pub fn byte_len(&self) -> usize {
        self.snapshot.as_ref().map_or(0, Vec::len)
            + self.updates.iter().map(Vec::len).sum::<usize>()
    }
}

/// What a compaction did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compaction {
    /// Log entries folded into the new snapshot.
    pub folded: usize,
    /// Bytes of snapshot plus log before.
    pub bytes_before: usize,
    /// Bytes of the new snapshot, plus the log entries that could not be read and stayed
    /// (see [`crate::replay`]).
    pub bytes_after: usize,
}

/// One line of the trip listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TripSummary {
    /// The trip.
    pub id: TripId,
    /// Bytes stored (snapshot plus log), before any compression by the engine.
    pub bytes: u64,
    /// Updates in the log, not yet compacted.
    pub log_len: u64,
    /// Time of the newest stored change (ms since the Unix epoch).
    pub updated_at_ms: u64,
}

/// Durable storage of trip documents: an update log per trip plus compacted snapshots.
///
/// Writes are buffered by the engine; [`DocStore::flush`] is the durability barrier: every
/// `append` that returned before a `flush` started survives a crash of the process, of the
/// operating system or of the power once that `flush` returns (it is fsynced).
/// The server batches many appends into one flush (group commit).
pub trait DocStore: Send + Sync + 'static {
    /// Reads a trip's snapshot and log; `None` when nothing is stored for it.
    fn load(&self, trip: &TripId) -> Result<Option<StoredDoc>, StoreError>;
    /// Appends one binary Yjs update (lib0 v1) to the trip's log.
    fn append(&self, trip: &TripId, update: &[u8], meta: &UpdateMeta) -> Result<(), StoreError>;
    /// Folds the trip's log into its snapshot: builds the document from both and stores it
    /// encoded as the new snapshot (see [`crate::replay`] for a logged update that cannot be
    /// read).
    fn compact(&self, trip: &TripId) -> Result<Compaction, StoreError>;
    /// Makes every append so far durable: written and fsynced, as a database's commit.
    fn flush(&self) -> Result<(), StoreError>;
    /// Removes a trip and all its history; `false` when there was nothing to remove.
    fn delete(&self, trip: &TripId) -> Result<bool, StoreError>;
    /// Lists stored trips in id order.
    fn list(&self) -> Result<Vec<TripSummary>, StoreError>;
}
