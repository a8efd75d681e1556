//! Caravan's server: y-protocols over WebSocket, the life of each trip's document, the HTTP
//! API, persistence, rights and metrics.
//!
//! Imports run one way, from the top of this table down; no module imports one above it.
//!
//! | layer | module | holds |
//! | --- | --- | --- |
//! | process | [`server`] | start, the router, the assistant in-process, the ordered stop |
//! | | [`maintenance`], [`panic_log`] | the offline commands; panics into the log |
//! | handlers | [`http`] | the REST API, one file per resource; `ApiError` and its conversions |
//! | | [`ws`] | the WebSocket endpoint: admission, session, reader, writer |
//! | state | [`state`] | what handlers share: rooms, auth, per-IP slots, the stop signal |
//! | | [`auth`], [`limits`] | who may do what; connections per IP, messages per second |
//! | a document's life | [`document`] | load, join, change, store, compact, unload, delete, shutdown |
//! | below | [`protocol`] | the per-connection y-protocols state machine, free of I/O |
//! | | [`config`], [`metrics`] | settings and their defaults; Prometheus metrics |
//!
//! `persistence` (the store), `doc_model` (the trip document) and `caravan_wire` (what the
//! server and its clients share on the wire) are crates of their own.

pub mod auth;
pub mod config;
pub mod document;
pub mod http;
pub mod limits;
pub mod maintenance;
pub mod metrics;
pub mod panic_log;
pub mod protocol;
pub mod server;
pub mod state;
pub mod ws;
