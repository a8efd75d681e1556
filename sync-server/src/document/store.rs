//! **Store**: an update is appended to the trip's log, with its time and origin, before it
//! is relayed (group commit in `durability` then makes it durable and answers "saved"); once
//! stored, the feed hears the trip changed, and a long log is queued for compaction.

use caravan_wire::close;
use persistence::UpdateMeta;

use super::change::ChangeError;
use super::compaction::OnCompacted;
use super::origin::Origin;
use super::peer::CloseReason;
use super::room::{Room, RoomState};

impl Room {
    /// Appends `update` (from `origin`) to the trip's log; returns its group-commit ticket.
    /// When the store takes no writes (it failed, or the disk is almost full: see
    /// `store_health`) or the append fails, the origin's connection is hung up with 1011 and
    /// the reason: nothing after an unsaved change is relayed.
    pub(super) fn persist(
        &self,
        state: &mut RoomState,
        origin: &Origin,
        update: &[u8],
    ) -> Result<u64, ChangeError> {
        let services = &self.services;
        let meta = UpdateMeta {
            at_ms: persistence::now_ms(),
            origin: Some(origin.label()),
        };
        let refused = match services.health.writable() {
            Err(unwritable) => {
                services.metrics.error("store_unwritable");
                Some((unwritable.to_string(), ChangeError::Unwritable(unwritable)))
            }
            Ok(()) => match services.store.append(&self.trip, update, &meta) {
                Ok(()) => None,
                Err(e) => {
                    services.metrics.error("storage");
                    tracing::error!(trip = %self.trip, error = %e, "could not append an update");
                    services.health.record(&e);
                    Some(("the server could not save your change".to_owned(), e.into()))
                }
            },
        };
        if let Some((reason, error)) = refused {
            if let Some(peer) = origin.connection().and_then(|c| state.peers.get(&c)) {
                peer.hangup
                    .hang_up(CloseReason::new(close::SERVER_ERROR, reason));
            }
            return Err(error);
        }
        services.metrics.updates_in_total.inc();
        state.log_len += 1;
        state.log_bytes += update.len();
        services.health.appended(update.len());
        Ok(services.commit.ticket())
    }

    /// After a change stored one update or more: the feed is told, and a long log is queued
    /// for compaction: past `compact_after_updates` entries, or past `compact_after_log_bytes`
    /// and the size of the rest of the trip (so a log of big rewrites never grows without bound
    /// between count thresholds).
    pub(super) fn stored(&self, state: &mut RoomState) {
        let services = &self.services;
        services.events.publish_changed(&self.trip);
        let rest = state.doc.stored_bytes().saturating_sub(state.log_bytes);
        let too_many_bytes = state.log_bytes >= services.config.compact_after_log_bytes.max(rest);
        if state.log_len >= services.config.compact_after_updates || too_many_bytes {
            // The compaction folds (about) every entry logged so far; count afresh from here.
            state.log_len = 0;
            state.log_bytes = 0;
            let room = self.me.clone();
            let on_done: OnCompacted = Box::new(move |report| {
                if let Some(room) = room.upgrade() {
                    room.compacted(report.bytes_before, report.bytes_after);
                }
            });
            services.queue_compaction(self.trip.clone(), Some(on_done));
        }
    }
}
