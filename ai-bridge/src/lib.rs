//! The trip assistant (DESIGN §6). It will join trips as an ordinary client through
//! `caravan_client` and edit only through `doc_model`; the assistant issue builds it.
