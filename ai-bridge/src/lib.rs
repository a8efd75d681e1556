//! The trip assistant (DESIGN §6): it joins trips through a [`link`] (an ordinary client
//! through `caravan_client`, or attached to the room inside the server) and edits only through
//! `doc_model`.
//!
//! | module | holds |
//! | --- | --- |
//! | [`engine`] | the assistant's reactions to a trip, free of I/O |
//! | [`model`] | language-model providers, breaker, cache, budgets (optional) |
//! | [`metrics`] | the assistant's Prometheus metrics |
//! | [`link`] | how the assistant reaches a trip: over the protocol, or attached in process |
//! | [`runner`] | joining the trips people open, running the engine in each |
//! | [`planner`] | the built-in planner: schedules ideas, fixes conflicts, suggests poll options |

pub mod engine;
pub mod link;
pub mod metrics;
pub mod model;
pub mod planner;
pub mod runner;

pub use engine::{Engine, StepReport, ASSISTANT};
pub use link::{Linker, TripLink, WATCHED_ROOTS};
pub use runner::{run_trip, supervise, AssistantConfig, Trips};
