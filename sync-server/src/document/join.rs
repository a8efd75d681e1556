//! **Join** and **leave**: a connection enters its trip's room and is greeted (sync step 1,
//! everyone's presence); when it goes, its presence goes with it. The first person in opens
//! the trip on the event feed, the last one out closes it (the assistant does not count).

use std::time::Instant;

use caravan_wire::TripEvent;

use super::change::ChangeError;
use super::origin::Origin;
use super::peer::Peer;
use super::room::Room;
use crate::protocol::DocConnection;

impl Room {
    /// Adds connection `origin` (as `peer`) and sends it the opening messages. Fails with
    /// [`ChangeError::Closed`] when the room closed meanwhile (see `Rooms::with_room`).
    pub fn join(
        &self,
        origin: &Origin,
        peer: Peer,
        session: &DocConnection,
    ) -> Result<(), ChangeError> {
        let Some(conn) = origin.connection() else {
            return Ok(());
        };
        let mut state = self.lock_open()?;
        let mut effects = Vec::with_capacity(2);
        session.open(&state.doc, &mut effects);
        state.peers.insert(conn, peer);
        state.idle_since = None;
        if !state.people_here && state.people() > 0 {
            state.people_here = true;
            self.services.events.publish(|| TripEvent::Opened {
                trip: self.trip.to_string(),
            });
        }
        // Opening effects are replies only: nothing to store, so nothing can fail.
        let _ = self.carry_out(&mut state, origin, &mut effects);
        Ok(())
    }

    /// Removes connection `origin`; its presence goes and the others are told.
    pub fn leave(&self, origin: &Origin, session: &mut DocConnection) {
        let Some(conn) = origin.connection() else {
            return;
        };
        let mut state = self.lock();
        state.peers.remove(&conn);
        let mut effects = Vec::new();
        session.close(&mut state.doc, &mut effects);
        let _ = self.carry_out(&mut state, origin, &mut effects);
        if state.peers.is_empty() && state.idle_since.is_none() {
            state.idle_since = Some(Instant::now());
        }
        if state.people_here && state.people() == 0 {
            state.people_here = false;
            self.services.events.publish(|| TripEvent::Closed {
                trip: self.trip.to_string(),
            });
        }
    }
}
