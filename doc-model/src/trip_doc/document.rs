//! The [`TripDoc`] handle, and what the writes of every part of the trip share.

use serde::Serialize;
use yrs::{ArrayRef, Doc, Map, MapRef, Out, ReadTxn, TransactionMut};

use crate::convert::{out_to_json, to_any};
use crate::read::ReadTrip;
use crate::roots;
use crate::types::Trip;
use crate::validate::ModelError;

/// A trip's document with its typed operations. Cloning is cheap (the `Doc` is shared).
#[derive(Clone)]
pub struct TripDoc {
    pub(super) doc: Doc,
    pub(crate) meta: MapRef,
    pub(crate) families: MapRef,
    pub(crate) activities: MapRef,
    pub(crate) days: MapRef,
    pub(crate) polls: MapRef,
    pub(crate) proposals: MapRef,
    pub(crate) chat: ArrayRef,
}

impl TripDoc {
    /// Wraps a document (empty, or holding a trip).
    pub fn new(doc: Doc) -> TripDoc {
        TripDoc {
            meta: doc.get_or_insert_map(roots::META),
            families: doc.get_or_insert_map(roots::FAMILIES),
            activities: doc.get_or_insert_map(roots::ACTIVITIES),
            days: doc.get_or_insert_map(roots::DAYS),
            polls: doc.get_or_insert_map(roots::POLLS),
            proposals: doc.get_or_insert_map(roots::PROPOSALS),
            chat: doc.get_or_insert_array(roots::CHAT),
            doc,
        }
    }

    /// The document.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// Reads the whole trip (forgivingly).
    pub fn read(&self) -> ReadTrip {
        crate::read::read_trip(&self.doc)
    }

    /// Reads the meta and one collection (`root`, held in `map`) or one entity of it, with the
    /// same forgiving reader as a whole trip, without converting the rest of the document.
    pub(crate) fn read_part<T: ReadTxn>(
        &self,
        txn: &T,
        root: &'static str,
        map: &MapRef,
        id: Option<&str>,
    ) -> Trip {
        let collection = match id {
            Some(id) => {
                let mut one = serde_json::Map::new();
                if let Some(entity) = map.get(txn, id) {
                    one.insert(id.to_string(), out_to_json(txn, entity));
                }
                serde_json::Value::Object(one)
            }
            None => out_to_json(txn, Out::YMap(map.clone())),
        };
        let mut part = serde_json::Map::new();
        part.insert(
            roots::META.into(),
            out_to_json(txn, Out::YMap(self.meta.clone())),
        );
        part.insert(root.into(), collection);
        crate::read::read_json(&serde_json::Value::Object(part))
            .trip
            .unwrap_or_default()
    }

    pub(crate) fn entity<T: ReadTxn>(
        &self,
        txn: &T,
        map: &MapRef,
        kind: &'static str,
        id: &str,
    ) -> Result<MapRef, ModelError> {
        match map.get(txn, id) {
            Some(Out::YMap(entity)) => Ok(entity),
            _ => Err(ModelError::NotFound {
                kind,
                id: id.into(),
            }),
        }
    }
}

/// Sets `key` to `value`, or removes it when `value` is `None`.
pub(super) fn set_or_remove<V: Serialize>(
    map: &MapRef,
    txn: &mut TransactionMut,
    key: &str,
    value: Option<V>,
) {
    match value {
        Some(value) => {
            map.insert(txn, key, to_any(&value));
        }
        None => {
            map.remove(txn, key);
        }
    }
}
