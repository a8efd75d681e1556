//! The trip document's schema on top of yrs (`docs/schema.md`): typed values ([`types`]),
//! forgiving reads ([`read`]), validated writes ([`TripDoc`]), proposals' edit operations.
//!
//! Pure: no I/O, no async. Every client of Caravan (the server, the assistant, the tools)
//! reads and writes trips through this crate; `clients/web` has its TypeScript twin.

pub mod conflicts;
mod convert;
mod import;
mod polls;
mod proposal_ops;
pub mod proposals;
pub mod read;
pub mod sample;
pub mod tally;
pub mod time;
mod trip_doc;
pub mod types;
pub mod validate;

pub use conflicts::{
    activity_cost, detect as detect_conflicts, great_circle_km, participants, Conflict,
    ConflictKind, ConflictRules,
};
pub use import::{encode_trip, validate_trip, Invalid};
pub use polls::NewPoll;
pub use proposal_ops::{check_ops, Acceptance};
pub use proposals::{EditOp, Placement};
pub use read::{read_json, read_trip, ReadTrip, Skipped};
pub use tally::{tally, Tally, Weighting};
pub use trip_doc::{ActivityEdit, TripDoc};
pub use types::*;
pub use validate::ModelError;

/// Names of the top-level shared types of a trip's `Y.Doc` (DESIGN §3).
pub mod roots {
    /// `Y.Map`: title, dates, currency, budget, status.
    pub const META: &str = "meta";
    /// `Y.Map` id -> `Y.Map`: the families and their members.
    pub const FAMILIES: &str = "families";
    /// `Y.Map` id -> `Y.Map`: activities, scheduled or still ideas.
    pub const ACTIVITIES: &str = "activities";
    /// `Y.Map` date -> `Y.Map`: day titles and notes.
    pub const DAYS: &str = "days";
    /// `Y.Map` id -> `Y.Map`: polls with options and votes.
    pub const POLLS: &str = "polls";
    /// `Y.Map` id -> `Y.Map`: suggested edits awaiting a decision.
    pub const PROPOSALS: &str = "proposals";
    /// `Y.Array`: chat messages.
    pub const CHAT: &str = "chat";
    /// Every root, in the order of the design's table.
    pub const ALL: [&str; 7] = [META, FAMILIES, ACTIVITIES, DAYS, POLLS, PROPOSALS, CHAT];
}
