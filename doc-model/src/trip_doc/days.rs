//! Days: a title and shared notes per date of the trip.

use chrono::NaiveDate;
use yrs::{In, Map, MapPrelim, MapRef, Out, TextPrelim, Transact, TransactionMut};

use super::TripDoc;
use crate::validate::{self, ModelError};

impl TripDoc {
    /// Sets a day's title.
    pub fn set_day_title(
        &self,
        origin: &str,
        date: NaiveDate,
        title: &str,
    ) -> Result<(), ModelError> {
        validate::text("day title", title, validate::MAX_NAME_CHARS)?;
        let mut txn = self.doc.transact_mut_with(origin);
        let meta = self.meta_in(&txn)?;
        validate::within_trip(date, &meta)?;
        let day = self.day_in(&mut txn, date);
        day.insert(&mut txn, "title", title);
        Ok(())
    }

    /// Appends to a day's notes (a shared text, so concurrent notes merge).
    pub fn append_day_notes(
        &self,
        origin: &str,
        date: NaiveDate,
        text: &str,
    ) -> Result<(), ModelError> {
        validate::text("day notes", text, validate::MAX_TEXT_CHARS)?;
        let mut txn = self.doc.transact_mut_with(origin);
        let meta = self.meta_in(&txn)?;
        validate::within_trip(date, &meta)?;
        let day = self.day_in(&mut txn, date);
        match day.get(&txn, "notes") {
            Some(Out::YText(notes)) => {
                use yrs::Text;
                let len = notes.len(&txn);
                notes.insert(&mut txn, len, text);
            }
            _ => {
                day.insert(&mut txn, "notes", TextPrelim::new(text));
            }
        }
        Ok(())
    }

    pub(crate) fn day_in(&self, txn: &mut TransactionMut, date: NaiveDate) -> MapRef {
        let key = date.to_string();
        match self.days.get(txn, &key) {
            Some(Out::YMap(day)) => day,
            _ => self.days.insert(
                txn,
                key,
                MapPrelim::from_iter([
                    ("title", In::from("")),
                    ("notes", In::from(TextPrelim::new(""))),
                ]),
            ),
        }
    }
}
