//! Names of the top-level shared types of a trip's `Y.Doc` (DESIGN §3).

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
