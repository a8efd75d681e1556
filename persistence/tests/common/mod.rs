//! Helpers shared by the store's integration tests.

use persistence::{StoredDoc, TripId, UpdateMeta};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

/// A trip id the tests know to be valid.
pub fn trip(id: &str) -> TripId {
    TripId::parse(id).unwrap()
}

/// The metadata of the `n`th logged update: its time and the connection it came from.
pub fn meta(n: u64) -> UpdateMeta {
    UpdateMeta {
        at_ms: 1_000 + n,
        origin: Some(format!("conn:{n}")),
    }
}

/// The document a stored trip holds: its snapshot, then every logged update.
pub fn rebuild(stored: &StoredDoc) -> Doc {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        if let Some(snapshot) = &stored.snapshot {
            txn.apply_update(Update::decode_v1(snapshot).unwrap())
                .unwrap();
        }
        for update in &stored.updates {
            txn.apply_update(Update::decode_v1(update).unwrap())
                .unwrap();
        }
    }
    doc
}
