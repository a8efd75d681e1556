//! The trip's meta: its title, dates, money and status.

use yrs::{Any, Map, MapRef, Out, ReadTxn, Transact, TransactionMut};

use super::TripDoc;
use crate::convert::{out_to_json, to_any};
use crate::read::read_json_meta;
use crate::types::Meta;
use crate::validate::{self, ModelError};

impl TripDoc {
    /// The trip's meta, or [`ModelError::NoTrip`].
    pub(crate) fn meta_in<T: ReadTxn>(&self, txn: &T) -> Result<Meta, ModelError> {
        if self.meta.len(txn) == 0 {
            return Err(ModelError::NoTrip);
        }
        Ok(read_json_meta(&out_to_json(
            txn,
            Out::YMap(self.meta.clone()),
        )))
    }

    /// Creates the trip in an empty document.
    pub fn create(&self, origin: &str, meta: &Meta) -> Result<(), ModelError> {
        validate::meta(meta)?;
        let mut txn = self.doc.transact_mut_with(origin);
        if self.meta.len(&txn) > 0 {
            return Err(ModelError::TripExists);
        }
        write_meta(&self.meta, &mut txn, meta);
        Ok(())
    }

    /// Replaces the trip's meta (title, dates, money, status). Scheduled activities must still
    /// fall within the new dates.
    pub fn update_meta(&self, origin: &str, meta: &Meta) -> Result<(), ModelError> {
        validate::meta(meta)?;
        let mut txn = self.doc.transact_mut_with(origin);
        self.meta_in(&txn)?;
        for (_, activity) in self.activities_in(&txn) {
            if let Some(date) = activity.date {
                validate::within_trip(date, meta)?;
            }
        }
        write_meta(&self.meta, &mut txn, meta);
        Ok(())
    }
}

/// Writes every field of `meta` into the trip's meta map.
pub(crate) fn write_meta(map: &MapRef, txn: &mut TransactionMut, meta: &Meta) {
    let Any::Map(fields) = to_any(meta) else {
        unreachable!("meta serializes to a map")
    };
    for (key, value) in fields.iter() {
        map.insert(txn, key.as_str(), value.clone());
    }
}
