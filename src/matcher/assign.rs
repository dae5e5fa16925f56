//! One-to-one assignment: which document gets which reference row when a row may be matched
//! at most once (docs/CONTRACT.md, "One-to-one assignment"). A pure function over a sparse
//! bipartite graph; it knows nothing of configs, candidates or ids beyond the integer ranks
//! it is given, and nothing of SQLite, CSV or HTTP.
//!
//! The graph is cut into connected components (union-find over rows); each component is
//! solved exactly by successive shortest augmenting paths (Dijkstra with potentials, as in
//! the Hungarian method): documents enter one at a time, each may also stay unmatched
//! through a private "dummy" row, and every entry keeps the matching optimal for the
//! documents entered so far. Weights are integers (confidences in ten-thousandths), so no
//! float rounding decides between two matchings.
//!
//! Tie rule, so the answer is a function of the input and not of its order or of threads:
//! documents enter in ascending document rank (their index in the input, which callers sort
//! by document id); among equally heavy augmenting paths an entry takes the one with the
//! fewest steps (so an earlier document keeps its row when moving it gains nothing), then
//! the one that reaches the lowest-ranked row first. Rows are compared by their rank
//! (callers pass ranks in ascending id order).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

/// Confidences are rounded to 4 decimals: in ten-thousandths they are exact integers.
pub const WEIGHT_SCALE: f64 = 10_000.0;
/// The largest weight an edge may carry (a confidence of 1).
const MAX_WEIGHT: i64 = 10_000;

/// A confidence in 0..1 as an integer weight in ten-thousandths.
pub fn weight_of(confidence: f64) -> u32 {
    (confidence.clamp(0.0, 1.0) * WEIGHT_SCALE).round() as u32
}

/// The assignment of `Matcher::assign` over documents and rows known only by their ids
/// (`refmatch assign`, which joins the candidates of shards without an index):
/// `documents[i]` is a document's id and its assignable rows `(row id, confidence)`.
/// Documents are ranked by id (then input position) and rows by id, in ascending byte
/// order, as `Matcher::assign` ranks them; only the order of ranks matters to `assign`, so
/// the answer is the same. Returns, per document, the position in its list of the row it
/// is matched to.
pub fn assign_by_id<D: AsRef<str>, R: AsRef<str>>(
    documents: &[(D, Vec<(R, f64)>)],
) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..documents.len()).collect();
    order.sort_by(|&a, &b| {
        let id = |i: usize| documents[i].0.as_ref().as_bytes();
        id(a).cmp(id(b)).then(a.cmp(&b))
    });
    let mut rows: Vec<&str> = documents
        .iter()
        .flat_map(|(_, list)| list.iter().map(|(row, _)| row.as_ref()))
        .collect();
    rows.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    rows.dedup();
    let rank = |row: &str| {
        rows.binary_search_by(|r| r.as_bytes().cmp(row.as_bytes()))
            .map_or(u32::MAX, |r| r as u32)
    };
    let graph: Vec<Vec<(u32, u32)>> = order
        .iter()
        .map(|&i| {
            documents[i]
                .1
                .iter()
                .map(|(row, c)| (rank(row.as_ref()), weight_of(*c)))
                .collect()
        })
        .collect();
    let chosen = assign(&graph);
    let mut out = vec![None; documents.len()];
    for ((&i, got), edges) in order.iter().zip(chosen).zip(&graph) {
        out[i] = got.and_then(|r| edges.iter().position(|&(rank, _)| rank == r));
    }
    out
}

/// The maximum-weight matching of documents to rows. `documents[d]` lists document `d`'s
/// edges as `(row rank, weight)`; the index `d` is the document's rank in the tie rule.
/// Edges of weight 0 are ignored; a row listed twice for one document counts once, at
/// its heavier weight. Returns, per document, the row it is matched to, if any: no row is
/// used twice, and the sum of the matched edges' weights is the largest possible.
pub fn assign(documents: &[Vec<(u32, u32)>]) -> Vec<Option<u32>> {
    let mut out = vec![None; documents.len()];
    // Rows densely numbered in rank order, so a component's rows are already sorted.
    let mut rows: Vec<u32> = documents
        .iter()
        .flat_map(|edges| edges.iter().filter(|e| e.1 > 0).map(|e| e.0))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let dense: FxHashMap<u32, u32> = rows
        .iter()
        .enumerate()
        .map(|(i, &r)| (r, i as u32))
        .collect();
    // Each document's edges over dense rows, ascending, one per row at its heaviest.
    let edges: Vec<Vec<(u32, u32)>> = documents
        .iter()
        .map(|list| {
            let mut e: Vec<(u32, u32)> = list
                .iter()
                .filter(|e| e.1 > 0)
                .filter_map(|&(row, w)| dense.get(&row).map(|&d| (d, w.min(MAX_WEIGHT as u32))))
                .collect();
            e.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            e.dedup_by_key(|e| e.0);
            e
        })
        .collect();

    let mut sets = UnionFind::new(rows.len());
    for e in &edges {
        for pair in e.windows(2) {
            sets.union(pair[0].0, pair[1].0);
        }
    }
    // Components keyed by the root of their rows, documents in rank order within each.
    let mut component_of_root: FxHashMap<u32, usize> = FxHashMap::default();
    let mut components: Vec<Vec<usize>> = Vec::new();
    for (d, e) in edges.iter().enumerate() {
        let Some(&(first, _)) = e.first() else {
            continue;
        };
        let root = sets.find(first);
        let next = components.len();
        let c = *component_of_root.entry(root).or_insert(next);
        if c == next {
            components.push(Vec::new());
        }
        components[c].push(d);
    }

    let mut solver = Solver::default();
    for docs in &components {
        for (d, row) in solver.solve(docs, &edges) {
            out[d] = Some(rows[row as usize]);
        }
    }
    out
}

/// Which documents need their complete edge lists before `assign` gives the answer it
/// gives over complete lists, when a document may bring only its head (its heaviest
/// edges, all of one weight, as many as its complete list would hold): `lists[d]` is
/// `(complete, edges)`. A document with an incomplete list is settled when no other
/// document lists a row of its head: the total can be at most the sum of every
/// document's heaviest weight, so every optimal matching gives it a row of its head (no
/// one else can take them), the tie rule picks among them as it would over the complete
/// list, and no augmenting path can reach those rows (only its own list holds them), so
/// its lighter edges never change what anyone else gets. Any other incomplete document
/// is returned.
pub fn unsettled<T>(lists: &[(bool, &[(u32, T)])]) -> Vec<usize> {
    let mut listed: FxHashMap<u32, u32> = FxHashMap::default();
    for (_, edges) in lists {
        for (row, _) in *edges {
            *listed.entry(*row).or_default() += 1;
        }
    }
    lists
        .iter()
        .enumerate()
        .filter(|(_, (complete, edges))| {
            !complete
                && edges
                    .iter()
                    .any(|(row, _)| listed.get(row).copied().unwrap_or(0) > 1)
        })
        .map(|(d, _)| d)
        .collect()
}

struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let up = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = up;
            x = up;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        // The smaller root wins: the result does not depend on the order of unions' sides.
        if a < b {
            self.parent[b as usize] = a;
        } else if b < a {
            self.parent[a as usize] = b;
        }
    }
}

const NONE: u32 = u32::MAX;

/// Working memory for one component, reused across components.
#[derive(Default)]
struct Solver {
    /// Local row of each dense row of the component (dense rows are global).
    local: FxHashMap<u32, u32>,
    /// Per local document: its edges as (local row node, cost), and its dummy node.
    adjacency: Vec<Vec<(u32, i64)>>,
    /// Potentials of documents and of row nodes (real rows, then one dummy per document).
    u: Vec<i64>,
    v: Vec<i64>,
    /// The document holding each row node, `NONE` when free.
    holder: Vec<u32>,
    /// The row node each document holds, `NONE` before it enters.
    held: Vec<u32>,
    // Per search: tentative (distance, steps), the document a row node was reached from,
    // whether it is final, and which nodes were touched (to reset them cheaply).
    dist: Vec<(i64, u32)>,
    from: Vec<u32>,
    done: Vec<bool>,
    touched: Vec<u32>,
    finished: Vec<u32>,
    visited_docs: Vec<(u32, i64)>,
}

impl Solver {
    /// Solves one component: `docs` are global document indexes in rank order. Returns
    /// `(document, dense row)` for every matched document.
    fn solve(&mut self, docs: &[usize], edges: &[Vec<(u32, u32)>]) -> Vec<(usize, u32)> {
        self.local.clear();
        let mut real_rows: Vec<u32> = docs
            .iter()
            .flat_map(|&d| edges[d].iter().map(|e| e.0))
            .collect();
        real_rows.sort_unstable();
        real_rows.dedup();
        for (i, &r) in real_rows.iter().enumerate() {
            self.local.insert(r, i as u32);
        }
        let (m, k) = (docs.len(), real_rows.len());
        let nodes = k + m;
        self.adjacency.clear();
        for (i, &d) in docs.iter().enumerate() {
            // Every document is placed exactly once, on a row or on its own dummy, so a
            // constant added to all its costs changes no choice: costs are MAX_WEIGHT - w
            // (>= 0, so potentials start at 0) and MAX_WEIGHT for staying unmatched.
            let mut list: Vec<(u32, i64)> = edges[d]
                .iter()
                .map(|&(r, w)| (self.local[&r], MAX_WEIGHT - i64::from(w)))
                .collect();
            list.push(((k + i) as u32, MAX_WEIGHT));
            self.adjacency.push(list);
        }
        self.u.clear();
        self.u.resize(m, 0);
        self.v.clear();
        self.v.resize(nodes, 0);
        self.holder.clear();
        self.holder.resize(nodes, NONE);
        self.held.clear();
        self.held.resize(m, NONE);
        self.dist.clear();
        self.dist.resize(nodes, (i64::MAX, u32::MAX));
        self.from.clear();
        self.from.resize(nodes, NONE);
        self.done.clear();
        self.done.resize(nodes, false);

        for start in 0..m as u32 {
            self.enter(start);
        }
        (0..m)
            .filter_map(|i| {
                let row = self.held[i];
                ((row as usize) < k).then(|| (docs[i], real_rows[row as usize]))
            })
            .collect()
    }

    /// Adds document `start` by the shortest augmenting path from it to a free row node,
    /// under the tie rule, and updates the potentials so reduced costs stay >= 0.
    fn enter(&mut self, start: u32) {
        let s = start as usize;
        // A feasible potential for the new document: its cheapest reduced edge is 0.
        self.u[s] = self.adjacency[s]
            .iter()
            .map(|&(r, c)| c - self.v[r as usize])
            .min()
            .unwrap_or(0);
        let mut heap: BinaryHeap<Reverse<(i64, u32, u32)>> = BinaryHeap::new();
        self.visited_docs.clear();
        let mut doc = start;
        let mut doc_dist = 0i64;
        let mut doc_steps = 0u32;
        let terminal = loop {
            self.visited_docs.push((doc, doc_dist));
            let d = doc as usize;
            for &(r, c) in &self.adjacency[d] {
                let ri = r as usize;
                if self.done[ri] {
                    continue;
                }
                let key = (doc_dist + c - self.u[d] - self.v[ri], doc_steps + 1);
                if key < self.dist[ri] {
                    if self.dist[ri].0 == i64::MAX {
                        self.touched.push(r);
                    }
                    self.dist[ri] = key;
                    self.from[ri] = doc;
                    heap.push(Reverse((key.0, key.1, r)));
                }
            }
            // The closest row node not yet final, ties by steps, then by lower node.
            let next = loop {
                match heap.pop() {
                    Some(Reverse((dist, steps, r))) => {
                        let ri = r as usize;
                        if self.done[ri] || (dist, steps) != self.dist[ri] {
                            continue;
                        }
                        break Some((dist, steps, r));
                    }
                    None => break None,
                }
            };
            // A document's own dummy is always reachable, so the search always ends.
            let Some((dist, steps, r)) = next else {
                break None;
            };
            self.done[r as usize] = true;
            self.finished.push(r);
            match self.holder[r as usize] {
                NONE => break Some((r, dist)),
                next_doc => {
                    doc = next_doc;
                    doc_dist = dist;
                    // Going back along a held edge is one more step.
                    doc_steps = steps + 1;
                }
            }
        };
        if let Some((terminal, total)) = terminal {
            // Potentials: every final node moves by how much closer it was than the end.
            for &(d, dist) in &self.visited_docs {
                self.u[d as usize] += total - dist;
            }
            for &r in &self.finished {
                let ri = r as usize;
                self.v[ri] -= total - self.dist[ri].0;
            }
            // Augment: walk back from the terminal, each document taking the row it was
            // reached through and handing its old row to the document before it.
            let mut row = terminal;
            loop {
                let d = self.from[row as usize];
                let previous = self.held[d as usize];
                self.held[d as usize] = row;
                self.holder[row as usize] = d;
                if d == start {
                    break;
                }
                row = previous;
            }
        }
        for &r in &self.touched {
            let ri = r as usize;
            self.dist[ri] = (i64::MAX, u32::MAX);
            self.from[ri] = NONE;
            self.done[ri] = false;
        }
        self.touched.clear();
        self.finished.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn total(documents: &[Vec<(u32, u32)>], got: &[Option<u32>]) -> u64 {
        documents
            .iter()
            .zip(got)
            .map(|(edges, row)| {
                row.map_or(0, |r| {
                    edges
                        .iter()
                        .filter(|e| e.0 == r)
                        .map(|e| u64::from(e.1))
                        .max()
                        .unwrap_or(0)
                })
            })
            .sum()
    }

    /// The best total over every matching, by trying each document on each free row.
    fn brute_force(documents: &[Vec<(u32, u32)>]) -> u64 {
        fn go(documents: &[Vec<(u32, u32)>], used: &mut Vec<u32>) -> u64 {
            let Some((first, rest)) = documents.split_first() else {
                return 0;
            };
            let mut best = go(rest, used);
            for &(row, w) in first {
                if w > 0 && !used.contains(&row) {
                    used.push(row);
                    best = best.max(u64::from(w) + go(rest, used));
                    used.pop();
                }
            }
            best
        }
        go(documents, &mut Vec::new())
    }

    fn weights(c: &[(u32, f64)]) -> Vec<(u32, u32)> {
        c.iter().map(|&(r, c)| (r, weight_of(c))).collect()
    }

    #[test]
    fn greedy_would_be_wrong() {
        // A's best row is r1, but B has only r1: the optimum gives A its second best.
        let documents = vec![weights(&[(1, 0.9), (2, 0.85)]), weights(&[(1, 0.88)])];
        assert_eq!(assign(&documents), [Some(2), Some(1)]);
    }

    #[test]
    fn a_document_gives_way_and_stays_unmatched_when_that_is_heavier() {
        // A alone on r1 weighs 0.9; B on r1 and C on r2 weigh 0.95 + 0.9.
        let documents = vec![
            weights(&[(1, 0.9)]),
            weights(&[(1, 0.95), (2, 0.86)]),
            weights(&[(2, 0.9)]),
        ];
        assert_eq!(assign(&documents), [None, Some(1), Some(2)]);
    }

    #[test]
    fn ties_go_to_the_earlier_document_and_the_lower_row() {
        let documents = vec![weights(&[(1, 0.9)]), weights(&[(1, 0.9)])];
        assert_eq!(assign(&documents), [Some(1), None]);
        let documents = vec![
            weights(&[(2, 0.9), (1, 0.9)]),
            weights(&[(1, 0.9), (2, 0.9)]),
        ];
        assert_eq!(assign(&documents), [Some(1), Some(2)]);
        // The earlier document moves to its other row, as both then match.
        let documents = vec![weights(&[(1, 0.9), (2, 0.9)]), weights(&[(1, 0.9)])];
        assert_eq!(assign(&documents), [Some(2), Some(1)]);
    }

    #[test]
    fn separate_components_and_empty_documents() {
        let documents = vec![
            weights(&[(5, 0.9)]),
            vec![],
            weights(&[(7, 0.95), (5, 0.99)]),
            weights(&[(9, 0.9)]),
            vec![(3, 0)],
        ];
        // 0 and 2 share row 5: 0 on 5 and 2 on 7 weigh more than 2 on 5.
        assert_eq!(assign(&documents), [Some(5), None, Some(7), Some(9), None]);
    }

    /// Prints how long `assign` takes on 100,000 documents with 10 candidates each.
    fn measure(name: &str, documents: &[Vec<(u32, u32)>]) {
        let started = std::time::Instant::now();
        let got = assign(documents);
        let elapsed = started.elapsed();
        let matched = got.iter().filter(|r| r.is_some()).count();
        println!(
            "assign, {name}: {} documents x 10 candidates in {:.3} s, {matched} matched, weight {}",
            documents.len(),
            elapsed.as_secs_f64(),
            total(documents, &got)
        );
    }

    #[test]
    #[ignore = "a measurement, not a check: cargo test --release --lib assign_100k -- --ignored --nocapture"]
    fn assign_100k_documents_with_10_candidates() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let n = 100_000u64;
        // As on a one-to-one benchmark: each document's true row scores highest, its other
        // candidates are near-duplicates around it, shared with neighbouring documents.
        let realistic: Vec<Vec<(u32, u32)>> = (0..n)
            .map(|d| {
                let mut edges = vec![((2 * d) as u32, 9_500 + (next() % 501) as u32)];
                edges.extend((0..9).map(|_| {
                    let row = (2 * d + next() % 40).saturating_sub(20) as u32;
                    (row, 8_500 + (next() % 1_001) as u32)
                }));
                edges
            })
            .collect();
        measure("true row best, near-duplicates shared", &realistic);
        // The adversarial case: one component of 100,000 documents, as many rows as
        // documents, every weight alike, so nearly every row is contested.
        let banded: Vec<Vec<(u32, u32)>> = (0..n)
            .map(|d| {
                (0..10)
                    .map(|_| {
                        let row = (d + next() % 50).saturating_sub(25) as u32;
                        (row, 8_500 + (next() % 1_501) as u32)
                    })
                    .collect()
            })
            .collect();
        measure("one contested band", &banded);
    }

    fn graph() -> impl Strategy<Value = Vec<Vec<(u32, u32)>>> {
        proptest::collection::vec(
            proptest::collection::vec((0u32..6, 8_500u32..=10_000), 0..4),
            0..7,
        )
        .prop_map(|docs| {
            // Few distinct weights, so ties are common.
            docs.into_iter()
                .map(|e| e.into_iter().map(|(r, w)| (r, w - w % 250)).collect())
                .collect()
        })
    }

    /// Each document's edges as a matcher lists them: one per row at its heaviest,
    /// heaviest first, ties by row.
    fn normalised(documents: &[Vec<(u32, u32)>]) -> Vec<Vec<(u32, u32)>> {
        documents
            .iter()
            .map(|edges| {
                let mut e: Vec<(u32, u32)> = edges.iter().filter(|e| e.1 > 0).copied().collect();
                e.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                e.dedup_by_key(|e| e.0);
                e.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                e
            })
            .collect()
    }

    proptest! {
        #[test]
        fn heads_completed_where_unsettled_give_the_complete_assignment(documents in graph()) {
            let full = normalised(&documents);
            let mut lists: Vec<(bool, Vec<(u32, u32)>)> = full
                .iter()
                .map(|e| {
                    let top = e.first().map(|e| e.1);
                    (false, e.iter().filter(|e| Some(e.1) == top).copied().collect())
                })
                .collect();
            loop {
                let view: Vec<(bool, &[(u32, u32)])> =
                    lists.iter().map(|(c, e)| (*c, e.as_slice())).collect();
                let open = unsettled(&view);
                if open.is_empty() {
                    break;
                }
                for d in open {
                    lists[d] = (true, full[d].clone());
                }
            }
            let heads: Vec<Vec<(u32, u32)>> = lists.into_iter().map(|(_, e)| e).collect();
            prop_assert_eq!(assign(&heads), assign(&full));
        }

        #[test]
        fn the_assignment_is_optimal_and_uses_each_row_once(documents in graph()) {
            let got = assign(&documents);
            prop_assert_eq!(got.len(), documents.len());
            let mut used: Vec<u32> = got.iter().flatten().copied().collect();
            let n = used.len();
            used.sort_unstable();
            used.dedup();
            prop_assert_eq!(used.len(), n, "a row was used twice: {:?}", got);
            for (edges, row) in documents.iter().zip(&got) {
                if let Some(r) = row {
                    prop_assert!(edges.iter().any(|e| e.0 == *r && e.1 > 0));
                }
            }
            prop_assert_eq!(total(&documents, &got), brute_force(&documents));
        }

        #[test]
        fn the_assignment_follows_document_ranks_not_input_order(
            documents in graph(),
            shuffle in any::<u64>(),
        ) {
            // Keyed documents in a shuffled order, sorted back by key before solving (as
            // callers do), give each key the same row; edge order within a document does
            // not matter either.
            let mut keyed: Vec<(usize, Vec<(u32, u32)>)> =
                documents.iter().cloned().enumerate().collect();
            let mut state = shuffle | 1;
            for i in (1..keyed.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                keyed.swap(i, (state >> 33) as usize % (i + 1));
            }
            for (_, edges) in keyed.iter_mut() {
                edges.reverse();
            }
            keyed.sort_by_key(|(key, _)| *key);
            let again: Vec<Vec<(u32, u32)>> = keyed.into_iter().map(|(_, e)| e).collect();
            prop_assert_eq!(assign(&again), assign(&documents));
        }
    }
}
