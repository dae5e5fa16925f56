//! Candidate retrieval plumbing shared by the strategies: compact postings (key -> sorted
//! row ids in one flat array) and the per-thread accumulator that adds up, per reference
//! row, the index's estimate of how well it fits a document. The estimate only decides
//! which rows get scored in full; it never enters a score.

use std::borrow::Borrow;
use std::hash::Hash;

use rustc_hash::FxHashMap;

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

    /// The dense id of a key, if present.
    pub fn key_id<Q>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.keys.get(key).copied()
    }

    pub fn rows_of(&self, id: u32) -> &[u32] {
        let id = id as usize;
        match (self.offsets.get(id), self.offsets.get(id + 1)) {
            (Some(&start), Some(&end)) => &self.rows[start as usize..end as usize],
            _ => &[],
        }
    }
}

/// Postings longer than this are skipped during retrieval: a key shared by a large share
/// of the table (`GmbH`, a common year) says little about which row a document is, and
/// walking it for every document would cost as much as a full scan.
pub fn posting_cap(rows: usize) -> usize {
    (rows / 20).max(2_000)
}

/// Per-thread scratch space: one slot per reference row, reused across documents.
pub struct Accumulator {
    scores: Vec<f32>,
    seen: Vec<u32>,
    group: Vec<u32>,
    touched: Vec<u32>,
    epoch: u32,
    group_id: u32,
}

impl Accumulator {
    pub fn new(rows: usize) -> Self {
        Accumulator {
            scores: vec![0.0; rows],
            seen: vec![0; rows],
            group: vec![0; rows],
            touched: Vec::new(),
            epoch: 0,
            group_id: 0,
        }
    }

    /// Forgets the previous document.
    pub fn begin_document(&mut self) {
        self.touched.clear();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
    }

    /// Starts a group of credits of which each row receives only the first.
    pub fn begin_group(&mut self) {
        self.group_id = self.group_id.wrapping_add(1);
        if self.group_id == 0 {
            self.group.iter_mut().for_each(|g| *g = 0);
            self.group_id = 1;
        }
    }

    /// Adds `amount` to `row` unless the row was already credited in this group; callers
    /// credit in descending amount so the first credit is the best one.
    pub fn credit(&mut self, row: u32, amount: f32) {
        let r = row as usize;
        if r >= self.scores.len() || self.group[r] == self.group_id {
            return;
        }
        self.group[r] = self.group_id;
        if self.seen[r] != self.epoch {
            self.seen[r] = self.epoch;
            self.scores[r] = 0.0;
            self.touched.push(row);
        }
        self.scores[r] += amount;
    }

    /// The `limit` rows with the highest estimates, ties broken by `rank` (the row's
    /// position in id order), so the choice never depends on thread timing.
    pub fn top(&mut self, limit: usize, rank: &[u32]) -> Vec<u32> {
        let scores = &self.scores;
        let key = |row: &u32| {
            let r = *row as usize;
            (std::cmp::Reverse(OrdF32(scores[r])), rank.get(r).copied())
        };
        let touched = &mut self.touched;
        if touched.len() > limit {
            touched.select_nth_unstable_by_key(limit, key);
            touched.truncate(limit);
        }
        let mut rows = touched.clone();
        rows.sort_unstable_by_key(key);
        rows
    }
}

/// A total order on `f32` for sorting estimates (NaN never occurs; it would sort last).
#[derive(Clone, Copy)]
struct OrdF32(f32);

impl PartialEq for OrdF32 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for OrdF32 {}

impl PartialOrd for OrdF32 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrdF32 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
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
    fn accumulator_credits_once_per_group_and_ranks_deterministically() {
        let mut acc = Accumulator::new(5);
        acc.begin_document();
        acc.begin_group();
        acc.credit(1, 0.5);
        acc.credit(1, 0.4);
        acc.credit(3, 0.5);
        acc.begin_group();
        acc.credit(4, 0.2);
        let rank = [0, 2, 1, 1, 4];
        assert_eq!(acc.top(10, &rank), vec![3, 1, 4]);
        assert_eq!(acc.top(1, &rank), vec![3]);
        acc.begin_document();
        acc.begin_group();
        acc.credit(2, 0.1);
        assert_eq!(acc.top(10, &rank), vec![2]);
    }
}
