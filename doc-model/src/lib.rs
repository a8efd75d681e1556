//! The trip document's schema on top of yrs (`docs/schema.md`).
//!
//! Pure: no I/O, no async. Every client of Caravan (the server, the assistant, the tools)
//! reads and writes trips through this crate; `clients/web` has its TypeScript twin.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`roots`] | the names of the document's top-level shared types |
//! | [`types`] | the typed trip: meta, families, activities, days, polls, proposals and their edits, chat |
//! | [`time`], `convert` | times as RFC 3339 or epoch milliseconds; yrs values to JSON and back |
//! | [`validate`] | what a valid value is (ids, names, money, dates), and [`ModelError`] |
//! | [`read`] | forgiving reads: a whole trip from a `Doc` or JSON, what was skipped and why |
//! | [`conflicts`], [`tally`] | the trip's rules: what a conflict is, how a poll counts |
//! | [`sample`] | the sample trip |
//! | `trip_doc/` | validated writes ([`TripDoc`]), a file per part of the trip |
//! | [`view`] | the JSON view of a trip (`GET /api/trips/{id}`): the trip and its conflicts |
//! | `import` | a whole trip (JSON) written into a new document |
//!
//! Imports run down this table: `import` uses `trip_doc`; `trip_doc` and `view` use the rules, reads and
//! validation, which use the types; `tests/layout.rs` in `sync-server` keeps it so.

pub mod conflicts;
mod convert;
mod import;
pub mod read;
pub mod roots;
pub mod sample;
pub mod tally;
pub mod time;
mod trip_doc;
pub mod types;
pub mod validate;
pub mod view;

pub use conflicts::{
    activity_cost, detect_conflicts, great_circle_km, money, participants, Conflict, ConflictKind,
    ConflictRules, DEFAULT_DURATION_MIN,
};
pub use import::{encode_trip, validate_trip, Invalid};
pub use read::{read_json, read_trip, ReadTrip, Skipped};
pub use tally::{tally, Tally, Weighting};
pub use trip_doc::polls::NewPoll;
pub use trip_doc::proposals::{check_ops, Acceptance};
pub use trip_doc::{ActivityEdit, TripDoc};
pub use types::*;
pub use validate::ModelError;
pub use view::{trip_from_view, trip_view};
