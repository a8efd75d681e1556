//! The trips the assistant is in, and joining and leaving them.

use std::collections::HashMap;

use tokio_util::sync::CancellationToken;

use super::{run_trip, AssistantConfig};
use crate::link::Linker;

/// The trips the assistant is in: one [`run_trip`] task per trip people have open, each
/// through a link its [`Linker`] opens.
pub struct Trips<K: Linker> {
    config: AssistantConfig,
    linker: K,
    running: HashMap<String, CancellationToken>,
    stop: CancellationToken,
}

impl<K: Linker> Trips<K> {
    /// No trip yet; every task stops when `stop` is cancelled.
    pub fn new(config: AssistantConfig, linker: K, stop: CancellationToken) -> Trips<K> {
        Trips {
            config,
            linker,
            running: HashMap::new(),
            stop,
        }
    }

    /// People opened `trip`: the assistant joins it (once).
    pub fn opened(&mut self, trip: String) {
        self.running.retain(|_, token| !token.is_cancelled());
        if self.running.contains_key(&trip) {
            return;
        }
        let token = self.stop.child_token();
        let (config, linker, stop) = (self.config.clone(), self.linker.clone(), token.clone());
        let name = trip.clone();
        tokio::spawn(async move {
            let link = linker.open(&name, &config.presence()).await;
            run_trip(config, link, name, stop).await
        });
        self.running.insert(trip, token);
    }

    /// The last person left `trip`: the assistant leaves it.
    pub fn closed(&mut self, trip: &str) {
        if let Some(token) = self.running.remove(trip) {
            token.cancel();
        }
    }

    /// Leaves every trip not in `open` (after events were missed).
    pub fn keep_only(&mut self, open: &[String]) {
        self.running.retain(|trip, token| {
            let keep = open.contains(trip);
            if !keep {
                token.cancel();
            }
            keep
        });
    }

    /// Trips the assistant is in.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// True when it is in no trip.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Leaves every trip.
    pub fn leave_all(&mut self) {
        for (_, trip) in self.running.drain() {
            trip.cancel();
        }
    }
}
