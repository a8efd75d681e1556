//! The trip assistant (DESIGN §6): one more participant of a trip. It edits only through
//! `doc_model`, and never changes the itinerary on its own initiative: it proposes.
//!
//! Its life, by file:
//!
//! | moment | module | holds |
//! | --- | --- | --- |
//! | attach | [`link`] | how it reaches a trip: over the protocol, or attached to a room inside the server |
//! | stay | [`runner`] | joining the trips people open (`trips.rs`, `event_feed.rs`), its loop in one trip (`trip_loop.rs`) |
//! | notice, react | [`reactions`] | [`Assistant::step`]: one file per reaction (chat answers, poll options, poll results, poll deadlines, conflict fixes, accepted proposals), free of I/O |
//! | understand | [`language`] | what a message says, with no model: addressed to the assistant, its intent (plan, check, move, remove, poll options, budget, what's on, ideas, summary, help) and entities (days, a family, a kind, an activity or poll named loosely, a time) |
//! | plan | [`planner`] | the built-in planner: schedules ideas, fixes conflicts, suggests poll options |
//! | plan (optional) | [`llm`] | a language model: providers, breaker, cache, budgets, the answer's schema and check |
//! | who | [`identity`] | the member id it writes as |
//! | count | [`metrics`] | its Prometheus metrics |
//!
//! Imports run one way: `runner` -> `reactions`, `llm`, `link`; `reactions` -> `language`,
//! `planner`; `language` -> `planner`; everything -> `doc_model`.

pub mod identity;
pub mod language;
pub mod link;
pub mod llm;
pub mod metrics;
pub mod planner;
pub mod reactions;
pub mod runner;

pub use link::{Linker, TripLink, WATCHED_ROOTS};
pub use reactions::{Assistant, LlmJob, StepReport, ASSISTANT};
pub use runner::{run_trip, supervise, AssistantConfig, Trips};
