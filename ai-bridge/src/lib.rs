//! The trip assistant (DESIGN §6): it joins trips as an ordinary client through
//! `caravan_client` and edits only through `doc_model`.
//!
//! | module | holds |
//! | --- | --- |
//! | [`planner`] | the built-in planner: schedules ideas, fixes conflicts, suggests poll options |

pub mod planner;
