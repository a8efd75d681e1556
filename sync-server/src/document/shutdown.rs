//! **Shutdown**: every connection is closed with 1001 and every loaded trip compacted, so the
//! next start loads each from one snapshot, as far as a deadline allows: a trip not compacted
//! by then keeps its log (everything in it is already durable) and is named in the report.
//! The server's own shutdown (`server::Running::stop`) orders this among its other steps and
//! flushes the store once, last.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Instant;

use caravan_wire::close;
use persistence::TripId;

use super::compaction::compact;
use super::peer::CloseReason;
use super::rooms::Rooms;

/// What a shutdown compacted, and what it left in the log for want of time.
#[derive(Debug, Default)]
pub struct ShutdownReport {
    /// Trips whose compaction ended (folded, had nothing to fold, or failed and kept its log).
    pub compacted: usize,
    /// Trips not compacted before the deadline; their logs are loaded at the next start.
    pub skipped: Vec<TripId>,
}

impl Rooms {
    /// Closes every room and its connections, then compacts every trip that was loaded, one
    /// after another, until `deadline`.
    pub async fn shutdown(&self, deadline: tokio::time::Instant) -> ShutdownReport {
        let rooms = self.forget_all();
        for room in &rooms {
            room.close(CloseReason::new(
                close::GOING_AWAY,
                "the server is shutting down",
            ));
        }
        let services = self.services().clone();
        let trips: Vec<TripId> = rooms.iter().map(|r| r.trip.clone()).collect();
        let done = Arc::new(Mutex::new(0usize));
        let progress = done.clone();
        let until = deadline.into_std();
        let todo = trips.clone();
        let compacting = tokio::task::spawn_blocking(move || {
            // Each compaction goes through the store's door: the queue goes in first.
            for trip in &todo {
                if Instant::now() >= until {
                    break;
                }
                compact(
                    services.store.as_ref(),
                    trip,
                    &services.metrics,
                    &services.health,
                );
                *progress.lock() += 1;
            }
        });
        // A compaction still running at the deadline is not waited for: its trip's log is
        // durable as it is, and the process is about to exit.
        let _ = tokio::time::timeout_at(deadline, compacting).await;
        let compacted = *done.lock();
        ShutdownReport {
            compacted,
            skipped: trips[compacted..].to_vec(),
        }
    }
}
