//! Refuses updates whose structure no Yjs encoder writes, before yrs integrates them.
//!
//! A lib0 v1 update lists its blocks in groups, one group per client, each starting at a clock
//! and running on contiguously. Yjs and yrs always write one group per client, but their
//! decoders accept a client twice: yrs 0.28.1 then holds two blocks with the same id, and
//! integrating them reads freed memory (`resolve_conflict`, found by cargo-fuzz, kept in
//! `fuzz/known/`). yrs does not expose an update's groups, so this walks the encoding with yrs'
//! own decoders (`DecoderV1`, `ItemContent::decode`) only to read each group's header.

use std::collections::HashSet;

use yrs::block::{
    ItemContent, BLOCK_GC_REF_NUMBER, BLOCK_SKIP_REF_NUMBER, HAS_ORIGIN, HAS_PARENT_SUB,
    HAS_RIGHT_ORIGIN,
};
use yrs::encoding::read::Read;
use yrs::updates::decoder::{Decoder, DecoderV1};

/// Checks that no client has more than one group of blocks in the v1 update `payload`.
/// `payload` has already been decoded by yrs once, so the walk only meets well-formed blocks;
/// an update with at most one group (what a client sends as it edits) is not walked at all.
pub fn check_one_group_per_client(payload: &[u8]) -> Result<(), String> {
    let mut decoder = DecoderV1::from(payload);
    let groups: u32 = decoder.read_var().map_err(|e| e.to_string())?;
    if groups <= 1 {
        return Ok(());
    }
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
            skip_block(&mut decoder).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Reads one block past, in the order yrs' `Update::decode_block` reads it.
fn skip_block(decoder: &mut DecoderV1<'_>) -> Result<(), yrs::encoding::read::Error> {
    let info = decoder.read_info()?;
    match info {
        BLOCK_SKIP_REF_NUMBER => {
            let _len: u32 = decoder.read_var()?;
        }
        BLOCK_GC_REF_NUMBER => {
            decoder.read_len()?;
        }
        info => {
            if info & HAS_ORIGIN != 0 {
                decoder.read_left_id()?;
            }
            if info & HAS_RIGHT_ORIGIN != 0 {
                decoder.read_right_id()?;
            }
            if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
                if decoder.read_parent_info()? {
                    decoder.read_string()?;
                } else {
                    decoder.read_left_id()?;
                }
                if info & HAS_PARENT_SUB != 0 {
                    decoder.read_string()?;
                }
            }
            ItemContent::decode(decoder, info)?;
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
        check_one_group_per_client(&update).unwrap();
        let merged = Update::merge_updates([Update::decode_v1(&update).unwrap()]).encode_v1();
        check_one_group_per_client(&merged).unwrap();
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
        let refused = check_one_group_per_client(&update).unwrap_err();
        assert!(refused.contains("client 7"), "{refused}");
        // The same group once is fine.
        let mut once = vec![1u8];
        once.extend_from_slice(&group);
        once.push(0);
        check_one_group_per_client(&once).unwrap();
    }
}
