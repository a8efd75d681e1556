//! **Relay**: replies and broadcasts go into each peer's bounded outbox, never to a socket
//! directly; the connection's writer drains it. A peer whose outbox is full is too slow to
//! keep up: it is dropped from the room and hung up once the relaying is done.

use bytes::Bytes;

use super::origin::ConnId;
use super::peer::Delivery;
use super::room::{Room, RoomState};

/// Connections found too slow while relaying, hung up by [`Room::drop_too_slow`].
#[derive(Default)]
pub(super) struct TooSlow(Vec<ConnId>);

impl Room {
    /// Sends `bytes` to connection `to` (if there is one and it is still here).
    pub(super) fn reply(
        &self,
        state: &RoomState,
        to: Option<ConnId>,
        bytes: Vec<u8>,
        too_slow: &mut TooSlow,
    ) {
        let Some(conn) = to else {
            return;
        };
        if let Some(peer) = state.peers.get(&conn) {
            self.services
                .metrics
                .bytes_out_total
                .inc_by(bytes.len() as u64);
            if let Delivery::TooSlow = peer.offer(Bytes::from(bytes)) {
                too_slow.0.push(conn);
            }
        }
    }

    /// Sends `bytes` to every connection of the room but `except` (the sender's).
    pub(super) fn broadcast(
        &self,
        state: &RoomState,
        except: Option<ConnId>,
        bytes: Vec<u8>,
        too_slow: &mut TooSlow,
    ) {
        let frame = Bytes::from(bytes);
        let mut sent = 0u64;
        for (&id, peer) in &state.peers {
            if Some(id) == except {
                continue;
            }
            match peer.offer(frame.clone()) {
                Delivery::Queued => sent += 1,
                Delivery::TooSlow => too_slow.0.push(id),
                Delivery::Gone => {}
            }
        }
        let metrics = &self.services.metrics;
        if frame.first() == Some(&caravan_wire::messages::MSG_SYNC) {
            metrics.updates_out_total.inc_by(sent);
        }
        metrics.bytes_out_total.inc_by(sent * frame.len() as u64);
    }

    /// Drops the connections found too slow from the room and hangs them up.
    pub(super) fn drop_too_slow(&self, state: &mut RoomState, too_slow: TooSlow) {
        for id in too_slow.0 {
            if let Some(peer) = state.peers.remove(&id) {
                self.services.metrics.error("slow_consumer");
                tracing::warn!(trip = %self.trip, conn = id, "connection too slow, closing it");
                peer.hang_up_too_slow();
            }
        }
    }
}
