//! Activities: ideas, and the scheduled plan.

use chrono::NaiveDate;
use yrs::{Any, In, Map, MapPrelim, MapRef, ReadTxn, TextPrelim, Transact, TransactionMut};

use super::document::{set_or_remove, TripDoc};
use crate::convert::to_any;
use crate::roots;
use crate::types::{Activity, ActivityKind, Booking, CostPer, LocalTime, Location};
use crate::validate::{self, ModelError};

/// What may change in an activity (fields left `None` stay as they are).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityEdit {
    /// New title.
    pub title: Option<String>,
    /// New kind.
    pub kind: Option<ActivityKind>,
    /// New duration in minutes.
    pub duration_min: Option<u32>,
    /// New location.
    pub location: Option<Location>,
    /// New cost and what it counts per.
    pub cost: Option<(u64, CostPer)>,
    /// New list of families taking part (empty: everyone).
    pub families: Option<Vec<String>>,
    /// New booking.
    pub booking: Option<Booking>,
}

impl TripDoc {
    /// Adds an activity: an idea when it has no date, scheduled otherwise.
    pub fn add_activity(
        &self,
        origin: &str,
        id: &str,
        activity: &Activity,
    ) -> Result<(), ModelError> {
        validate::id(id)?;
        let mut txn = self.doc.transact_mut_with(origin);
        let meta = self.meta_in(&txn)?;
        validate::activity(activity, &meta)?;
        if self.activities.get(&txn, id).is_some() {
            return Err(ModelError::AlreadyExists {
                kind: "activity",
                id: id.into(),
            });
        }
        self.activities
            .insert(&mut txn, id, activity_prelim(activity));
        Ok(())
    }

    /// Schedules (or moves) an activity to `date` at `start` for `duration_min`; a `None`
    /// start or duration keeps the current one.
    pub fn schedule_activity(
        &self,
        origin: &str,
        id: &str,
        date: NaiveDate,
        start: Option<LocalTime>,
        duration_min: Option<u32>,
    ) -> Result<(), ModelError> {
        let mut txn = self.doc.transact_mut_with(origin);
        self.schedule_in(&mut txn, id, date, start, duration_min)
    }

    pub(crate) fn schedule_in(
        &self,
        txn: &mut TransactionMut,
        id: &str,
        date: NaiveDate,
        start: Option<LocalTime>,
        duration_min: Option<u32>,
    ) -> Result<(), ModelError> {
        let meta = self.meta_in(txn)?;
        let (map, mut activity) = self.activity_in(txn, id)?;
        activity.date = Some(date);
        activity.start = start.or(activity.start);
        activity.duration_min = duration_min.or(activity.duration_min);
        validate::activity(&activity, &meta)?;
        map.insert(txn, "date", date.to_string());
        set_or_remove(&map, txn, "start", activity.start.map(|s| s.to_string()));
        set_or_remove(&map, txn, "durationMin", activity.duration_min);
        Ok(())
    }

    /// Turns a scheduled activity back into an idea (no date, no start).
    pub fn unschedule_activity(&self, origin: &str, id: &str) -> Result<(), ModelError> {
        let mut txn = self.doc.transact_mut_with(origin);
        let (map, _) = self.activity_in(&txn, id)?;
        map.remove(&mut txn, "date");
        map.remove(&mut txn, "start");
        Ok(())
    }

    /// Changes an activity's details.
    pub fn edit_activity(
        &self,
        origin: &str,
        id: &str,
        edit: &ActivityEdit,
    ) -> Result<(), ModelError> {
        let mut txn = self.doc.transact_mut_with(origin);
        let meta = self.meta_in(&txn)?;
        let (map, mut activity) = self.activity_in(&txn, id)?;
        let edit = edit.clone();
        if let Some(title) = edit.title.clone() {
            activity.title = title;
        }
        if let Some(kind) = edit.kind {
            activity.kind = kind;
        }
        if let Some(minutes) = edit.duration_min {
            activity.duration_min = Some(minutes);
        }
        if let Some(location) = edit.location.clone() {
            activity.location = Some(location);
        }
        if let Some((cost, per)) = edit.cost {
            activity.cost = cost;
            activity.cost_per = per;
        }
        if let Some(families) = edit.families.clone() {
            activity.families = families;
        }
        if let Some(booking) = edit.booking.clone() {
            activity.booking = Some(booking);
        }
        validate::activity(&activity, &meta)?;
        if edit.title.is_some() {
            map.insert(&mut txn, "title", activity.title.as_str());
        }
        if edit.kind.is_some() {
            map.insert(&mut txn, "kind", activity.kind.as_str());
        }
        if edit.duration_min.is_some() {
            set_or_remove(&map, &mut txn, "durationMin", activity.duration_min);
        }
        if edit.location.is_some() {
            map.insert(&mut txn, "location", to_any(&activity.location));
        }
        if edit.cost.is_some() {
            map.insert(&mut txn, "cost", to_any(&activity.cost));
            map.insert(&mut txn, "costPer", activity.cost_per.as_str());
        }
        if edit.families.is_some() {
            map.insert(&mut txn, "families", to_any(&activity.families));
        }
        if edit.booking.is_some() {
            map.insert(&mut txn, "booking", to_any(&activity.booking));
        }
        Ok(())
    }

    /// Removes an activity.
    pub fn remove_activity(&self, origin: &str, id: &str) -> Result<(), ModelError> {
        let mut txn = self.doc.transact_mut_with(origin);
        self.activity_in(&txn, id)?;
        self.activities.remove(&mut txn, id);
        Ok(())
    }

    pub(crate) fn activity_in<T: ReadTxn>(
        &self,
        txn: &T,
        id: &str,
    ) -> Result<(MapRef, Activity), ModelError> {
        let map = self.entity(txn, &self.activities, "activity", id)?;
        let activity = self
            .read_part(txn, roots::ACTIVITIES, &self.activities, Some(id))
            .activities
            .remove(id)
            .unwrap_or_default();
        Ok((map, activity))
    }

    pub(super) fn activities_in<T: ReadTxn>(&self, txn: &T) -> Vec<(String, Activity)> {
        self.read_part(txn, roots::ACTIVITIES, &self.activities, None)
            .activities
            .into_iter()
            .collect()
    }
}

/// The Y.Map prelim of an activity: plain fields, `notes` as a shared text.
pub(crate) fn activity_prelim(activity: &Activity) -> MapPrelim {
    let Any::Map(fields) = to_any(activity) else {
        unreachable!("an activity serializes to a map")
    };
    fields
        .iter()
        .map(|(key, value)| {
            let value = if key == "notes" {
                In::from(TextPrelim::new(activity.notes.as_str()))
            } else {
                In::Any(value.clone())
            };
            (key.as_str(), value)
        })
        .collect()
}
