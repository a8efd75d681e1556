//! Refuses updates that yrs decodes but must not integrate, before it does.
//!
//! Two shapes, both found by cargo-fuzz (`fuzz/known/`):
//! - **One client in two groups.** A lib0 v1 update lists its blocks in groups, one group per
//!   client, each starting at a clock and running on contiguously. Yjs and yrs always write one
//!   group per client, but their decoders accept a client twice: yrs 0.28.1 then holds two
//!   blocks with the same id, and integrating them reads freed memory (`resolve_conflict`).
//! - **A subdocument.** A trip has none (`docs/schema.md`), and a document block integrated
//!   into a room is never freed by yrs 0.28.1 (a reference cycle): each such update would leak
//!   a few KB for as long as the process runs.
//!
//! yrs does not expose an update's groups or blocks, so this walks the encoding with yrs' own
//! decoders (`DecoderV1`, `ItemContent::decode`), reading each group's header and each block's
//! content kind.

use std::collections::HashSet;

use yrs::block::{
    ItemContent, BLOCK_GC_REF_NUMBER, BLOCK_ITEM_DELETED_REF_NUMBER, BLOCK_ITEM_DOC_REF_NUMBER,
    BLOCK_ITEM_STRING_REF_NUMBER, BLOCK_SKIP_REF_NUMBER, HAS_ORIGIN, HAS_PARENT_SUB,
    HAS_RIGHT_ORIGIN,
};
use yrs::encoding::read::Read;
use yrs::updates::decoder::{Decoder, DecoderV1};

/// Bits of a block's info byte that name its content kind.
const CONTENT_KIND: u8 = 0b1111;

/// Checks that the v1 update `payload` lists no client in more than one group of blocks and
/// carries no subdocument. `payload` has already been decoded by yrs once, so the walk only
/// meets well-formed blocks.
pub fn check_update_shape(payload: &[u8]) -> Result<(), String> {
    let mut decoder = DecoderV1::from(payload);
    let groups: u32 = decoder.read_var().map_err(|e| e.to_string())?;
    let mut clients = HashSet::with_capacity(groups as usize);
    for _ in 0..groups {
        let blocks: u32 = decoder.read_var().map_err(|e| e.to_string())?;
        let client = decoder.read_client().map_err(|e| e.to_string())?;
        let _clock: u32 = decoder.read_var().map_err(|e| e.to_string())?;
        if !clients.insert(client) {
            return Err(format!(
                "client {client} has more than one group of blocks (no Yjs encoder writes that)"
            ));
        }
        for _ in 0..blocks {
            skip_block(&mut decoder)?;
        }
    }
    Ok(())
}

/// Reads one block past, in the order yrs' `Update::decode_block` reads it; refuses a
/// subdocument.
fn skip_block(decoder: &mut DecoderV1<'_>) -> Result<(), String> {
    let read = |e: yrs::encoding::read::Error| e.to_string();
    let info = decoder.read_info().map_err(read)?;
    match info {
        BLOCK_SKIP_REF_NUMBER => {
            let _len: u32 = decoder.read_var().map_err(read)?;
        }
        BLOCK_GC_REF_NUMBER => {
            decoder.read_len().map_err(read)?;
        }
        info => {
            if info & HAS_ORIGIN != 0 {
                decoder.read_left_id().map_err(read)?;
            }
            if info & HAS_RIGHT_ORIGIN != 0 {
                decoder.read_right_id().map_err(read)?;
            }
            if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
                if decoder.read_parent_info().map_err(read)? {
                    decoder.read_string().map_err(read)?;
                } else {
                    decoder.read_left_id().map_err(read)?;
                }
                if info & HAS_PARENT_SUB != 0 {
                    decoder.read_string().map_err(read)?;
                }
            }
            match info & CONTENT_KIND {
                BLOCK_ITEM_DOC_REF_NUMBER => return Err("a trip holds no subdocuments".into()),
                // What typing sends, read past without the copy `ItemContent::decode` makes
                // (this walk is on every update's path).
                BLOCK_ITEM_STRING_REF_NUMBER => drop(decoder.read_string().map_err(read)?),
                BLOCK_ITEM_DELETED_REF_NUMBER => drop(decoder.read_len().map_err(read)?),
                _ => drop(ItemContent::decode(decoder, info).map_err(read)?),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, GetString, Map, ReadTxn, Text, Transact, Update, XmlFragment};

    /// A document with every kind of block content a trip holds, from three clients.
    fn rich_update() -> Vec<u8> {
        let doc = Doc::with_client_id(1);
        let text = doc.get_or_insert_text("notes");
        let map = doc.get_or_insert_map("meta");
        let fragment = doc.get_or_insert_xml_fragment("page");
        {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, "boots, rain jackets");
            text.remove_range(&mut txn, 0, 7);
            map.insert(&mut txn, "title", "Alps");
            map.insert(&mut txn, "days", 7);
            map.insert(&mut txn, "nested", yrs::MapPrelim::default());
            fragment.insert(&mut txn, 0, yrs::XmlElementPrelim::empty("p"));
        }
        for client in [2, 3] {
            let other = Doc::with_client_id(client);
            let txn = doc.transact();
            let state = txn.encode_state_as_update_v1(&yrs::StateVector::default());
            drop(txn);
            other
                .transact_mut()
                .apply_update(Update::decode_v1(&state).unwrap())
                .unwrap();
            let text = other.get_or_insert_text("notes");
            text.push(&mut other.transact_mut(), &format!(" from {client}"));
            let diff = other
                .transact()
                .encode_state_as_update_v1(&doc.transact().state_vector());
            doc.transact_mut()
                .apply_update(Update::decode_v1(&diff).unwrap())
                .unwrap();
        }
        assert!(text.get_string(&doc.transact()).contains("from 3"));
        let txn = doc.transact();
        txn.encode_state_as_update_v1(&yrs::StateVector::default())
    }

    #[test]
    fn what_yrs_encodes_passes() {
        let update = rich_update();
        check_update_shape(&update).unwrap();
        let merged = Update::merge_updates([Update::decode_v1(&update).unwrap()]).encode_v1();
        check_update_shape(&merged).unwrap();
    }

    #[test]
    fn a_client_in_two_groups_is_refused() {
        // Two groups for client 7, each one `deleted(1)` block at clock 0 on root "notes".
        let group = [
            1u8,
            7,
            0,
            0b0000_0001,
            1,
            5,
            b'n',
            b'o',
            b't',
            b'e',
            b's',
            1,
        ];
        let mut update = vec![2u8];
        update.extend_from_slice(&group);
        update.extend_from_slice(&group);
        update.push(0); // empty delete set
        Update::decode_v1(&update).expect("yrs itself accepts it");
        let refused = check_update_shape(&update).unwrap_err();
        assert!(refused.contains("client 7"), "{refused}");
        // The same group once is fine.
        let mut once = vec![1u8];
        once.extend_from_slice(&group);
        once.push(0);
        check_update_shape(&once).unwrap();
    }

    #[test]
    fn a_subdocument_is_refused() {
        let doc = Doc::with_client_id(4);
        let map = doc.get_or_insert_map("meta");
        map.insert(&mut doc.transact_mut(), "sub", Doc::new());
        let update = doc
            .transact()
            .encode_state_as_update_v1(&yrs::StateVector::default());
        let refused = check_update_shape(&update).unwrap_err();
        assert!(refused.contains("subdocument"), "{refused}");
    }
}
