//! The protocol state of one client's connection to a room.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use yrs::ClientID;

use super::decode::{decode_frame, Incoming};
use super::effect::Effect;
use super::presence::{self, Identity, Owner, PresenceRefusal};
use super::room_doc::RoomDoc;
use super::{messages, ProtocolError};

/// Presence keys of connections: each [`DocConnection`] gets its own.
static NEXT_PRESENCE_KEY: AtomicU64 = AtomicU64::new(1);

/// The protocol state of one client's connection to a room.
///
/// It remembers which awareness client ids the connection owns (to remove them when it
/// closes; nobody else may change them), who it is (its verified identity, written into its
/// presence) and whether it may write. It holds no socket: the caller feeds it frames and
/// carries out the [`Effect`]s.
#[derive(Debug)]
pub struct DocConnection {
    can_write: bool,
    identity: Identity,
    /// This connection's key in the room's presence owners.
    presence_key: u64,
    /// Client ids this connection introduced.
    controlled: HashSet<ClientID>,
    /// Updates refused (permission denied) and not yet reported by [`Self::take_denied`].
    denied: usize,
    /// Presence entries refused and not yet reported by [`Self::take_presence_refusals`].
    presence_refused: Vec<PresenceRefusal>,
}

impl DocConnection {
    /// A connection that may (or may not) change the document, with no verified identity.
    pub fn new(can_write: bool) -> DocConnection {
        DocConnection {
            can_write,
            identity: Identity::default(),
            presence_key: NEXT_PRESENCE_KEY.fetch_add(1, Ordering::Relaxed),
            controlled: HashSet::new(),
            denied: 0,
            presence_refused: Vec::new(),
        }
    }

    /// The same connection, verified as `identity`.
    pub fn with_identity(mut self, identity: Identity) -> DocConnection {
        self.identity = identity;
        self
    }

    /// Presence entries refused since the last call (to log and count them).
    pub fn take_presence_refusals(&mut self) -> Vec<PresenceRefusal> {
        std::mem::take(&mut self.presence_refused)
    }

    /// Whether this connection may change the document.
    pub fn can_write(&self) -> bool {
        self.can_write
    }

    /// How many updates were refused since the last call (to log and count them).
    pub fn take_denied(&mut self) -> usize {
        std::mem::take(&mut self.denied)
    }

    /// What the server says first: sync step 1, then everybody's awareness.
    pub fn open(&self, room: &RoomDoc, effects: &mut Vec<Effect>) {
        effects.push(Effect::Reply(messages::sync_step1(&room.state_vector())));
        if let Some(states) = room.awareness_message() {
            effects.push(Effect::Reply(states));
        }
    }

    /// Handles one binary frame from the client.
    ///
    /// On error, effects of the frame's earlier messages may already be in `effects` and must
    /// still be carried out; the connection is then closed with the error's reason.
    pub fn handle_frame(
        &mut self,
        room: &mut RoomDoc,
        frame: &[u8],
        effects: &mut Vec<Effect>,
    ) -> Result<(), ProtocolError> {
        for message in decode_frame(frame)? {
            match message {
                Incoming::SyncStep1(sv) => {
                    effects.push(Effect::Reply(messages::sync_step2(&room.diff(&sv))));
                }
                Incoming::Update { update, raw } => {
                    if update.is_empty() {
                        continue;
                    }
                    if !self.can_write {
                        self.denied += 1;
                        effects.push(Effect::Reply(messages::permission_denied(
                            "this connection may only read the trip",
                        )));
                        continue;
                    }
                    room.integrate(update, raw, effects)?;
                }
                Incoming::Awareness(update) => {
                    let awareness = &room.awareness;
                    let (accepted, refused) = presence::check(
                        update,
                        self.presence_key,
                        &room.owners,
                        &self.identity,
                        |client| awareness.meta(client).map(|(clock, _)| clock),
                    );
                    if let Some(first) = refused.first() {
                        effects.push(Effect::Reply(messages::permission_denied(&first.reason())));
                        self.presence_refused.extend(refused);
                    }
                    if accepted.clients.is_empty() {
                        continue;
                    }
                    let ids: Vec<ClientID> = accepted.clients.keys().copied().collect();
                    let relayed = messages::awareness(&accepted);
                    if room.apply_awareness(accepted).is_some() {
                        for client in ids {
                            self.controlled.insert(client);
                            room.owners.insert(
                                client,
                                Owner {
                                    connection: self.presence_key,
                                    sub: self.identity.sub.clone(),
                                },
                            );
                        }
                        effects.push(Effect::Broadcast(relayed));
                    }
                }
                Incoming::AwarenessQuery => {
                    if let Some(states) = room.awareness_message() {
                        effects.push(Effect::Reply(states));
                    }
                }
                Incoming::Auth => {}
                Incoming::Saved(n) => effects.push(Effect::AckWhenSaved(n)),
            }
        }
        Ok(())
    }

    /// The connection is gone: its awareness states are removed and the others told; only
    /// its own ids (one taken over by a newer connection of the same person stays).
    pub fn close(&mut self, room: &mut RoomDoc, effects: &mut Vec<Effect>) {
        let clients: Vec<ClientID> = self
            .controlled
            .drain()
            .filter(|client| {
                room.owners
                    .get(client)
                    .is_some_and(|o| o.connection == self.presence_key)
            })
            .collect();
        for client in &clients {
            room.owners.remove(client);
        }
        if let Some(message) = room.remove_awareness(&clients) {
            effects.push(Effect::Broadcast(message));
        }
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
