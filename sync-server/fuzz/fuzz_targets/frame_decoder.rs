//! The frame decoder: any bytes decode to messages or to a clear error, never a panic.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sync_server::protocol::decode_frame;

fuzz_target!(|frame: &[u8]| {
    common::quiet_caught_panics();
    if let Err(e) = decode_frame(frame) {
        assert!(!e.to_string().is_empty());
        assert!(e.close_code() >= 1000);
    }
});
