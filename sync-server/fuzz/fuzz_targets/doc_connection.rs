//! `DocConnection` with awareness: frames from two connections (the input split in two, each
//! part cut into frames) into one room. Nothing panics; presence stays JSON and owned: every
//! awareness state the room would send is JSON, so no stock client can be crashed by it; a
//! refusal that asks for a reload starts the room again, as the server reloads from its store.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sync_server::protocol::{DocConnection, Effect, RoomDoc};
use yrs::encoding::read::Read;
use yrs::updates::decoder::{Decode, DecoderV1};

fuzz_target!(|data: &[u8]| {
    common::quiet_caught_panics();
    let mut room = RoomDoc::new(yrs::Doc::new());
    let mut connections = [DocConnection::new(true), DocConnection::new(false)];
    let mut effects = Vec::new();
    for (i, frame) in data.split(|&b| b == 0xff).enumerate() {
        let connection = &mut connections[i % 2];
        if let Err(e) = connection.handle_frame(&mut room, frame, &mut effects) {
            connection.close(&mut room, &mut effects);
            connections[i % 2] = DocConnection::new(i % 2 == 0);
            if e.needs_reload() {
                // The server's room reloads its document from the store, which never saw the
                // refused update; this room has no store: it starts again from nothing.
                room = RoomDoc::new(yrs::Doc::new());
                connections = [DocConnection::new(true), DocConnection::new(false)];
            }
        }
        for effect in effects.drain(..) {
            if let Effect::Broadcast(bytes) | Effect::Reply(bytes) = effect {
                assert_awareness_is_json(&bytes);
            }
        }
    }
    if let Some(states) = room.awareness_message() {
        assert_awareness_is_json(&states);
    }
});

/// Every state of an awareness message the server sends is JSON (or `null`).
fn assert_awareness_is_json(bytes: &[u8]) {
    let mut decoder = DecoderV1::from(bytes);
    let Ok(tag) = decoder.read_var::<u64>() else {
        return;
    };
    if tag != 1 {
        return;
    }
    let payload = decoder
        .read_buf()
        .expect("the server's own message decodes");
    let update = yrs::sync::AwarenessUpdate::decode_v1(payload).expect("its update decodes");
    for entry in update.clients.values() {
        assert!(
            sync_server::protocol::presence::is_json(&entry.json),
            "the server would relay a state that is not JSON: {:?}",
            entry.json
        );
    }
}
