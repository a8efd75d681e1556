//! A Rust client for Caravan's y-protocols sync over WebSocket (DESIGN §1). The assistant
//! issue builds it; the benchmarks and the assistant will use it.
