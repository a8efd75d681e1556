//! The assistant inside `caravan serve`, attached to each trip's room instead of connecting
//! to it (an `ai_bridge::TripLink`, as Hocuspocus's `DirectConnection` is for its server).
//!
//! A protocol client would get every update of the trip relayed to it, decode it and apply it
//! to its copy, and wake for each. Attached, the assistant costs nothing while people change
//! what it does not read: the room wakes it only when an update from someone else changes one
//! of `ai_bridge::WATCHED_ROOTS` (see `document::watch`), and its copy catches up (one diff
//! against its state vector) only when it is about to read. What it writes, and its presence,
//! go through the room's one path for a connection's frames (`Room::receive`, origin
//! `Origin::Assistant`): checked, stored, then relayed, as anyone's.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

use ai_bridge::{Linker, TripLink, WATCHED_ROOTS};
use persistence::TripId;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use yrs::sync::Awareness;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, Update};

use crate::document::{ChangeError, Origin, Room};
use crate::protocol::{messages, DocConnection, Identity, RootKind};
use crate::state::AppState;

/// How often the assistant renews its presence (the room forgets a state not renewed for
/// `--awareness-timeout-secs`, 30 s by default; y-protocols clients renew every 15 s).
const PRESENCE_RENEWAL: Duration = Duration::from_secs(15);

/// The transaction origin of what the assistant's copy receives from the room: not sent back.
const FROM_ROOM: &str = "caravan-room";

/// Key of the observer that sends what the assistant writes to the room.
const OUTGOING: &str = "caravan-assistant-outgoing";

/// The roots the assistant reads, with their kinds in the trip model (`docs/schema.md`:
/// `chat` is a `Y.Array`, every other root a `Y.Map`).
fn watched_roots() -> Vec<(&'static str, RootKind)> {
    WATCHED_ROOTS
        .iter()
        .map(|&root| match root {
            doc_model::roots::CHAT => (root, RootKind::Array),
            _ => (root, RootKind::Map),
        })
        .collect()
}

/// Opens [`DirectLink`]s to the trips of this server.
#[derive(Clone)]
pub struct DirectLinker {
    app: AppState,
}

impl DirectLinker {
    /// Links to the rooms of `app`.
    pub fn new(app: AppState) -> DirectLinker {
        DirectLinker { app }
    }
}

impl Linker for DirectLinker {
    type Link = DirectLink;

    async fn open(&self, trip: &str, presence: &str) -> DirectLink {
        DirectLink::open(self.app.clone(), trip, presence).await
    }
}

/// The assistant attached to one trip's room.
pub struct DirectLink {
    inner: Arc<Inner>,
    renewal: JoinHandle<()>,
}

/// What the link and its observer share.
struct Inner {
    app: AppState,
    /// `None` when the trip id does not parse (the link is refused).
    trip: Option<TripId>,
    origin: Origin,
    /// The assistant's copy of the trip.
    copy: Doc,
    /// Its presence, with the clock y-protocols renews it with.
    awareness: Mutex<Awareness>,
    /// The protocol state of the assistant's "connection" (its presence, its rights).
    session: Mutex<DocConnection>,
    /// The room attached to (once attached, always the same one).
    room: Mutex<Option<Arc<Room>>>,
    /// Woken by the room when a watched root changes.
    wake: Arc<Notify>,
    /// Why the link ended, once it did.
    refused: Mutex<Option<String>>,
}

impl DirectLink {
    async fn open(app: AppState, trip: &str, presence: &str) -> DirectLink {
        let conn = app.rooms.next_conn_id();
        let identity = Identity {
            sub: Some(ai_bridge::ASSISTANT.to_owned()),
            role: Some("assistant".to_owned()),
            family: None,
            is_assistant: true,
        };
        let copy = Doc::new();
        let mut awareness = Awareness::new(copy.clone());
        awareness.set_local_state_raw(presence.to_owned());
        let inner = Arc::new(Inner {
            trip: TripId::parse(trip).ok(),
            refused: Mutex::new(None),
            origin: Origin::Assistant(conn),
            awareness: Mutex::new(awareness),
            session: Mutex::new(DocConnection::new(true).with_identity(identity)),
            room: Mutex::new(None),
            wake: Arc::new(Notify::new()),
            copy,
            app,
        });
        if inner.trip.is_none() {
            *inner.refused.lock() = Some(format!("{trip:?} is not a trip id"));
        }
        let outgoing = Arc::downgrade(&inner);
        let from_room: yrs::Origin = FROM_ROOM.into();
        if let Err(e) = inner.copy.observe_update_v1(OUTGOING, move |txn, event| {
            if txn.origin() == Some(&from_room) {
                return;
            }
            if let Some(inner) = outgoing.upgrade() {
                inner.send(event.update.clone());
            }
        }) {
            tracing::error!(%trip, error = %e, "the assistant cannot send what it writes");
        }
        inner.catch_up().await;
        let renewing = Arc::downgrade(&inner);
        // Renewals of trips opened together are spread over the period, not sent together.
        let first =
            tokio::time::Instant::now() + PRESENCE_RENEWAL.mul_f64(ai_bridge::runner::spread(trip));
        let renewal = tokio::spawn(async move {
            let mut every = tokio::time::interval_at(first, PRESENCE_RENEWAL);
            loop {
                every.tick().await;
                let Some(inner) = renewing.upgrade() else {
                    return;
                };
                inner.renew_presence();
            }
        });
        DirectLink { inner, renewal }
    }
}

impl Inner {
    /// The room, attached (watched, presence shown) the first time. A room closes only when
    /// its trip is deleted or the server stops (a room with people in it is never unloaded):
    /// then the link ends, rather than load the trip again and write the assistant's reactions
    /// into it, which would bring a deleted trip back. People opening the trip again open a
    /// new link.
    async fn room(&self) -> Option<Arc<Room>> {
        let current = self.room.lock().clone();
        if let Some(room) = current {
            if room.is_open() {
                return Some(room);
            }
            self.end("the trip's room closed (deleted, or the server is stopping)");
            return None;
        }
        let trip = self.trip.as_ref()?;
        let conn = self
            .origin
            .connection()
            .expect("the assistant has a connection id");
        let roots = watched_roots();
        let attached = self
            .app
            .rooms
            .with_room(trip, |room| room.watch(conn, &roots, self.wake.clone()))
            .await;
        match attached {
            Ok((room, ())) => {
                *self.room.lock() = Some(room.clone());
                self.show_presence(&room);
                Some(room)
            }
            Err(e) => {
                self.end(&format!("the assistant cannot attach to the trip: {e}"));
                None
            }
        }
    }

    /// Ends the link with `why` (the runner stops at its next look).
    fn end(&self, why: &str) {
        let mut refused = self.refused.lock();
        if refused.is_none() {
            tracing::info!(trip = ?self.trip, why, "the assistant's link to the trip ended");
            *refused = Some(why.to_owned());
        }
    }

    /// Brings the copy up to date.
    async fn catch_up(&self) {
        let Some(room) = self.room().await else {
            return;
        };
        let state_vector = self.copy.transact().state_vector();
        let missing = room.encode_state(Some(&state_vector));
        match Update::decode_v1(&missing) {
            Ok(update) => {
                let mut txn = self.copy.transact_mut_with(FROM_ROOM);
                if let Err(e) = txn.apply_update(update) {
                    tracing::warn!(trip = %room.trip, error = %e, "the assistant's copy did not catch up");
                }
            }
            Err(e) => {
                tracing::warn!(trip = %room.trip, error = %e, "the room's state did not decode")
            }
        }
    }

    /// Sends an update the assistant wrote to the room; once the room closed, nothing is
    /// sent (the link is ending: see [`Inner::room`]).
    fn send(&self, update: Vec<u8>) {
        let room = self.room.lock().clone();
        let Some(room) = room else { return };
        let frame = messages::sync_update(&update);
        let outcome = room.receive(&self.origin, &mut self.session.lock(), &frame);
        match outcome {
            Ok(_) => {}
            Err(ChangeError::Closed) => self.end("the trip's room closed"),
            Err(e) => {
                tracing::warn!(trip = %room.trip, error = %e, "the trip refused what the assistant wrote")
            }
        }
    }

    /// Shows the assistant's presence in `room`.
    fn show_presence(&self, room: &Room) {
        let Ok(update) = self.awareness.lock().update() else {
            return;
        };
        let frame = messages::awareness(&update);
        if let Err(e) = room.receive(&self.origin, &mut self.session.lock(), &frame) {
            tracing::debug!(trip = %room.trip, error = %e, "the assistant's presence was not shown");
        }
    }

    /// Renews the assistant's presence (a new clock, the same state) before the room forgets it.
    fn renew_presence(&self) {
        let room = self.room.lock().clone();
        let Some(room) = room.filter(|room| room.is_open()) else {
            return;
        };
        {
            let mut awareness = self.awareness.lock();
            if let Some(state) = awareness.local_state_raw() {
                let state = state.to_string();
                awareness.set_local_state_raw(state);
            }
        }
        self.show_presence(&room);
    }
}

impl TripLink for DirectLink {
    fn doc(&self) -> &Doc {
        &self.inner.copy
    }

    async fn synced(&self) {}

    async fn changed(&self) {
        self.inner.wake.notified().await
    }

    async fn catch_up(&self) {
        self.inner.catch_up().await
    }

    fn refused(&self) -> Option<String> {
        self.inner.refused.lock().clone()
    }

    async fn close(self) {
        self.renewal.abort();
        let _ = self.inner.copy.unobserve_update_v1(OUTGOING);
        let room = self.inner.room.lock().take();
        if let Some(room) = room {
            let conn = self.inner.origin.connection().expect("a connection id");
            room.unwatch(conn);
            room.leave(&self.inner.origin, &mut self.inner.session.lock());
        }
    }
}
