//! Replaying stored updates into a document, with the one policy for a stored update that
//! cannot be read.
//!
//! A stored update that does not decode or apply can only come from an older bug or a damaged
//! disk. Wherever a log is replayed (a trip loaded, a trip compacted), such an update is
//! skipped and reported, and never deleted: one bad record never makes a trip unreadable, and
//! it stays on disk for whoever investigates (compaction folds the rest and keeps it in the
//! log). A snapshot that cannot be read is different: it holds the whole trip, so a
//! compaction that meets one fails and keeps everything as it was.

use std::panic::AssertUnwindSafe;

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::{StoreError, TripId};

/// A stored update that was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// Its place among the updates replayed (0 is the first).
    pub index: usize,
    /// Why it was skipped.
    pub reason: String,
}

/// What a replay did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replay {
    /// Updates applied.
    pub applied: usize,
    /// Updates skipped because they do not decode or apply.
    pub unreadable: Vec<Unreadable>,
}

/// Applies one stored update to `doc` in a transaction of its own. yrs may panic on damaged
/// input instead of returning an error; that is caught and reported like an error.
fn apply_stored(doc: &Doc, bytes: &[u8]) -> Result<(), String> {
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        let update = Update::decode_v1(bytes).map_err(|e| e.to_string())?;
        doc.transact_mut()
            .apply_update(update)
            .map_err(|e| e.to_string())
    }))
    .unwrap_or_else(|_| Err("the update is malformed".into()))
}

/// Applies `updates` to `doc` in order, one transaction each, skipping (and reporting) those
/// that cannot be read.
///
/// One transaction per update: yrs squashes runs of items when a transaction commits, and
/// applying a long log in one transaction grows superlinearly (the automerge-paper trace as
/// 259,778 updates: 2.8 s in one transaction, 0.44 s in one each).
pub fn replay<'a>(doc: &Doc, updates: impl IntoIterator<Item = &'a [u8]>) -> Replay {
    let mut replay = Replay::default();
    for (index, bytes) in updates.into_iter().enumerate() {
        match apply_stored(doc, bytes) {
            Ok(()) => replay.applied += 1,
            Err(reason) => replay.unreadable.push(Unreadable { index, reason }),
        }
    }
    replay
}

/// A trip's snapshot and log folded into one new snapshot.
pub(crate) struct Folded {
    /// The whole document as one lib0 v1 update.
    pub state: Vec<u8>,
    /// Its state vector (lib0 v1).
    pub state_vector: Vec<u8>,
    /// Positions in the log of the updates that could not be read: they stay in the log.
    pub kept: Vec<usize>,
}

/// Builds the document from `snapshot` and `log` and encodes it, rather than merging the
/// updates (`Update::merge_updates`): the document squashes runs of items and drops deleted
/// content, so the snapshot of the automerge-paper trace is 377 KB and loads in 7 ms, where
/// the merged updates took 4.5 MB, 2.9 s to load and 353 s to merge (docs/benchmarks.md).
pub(crate) fn fold<'a>(
    trip: &TripId,
    snapshot: Option<&[u8]>,
    log: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Folded, StoreError> {
    let doc = Doc::new();
    if let Some(snapshot) = snapshot {
        apply_stored(&doc, snapshot).map_err(|reason| StoreError::BadUpdate {
            trip: trip.to_string(),
            reason: format!("the snapshot cannot be read: {reason}"),
        })?;
    }
    let replayed = replay(&doc, log);
    for skipped in &replayed.unreadable {
        tracing::error!(trip = %trip, index = skipped.index, reason = %skipped.reason,
            "a logged update cannot be read: compaction keeps it in the log");
    }
    let txn = doc.transact();
    Ok(Folded {
        state: txn.encode_state_as_update_v1(&StateVector::default()),
        state_vector: txn.state_vector().encode_v1(),
        kept: replayed.unreadable.iter().map(|u| u.index).collect(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use yrs::{GetString, Text};

    /// A fresh document's whole state after typing `text` into its `notes`.
    pub(crate) fn typed(text: &str) -> Vec<u8> {
        let doc = Doc::new();
        doc.get_or_insert_text("notes")
            .push(&mut doc.transact_mut(), text);
        let update = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        update
    }

    #[test]
    fn a_bad_update_is_skipped_and_reported_and_the_rest_applies() {
        let doc = Doc::new();
        let good = typed("kept");
        let bad = vec![1, 2, 3];
        let replayed = replay(&doc, [bad.as_slice(), good.as_slice()]);
        assert_eq!(replayed.applied, 1);
        assert_eq!(replayed.unreadable.len(), 1);
        assert_eq!(replayed.unreadable[0].index, 0);
        let text = doc.get_or_insert_text("notes");
        assert_eq!(text.get_string(&doc.transact()), "kept");
    }

    #[test]
    fn folding_keeps_unreadable_log_entries_and_refuses_an_unreadable_snapshot() {
        let trip = TripId::parse("t").unwrap();
        let good = typed("x");
        let folded = fold(&trip, None, [good.as_slice(), &[9, 9][..]]).unwrap();
        assert_eq!(folded.kept, vec![1]);
        assert!(fold(&trip, Some(&[9, 9]), [good.as_slice()]).is_err());
    }
}
