//! **Parts**: which parts of a trip an update touches, worked out before it is applied.
//!
//! A part is a path from a root through map keys: `meta/title`, `activities/a1/date`,
//! `polls/p1/votes/ana`, `chat`. Rights per part (who may change which) need it for every
//! update, before yrs integrates it (yrs cannot take an update back).
//!
//! A Yjs update does not say where its blocks go in words: a block names its parent (a root,
//! or the id of the item holding a nested type) and its key only when it has no neighbour;
//! otherwise it names its neighbours (origins) and lives where they live. And a deletion names
//! only ids. yrs 0.28 does not let us look an id up in a document, so [`PartIndex`] keeps, for
//! every block the trip holds, the path it lives at (ranges of clocks of one client, merged
//! when they are contiguous and at the same path: a person typing a note is one range), and
//! whether it is deleted. [`PartIndex::analyze`] walks an update's blocks with yrs' own
//! decoders (as `update_shape` does), resolves each block's path from its parent or its
//! origins (in the index, or earlier in the same update), and each deletion's from the index;
//! [`PartIndex::record`] adds what was applied.
//!
//! What the server already has is no touch: blocks below its state vector (a client's sync
//! step 2 resends them), deletions of what is already deleted (a sync step 2 carries the
//! client's whole delete set). What cannot be placed (an origin the trip does not have: yrs
//! would keep the block pending) is reported as `unknown`, for the rights check to refuse
//! when the role is not allowed everywhere.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use yrs::block::{
    ItemContent, BLOCK_GC_REF_NUMBER, BLOCK_ITEM_DELETED_REF_NUMBER, BLOCK_ITEM_STRING_REF_NUMBER,
    BLOCK_SKIP_REF_NUMBER, HAS_ORIGIN, HAS_PARENT_SUB, HAS_RIGHT_ORIGIN,
};
use yrs::encoding::read::Read;
use yrs::updates::decoder::{Decode, Decoder, DecoderV1};
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, Update, ID};

/// A part of a trip: a root and the map keys below it (`["activities", "a1", "title"]`).
pub type PartPath = Arc<[Arc<str>]>;

/// Shows a part as the "permission denied" answer names it: `activities/a1/title`.
pub fn part_name(path: &[Arc<str>]) -> String {
    path.iter()
        .map(|segment| segment.as_ref())
        .collect::<Vec<_>>()
        .join("/")
}

/// Where every block of a trip lives, and whether it is deleted.
#[derive(Debug, Default)]
pub struct PartIndex {
    /// By client: the first clock of a span -> the span.
    spans: HashMap<ClientID, BTreeMap<u32, Span>>,
    /// Interned paths, by their number.
    paths: Vec<PartPath>,
    numbers: HashMap<PartPath, u32>,
    /// See [`PartIndex::is_stale`].
    stale: bool,
}

/// Clocks `[start, end)` of one client, all at one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    end: u32,
    path: u32,
    deleted: bool,
}

/// What an update would change, before it is applied.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Every part it inserts into or deletes from (beyond what the trip has).
    pub touched: BTreeSet<PartPath>,
    /// True when a block or deletion could not be placed (it refers to what the trip lacks).
    pub unknown: bool,
    /// Where its new blocks live: (client, first clock, end clock, path).
    placed: Vec<(ClientID, u32, u32, PartPath)>,
}

/// A block as the walk reads it.
struct Block {
    client: ClientID,
    clock: u32,
    len: u32,
    /// Only items are placed; garbage-collected ranges hold nothing.
    is_item: bool,
    origin: Option<ID>,
    right_origin: Option<ID>,
    parent: Option<Parent>,
    key: Option<Arc<str>>,
}

enum Parent {
    Root(Arc<str>),
    Item(ID),
}

impl PartIndex {
    /// The index of everything `doc` holds.
    pub fn of_doc(doc: &Doc) -> PartIndex {
        let txn = doc.transact();
        let state = txn.encode_state_as_update_v1(&StateVector::default());
        drop(txn);
        let mut index = PartIndex::default();
        if let Ok(update) = Update::decode_v1(&state) {
            if let Ok(analysis) = index.analyze(&state, &update, &StateVector::default()) {
                index.record(&analysis, &update);
            }
            // Whatever the whole state holds that cannot be placed lies in garbage-collected
            // ranges: nothing pending, nothing to build again for.
            index.stale = false;
        }
        index
    }

    /// What the v1 update `payload` (decoded by yrs as `update`) would change in a trip whose
    /// state vector is `known`. `Err` only for bytes yrs' decoders refuse.
    pub fn analyze(
        &self,
        payload: &[u8],
        update: &Update,
        known: &StateVector,
    ) -> Result<Analysis, String> {
        let blocks = read_blocks(payload)?;
        let mut analysis = Analysis::default();
        // Paths of this update's blocks, as they are found (a block may follow its origin).
        let mut found: HashMap<ClientID, BTreeMap<u32, (u32, PartPath)>> = HashMap::new();
        let mut waiting: Vec<&Block> = blocks.iter().filter(|b| b.is_item).collect();
        loop {
            let before = waiting.len();
            waiting.retain(|block| match self.place(block, &found) {
                Some(path) => {
                    found
                        .entry(block.client)
                        .or_default()
                        .insert(block.clock, (block.clock + block.len, path));
                    false
                }
                None => true,
            });
            if waiting.is_empty() || waiting.len() == before {
                break;
            }
        }
        analysis.unknown |= waiting
            .iter()
            .any(|block| block.clock + block.len > known.get(&block.client));
        for (&client, placed) in &found {
            let known = known.get(&client);
            for (&start, (end, path)) in placed {
                // What the trip has of it is already in the index.
                let from = start.max(known);
                if *end > from {
                    analysis.touched.insert(path.clone());
                    analysis.placed.push((client, from, *end, path.clone()));
                }
            }
        }
        for (client, ranges) in update.delete_set().iter() {
            for range in ranges.iter() {
                self.deleted_parts(
                    *client,
                    range.start,
                    range.end,
                    &found,
                    known,
                    &mut analysis,
                );
            }
        }
        Ok(analysis)
    }

    /// True when an update applied held blocks that could not be placed: yrs keeps them
    /// pending and integrates them once what they need arrives, unseen by the index. Build
    /// the index again from the document ([`PartIndex::of_doc`]) before the next analysis.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Adds what `analysis` found of an update that was applied, and its deletions.
    pub fn record(&mut self, analysis: &Analysis, update: &Update) {
        self.stale |= analysis.unknown;
        for (client, start, end, path) in &analysis.placed {
            let number = self.intern(path);
            self.insert(*client, *start, *end, number, false);
        }
        for (client, ranges) in update.delete_set().iter() {
            for range in ranges.iter() {
                self.mark_deleted(*client, range.start, range.end);
            }
        }
    }

    /// Spans in the index (for its memory figure in tests and metrics).
    pub fn span_count(&self) -> usize {
        self.spans.values().map(BTreeMap::len).sum()
    }

    /// The path of `block`, from its parent and key or from an origin, if it can be found.
    fn place(
        &self,
        block: &Block,
        found: &HashMap<ClientID, BTreeMap<u32, (u32, PartPath)>>,
    ) -> Option<PartPath> {
        match &block.parent {
            Some(parent) => {
                let base: PartPath = match parent {
                    Parent::Root(name) => Arc::from(vec![name.clone()]),
                    Parent::Item(id) => self.path_of(id, found)?,
                };
                Some(match &block.key {
                    Some(key) => base.iter().cloned().chain([key.clone()]).collect(),
                    None => base,
                })
            }
            None => block
                .origin
                .as_ref()
                .and_then(|id| self.path_of(id, found))
                .or_else(|| {
                    block
                        .right_origin
                        .as_ref()
                        .and_then(|id| self.path_of(id, found))
                }),
        }
    }

    /// The path of the block holding `id`: in the index, or earlier in the same update.
    fn path_of(
        &self,
        id: &ID,
        found: &HashMap<ClientID, BTreeMap<u32, (u32, PartPath)>>,
    ) -> Option<PartPath> {
        if let Some((_, span)) = self.span_at(id.client, id.clock) {
            return Some(self.paths[span.path as usize].clone());
        }
        let (_, (end, path)) = found.get(&id.client)?.range(..=id.clock).next_back()?;
        (id.clock < *end).then(|| path.clone())
    }

    fn span_at(&self, client: ClientID, clock: u32) -> Option<(u32, Span)> {
        let (&start, span) = self.spans.get(&client)?.range(..=clock).next_back()?;
        (clock < span.end).then_some((start, *span))
    }

    /// Adds to `analysis` the parts a deletion of `[start, end)` of `client` touches.
    fn deleted_parts(
        &self,
        client: ClientID,
        start: u32,
        end: u32,
        found: &HashMap<ClientID, BTreeMap<u32, (u32, PartPath)>>,
        known: &StateVector,
        analysis: &mut Analysis,
    ) {
        let mut clock = start;
        while clock < end {
            if let Some((span_start, span)) = self.span_at(client, clock) {
                if !span.deleted {
                    analysis
                        .touched
                        .insert(self.paths[span.path as usize].clone());
                }
                clock = span.end.max(span_start + 1);
                continue;
            }
            if let Some(path) = self.path_of(&ID::new(client, clock), found) {
                // Inserted and deleted by the same update: the insertion already counts.
                analysis.touched.insert(path);
                clock += 1;
                continue;
            }
            // Not in the index: below the trip's state, a range yrs collected as garbage
            // (deleted long ago); above it, something the trip does not have.
            if clock >= known.get(&client) {
                analysis.unknown = true;
                return;
            }
            let next = self
                .spans
                .get(&client)
                .and_then(|spans| spans.range(clock..).next().map(|(&s, _)| s))
                .unwrap_or(end);
            clock = next.min(known.get(&client)).max(clock + 1).min(end);
        }
    }

    fn intern(&mut self, path: &PartPath) -> u32 {
        if let Some(&number) = self.numbers.get(path) {
            return number;
        }
        let number = self.paths.len() as u32;
        self.paths.push(path.clone());
        self.numbers.insert(path.clone(), number);
        number
    }

    /// Records `[start, end)` of `client` at path `number`, merged with the span before it
    /// when contiguous and alike.
    fn insert(&mut self, client: ClientID, start: u32, end: u32, number: u32, deleted: bool) {
        let spans = self.spans.entry(client).or_default();
        let span = Span {
            end,
            path: number,
            deleted,
        };
        if let Some((_, before)) = spans.range_mut(..start).next_back() {
            if before.end == start && before.path == number && before.deleted == deleted {
                before.end = end;
                return;
            }
        }
        spans.insert(start, span);
    }

    /// Marks `[start, end)` of `client` deleted, splitting the spans it cuts.
    fn mark_deleted(&mut self, client: ClientID, start: u32, end: u32) {
        let Some(spans) = self.spans.get_mut(&client) else {
            return;
        };
        let first = spans.range(..=start).next_back().map_or(start, |(&s, _)| s);
        let cut: Vec<(u32, Span)> = spans
            .range(first..end)
            .filter(|(_, span)| span.end > start && !span.deleted)
            .map(|(&s, span)| (s, *span))
            .collect();
        for (span_start, span) in cut {
            spans.remove(&span_start);
            let (from, to) = (span_start.max(start), span.end.min(end));
            if span_start < from {
                spans.insert(span_start, Span { end: from, ..span });
            }
            spans.insert(
                from,
                Span {
                    end: to,
                    deleted: true,
                    ..span
                },
            );
            if to < span.end {
                spans.insert(
                    to,
                    Span {
                        end: span.end,
                        ..span
                    },
                );
            }
        }
    }
}

/// Reads the blocks of a v1 update, in the order yrs' `Update::decode_block` reads them.
fn read_blocks(payload: &[u8]) -> Result<Vec<Block>, String> {
    let read = |e: yrs::encoding::read::Error| e.to_string();
    let mut decoder = DecoderV1::from(payload);
    let groups: u32 = decoder.read_var().map_err(read)?;
    let mut blocks = Vec::new();
    for _ in 0..groups {
        let count: u32 = decoder.read_var().map_err(read)?;
        let client = decoder.read_client().map_err(read)?;
        let mut clock: u32 = decoder.read_var().map_err(read)?;
        for _ in 0..count {
            let info = decoder.read_info().map_err(read)?;
            let mut block = Block {
                client,
                clock,
                len: 0,
                is_item: false,
                origin: None,
                right_origin: None,
                parent: None,
                key: None,
            };
            match info {
                BLOCK_SKIP_REF_NUMBER => block.len = decoder.read_var().map_err(read)?,
                BLOCK_GC_REF_NUMBER => block.len = decoder.read_len().map_err(read)?,
                info => {
                    block.is_item = true;
                    if info & HAS_ORIGIN != 0 {
                        block.origin = Some(decoder.read_left_id().map_err(read)?);
                    }
                    if info & HAS_RIGHT_ORIGIN != 0 {
                        block.right_origin = Some(decoder.read_right_id().map_err(read)?);
                    }
                    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
                        block.parent = Some(if decoder.read_parent_info().map_err(read)? {
                            Parent::Root(Arc::from(decoder.read_string().map_err(read)?))
                        } else {
                            Parent::Item(decoder.read_left_id().map_err(read)?)
                        });
                        if info & HAS_PARENT_SUB != 0 {
                            block.key = Some(Arc::from(decoder.read_string().map_err(read)?));
                        }
                    }
                    block.len = match info & 0b1111 {
                        BLOCK_ITEM_STRING_REF_NUMBER => {
                            decoder.read_string().map_err(read)?.encode_utf16().count() as u32
                        }
                        BLOCK_ITEM_DELETED_REF_NUMBER => decoder.read_len().map_err(read)?,
                        _ => ItemContent::decode(&mut decoder, info)
                            .map_err(read)?
                            .len_utf16(),
                    };
                }
            }
            clock += block.len;
            blocks.push(block);
        }
    }
    Ok(blocks)
}

#[cfg(test)]
#[path = "parts_tests.rs"]
mod tests;
