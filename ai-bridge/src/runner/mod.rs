//! The assistant at work, one job per file:
//!
//! | file | job |
//! | --- | --- |
//! | `config.rs` | [`AssistantConfig`]: where it connects, who it is, what it thinks with |
//! | `trip_loop.rs` | [`run_trip`]: the [`Assistant`](crate::Assistant) in one trip through a [`TripLink`](crate::TripLink), whenever the trip changed in a part it reads (and every `tick`, for poll deadlines) |
//! | `trips.rs` | [`Trips`]: one such task per trip people have open; a trip is left when its last person leaves |
//! | `event_feed.rs` | [`supervise`]: drives [`Trips`] from a server's trip event feed (`GET /api/events`) with protocol links, as `caravan assistant` does |
//!
//! Inside `caravan serve` the server drives [`Trips`] itself, with links attached to its rooms.

mod config;
mod event_feed;
mod trip_loop;
mod trips;

pub use config::AssistantConfig;
pub use event_feed::supervise;
pub use trip_loop::{run_trip, spread};
pub use trips::Trips;
