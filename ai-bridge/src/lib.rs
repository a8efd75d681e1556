//! The trip assistant (DESIGN §6): it joins trips as an ordinary client through
//! `caravan_client` and edits only through `doc_model`.
//!
//! | module | holds |
//! | --- | --- |
//! | [`engine`] | the assistant's reactions to a trip, free of I/O |
//! | [`model`] | language-model providers, breaker, cache, budgets (optional) |
//! | [`metrics`] | the assistant's Prometheus metrics |
//! | [`runner`] | joining trips through the event feed and `caravan_client`, running the engine |
//! | [`planner`] | the built-in planner: schedules ideas, fixes conflicts, suggests poll options |

pub mod engine;
pub mod metrics;
pub mod model;
pub mod planner;
pub mod runner;

pub use engine::{Engine, StepReport, ASSISTANT};
pub use runner::{run_trip, supervise, AssistantConfig};
