//! **Store**: an update is queued for the trip's log, with its time and origin, and then
//! relayed (`log_writer` appends the queue off the relay path; group commit in `group_commit`
//! makes it durable and answers "saved"); once queued, the feed hears the trip changed, and a
//! long log is queued for compaction.

use super::log_writer::QueuedAppend;
use super::saved::NotSaved;
use crate::document::change::ChangeError;
use crate::document::origin::{ConnId, Origin};
use crate::document::room::{Room, RoomState};

impl Room {
    /// Queues `update` (from `origin`) for the trip's log; returns its group-commit ticket.
    /// When the store takes no writes (it failed, or the disk is almost full: see
    /// `store_health`), the origin's connection is hung up with 1011 and the reason: nothing
    /// after an unsaved change is relayed. (An append that fails later, in the log writer,
    /// hangs the origin up the same way and has the room reload: see `log_writer`.)
    pub(in crate::document) fn persist(
        &self,
        state: &mut RoomState,
        origin: &Origin,
        update: Vec<u8>,
    ) -> Result<u64, ChangeError> {
        let services = &self.services;
        // One lookup of the sender per update: its hang-up goes with the append, and its
        // ticket is kept for its "saved?" questions.
        let sender = origin.connection().and_then(|c| state.peers.get_mut(&c));
        if let Err(unwritable) = services.health.writable() {
            services.metrics.error("store_unwritable");
            if let Some(peer) = sender {
                NotSaved::Unwritable(unwritable.clone()).hang_up(&peer.hangup);
            }
            return Err(ChangeError::Unwritable(unwritable));
        }
        services.metrics.updates_in_total.inc();
        state.log_len += 1;
        state.log_bytes += update.len();
        services.health.appended(update.len());
        let ticket = services.commit.queue(QueuedAppend {
            trip: self.trip.clone(),
            at_ms: persistence::now_ms(),
            origin: origin.clone(),
            room: Some(self.news.clone()),
            sender: sender.as_ref().map(|peer| peer.hangup.clone()),
            update,
        });
        if let Some(peer) = sender {
            peer.last_ticket = ticket;
        }
        Ok(ticket)
    }

    /// Answers "saved?" number `n` of connection `conn` once everything it sent so far is
    /// durable (see `GroupCommit::answer_when_saved`). When it will not be (the store failed)
    /// or is not within `--saved-timeout-secs`, the connection is closed with 1011 and the
    /// reason instead: the client keeps what it sent as unsaved and sends it again when it
    /// reconnects.
    pub(in crate::document) fn answer_when_saved(
        &self,
        state: &RoomState,
        conn: Option<ConnId>,
        n: u64,
    ) {
        let Some((conn, peer)) = conn.and_then(|c| Some((c, state.peers.get(&c)?))) else {
            return;
        };
        self.services
            .commit
            .answer_when_saved(conn, peer, peer.last_ticket, n);
    }

    /// True when compactions of this trip fall behind its writers: the log not yet folded is
    /// more than twice what queues a compaction. The connections writing to it then wait
    /// (`ws::reader`) until a compaction catches up, so that a client rewriting a big text
    /// as fast as it can grows the store by at most that much, whatever the disk's speed.
    /// Never while compactions are put off for want of room (`health`): waiting would hold
    /// every writer for `--saved-timeout-secs` an update and fold nothing, and the low-water
    /// mark refuses writes before the disk is full.
    pub fn compaction_behind(&self) -> bool {
        if self.services.health.compactions_put_off() {
            return false;
        }
        let state = self.lock();
        let unfolded = state
            .doc
            .stored_bytes()
            .saturating_sub(state.compacted_bytes);
        let threshold = self
            .services
            .config
            .compact_after_log_bytes
            .max(state.compacted_bytes);
        unfolded > threshold.saturating_mul(2)
    }

    /// After a change stored one update or more: the feed is told, and a long log is queued
    /// for compaction: past `compact_after_updates` entries, or past `compact_after_log_bytes`
    /// and the size of the rest of the trip (so a log of big rewrites never grows without bound
    /// between count thresholds).
    pub(in crate::document) fn stored(&self, state: &mut RoomState) {
        let services = &self.services;
        services.events.publish_changed(&self.trip);
        let rest = state.doc.stored_bytes().saturating_sub(state.log_bytes);
        let too_many_bytes = state.log_bytes >= services.config.compact_after_log_bytes.max(rest);
        if state.log_len >= services.config.compact_after_updates || too_many_bytes {
            // The compaction folds (about) every entry logged so far; count afresh from here.
            state.log_len = 0;
            state.log_bytes = 0;
            services.queue_compaction(self.trip.clone(), Some(self.news.clone()));
        }
    }
}
