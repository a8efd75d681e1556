//! **Unload**: a room nobody has used for `--unload-after` leaves memory, and its log is
//! compacted; rooms that stay have their stale presence expired. The sweeper calls
//! [`Rooms::sweep`] every few seconds; a load at the cap of loaded trips unloads the room
//! idle the longest (`load`).

use std::sync::Arc;

use super::relay::TooSlow;
use super::room::Room;
use super::rooms::Rooms;

impl Rooms {
    /// Unloads `room` if it still has no connection; true when it did. Its log is queued
    /// for compaction.
    pub(super) fn unload(&self, room: &Arc<Room>) -> bool {
        let mut state = room.lock();
        if !state.peers.is_empty() || state.closed {
            return false;
        }
        state.closed = true;
        drop(state);
        self.forget(room);
        let services = self.services();
        services.metrics.docs_loaded.dec();
        services.metrics.doc_unloads_total.inc();
        services.queue_compaction(room.trip.clone(), None);
        true
    }

    /// Unloads the rooms nobody has used for `unload_after`, and expires presence not
    /// renewed for `awareness_timeout` in the others (everyone is told).
    pub fn sweep(&self) {
        let config = &self.services().config;
        let max_age_ms = config.awareness_timeout.as_millis() as u64;
        let mut idle = Vec::new();
        for room in self.all() {
            let mut state = room.lock();
            if let Some(message) = state.doc.expire_awareness(max_age_ms) {
                let mut too_slow = TooSlow::default();
                room.broadcast(&state, None, message, &mut too_slow);
                room.drop_too_slow(&mut state, too_slow);
            }
            if state
                .idle_since()
                .is_some_and(|since| since.elapsed() >= config.unload_after)
            {
                drop(state);
                idle.push(room);
            }
        }
        for room in idle {
            if self.unload(&room) {
                tracing::debug!(trip = %room.trip, "unloaded");
            }
        }
    }
}
