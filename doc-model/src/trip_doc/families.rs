//! Families and their members.

use yrs::{In, Map, MapPrelim, MapRef, Out, ReadTxn, Transact};

use super::TripDoc;
use crate::convert::{out_to_json, to_any};
use crate::types::{Family, Member};
use crate::validate::{self, ModelError};

impl TripDoc {
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
}

fn family_id<T: ReadTxn>(family: MapRef, txn: &T) -> String {
    family
        .get(txn, "name")
        .map(|n| out_to_json(txn, n).to_string())
        .unwrap_or_default()
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
