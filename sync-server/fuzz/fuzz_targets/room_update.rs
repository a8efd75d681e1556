//! A room's update path: bytes taken as a whole update (as `POST /api/trips/{id}/update`
//! sends them) into a room with content and a size limit. Nothing panics; a refused update
//! leaves the document as it was, unless the refusal asks for a reload from the store.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sync_server::protocol::{decode_update, RoomDoc};
use yrs::{Text, Transact};

fuzz_target!(|data: &[u8]| {
    common::quiet_caught_panics();
    let doc = yrs::Doc::new();
    doc.get_or_insert_text("notes")
        .insert(&mut doc.transact_mut(), 0, "keep me");
    let mut room = RoomDoc::new(doc).with_size_limit(0, 64 * 1024);
    let before = room.encode_state();
    let Ok(update) = decode_update(data) else {
        assert_eq!(room.encode_state(), before);
        return;
    };
    let mut effects = Vec::new();
    if let Err(e) = room.integrate(update, data, &mut effects) {
        if !e.needs_reload() {
            assert_eq!(
                room.encode_state(),
                before,
                "a refused update changed the room"
            );
        }
    }
});
