use thiserror::Error;

/// Everything that can go wrong while reading or writing stored documents.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The embedded database failed (I/O error, corruption detected by sled, ...).
    #[error("storage engine error: {0}")]
    Engine(#[from] sled::Error),
    /// A stored record could not be decoded: written by an incompatible version or damaged.
    #[error("stored record for trip {trip} is unreadable: {reason}")]
    CorruptRecord { trip: String, reason: String },
    /// A stored Yjs update could not be decoded or merged.
    #[error("stored update for trip {trip} does not decode: {reason}")]
    BadUpdate { trip: String, reason: String },
    /// A stored record is encrypted and cannot be decrypted with the configured keys.
    #[error("stored record for trip {trip} cannot be decrypted: {reason}")]
    Encrypted { trip: String, reason: String },
    /// The configured encryption keys do not fit the store (checked when it opens).
    #[error("{0}")]
    Keys(String),
    /// The store's format is not one this Caravan reads (checked when it opens).
    #[error("{0}")]
    Format(String),
    /// A compaction was not made: the disk has not room for what it would write. Nothing was
    /// changed; the trip's log is kept as it was.
    #[error(
        "not enough free disk space to compact trip {trip} ({needed} bytes needed, {free} free); its log is kept"
    )]
    NoRoomToCompact {
        trip: String,
        needed: u64,
        free: u64,
    },
}

impl StoreError {
    /// True for a failure of the storage engine itself (an I/O error, the engine's own
    /// corruption checks): the whole store is affected, not one trip's record.
    pub fn is_engine_failure(&self) -> bool {
        matches!(self, StoreError::Engine(_))
    }
}

/// An I/O error is the engine's (sled's own I/O errors arrive as [`StoreError::Engine`] too).
impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> StoreError {
        StoreError::Engine(sled::Error::Io(e))
    }
}
