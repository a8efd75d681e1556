//! Durable storage of Caravan's trip documents.
//!
//! A trip is one Yjs document. Its changes are kept as an append-only log of binary Yjs
//! updates, folded now and then into one compacted snapshot (see `docs/operations.md` for
//! the on-disk layout). The [`DocStore`] trait is what the server sees; [`SledStore`] is its
//! implementation on an embedded sled database ([`MemoryStore`], with feature `test-support`,
//! keeps it in memory for tests, and [`FaultyStore`] fails any store's operations on command).
//! [`replay`] applies stored updates to a document, with the one
//! policy for an update that cannot be read. Nothing here knows about sockets or async.

pub mod backup;
mod chunked;
mod crypto;
mod error;
#[cfg(any(test, feature = "test-support"))]
mod faulty_store;
pub mod format;
mod legacy_blobs;
#[cfg(any(test, feature = "test-support"))]
mod memory_store;
mod record;
pub mod replay;
mod sled_store;
mod store;
pub mod synced_files;
mod trip_id;

pub use crypto::{KeyError, Keyring, KEY_LEN};
pub use error::StoreError;
#[cfg(any(test, feature = "test-support"))]
pub use faulty_store::{Fault, FaultyStore};
#[cfg(any(test, feature = "test-support"))]
pub use memory_store::MemoryStore;
pub use record::{SnapshotRecord, UpdateMeta, UpdateRecord};
pub use sled_store::SledStore;
pub use store::{Compaction, DocStore, StoredDoc, TripSummary};
pub use trip_id::{InvalidTripId, TripId};

/// Milliseconds since the Unix epoch, the timestamp used in every stored record.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
