//! **Watch**: an in-process participant (the assistant inside the server) follows a room
//! without being one of its connections. It is woken when an update from anyone else changes
//! a root it watches, and reads the room (`Room::encode_state`) only when it wants to; its own
//! changes and presence go through the room like any connection's (`Room::receive`, with
//! `Origin::Assistant`). Nothing is relayed to it, so people's edits cost nothing more while
//! it watches.

use std::sync::Arc;

use tokio::sync::Notify;

use super::change::ChangeError;
use super::origin::ConnId;
use super::room::{Room, RoomState};
use crate::protocol::RootKind;

impl Room {
    /// Starts waking `wake` whenever an update from anyone but `watcher` changes one of
    /// `roots` (by name and kind). Fails with [`ChangeError::Closed`] when the room closed
    /// meanwhile.
    pub fn watch(
        &self,
        watcher: ConnId,
        roots: &[(&str, RootKind)],
        wake: Arc<Notify>,
    ) -> Result<(), ChangeError> {
        let mut state = self.lock_open()?;
        state.watchers.insert(watcher, wake);
        let mut watched = state.doc.watched_roots().to_vec();
        for &(root, kind) in roots {
            if !watched.iter().any(|(w, _)| &**w == root) {
                watched.push((Arc::from(root), kind));
            }
        }
        state.doc.watch_roots(watched);
        Ok(())
    }

    /// Stops waking `watcher`; with no watcher left, no root is watched.
    pub fn unwatch(&self, watcher: ConnId) {
        let mut state = self.lock();
        state.watchers.remove(&watcher);
        if state.watchers.is_empty() {
            state.doc.watch_roots(Vec::new());
        }
    }

    /// Wakes every watcher but the change's sender.
    pub(super) fn wake_watchers(&self, state: &RoomState, sender: Option<ConnId>) {
        for (&watcher, wake) in &state.watchers {
            if Some(watcher) != sender {
                wake.notify_one();
            }
        }
    }
}
