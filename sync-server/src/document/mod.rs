//! The life of a trip's document, one file per moment (as Hocuspocus names them by hooks).
//!
//! | moment | file | what happens |
//! | --- | --- | --- |
//! | **load** | [`load`] | the first connection or request builds the document from the store (snapshot, then log); at the cap of loaded trips the one idle the longest is evicted first |
//! | **join** | [`join`] | a connection enters its trip's room and gets sync step 1 and everyone's presence; **leave** removes it and its presence |
//! | **change** | [`change`] | an update from anywhere (a connection, the REST API) takes one path: decoded, checked, applied, then stored and relayed |
//! | **store** | [`store`] (a folder: queue, append, the door, group commit, answers, health) | the update is queued for the trip's log and relayed; the queue is appended off the relay path, group commit writes it out, makes it durable and answers "saved" (or "not saved", in bounded time); a store that failed or is low on space takes no write |
//! | relay | [`relay`] | replies and broadcasts go into each peer's bounded outbox; a peer too slow to keep up is hung up |
//! | **compact** | [`compaction`] | after many updates, on unload and at shutdown, the log is folded into a snapshot, one trip at a time |
//! | watch | [`watch`] | the assistant inside the server follows a room without a socket: woken when a root it reads changes, reading the room only then |
//! | **unload** | [`unload`] | a room nobody used for a while leaves memory (and is compacted); stale presence expires |
//! | **delete** | [`delete`] | connections are closed with 4404 and the trip is erased |
//! | **shutdown** | [`shutdown`] | every connection is closed and every loaded trip compacted, until a deadline |
//!
//! Around them: [`room`] (a loaded trip and its peers under one lock), [`rooms`] (the
//! registry), [`retry`] (the one "the room closed, look it up again" policy), [`origin`] (who a change came
//! from), [`peer`] (a connection as a room sees it), [`events`] (the feed of opened, changed,
//! closed), [`services`] (what rooms need from the server).
//!
//! This layer knows nothing of HTTP or WebSocket: it is driven by `ws` and `http` through
//! `state`, and drives `protocol` (the per-connection state machine) and `persistence`.

pub mod change;
pub mod compaction;
pub mod delete;
pub mod events;
pub mod join;
pub mod load;
pub mod origin;
pub mod peer;
pub mod relay;
pub mod retry;
pub mod room;
pub mod rooms;
pub mod services;
pub mod shutdown;
pub mod store;
pub mod unload;
pub mod watch;

pub use change::{ChangeError, Changed};
pub use compaction::Compactor;
pub use events::EventFeed;
pub use load::{load_doc, LoadError, LoadedDoc};
pub use origin::{ConnId, Origin};
pub use peer::{CloseReason, Hangup, Peer};
pub use room::Room;
pub use rooms::Rooms;
pub use services::Services;
pub use shutdown::ShutdownReport;
pub use store::group_commit::GroupCommit;
pub use store::health::{StoreHealth, Unwritable, EXIT_STORE_FAILED};
pub use store::log_writer::{LogWriter, QueuedAppend};
pub use store::news::StoreNews;
pub use store::saved::NotSaved;
pub use store::trip_store::TripStore;
