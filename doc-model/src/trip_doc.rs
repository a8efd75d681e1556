//! Typed writes on a trip's `yrs::Doc`. Every operation validates first, then writes in one
//! transaction tagged with an origin (who did it), so a refused write changes nothing.

use chrono::NaiveDate;
use serde::Serialize;
use yrs::{
    Any, Array, ArrayRef, Doc, In, Map, MapPrelim, MapRef, Out, ReadTxn, TextPrelim, Transact,
    TransactionMut,
};

use crate::convert::{out_to_json, to_any};
use crate::read::{read_json_meta, ReadTrip};
use crate::roots;
use crate::types::*;
use crate::validate::{self, ModelError};

/// A trip's document with its typed operations. Cloning is cheap (the `Doc` is shared).
#[derive(Clone)]
pub struct TripDoc {
    doc: Doc,
    pub(crate) meta: MapRef,
    pub(crate) families: MapRef,
    pub(crate) activities: MapRef,
    pub(crate) days: MapRef,
    pub(crate) polls: MapRef,
    pub(crate) proposals: MapRef,
    pub(crate) chat: ArrayRef,
}

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

    // ---- families and members ----

    /// Adds a family (with its members).
    pub fn add_family(&self, origin: &str, id: &str, family: &Family) -> Result<(), ModelError> {
        validate::id(id)?;
        validate::family(family)?;
        let mut txn = self.doc.transact_mut_with(origin);
        self.meta_in(&txn)?;
        if self.families.get(&txn, id).is_some() {
            return Err(ModelError::AlreadyExists {
                kind: "family",
                id: id.into(),
            });
        }
        if self.families.len(&txn) as usize >= validate::MAX_FAMILIES {
            return Err(ModelError::TooManyFamilies);
        }
        self.families.insert(&mut txn, id, family_prelim(family));
        Ok(())
    }

    /// Renames a family.
    pub fn rename_family(&self, origin: &str, id: &str, name: &str) -> Result<(), ModelError> {
        validate::name("family name", name)?;
        let mut txn = self.doc.transact_mut_with(origin);
        let family = self.entity(&txn, &self.families, "family", id)?;
        family.insert(&mut txn, "name", name);
        Ok(())
    }

    /// Removes a family (its members with it).
    pub fn remove_family(&self, origin: &str, id: &str) -> Result<(), ModelError> {
        let mut txn = self.doc.transact_mut_with(origin);
        self.entity(&txn, &self.families, "family", id)?;
        self.families.remove(&mut txn, id);
        Ok(())
    }

    /// Adds a member to a family.
    pub fn add_member(
        &self,
        origin: &str,
        family: &str,
        id: &str,
        member: &Member,
    ) -> Result<(), ModelError> {
        validate::id(id)?;
        validate::member(member)?;
        let mut txn = self.doc.transact_mut_with(origin);
        let members = self.members(&txn, family)?;
        if members.get(&txn, id).is_some() {
            return Err(ModelError::AlreadyExists {
                kind: "member",
                id: id.into(),
            });
        }
        if members.len(&txn) as usize >= validate::MAX_MEMBERS {
            return Err(ModelError::TooManyMembers);
        }
        members.insert(&mut txn, id, to_any(member));
        Ok(())
    }

    /// Renames a member.
    pub fn rename_member(
        &self,
        origin: &str,
        family: &str,
        id: &str,
        name: &str,
    ) -> Result<(), ModelError> {
        validate::name("member name", name)?;
        let mut txn = self.doc.transact_mut_with(origin);
        let members = self.members(&txn, family)?;
        let current = members
            .get(&txn, id)
            .map(|v| out_to_json(&txn, v))
            .and_then(|v| serde_json::from_value::<Member>(v).ok())
            .ok_or_else(|| ModelError::NotFound {
                kind: "member",
                id: id.into(),
            })?;
        members.insert(
            &mut txn,
            id,
            to_any(&Member {
                name: name.into(),
                ..current
            }),
        );
        Ok(())
    }

    /// Removes a member.
    pub fn remove_member(&self, origin: &str, family: &str, id: &str) -> Result<(), ModelError> {
        let mut txn = self.doc.transact_mut_with(origin);
        let members = self.members(&txn, family)?;
        if members.remove(&mut txn, id).is_none() {
            return Err(ModelError::NotFound {
                kind: "member",
                id: id.into(),
            });
        }
        Ok(())
    }

    fn members<T: ReadTxn>(&self, txn: &T, family: &str) -> Result<MapRef, ModelError> {
        let family = self.entity(txn, &self.families, "family", family)?;
        match family.get(txn, "members") {
            Some(Out::YMap(members)) => Ok(members),
            _ => Err(ModelError::NotFound {
                kind: "member list of family",
                id: family_id(family, txn),
            }),
        }
    }

    // ---- activities ----

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

    fn activities_in<T: ReadTxn>(&self, txn: &T) -> Vec<(String, Activity)> {
        self.read_part(txn, roots::ACTIVITIES, &self.activities, None)
            .activities
            .into_iter()
            .collect()
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

    // ---- days and chat ----

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

    /// Posts a chat message.
    pub fn post_chat(&self, origin: &str, message: &ChatMessage) -> Result<(), ModelError> {
        validate::id(&message.id)?;
        validate::name("chat author", &message.author)?;
        if message.text.trim().is_empty() {
            return Err(ModelError::Empty("chat message"));
        }
        validate::text("chat message", &message.text, validate::MAX_TEXT_CHARS)?;
        if let Some(reply_to) = &message.reply_to {
            validate::text("chat replyTo", reply_to, validate::MAX_NAME_CHARS)?;
        }
        let mut txn = self.doc.transact_mut_with(origin);
        self.meta_in(&txn)?;
        self.chat.push_back(&mut txn, to_any(message));
        Ok(())
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

fn family_id<T: ReadTxn>(family: MapRef, txn: &T) -> String {
    family
        .get(txn, "name")
        .map(|n| out_to_json(txn, n).to_string())
        .unwrap_or_default()
}

fn set_or_remove<V: Serialize>(
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

pub(crate) fn write_meta(map: &MapRef, txn: &mut TransactionMut, meta: &Meta) {
    let Any::Map(fields) = to_any(meta) else {
        unreachable!("meta serializes to a map")
    };
    for (key, value) in fields.iter() {
        map.insert(txn, key.as_str(), value.clone());
    }
}

/// The Y.Map prelim of a family: `members` is a shared map so that members added at once by
/// two people are both kept.
pub(crate) fn family_prelim(family: &Family) -> MapPrelim {
    let members: MapPrelim = family
        .members
        .iter()
        .map(|(id, m)| (id.as_str(), In::Any(to_any(m))))
        .collect();
    MapPrelim::from_iter([
        ("name", In::from(family.name.as_str())),
        ("color", In::from(family.color.as_str())),
        ("members", In::Map(members)),
        ("preferences", In::Any(to_any(&family.preferences))),
    ])
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
