//! **Store**: how an update applied in a room becomes "saved", one file per job.
//!
//! | step | file | what happens |
//! | --- | --- | --- |
//! | queue | [`persist`] | under the room's lock, the update is queued for its trip's log (with its time and origin) and then relayed; a store that takes no write refuses it |
//! | append | [`log_writer`] | the queue is appended to the store off the relay path, many trips at a time, in queue order; an append that fails hangs its sender up |
//! | the door | [`trip_store`] | every read of the store, and every barrier (compaction, delete, flush), writes the queue out first: nothing reads a log lacking an update relayed before |
//! | durable | [`group_commit`] | one flush (sled's, then fsync) covers every update queued before it started; waits for "saved" end there, within `--saved-timeout-secs` |
//! | answered | [`saved`] | each connection's "saved?" questions wait in a queue, and each flush answers all it covers |
//! | news | [`news`] | the one way the store's background work tells a room something: an update not stored, a compaction's new sizes |
//! | health | [`health`] | whether the store takes writes: failed for good after an engine error, or the disk below `--min-free-bytes` |

pub mod group_commit;
pub mod health;
pub mod log_writer;
pub mod news;
pub mod persist;
pub mod saved;
pub mod trip_store;
