//! Typed writes on a trip's `yrs::Doc`, one file per part of the trip (`docs/schema.md`):
//! [`meta`], [`families`], [`activities`], [`days`], [`chat`], [`polls`], [`proposals`].
//! Every operation validates first, then writes in one transaction tagged with an origin (who
//! did it), so a refused write changes nothing.

mod activities;
mod chat;
mod days;
mod document;
mod families;
pub(crate) mod meta;
pub(crate) mod polls;
pub(crate) mod proposals;

pub(crate) use activities::activity_prelim;
pub use activities::ActivityEdit;
pub use document::TripDoc;
pub(crate) use families::family_prelim;
