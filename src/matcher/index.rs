//! Candidate retrieval plumbing shared by the strategies: compact postings (key -> sorted
//! row ids in one flat array) and the per-thread accumulator that adds up, per reference
//! row, an upper bound of how well it can fit a document. The bound only decides which
//! rows get scored in full, and in which order; it never enters a score.

use std::borrow::Borrow;
use std::hash::Hash;

use rustc_hash::FxHashMap;

use super::snapshot::{check_ids, check_offsets, Decode, Decoded, Encode, Reader, Refused, Writer};

/// Key -> rows, stored as one flat array of row ids with offsets (CSR).
#[derive(Debug)]
pub struct Postings<K> {
    keys: FxHashMap<K, u32>,
    offsets: Vec<u32>,
    rows: Vec<u32>,
}

impl<K: Hash + Eq> Postings<K> {
    /// Builds from `(key, row)` pairs in any order; rows of a key end up sorted and unique.
    pub fn build(pairs: impl IntoIterator<Item = (K, u32)>) -> Self {
        let mut keys: FxHashMap<K, u32> = FxHashMap::default();
        let mut flat: Vec<(u32, u32)> = Vec::new();
        for (key, row) in pairs {
            let next = keys.len() as u32;
            let id = *keys.entry(key).or_insert(next);
            flat.push((id, row));
        }
        flat.sort_unstable();
        flat.dedup();
        let mut offsets = vec![0u32; keys.len() + 1];
        for &(id, _) in &flat {
            offsets[id as usize + 1] += 1;
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let rows = flat.into_iter().map(|(_, row)| row).collect();
        Postings {
            keys,
            offsets,
            rows,
        }
    }

    /// The parts a snapshot stores: keys in id order, offsets and rows.
    pub fn encode(&self, w: &mut Writer)
    where
        K: Encode,
    {
        let mut keys: Vec<(u32, &K)> = self.keys.iter().map(|(k, &id)| (id, k)).collect();
        keys.sort_unstable_by_key(|&(id, _)| id);
        w.u64(keys.len() as u64);
        for (_, k) in keys {
            k.encode(w);
        }
        self.offsets.encode(w);
        self.rows.encode(w);
    }

    /// Reads what `encode` wrote, for a table of `table_rows` rows.
    pub fn decode(r: &mut Reader, table_rows: usize) -> Decoded<Self>
    where
        K: Decode,
    {
        let keys: Vec<K> = r.get()?;
        let offsets: Vec<u32> = r.get()?;
        let rows: Vec<u32> = r.get()?;
        check_offsets(&offsets, keys.len(), rows.len())?;
        check_ids(rows.iter().copied(), table_rows)?;
        let n = keys.len();
        let mut map: FxHashMap<K, u32> = FxHashMap::default();
        map.reserve(n);
        for (id, k) in keys.into_iter().enumerate() {
            map.insert(k, id as u32);
        }
        if map.len() != n {
            return Err(Refused("is corrupt (a key twice)".into()));
        }
        Ok(Postings {
            keys: map,
            offsets,
            rows,
        })
    }

    pub fn get<Q>(&self, key: &Q) -> &[u32]
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.keys.get(key) {
            Some(&id) => self.rows_of(id),
            None => &[],
        }
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The dense id of a key, if present.
    pub fn key_id<Q>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.keys.get(key).copied()
    }

    /// Where a key's rows lie in `entries` (empty when the key is absent).
    pub fn span<Q>(&self, key: &Q) -> std::ops::Range<usize>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.key_id(key).map_or(0..0, |id| self.span_of(id))
    }

    /// Every key's rows, one list after another: what `span` indexes.
    pub fn entries(&self) -> &[u32] {
        &self.rows
    }

    pub fn rows_of(&self, id: u32) -> &[u32] {
        self.rows.get(self.span_of(id)).unwrap_or(&[])
    }

    /// Where the rows of the key with dense id `id` lie in `entries`.
    fn span_of(&self, id: u32) -> std::ops::Range<usize> {
        let id = id as usize;
        match (self.offsets.get(id), self.offsets.get(id + 1)) {
            (Some(&start), Some(&end)) => start as usize..end as usize,
            _ => 0..0,
        }
    }
}

/// Postings longer than this are not walked during retrieval: a key shared by a large share
/// of the table (`GmbH`, a common currency) says little about which row a document is, and
/// walking it for every document would cost as much as a full scan. Rows it would have
/// found are still bounded: the matcher counts such a field at its maximum for them.
pub fn posting_cap(rows: usize) -> usize {
    (rows / 20).max(2_000)
}

/// Rows whose state is loaded together before they are credited (see `prefetch`).
pub const PREFETCH: usize = 32;

/// Per-thread scratch space, reused across documents.
///
/// For each row a document's walked lists reach, it holds an upper bound of the row's
/// weighted score on the linear fields (`credit`), and which fields credited it: a field's
/// lists may be walked in more than one step (an identifier's whole-value keys, then its
/// partial keys), and each row takes only the first credit of each field. Fuzzy fields
/// keep their bounds per value in their own scratch. Reached rows get a dense slot in the order
/// they were reached, so passes over them read memory in order; only the first touch of a
/// row looks it up in the per-row table.
pub struct Accumulator {
    /// Per row: the document epoch it was last reached in, its dense slot, and two row
    /// facts bounds need (copied here so that reaching a row costs one cache miss and later
    /// passes read only dense arrays).
    rows: Vec<RowState>,
    touched: Vec<u32>,
    linear: Vec<f32>,
    /// Per slot, a bit per field that credited the row.
    credited: Vec<u64>,
    scored: Vec<bool>,
    class: Vec<u32>,
    value: Vec<u32>,
    /// Per slot, the `round` in which a field last credited the row.
    credited_in: Vec<u32>,
    /// Rounds split a document's walk where its rows are bounded (`next_round`).
    round: u32,
    epoch: u32,
    /// The bit of the field now crediting.
    field: u64,
}

#[derive(Clone, Copy, Default)]
struct RowState {
    epoch: u32,
    slot: u32,
    class: u32,
    value: u32,
}

impl Accumulator {
    /// `class[row]` and `value[row]` are the facts kept per reached row (the matcher's
    /// presence class and fuzzy value); missing entries read as 0.
    pub fn new(rows: usize, class: &[u32], value: &[u32]) -> Self {
        Accumulator {
            rows: (0..rows)
                .map(|r| RowState {
                    class: class.get(r).copied().unwrap_or(0),
                    value: value.get(r).copied().unwrap_or(0),
                    ..RowState::default()
                })
                .collect(),
            touched: Vec::new(),
            linear: Vec::new(),
            credited: Vec::new(),
            scored: Vec::new(),
            class: Vec::new(),
            value: Vec::new(),
            credited_in: Vec::new(),
            round: 0,
            epoch: 0,
            field: 1,
        }
    }

    /// Forgets the previous document.
    pub fn begin_document(&mut self) {
        self.touched.clear();
        self.linear.clear();
        self.credited.clear();
        self.scored.clear();
        self.class.clear();
        self.value.clear();
        self.credited_in.clear();
        self.round = 0;
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.rows.iter_mut().for_each(|r| r.epoch = 0);
            self.epoch = 1;
        }
    }

    /// Makes `field` (a mapping's index, below 64) the one whose credits follow; each row
    /// receives only the first credit of each field.
    pub fn begin_field(&mut self, field: usize) {
        self.field = 1u64 << (field % 64);
    }

    /// The dense slot of `row` if the current field has not credited it yet, reaching it
    /// first when needed.
    fn slot_for_credit(&mut self, row: u32) -> Option<usize> {
        let epoch = self.epoch;
        let state = self.rows.get_mut(row as usize)?;
        if state.epoch == epoch {
            let slot = state.slot as usize;
            let credited = self.credited.get_mut(slot)?;
            if *credited & self.field != 0 {
                return None;
            }
            *credited |= self.field;
            if let Some(round) = self.credited_in.get_mut(slot) {
                *round = self.round;
            }
            return Some(slot);
        }
        state.epoch = epoch;
        state.slot = self.touched.len() as u32;
        self.touched.push(row);
        self.linear.push(0.0);
        self.credited.push(self.field);
        self.scored.push(false);
        self.class.push(state.class);
        self.value.push(state.value);
        self.credited_in.push(self.round);
        Some(state.slot as usize)
    }

    /// Loads the per-row state of `rows` ahead of crediting them. Walks visit rows in an
    /// order unrelated to memory, so each first visit misses the cache; issuing the loads of
    /// a batch back to back lets the misses overlap instead of queueing one by one.
    pub fn prefetch(&self, rows: impl Iterator<Item = u32>) {
        let mut sum = 0u32;
        for row in rows {
            if let Some(state) = self.rows.get(row as usize) {
                sum = sum.wrapping_add(state.epoch);
            }
        }
        std::hint::black_box(sum);
    }

    /// The fuzzy value (see `new`) of `row` when no list of the current document reached
    /// it yet; `None` once reached.
    pub fn unreached_value(&self, row: u32) -> Option<u32> {
        self.rows
            .get(row as usize)
            .filter(|s| s.epoch != self.epoch)
            .map(|s| s.value)
    }

    /// Whether the current field has not credited `row` yet (so computing its credit is
    /// worth it).
    pub fn fresh(&self, row: u32) -> bool {
        self.rows.get(row as usize).is_some_and(|s| {
            s.epoch != self.epoch
                || self
                    .credited
                    .get(s.slot as usize)
                    .is_some_and(|c| c & self.field == 0)
        })
    }

    /// Adds `amount` to `row`'s linear bound unless the current field already credited
    /// it; callers credit in descending amount so the first credit is the best one.
    pub fn credit(&mut self, row: u32, amount: f32) {
        if let Some(slot) = self.slot_for_credit(row) {
            self.linear[slot] += amount;
        }
    }

    /// The rows this document's lists reached, by slot.
    pub fn touched(&self) -> &[u32] {
        &self.touched
    }

    pub fn linear(&self, slot: usize) -> f32 {
        self.linear.get(slot).copied().unwrap_or(0.0)
    }

    /// The fields that credited the row in `slot`, a bit per mapping.
    pub fn credited(&self, slot: usize) -> u64 {
        self.credited.get(slot).copied().unwrap_or(0)
    }

    /// The class of the row in `slot`.
    pub fn class(&self, slot: usize) -> u32 {
        self.class.get(slot).copied().unwrap_or(0)
    }

    /// The fuzzy value of the row in `slot`.
    pub fn value(&self, slot: usize) -> u32 {
        self.value.get(slot).copied().unwrap_or(0)
    }

    /// Starts a new round: `credited_this_round` is false for every row until a field
    /// credits it again.
    pub fn next_round(&mut self) {
        self.round = self.round.wrapping_add(1);
    }

    /// Whether a field credited the row in `slot` since the last `next_round`.
    pub fn credited_this_round(&self, slot: usize) -> bool {
        self.credited_in.get(slot).is_none_or(|&r| r == self.round)
    }

    /// Marks the row in `slot` scored; false when it already was.
    pub fn mark_scored(&mut self, slot: usize) -> bool {
        match self.scored.get_mut(slot) {
            Some(s) if !*s => {
                *s = true;
                true
            }
            _ => false,
        }
    }

    pub fn is_scored(&self, slot: usize) -> bool {
        self.scored.get(slot).copied().unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_group_sort_and_dedup_rows() {
        let p = Postings::build(vec![
            ("b".to_string(), 3),
            ("a".into(), 2),
            ("b".into(), 1),
            ("b".into(), 3),
        ]);
        assert_eq!(p.get("b"), &[1, 3]);
        assert_eq!(p.get("a"), &[2]);
        assert!(p.get("zzz").is_empty());
    }

    #[test]
    fn accumulator_credits_once_per_field_and_forgets_between_documents() {
        let mut acc = Accumulator::new(5, &[0, 1, 2, 3, 4], &[]);
        acc.begin_document();
        acc.begin_field(0);
        acc.credit(1, 0.5);
        acc.credit(1, 0.4);
        acc.credit(3, 0.5);
        acc.begin_field(1);
        acc.credit(1, 0.2);
        acc.credit(4, 1.5);
        acc.credit(9, 1.0);
        // A field walked in a second step credits a row it already credited no more.
        acc.begin_field(0);
        assert!(!acc.fresh(1) && acc.fresh(4) && acc.fresh(2));
        acc.credit(1, 0.9);
        assert_eq!(acc.touched(), &[1, 3, 4]);
        assert_eq!(acc.linear(0), 0.7);
        assert_eq!(acc.linear(2), 1.5);
        assert_eq!(acc.class(1), 3);
        assert_eq!(acc.value(1), 0);
        assert!(acc.mark_scored(1));
        assert!(!acc.mark_scored(1));
        acc.begin_document();
        acc.begin_field(0);
        acc.credit(2, 0.1);
        acc.credit(1, 0.3);
        assert_eq!(acc.touched(), &[2, 1]);
        assert_eq!(acc.linear(1), 0.3, "a row starts from 0 in each document");
        assert!(!acc.is_scored(1));
    }
}
