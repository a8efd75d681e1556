//! How the assistant reaches a trip: a [`TripLink`] gives it a copy of the trip's document
//! (what the assistant writes to it goes to the trip), shows its presence, and wakes it when the
//! trip changed in a part it reads.
//!
//! Two links exist. [`ProtocolLink`] is an ordinary client over the protocol
//! (`caravan_client`): `caravan assistant` uses it against any server, and every update of the
//! trip reaches its copy. Inside `caravan serve` the assistant attaches to the room directly
//! (`sync_server::server::assistant_link`, as Hocuspocus's `DirectConnection` does): no socket,
//! no copy of each update, and no wake-up while people change parts it does not read
//! ([`WATCHED_ROOTS`]); its copy catches up only when it is about to read.

use std::future::Future;
use std::sync::Arc;

use caravan_client::{Client, ClientConfig, Status};
use tokio::sync::Notify;
use yrs::Doc;

/// The trip's roots the assistant reads (every root of the trip model): a change anywhere
/// else (a root no trip has) never wakes it.
pub const WATCHED_ROOTS: [&str; 7] = doc_model::roots::ALL;

/// Key of the protocol link's observer of its document.
const OBSERVER: &str = "caravan-assistant";

/// One trip, as the assistant works in it.
pub trait TripLink: Send + Sync + 'static {
    /// The assistant's copy of the trip's document. What is written to it (outside of
    /// [`TripLink::catch_up`]) goes to the trip.
    fn doc(&self) -> &Doc;

    /// Resolves once the copy holds the trip (the first sync).
    fn synced(&self) -> impl Future<Output = ()> + Send;

    /// Resolves when the trip changed in a part the assistant reads, since the last call.
    fn changed(&self) -> impl Future<Output = ()> + Send;

    /// Brings the copy up to date before the assistant reads it, and sends what could not be
    /// sent before (a link whose copy receives every update has nothing to do).
    fn catch_up(&self) -> impl Future<Output = ()> + Send;

    /// Why the trip refused the assistant or closed the link, once it did.
    fn refused(&self) -> Option<String>;

    /// Leaves the trip (its presence goes with it).
    fn close(self) -> impl Future<Output = ()> + Send;
}

/// Opens links to trips, for [`crate::runner::Trips`].
pub trait Linker: Clone + Send + Sync + 'static {
    /// The links it opens.
    type Link: TripLink;

    /// Opens a link to `trip`, showing `presence` (an awareness state, JSON) to its people.
    fn open(&self, trip: &str, presence: &str) -> impl Future<Output = Self::Link> + Send;
}

/// The assistant as an ordinary client over the protocol.
pub struct ProtocolLink {
    client: Client,
    changed: Arc<Notify>,
}

impl TripLink for ProtocolLink {
    fn doc(&self) -> &Doc {
        self.client.doc()
    }

    async fn synced(&self) {
        self.client.wait_synced().await
    }

    async fn changed(&self) {
        self.changed.notified().await
    }

    async fn catch_up(&self) {}

    fn refused(&self) -> Option<String> {
        (self.client.status() == Status::Closed).then(|| {
            self.client
                .last_refusal()
                .map_or_else(|| "the connection closed".to_owned(), |r| format!("{r:?}"))
        })
    }

    async fn close(self) {
        let _ = self.client.doc().unobserve_update_v1(OBSERVER);
        self.client.close().await
    }
}

/// Opens [`ProtocolLink`]s to the server at a sync URL (`ws://host:port/sync`), with a token.
#[derive(Clone)]
pub struct ProtocolLinker {
    sync_url: String,
    token: Option<String>,
}

impl ProtocolLinker {
    /// Links through `sync_url`, with `token` if the server wants one.
    pub fn new(sync_url: String, token: Option<String>) -> ProtocolLinker {
        ProtocolLinker { sync_url, token }
    }
}

impl Linker for ProtocolLinker {
    type Link = ProtocolLink;

    async fn open(&self, trip: &str, presence: &str) -> ProtocolLink {
        let mut config = ClientConfig::new(self.sync_url.clone(), trip.to_owned());
        if let Some(token) = &self.token {
            config = config.with_token(token.clone());
        }
        let client = Client::connect(config);
        client.set_awareness(presence);
        let changed = Arc::new(Notify::new());
        let notify = changed.clone();
        if let Err(e) = client
            .doc()
            .observe_update_v1(OBSERVER, move |_, _| notify.notify_one())
        {
            tracing::error!(%trip, error = %e, "cannot follow the trip's changes");
        }
        ProtocolLink { client, changed }
    }
}
