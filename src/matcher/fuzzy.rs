//! `fuzzy`: token-aware similarity of names and descriptions.
//!
//! Text is normalised and cut into a set of words (docs/CONTRACT.md, "Fuzzy, precisely"): a
//! code written with separators is one word (`KX-TG9341T` = `KX TG9341T` = `KXTG9341T`),
//! but nothing else is joined across whitespace. Two words are alike when their digits are
//! the same and their edit distance is small (a typo costs little, `MX350` is not `MX850`).
//! Each word weighs by its rarity in the reference column (inverse document frequency), so
//! `Nordwind` outweighs `GmbH`. Document and row words are paired one to one, greedily by
//! similarity: word order does not matter. The pairs give a weighted cosine (the default),
//! the Dice coefficient of earlier releases, or the share of the document value contained
//! in the row (`FuzzyMeasure`).
//!
//! Word similarity is computed against the column's vocabulary once per document word
//! (character-bigram postings find the alike words), so scoring a candidate row is only
//! table look-ups, and the same look-ups score a row whether the index proposed it or a
//! full scan did.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use super::index::{posting_cap, Accumulator, PREFETCH};
use super::snapshot::{check_ids, check_offsets, Decoded, Encode, Reader, Refused, Writer};
use super::{FieldScore, Parsed};
use crate::config::FuzzyMeasure;
use crate::parse::normalize_text;

/// Words less alike than this are different words.
pub const WORD_SIMILARITY_FLOOR: f64 = 0.7;

/// Bounds are summed in `f32` while scores are computed in `f64` from the same `f32`
/// weights: a bound is raised by this factor so that rounding never puts it below the
/// score it bounds (a few hundred `f32` additions err by far less than 1e-5 relative).
const BOUND_SLACK: f32 = 1.0 + 1e-5;

/// Spellings of one legal form or business word that extraction swaps freely; the first
/// is the one both sides are compared in.
const SAME_WORD: &[(&str, &str)] = &[
    ("limited", "ltd"),
    ("incorporated", "inc"),
    ("corporation", "corp"),
    ("company", "co"),
];

/// Cuts normalised text into its distinct words, in order of first appearance (a value is
/// the set of its words: a word written twice does not count twice).
///
/// Pieces are maximal runs of letters and digits; a group is a run of pieces with no
/// whitespace between them. A group of two or more pieces holding a digit is one code
/// (`kx-tg9341t` = `kxtg9341t`, `10/100` = `10100`), a group of single letters one
/// abbreviation (`s.a.` = `sa`), any other group one word per piece. Nothing is joined
/// across whitespace (`kx-tg4323b 5.8 ghz` keeps its model number apart from `58`), except
/// that a word of one or two letters, a single space and a word that starts with a letter
/// and holds a digit are one code (`kx tg9341t` = `kxtg9341t`). Legal forms are compared
/// in one spelling (`limited` = `ltd`).
pub fn tokenize(normalized: &str) -> Vec<String> {
    // Pieces of letters and digits, with the text between each piece and the next.
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in normalized.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            pieces.push((s, i));
        }
    }
    if let Some(s) = start {
        pieces.push((s, normalized.len()));
    }
    let text = |p: (usize, usize)| &normalized[p.0..p.1];
    let has_digit = |p: &str| p.chars().any(|c| c.is_ascii_digit());
    let letters = |p: &str| p.chars().all(char::is_alphabetic);
    let single_letter = |p: &str| {
        let mut chars = p.chars();
        matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
    };

    // Groups: pieces `[first, end)` and whether exactly one space follows the group.
    let mut groups: Vec<(usize, usize, bool)> = Vec::new();
    let mut first = 0;
    for i in 0..pieces.len() {
        let between = pieces
            .get(i + 1)
            .map(|next| &normalized[pieces[i].1..next.0]);
        match between {
            Some(gap) if !gap.contains(char::is_whitespace) => {}
            _ => {
                groups.push((first, i + 1, between == Some(" ")));
                first = i + 1;
            }
        }
    }

    let mut tokens: Vec<String> = Vec::with_capacity(pieces.len());
    let mut push = |token: String| {
        if !tokens.contains(&token) {
            tokens.push(token);
        }
    };
    let mut g = 0;
    while g < groups.len() {
        let (first, end, single_space) = groups[g];
        let group = &pieces[first..end];
        let joined = || group.iter().map(|&p| text(p)).collect::<String>();
        if group.len() == 1 {
            let word = text(group[0]);
            // `kx tg9341t`: a short letters-only word glued to the code that follows it.
            let next_code = groups.get(g + 1).filter(|_| single_space).and_then(|n| {
                let next: String = pieces[n.0..n.1].iter().map(|&p| text(p)).collect();
                (next.starts_with(char::is_alphabetic) && has_digit(&next)).then_some(next)
            });
            match next_code {
                Some(next) if word.chars().count() <= 2 && letters(word) => {
                    push(format!("{word}{next}"));
                    g += 2;
                    continue;
                }
                _ => push(canonical(word)),
            }
        } else if group.iter().any(|&p| has_digit(text(p))) {
            push(joined());
        } else if group.iter().all(|&p| single_letter(text(p))) {
            push(canonical(&joined()));
        } else {
            for &p in group {
                push(canonical(text(p)));
            }
        }
        g += 1;
    }
    tokens
}

fn canonical(word: &str) -> String {
    SAME_WORD
        .iter()
        .find(|(long, _)| *long == word)
        .map_or(word, |(_, short)| short)
        .to_string()
}

/// Similarity of two words in 0..1: 0 when their digits differ or they are too far apart.
pub fn word_similarity(a: &str, b: &str) -> f64 {
    similarity_with(a, b, &mut OsaBuffers::default())
}

/// Reusable rows for the edit-distance table.
#[derive(Default)]
struct OsaBuffers {
    rows: [Vec<usize>; 3],
    a: Vec<char>,
    b: Vec<char>,
}

fn similarity_with(a: &str, b: &str, buf: &mut OsaBuffers) -> f64 {
    if a == b {
        return 1.0;
    }
    if !a
        .chars()
        .filter(char::is_ascii_digit)
        .eq(b.chars().filter(char::is_ascii_digit))
    {
        return 0.0;
    }
    let distance = if a.is_ascii() && b.is_ascii() {
        let longest = a.len().max(b.len());
        osa_within(
            a.as_bytes(),
            b.as_bytes(),
            max_edits(longest),
            &mut buf.rows,
        )
        .map(|d| (d, longest))
    } else {
        buf.a.clear();
        buf.a.extend(a.chars());
        buf.b.clear();
        buf.b.extend(b.chars());
        let longest = buf.a.len().max(buf.b.len());
        osa_within(&buf.a, &buf.b, max_edits(longest), &mut buf.rows).map(|d| (d, longest))
    };
    match distance {
        Some((d, longest)) if longest > 0 => {
            let s = 1.0 - d as f64 / longest as f64;
            if s >= WORD_SIMILARITY_FLOOR {
                s
            } else {
                0.0
            }
        }
        _ => 0.0,
    }
}

/// The most edits a word of `longest` characters may have and stay above the floor.
fn max_edits(longest: usize) -> usize {
    ((1.0 - WORD_SIMILARITY_FLOOR) * longest as f64 + 1e-9) as usize
}

/// Optimal string alignment distance (edits plus adjacent transpositions) when it is at
/// most `max`, else `None`; stops as soon as a row exceeds `max`. Shared with `identifier`.
/// A common prefix and suffix are dropped first (they never take part in an optimal
/// alignment's edits), so neighbouring numbers cost a table of their differing middle.
pub(crate) fn osa_within<T: Symbol>(
    a: &[T],
    b: &[T],
    max: usize,
    rows: &mut [Vec<usize>; 3],
) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.is_empty() || b.is_empty() {
        let d = a.len().max(b.len());
        return (d <= max).then_some(d);
    }
    // The shorter side as the pattern of the bit-parallel form (the distance is
    // symmetric); the table for patterns longer than a word.
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.len() <= 64 {
        let d = osa_bits(short, long);
        return (d <= max).then_some(d);
    }
    osa_table(a, b, max, rows)
}

/// An item of the strings `osa_within` compares: equality, and where a pattern holds a
/// given item, computed per text item in turn.
pub(crate) trait Symbol: PartialEq + Copy {
    /// Calls `step` for each item of `text` with a mask whose bit `i` is set where
    /// `pattern[i]` equals it (`pattern` holds 1 to 64 items).
    fn for_each_match(pattern: &[Self], text: &[Self], step: impl FnMut(u64)) {
        matches_one_by_one(pattern, text, step);
    }
}

/// `Symbol::for_each_match` comparing each text item with each pattern item.
fn matches_one_by_one<T: PartialEq + Copy>(pattern: &[T], text: &[T], mut step: impl FnMut(u64)) {
    for &item in text {
        let mut matches = 0u64;
        for (i, &p) in pattern.iter().enumerate() {
            matches |= u64::from(p == item) << i;
        }
        step(matches);
    }
}

impl Symbol for char {}

impl Symbol for u8 {
    /// A pattern of up to 16 bytes is held in two words, and each text byte is compared
    /// with eight pattern bytes at once (a zero-byte test on their exclusive or), where the
    /// plain loop compares one at a time: invoice numbers and most words fit.
    fn for_each_match(pattern: &[u8], text: &[u8], mut step: impl FnMut(u64)) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        if pattern.len() > 16 {
            return matches_one_by_one(pattern, text, step);
        }
        let mut words = [0u64; 2];
        for (i, &p) in pattern.iter().enumerate() {
            words[i / 8] |= u64::from(p) << (8 * (i % 8));
        }
        let valid = (1u64 << pattern.len()) - 1;
        // Bit `i` of the result for byte `i` of `x` being zero: the high bit of
        // `(b & 0x7F) + 0x7F` is set for every byte but 0 (no carry leaves a byte), and
        // `| x` covers the bytes whose own high bit is set. The eight flags are then
        // gathered into one byte by a multiplication.
        let zero_bytes = |x: u64| {
            let nonzero = ((x & LOW).wrapping_add(LOW) | x) & HIGH;
            ((!nonzero & HIGH) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
        };
        for &item in text {
            let spread = u64::from(item) * ONES;
            let matches = zero_bytes(words[0] ^ spread) | (zero_bytes(words[1] ^ spread) << 8);
            step(matches & valid);
        }
    }
}

/// The optimal string alignment distance of a pattern of 1 to 64 items and a text, one
/// machine word per column (Hyyrö 2003, "A bit-vector algorithm for computing Levenshtein
/// and Damerau edit distances", the restricted-transposition form): bit `i` of the
/// vertical deltas says how row `i` of the table changes from the row above. No table and
/// no allocation: a few word operations per character of the text, where the table took
/// a cell per pair of characters and three vectors to resize.
fn osa_bits<T: Symbol>(pattern: &[T], text: &[T]) -> usize {
    let mut column = OsaColumn::new(pattern.len());
    T::for_each_match(pattern, text, |matches| column.step(matches));
    column.distance
}

/// The state of `osa_bits` after some items of the text: the vertical deltas of the
/// current column and the distance in its last row.
struct OsaColumn {
    vp: u64,
    vn: u64,
    d0: u64,
    previous_match: u64,
    last: u64,
    distance: usize,
}

impl OsaColumn {
    fn new(pattern: usize) -> OsaColumn {
        debug_assert!((1..=64).contains(&pattern));
        OsaColumn {
            vp: !0,
            vn: 0,
            d0: 0,
            previous_match: 0,
            last: 1 << (pattern - 1),
            distance: pattern,
        }
    }

    /// Moves one item of the text on; `matches` says where the pattern holds it.
    fn step(&mut self, matches: u64) {
        let (vp, vn) = (self.vp, self.vn);
        let transposed = ((!self.d0 & matches) << 1) & self.previous_match;
        let d0 = (((matches & vp).wrapping_add(vp)) ^ vp) | matches | vn | transposed;
        let hp = vn | !(d0 | vp);
        let hn = d0 & vp;
        self.distance += usize::from(hp & self.last != 0);
        self.distance -= usize::from(hn & self.last != 0);
        let hp = (hp << 1) | 1;
        let hn = hn << 1;
        self.vp = hn | !(d0 | hp);
        self.vn = hp & d0;
        self.d0 = d0;
        self.previous_match = matches;
    }
}

/// One byte string of 1 to 64 bytes prepared as the pattern of the bit-parallel distance
/// against many texts: where each byte value occurs in it, so each text byte costs one
/// lookup. For the rows one identifier walk scores against the same document value.
pub(crate) struct BytePattern {
    masks: [u64; 256],
    len: usize,
}

impl BytePattern {
    pub(crate) fn new(pattern: &[u8]) -> Option<BytePattern> {
        if !(1..=64).contains(&pattern.len()) {
            return None;
        }
        let mut masks = [0u64; 256];
        for (i, &b) in pattern.iter().enumerate() {
            masks[usize::from(b)] |= 1 << i;
        }
        Some(BytePattern {
            masks,
            len: pattern.len(),
        })
    }

    /// The optimal string alignment distance of the pattern and `text`.
    pub(crate) fn distance(&self, text: &[u8]) -> usize {
        let mut column = OsaColumn::new(self.len);
        for &b in text {
            column.step(self.masks[usize::from(b)]);
        }
        column.distance
    }
}

/// `osa_within` by the full table.
fn osa_table<T: PartialEq>(
    a: &[T],
    b: &[T],
    max: usize,
    rows: &mut [Vec<usize>; 3],
) -> Option<usize> {
    let width = b.len() + 1;
    for row in rows.iter_mut() {
        row.clear();
        row.resize(width, 0);
    }
    let [before, previous, current] = rows;
    for (j, cell) in previous.iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(before, previous);
        std::mem::swap(previous, current);
    }
    let d = previous[b.len()];
    (d <= max).then_some(d)
}

type Bigram = (char, char);

/// Distinct padded character bigrams of a word.
fn bigrams(word: &str) -> Vec<Bigram> {
    let mut chars = Vec::with_capacity(word.len() + 2);
    chars.push('\u{2}');
    chars.extend(word.chars());
    chars.push('\u{3}');
    let mut grams: Vec<Bigram> = chars.windows(2).map(|w| (w[0], w[1])).collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// The distinct words of a reference column with their weights and bigram postings.
struct Vocabulary {
    words: Vec<String>,
    ids: HashMap<String, u32>,
    weights: Vec<f32>,
    lengths: Vec<u32>,
    bigram_counts: Vec<u32>,
    bigram_words: HashMap<Bigram, Vec<u32>>,
    /// The weight of a word the column never uses: as rare as the rarest.
    unseen_weight: f32,
}

impl Vocabulary {
    /// The word look-ups (lengths, bigram postings) from the words, in id order.
    fn new(
        words: Vec<String>,
        ids: HashMap<String, u32>,
        weights: Vec<f32>,
        unseen_weight: f32,
    ) -> Self {
        let mut bigram_words: HashMap<Bigram, Vec<u32>> = HashMap::default();
        let mut bigram_counts = Vec::with_capacity(words.len());
        let mut lengths = Vec::with_capacity(words.len());
        for (id, word) in words.iter().enumerate() {
            let grams = bigrams(word);
            bigram_counts.push(grams.len() as u32);
            lengths.push(word.chars().count() as u32);
            for g in grams {
                bigram_words.entry(g).or_default().push(id as u32);
            }
        }
        Vocabulary {
            words,
            ids,
            weights,
            lengths,
            bigram_counts,
            bigram_words,
            unseen_weight,
        }
    }
}

/// One document word: its weight and every vocabulary word alike enough, by id.
struct ProbeWord {
    weight: f32,
    /// `(vocabulary id, similarity)`, ascending by id.
    alike: Arc<[(u32, f32)]>,
}

pub struct FuzzyProbe {
    /// The document value's distinct words.
    words: Parsed<Vec<ProbeWord>>,
    /// `sum(q)` and `||q||` of the words' weights: containment's and cosine's document
    /// side.
    weight_sum: f64,
    weight_norm: f64,
    /// Unique per prepared document value (never 0): the key of cached scores.
    id: u64,
}

static NEXT_PROBE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub struct FuzzyColumn {
    vocabulary: Vocabulary,
    /// Word ids of each row, flat with offsets; a row without words is missing.
    row_offsets: Vec<u32>,
    row_words: Vec<u32>,
    /// Offsets of each word id's rows in the (not kept) word -> rows postings: their
    /// differences are document frequencies.
    word_offsets: Vec<u32>,
    /// Rows with the same words (one vendor's name on all its invoices) share a value: a
    /// row's fuzzy score depends only on its value, so bounds are computed per value.
    row_value: Vec<u32>,
    /// Each value's total word weight (`R` of Dice's denominator) and the L2 norm of its
    /// word weights (`||w||` of cosine's).
    value_weight: Vec<f32>,
    value_norm: Vec<f32>,
    /// Values of each word id, flat with offsets.
    value_offsets: Vec<u32>,
    word_values: Vec<u32>,
    /// Rows of each value, flat with offsets.
    value_row_offsets: Vec<u32>,
    value_row_list: Vec<u32>,
    min_similarity: f64,
    measure: FuzzyMeasure,
    cap: usize,
    value_cap: usize,
}

/// What walking a document's words leaves unknown, for the matcher's bounds.
#[derive(Clone, Copy, Debug, Default)]
pub struct FuzzyResidual {
    /// Sum over document words of the best pair term (see `FuzzyColumn::pair_term`) among
    /// alike words too common to walk: what a row may match beyond its credits.
    pub capped: f32,
    /// Sum of `q^2` over document words with an alike word too common to walk: the only
    /// document words a row may pair with beyond those that credited it (cosine).
    pub open_square: f32,
    /// The document side of the measure's denominator: `||q||` (cosine), `sum(q)`
    /// (containment); unused by Dice.
    pub scale: f32,
    /// A bound of the score of rows whose value got no credit.
    pub uncredited: f32,
    /// A bound of the score of any row not yet reached.
    pub unseen: f32,
}

/// Entries a worker's word cache holds before it starts over.
const WORD_CACHE_LIMIT: usize = 200_000;

/// Per-thread working memory for one fuzzy column, reused across documents.
#[derive(Default)]
pub struct FuzzyScratch {
    /// Per value: the document (epoch) and word (group) that last credited it, and the
    /// sum over document words of the best `similarity x weight` it offers.
    value_epoch: Vec<u32>,
    value_group: Vec<u32>,
    value_credit: Vec<f32>,
    /// Per value: the sum of `q^2` over the document words that credited it (cosine).
    value_square: Vec<f32>,
    credited: Vec<u32>,
    epoch: u32,
    /// Per value, the probe its score was computed for, and the score.
    score_probe: Vec<u64>,
    value_score: Vec<f64>,
    pairs: Vec<(f32, u16, u16)>,
    doc_used: Vec<bool>,
    row_used: Vec<bool>,
    /// Shared-bigram count per vocabulary word, and which counts are set.
    counts: Vec<u16>,
    counted: Vec<u32>,
    osa: OsaBuffers,
    /// Alike words of document words seen before: names repeat across documents.
    cache: HashMap<String, Arc<[(u32, f32)]>>,
}

impl FuzzyColumn {
    pub fn build<'a>(
        values: impl Iterator<Item = &'a str>,
        min_similarity: f64,
        measure: FuzzyMeasure,
    ) -> Self {
        let mut ids: HashMap<String, u32> = HashMap::default();
        let mut words: Vec<String> = Vec::new();
        let mut row_offsets = vec![0u32];
        let mut row_words: Vec<u32> = Vec::new();
        for value in values {
            for token in tokenize(&normalize_text(value)) {
                let id = match ids.get(&token) {
                    Some(&id) => id,
                    None => {
                        let id = words.len() as u32;
                        ids.insert(token.clone(), id);
                        words.push(token);
                        id
                    }
                };
                row_words.push(id);
            }
            row_offsets.push(row_words.len() as u32);
        }
        let rows = row_offsets.len() - 1;

        // Rows per word (each row counted once per word) give document frequency.
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(row_words.len());
        for row in 0..rows {
            let (s, e) = (row_offsets[row] as usize, row_offsets[row + 1] as usize);
            pairs.extend(row_words[s..e].iter().map(|&w| (w, row as u32)));
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut word_offsets = vec![0u32; words.len() + 1];
        for &(w, _) in &pairs {
            word_offsets[w as usize + 1] += 1;
        }
        for i in 1..word_offsets.len() {
            word_offsets[i] += word_offsets[i - 1];
        }

        let with_words = (0..rows)
            .filter(|&r| row_offsets[r + 1] > row_offsets[r])
            .count()
            .max(1) as f64;
        let idf = |df: f64| (1.0 + with_words / df.max(1.0)).ln() as f32;
        let weights: Vec<f32> = (0..words.len())
            .map(|w| idf(f64::from(word_offsets[w + 1] - word_offsets[w])))
            .collect();
        let row_weight: Vec<f32> = (0..rows)
            .map(|r| {
                let (s, e) = (row_offsets[r] as usize, row_offsets[r + 1] as usize);
                row_words[s..e]
                    .iter()
                    .map(|&w| f64::from(weights[w as usize]))
                    .sum::<f64>() as f32
            })
            .collect();

        // Values: rows grouped by their word sequence.
        let mut value_of: HashMap<&[u32], u32> = HashMap::default();
        let mut row_value = Vec::with_capacity(rows);
        let mut value_first_row: Vec<u32> = Vec::new();
        for r in 0..rows {
            let (s, e) = (row_offsets[r] as usize, row_offsets[r + 1] as usize);
            let next = value_first_row.len() as u32;
            let v = *value_of.entry(&row_words[s..e]).or_insert(next);
            if v == next {
                value_first_row.push(r as u32);
            }
            row_value.push(v);
        }
        drop(value_of);
        let value_weight: Vec<f32> = value_first_row
            .iter()
            .map(|&r| row_weight[r as usize])
            .collect();
        let value_norm: Vec<f32> = value_first_row
            .iter()
            .map(|&r| {
                let (s, e) = (
                    row_offsets[r as usize] as usize,
                    row_offsets[r as usize + 1] as usize,
                );
                norm(row_words[s..e].iter().map(|&w| weights[w as usize])) as f32
            })
            .collect();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (v, &r) in value_first_row.iter().enumerate() {
            let (s, e) = (
                row_offsets[r as usize] as usize,
                row_offsets[r as usize + 1] as usize,
            );
            pairs.extend(row_words[s..e].iter().map(|&w| (w, v as u32)));
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut value_offsets = vec![0u32; words.len() + 1];
        for &(w, _) in &pairs {
            value_offsets[w as usize + 1] += 1;
        }
        for i in 1..value_offsets.len() {
            value_offsets[i] += value_offsets[i - 1];
        }
        let word_values: Vec<u32> = pairs.into_iter().map(|(_, v)| v).collect();
        let values = value_first_row.len();
        let mut value_row_offsets = vec![0u32; values + 1];
        for &v in &row_value {
            value_row_offsets[v as usize + 1] += 1;
        }
        for i in 1..value_row_offsets.len() {
            value_row_offsets[i] += value_row_offsets[i - 1];
        }
        let mut fill = value_row_offsets.clone();
        let mut value_row_list = vec![0u32; rows];
        for (r, &v) in row_value.iter().enumerate() {
            value_row_list[fill[v as usize] as usize] = r as u32;
            fill[v as usize] += 1;
        }

        FuzzyColumn {
            vocabulary: Vocabulary::new(words, ids, weights, idf(1.0)),
            row_offsets,
            row_words,
            word_offsets,
            row_value,
            value_weight,
            value_norm,
            value_offsets,
            word_values,
            value_row_offsets,
            value_row_list,
            min_similarity,
            measure,
            cap: posting_cap(rows),
            value_cap: posting_cap(values),
        }
    }

    pub fn encode(&self, w: &mut Writer) {
        let v = &self.vocabulary;
        v.words.encode(w);
        v.weights.encode(w);
        v.unseen_weight.encode(w);
        self.row_offsets.encode(w);
        self.row_words.encode(w);
        self.word_offsets.encode(w);
        self.row_value.encode(w);
        self.value_weight.encode(w);
        self.value_norm.encode(w);
        self.value_offsets.encode(w);
        self.word_values.encode(w);
        self.value_row_offsets.encode(w);
        self.value_row_list.encode(w);
    }

    /// Reads what `encode` wrote for a table of `rows` rows, checking every offset and id
    /// against what it indexes.
    pub fn decode(
        r: &mut Reader,
        rows: usize,
        min_similarity: f64,
        measure: FuzzyMeasure,
    ) -> Decoded<Self> {
        let words: Vec<String> = r.get()?;
        let weights: Vec<f32> = r.get()?;
        let unseen_weight: f32 = r.get()?;
        let row_offsets: Vec<u32> = r.get()?;
        let row_words: Vec<u32> = r.get()?;
        let word_offsets: Vec<u32> = r.get()?;
        let row_value: Vec<u32> = r.get()?;
        let value_weight: Vec<f32> = r.get()?;
        let value_norm: Vec<f32> = r.get()?;
        let value_offsets: Vec<u32> = r.get()?;
        let word_values: Vec<u32> = r.get()?;
        let value_row_offsets: Vec<u32> = r.get()?;
        let value_row_list: Vec<u32> = r.get()?;
        let values = value_weight.len();
        let n = words.len();
        let mut ids: HashMap<String, u32> = HashMap::default();
        ids.reserve(n);
        for (id, word) in words.iter().enumerate() {
            ids.insert(word.clone(), id as u32);
        }
        let lengths_agree = ids.len() == n
            && weights.len() == n
            && row_value.len() == rows
            && value_norm.len() == values
            && value_row_list.len() == rows;
        if !lengths_agree {
            return Err(Refused("is corrupt (fuzzy index sizes disagree)".into()));
        }
        check_offsets(&row_offsets, rows, row_words.len())?;
        check_ids(row_words.iter().copied(), n)?;
        check_offsets(
            &word_offsets,
            n,
            word_offsets.last().map_or(0, |&l| l as usize),
        )?;
        check_ids(row_value.iter().copied(), values)?;
        check_offsets(&value_offsets, n, word_values.len())?;
        check_ids(word_values.iter().copied(), values)?;
        check_offsets(&value_row_offsets, values, value_row_list.len())?;
        check_ids(value_row_list.iter().copied(), rows)?;
        Ok(FuzzyColumn {
            vocabulary: Vocabulary::new(words, ids, weights, unseen_weight),
            row_offsets,
            row_words,
            word_offsets,
            row_value,
            value_weight,
            value_norm,
            value_offsets,
            word_values,
            value_row_offsets,
            value_row_list,
            min_similarity,
            measure,
            cap: posting_cap(rows),
            value_cap: posting_cap(values),
        })
    }

    /// Every vocabulary word alike to `word`, by id. Bigram counting prunes the words that
    /// cannot reach the floor: `k` edits destroy at most `3k` distinct bigrams.
    fn alike_words(&self, word: &str, scratch: &mut FuzzyScratch) -> Arc<[(u32, f32)]> {
        if let Some(hit) = scratch.cache.get(word) {
            return Arc::clone(hit);
        }
        let v = &self.vocabulary;
        let grams = bigrams(word);
        let length = word.chars().count();
        scratch.counts.resize(v.words.len(), 0);
        for g in &grams {
            if let Some(ids) = v.bigram_words.get(g) {
                for &id in ids {
                    let count = &mut scratch.counts[id as usize];
                    if *count == 0 {
                        scratch.counted.push(id);
                    }
                    *count = count.saturating_add(1);
                }
            }
        }
        let mut alike: Vec<(u32, f32)> = Vec::new();
        for &id in &scratch.counted {
            let count = std::mem::take(&mut scratch.counts[id as usize]) as usize;
            let other = v.lengths[id as usize] as usize;
            let edits = max_edits(length.max(other));
            if length.abs_diff(other) > edits {
                continue;
            }
            let needed = grams.len().max(v.bigram_counts[id as usize] as usize);
            if count + 3 * edits < needed {
                continue;
            }
            let s = similarity_with(word, &v.words[id as usize], &mut scratch.osa);
            if s > 0.0 {
                alike.push((id, s as f32));
            }
        }
        scratch.counted.clear();
        alike.sort_unstable_by_key(|&(id, _)| id);
        let alike: Arc<[(u32, f32)]> = alike.into();
        if scratch.cache.len() >= WORD_CACHE_LIMIT {
            scratch.cache.clear();
        }
        scratch.cache.insert(word.to_string(), Arc::clone(&alike));
        alike
    }

    pub fn prepare(&self, raw: Option<&str>, scratch: &mut FuzzyScratch) -> FuzzyProbe {
        // Each probe gets its own id, so scores cached per value never outlive it.
        let probe = NEXT_PROBE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tokens = raw
            .map(|r| tokenize(&normalize_text(r)))
            .unwrap_or_default();
        if tokens.is_empty() {
            return FuzzyProbe {
                words: Parsed::Missing,
                weight_sum: 0.0,
                weight_norm: 0.0,
                id: probe,
            };
        }
        let v = &self.vocabulary;
        let words: Vec<ProbeWord> = tokens
            .iter()
            .map(|t| ProbeWord {
                weight: v
                    .ids
                    .get(t)
                    .map_or(v.unseen_weight, |&id| v.weights[id as usize]),
                alike: self.alike_words(t, scratch),
            })
            .collect();
        FuzzyProbe {
            weight_sum: words.iter().map(|w| f64::from(w.weight)).sum(),
            weight_norm: norm(words.iter().map(|w| w.weight)),
            words: Parsed::Value(words),
            id: probe,
        }
    }

    /// Reads what scoring `row` reads first (its value and its words' place), so that
    /// loads issued for several rows back to back overlap (see `Matcher::score_pending`).
    pub fn touch(&self, row: u32) -> u32 {
        let r = row as usize;
        let value = self.row_value.get(r).copied().unwrap_or(0);
        let words = self.row_offsets.get(r).copied().unwrap_or(0);
        value.wrapping_add(words)
    }

    fn row(&self, row: u32) -> &[u32] {
        let r = row as usize;
        match (self.row_offsets.get(r), self.row_offsets.get(r + 1)) {
            (Some(&s), Some(&e)) => &self.row_words[s as usize..e as usize],
            _ => &[],
        }
    }

    /// The row's score; rows with the same value share it, so it is computed once per
    /// value and document.
    pub fn score(&self, probe: &FuzzyProbe, row: u32, scratch: &mut FuzzyScratch) -> FieldScore {
        let Parsed::Value(_) = &probe.words else {
            return FieldScore::Missing;
        };
        if self.row(row).is_empty() {
            return FieldScore::Missing;
        }
        let Some(&value) = self.row_value.get(row as usize) else {
            return FieldScore::Missing;
        };
        let v = value as usize;
        if scratch.score_probe.len() != self.value_weight.len() {
            scratch.score_probe = vec![0; self.value_weight.len()];
            scratch.value_score = vec![0.0; self.value_weight.len()];
        }
        if scratch.score_probe[v] == probe.id {
            return FieldScore::Score(scratch.value_score[v]);
        }
        let score = self.score_row(probe, row, scratch);
        scratch.score_probe[v] = probe.id;
        scratch.value_score[v] = score;
        FieldScore::Score(score)
    }

    fn score_row(&self, probe: &FuzzyProbe, row: u32, scratch: &mut FuzzyScratch) -> f64 {
        let Parsed::Value(doc) = &probe.words else {
            return 0.0;
        };
        let reference = self.row(row);
        let weights = &self.vocabulary.weights;
        let pairs = &mut scratch.pairs;
        pairs.clear();
        for (d, word) in doc.iter().enumerate() {
            for (r, &id) in reference.iter().enumerate() {
                if let Ok(i) = word.alike.binary_search_by_key(&id, |&(w, _)| w) {
                    pairs.push((word.alike[i].1, d as u16, r as u16));
                }
            }
        }
        // Best pairs first; ties go to the heavier reference word, then to position.
        pairs.sort_unstable_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(
                    weights[reference[b.2 as usize] as usize]
                        .total_cmp(&weights[reference[a.2 as usize] as usize]),
                )
                .then((a.1, a.2).cmp(&(b.1, b.2)))
        });
        scratch.doc_used.clear();
        scratch.doc_used.resize(doc.len(), false);
        scratch.row_used.clear();
        scratch.row_used.resize(reference.len(), false);
        // Sums over the pairs: `s x w_r` (Dice), `q_d x s x w_r` (cosine), `q_d x s`
        // (containment), and the paired row words' weights.
        let (mut dice, mut cosine, mut contained, mut paired) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for &(s, d, r) in pairs.iter() {
            let (d, r) = (d as usize, r as usize);
            if scratch.doc_used[d] || scratch.row_used[r] {
                continue;
            }
            scratch.doc_used[d] = true;
            scratch.row_used[r] = true;
            let (s, q, w) = (
                f64::from(s),
                f64::from(doc[d].weight),
                f64::from(weights[reference[r] as usize]),
            );
            dice += s * w;
            cosine += q * s * w;
            contained += q * s;
            paired += w;
        }
        let (numerator, denominator) = match self.measure {
            FuzzyMeasure::Cosine => {
                let row_norm = norm(reference.iter().map(|&id| weights[id as usize]));
                (cosine, probe.weight_norm * row_norm)
            }
            FuzzyMeasure::Containment => (contained, probe.weight_sum),
            FuzzyMeasure::Dice => {
                let unpaired: f64 = doc
                    .iter()
                    .enumerate()
                    .filter(|&(d, _)| !scratch.doc_used[d])
                    .map(|(_, word)| f64::from(word.weight))
                    .sum();
                let row_weight: f64 = reference
                    .iter()
                    .map(|&id| f64::from(weights[id as usize]))
                    .sum();
                (2.0 * dice, paired + unpaired + row_weight)
            }
        };
        let score = if denominator > 0.0 {
            (numerator / denominator).clamp(0.0, 1.0)
        } else {
            0.0
        };
        if score < self.min_similarity {
            0.0
        } else {
            score
        }
    }

    pub fn is_present(probe: &FuzzyProbe) -> bool {
        matches!(probe.words, Parsed::Value(_))
    }

    pub fn row_present(&self, row: u32) -> bool {
        !self.row(row).is_empty()
    }

    /// How many rows hold word `id`.
    fn frequency(&self, id: u32) -> usize {
        let start = self.word_offsets.get(id as usize).copied().unwrap_or(0);
        let end = self.word_offsets.get(id as usize + 1).copied().unwrap_or(0);
        end.saturating_sub(start) as usize
    }

    /// Rows holding an alike word not too common to walk.
    fn cost(&self, probe: &FuzzyProbe) -> usize {
        let Parsed::Value(doc) = &probe.words else {
            return 0;
        };
        doc.iter()
            .flat_map(|w| w.alike.iter())
            .filter(|&&(id, _)| self.values_of(id).len() <= self.value_cap)
            .map(|&(id, _)| self.frequency(id))
            .filter(|&n| n <= self.cap)
            .sum()
    }

    fn values_of(&self, id: u32) -> &[u32] {
        let (start, end) = (
            self.value_offsets.get(id as usize).copied().unwrap_or(0) as usize,
            self.value_offsets
                .get(id as usize + 1)
                .copied()
                .unwrap_or(0) as usize,
        );
        self.word_values.get(start..end.max(start)).unwrap_or(&[])
    }

    /// Values `walk_values` visits.
    pub fn value_cost(&self, probe: &FuzzyProbe) -> usize {
        let Parsed::Value(doc) = &probe.words else {
            return 0;
        };
        doc.iter()
            .flat_map(|w| w.alike.iter())
            .filter(|&&(id, _)| self.frequency(id) <= self.cap)
            .map(|&(id, _)| self.values_of(id).len())
            .filter(|&n| n <= self.value_cap)
            .sum()
    }

    /// A pair's term in the measure's numerator, for document word weight `q`, similarity
    /// `s` and row word weight `w`: `s w` (Dice), `q s w` (cosine), `q s` (containment).
    fn pair_term(&self, q: f32, s: f32, w: f32) -> f32 {
        match self.measure {
            FuzzyMeasure::Dice => s * w,
            FuzzyMeasure::Cosine => q * s * w,
            FuzzyMeasure::Containment => q * s,
        }
    }

    /// Credits every value holding a word alike to a document word with the best pair term
    /// (`pair_term`) among its alike words (once per document word), in `scratch`, and
    /// returns what the credits leave open.
    ///
    /// Why the bounds hold. Pairing is one to one, so each document word `d` is in at most
    /// one pair `(d, r)` with a row word `r` alike to it. When `r` was walked, the value got
    /// a credit from `d` of at least that pair's term; when `r` is too common to walk, the
    /// term is at most `d`'s best capped term. So a value's numerator is at most
    /// `a = credit + capped` (`capped` sums the capped terms of all document words), and:
    ///
    /// - Dice, `2M / (Dm + Du + R)`: `M <= min(a, R)` and `Dm + Du >= M`, so the score is
    ///   at most `2a' / (a' + R)` with `a' = min(a, R)`. A value without credit pairs only
    ///   with words that have a capped alike word; with `Dm >= M`, `R >= M` and `Du` at
    ///   least the weight `U` of the document words without one, its score is at most
    ///   `2C / (2C + U)`.
    /// - Cosine, `sum(q_d s w_r) / (||q|| ||w||)`: at most `a / (||q|| ||w||)`. Also, by
    ///   Cauchy-Schwarz over the pairs and `s <= 1`,
    ///   `sum(q_d s w_r) <= sqrt(sum q_d^2) sqrt(sum w_r^2) <= sqrt(sum q_d^2) ||w||` with
    ///   the sums over paired words (distinct row words, so `sum w_r^2 <= ||w||^2`): the
    ///   score is at most `sqrt(P) / ||q||` where `P` sums `q_d^2` over the document words
    ///   that can pair with the value. Those either credited it (`value_square`) or have
    ///   an alike word too common to walk (`open_square`); a word whose alike words were
    ///   all walked and that did not credit the value has no alike word in it. So a
    ///   credited value is bounded by `min(a / (||q|| ||w||), sqrt(value_square +
    ///   open_square) / ||q||)`, and a value without credit by `sqrt(open_square) /
    ///   ||q||`, which is `sqrt(||q||^2 - A) / ||q||` with `A` the squared weights of the
    ///   fully walked words, summed without the cancellation.
    /// - Containment, `sum(q_d s) / sum(q)`: at most `a / sum(q)`; without credit,
    ///   `C / sum(q)`, itself at most the weight share of the words not fully walked.
    ///
    /// Every bound is at most 1 and raised by `BOUND_SLACK` against `f32` rounding. The
    /// returned `unseen` bounds every row: the best credited value's bound, or that of
    /// rows with no credit.
    pub fn walk_values(&self, probe: &FuzzyProbe, scratch: &mut FuzzyScratch) -> FuzzyResidual {
        let Parsed::Value(doc) = &probe.words else {
            return FuzzyResidual::default();
        };
        let values = self.value_weight.len();
        if scratch.value_epoch.len() != values {
            scratch.value_epoch = vec![0; values];
            scratch.value_group = vec![0; values];
            scratch.value_credit = vec![0.0; values];
            scratch.value_square = vec![0.0; values];
            scratch.epoch = 0;
        }
        scratch.epoch = scratch.epoch.wrapping_add(1);
        if scratch.epoch == 0 {
            scratch.value_epoch.iter_mut().for_each(|e| *e = 0);
            scratch.epoch = 1;
        }
        scratch.credited.clear();
        let epoch = scratch.epoch;
        let weights = &self.vocabulary.weights;
        let weight_of = |id: u32| weights.get(id as usize).copied().unwrap_or(0.0);
        let mut capped = 0.0f32;
        let mut open_square = 0.0f32;
        let mut unmatched = 0.0f32;
        let mut alike: Vec<(u32, f32)> = Vec::new();
        for (d, word) in doc.iter().enumerate() {
            let q = word.weight;
            alike.clear();
            alike.extend(
                word.alike
                    .iter()
                    .map(|&(id, s)| (id, self.pair_term(q, s, weight_of(id)))),
            );
            alike.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let group = d as u32 + 1;
            let mut word_capped = 0.0f32;
            let mut word_open = false;
            for &(id, amount) in &alike {
                let of = self.values_of(id);
                // A word too common by values or by rows is not walked, so that the rows
                // of credited values are within `row_cost`.
                if of.len() > self.value_cap || self.frequency(id) > self.cap {
                    word_capped = word_capped.max(amount);
                    word_open = true;
                    continue;
                }
                for &v in of {
                    let v = v as usize;
                    if scratch.value_epoch[v] != epoch {
                        scratch.value_epoch[v] = epoch;
                        scratch.value_group[v] = 0;
                        scratch.value_credit[v] = 0.0;
                        scratch.value_square[v] = 0.0;
                        scratch.credited.push(v as u32);
                    }
                    if scratch.value_group[v] != group {
                        scratch.value_group[v] = group;
                        scratch.value_credit[v] += amount;
                        scratch.value_square[v] += q * q;
                    }
                }
            }
            if word_open {
                capped += word_capped;
                open_square += q * q;
            } else {
                unmatched += q;
            }
        }
        let mut residual = FuzzyResidual {
            capped,
            open_square,
            scale: match self.measure {
                FuzzyMeasure::Cosine => probe.weight_norm as f32,
                FuzzyMeasure::Containment => probe.weight_sum as f32,
                FuzzyMeasure::Dice => 0.0,
            },
            uncredited: 0.0,
            unseen: 0.0,
        };
        residual.uncredited = if capped <= 0.0 {
            0.0
        } else {
            let bound = match self.measure {
                FuzzyMeasure::Dice => 2.0 * capped / (2.0 * capped + unmatched),
                FuzzyMeasure::Cosine => ratio(open_square.sqrt(), residual.scale),
                FuzzyMeasure::Containment => ratio(capped, residual.scale),
            };
            raise(bound)
        };
        let credited = scratch
            .credited
            .iter()
            .map(|&v| self.credited_bound(v as usize, scratch, &residual))
            .fold(0.0f32, f32::max);
        residual.unseen = credited.max(residual.uncredited);
        residual
    }

    /// The bound of value `v`'s score from its credit (0 without) and the residual; see
    /// `walk_values` for why it holds.
    fn credited_bound(&self, v: usize, scratch: &FuzzyScratch, residual: &FuzzyResidual) -> f32 {
        let (credit, square) = if scratch.value_epoch.get(v) == Some(&scratch.epoch) {
            (scratch.value_credit[v], scratch.value_square[v])
        } else {
            (0.0, 0.0)
        };
        let reach = credit + residual.capped;
        if reach <= 0.0 {
            return 0.0;
        }
        let bound = match self.measure {
            FuzzyMeasure::Dice => dice_bound(reach, self.value_weight[v]),
            FuzzyMeasure::Cosine => {
                let by_terms = ratio(reach, residual.scale * self.value_norm[v]);
                let by_words = ratio((square + residual.open_square).sqrt(), residual.scale);
                by_terms.min(by_words)
            }
            FuzzyMeasure::Containment => ratio(reach, residual.scale),
        };
        raise(bound)
    }

    /// After `walk_values`: reaches every row of every credited value whose bound is above
    /// `floor` (the rows a later bound may not leave out). Returns the best bound of the
    /// credited values it left out (0 when none): their rows, like those of values without
    /// credit (bounded by `uncredited`), stay unreached.
    pub fn walk_rows(
        &self,
        scratch: &FuzzyScratch,
        residual: &FuzzyResidual,
        floor: f32,
        acc: &mut Accumulator,
    ) -> f32 {
        let mut left = 0.0f32;
        for &v in &scratch.credited {
            let bound = self.credited_bound(v as usize, scratch, residual);
            if bound <= floor {
                left = left.max(bound);
                continue;
            }
            for batch in self.value_rows(v).chunks(PREFETCH) {
                acc.prefetch(batch.iter().copied());
                for &row in batch {
                    acc.credit(row, 0.0);
                }
            }
        }
        left
    }

    /// Rows `walk_rows` would reach, estimated before the values are known: the postings
    /// of the alike words.
    pub fn row_cost(&self, probe: &FuzzyProbe) -> usize {
        self.cost(probe)
    }

    fn value_rows(&self, v: u32) -> &[u32] {
        let (start, end) = (
            self.value_row_offsets.get(v as usize).copied().unwrap_or(0) as usize,
            self.value_row_offsets
                .get(v as usize + 1)
                .copied()
                .unwrap_or(0) as usize,
        );
        self.value_row_list
            .get(start..end.max(start))
            .unwrap_or(&[])
    }

    /// Each row's value.
    pub fn row_values(&self) -> &[u32] {
        &self.row_value
    }

    /// How many distinct values the column holds.
    pub fn value_count(&self) -> usize {
        self.value_row_offsets.len().saturating_sub(1)
    }

    /// The values `walk_values` credited for the current document.
    pub fn credited_values(scratch: &FuzzyScratch) -> &[u32] {
        &scratch.credited
    }

    /// The bound of `row`'s score after `walk_values`.
    pub fn bound(&self, row: u32, scratch: &FuzzyScratch, residual: &FuzzyResidual) -> f32 {
        match self.row_value.get(row as usize) {
            Some(&v) => self.value_bound(v, scratch, residual),
            None => 0.0,
        }
    }

    /// The exact score of value `v` against `probe` when `score` already computed it for
    /// this document (it is the same for every row holding the value).
    pub fn cached_value_score(
        &self,
        v: u32,
        probe: &FuzzyProbe,
        scratch: &FuzzyScratch,
    ) -> Option<f32> {
        let v = v as usize;
        (scratch.score_probe.get(v) == Some(&probe.id))
            .then(|| scratch.value_score.get(v).map(|&s| s as f32))
            .flatten()
    }

    /// The bound of the score of rows with value `v` after `walk_values`.
    pub fn value_bound(&self, v: u32, scratch: &FuzzyScratch, residual: &FuzzyResidual) -> f32 {
        let v = v as usize;
        if v >= self.value_weight.len() {
            return 0.0;
        }
        self.credited_bound(v, scratch, residual)
    }

    #[cfg(test)]
    /// Walks words with fewer rows and values than the real caps, to exercise the bounds
    /// of words too common to walk on small tables.
    pub(crate) fn lower_caps(&mut self, cap: usize) {
        self.cap = cap;
        self.value_cap = cap;
    }
}

/// `2a / (a + R)` with `a = min(credit, R)`: the largest Dice score a value of weight `R`
/// can have when its matched terms sum to at most `credit`.
fn dice_bound(credit: f32, weight: f32) -> f32 {
    let a = credit.min(weight);
    if a <= 0.0 || weight <= 0.0 {
        0.0
    } else {
        2.0 * a / (a + weight)
    }
}

/// `a / b`, and 1 (the most any measure scores) when `b` is not positive.
fn ratio(a: f32, b: f32) -> f32 {
    if b > 0.0 {
        a / b
    } else {
        1.0
    }
}

/// A bound raised against rounding, at most 1.
fn raise(bound: f32) -> f32 {
    (bound * BOUND_SLACK).min(1.0)
}

/// The L2 norm of some weights, summed in `f64`.
fn norm(weights: impl Iterator<Item = f32>) -> f64 {
    weights
        .map(|w| f64::from(w) * f64::from(w))
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MEASURES: [FuzzyMeasure; 3] = [
        FuzzyMeasure::Cosine,
        FuzzyMeasure::Dice,
        FuzzyMeasure::Containment,
    ];

    fn column(values: &[&str]) -> FuzzyColumn {
        column_with(values, FuzzyMeasure::Dice)
    }

    fn column_with(values: &[&str], measure: FuzzyMeasure) -> FuzzyColumn {
        FuzzyColumn::build(values.iter().copied(), 0.0, measure)
    }

    fn score(col: &FuzzyColumn, doc: &str, row: u32) -> f64 {
        let mut scratch = FuzzyScratch::default();
        let probe = col.prepare(Some(doc), &mut scratch);
        match col.score(&probe, row, &mut scratch) {
            FieldScore::Score(s) => s,
            other => panic!("expected a score, got {other:?}"),
        }
    }

    const VENDORS: &[&str] = &[
        "Nordwind Logistik GmbH",
        "Nordwind Logistics Ltd",
        "Alpha Office Supplies Inc.",
        "Alpha Office Solutions Inc.",
        "Müller Druck GmbH",
        "Schmidt Bau GmbH",
        "Weber Elektro GmbH",
        "Panasonic KX-TG9341T Phone",
        "Logitech MX350 Mouse",
        "Logitech MX850 Mouse",
    ];

    #[test]
    fn codes_with_different_separators_are_one_word() {
        assert_eq!(tokenize("kx-tg9341t"), ["kxtg9341t"]);
        assert_eq!(tokenize("kx tg9341t"), ["kxtg9341t"]);
        assert_eq!(tokenize("kxtg9341t"), ["kxtg9341t"]);
        assert_eq!(tokenize("deh-p3000ib"), ["dehp3000ib"]);
        assert_eq!(tokenize("10/100 ethernet"), ["10100", "ethernet"]);
        assert_eq!(tokenize("s.a."), ["sa"]);
        assert_eq!(
            tokenize("muller gmbh & co. kg"),
            ["muller", "gmbh", "co", "kg"]
        );
        assert_eq!(tokenize("iphone 15 pro"), ["iphone", "15", "pro"]);
        assert_eq!(tokenize("u.s.a. inc"), ["usa", "inc"]);
        assert_eq!(
            tokenize("thistle facilities limited"),
            ["thistle", "facilities", "ltd"]
        );
        assert_eq!(
            tokenize("acme incorporated, acme corporation company"),
            ["acme", "inc", "corp", "co"]
        );
    }

    #[test]
    fn spaced_initials_stay_apart() {
        assert_eq!(tokenize("a. m. ouksel"), ["a", "m", "ouksel"]);
        assert_eq!(tokenize("j d ullman"), ["j", "d", "ullman"]);
    }

    #[test]
    fn groups_without_a_digit_give_one_word_per_piece() {
        assert_eq!(tokenize("e-mail client"), ["e", "mail", "client"]);
        assert_eq!(tokenize("norton anti-virus"), ["norton", "anti", "virus"]);
    }

    #[test]
    fn only_a_short_word_a_single_space_before_a_code_joins_it() {
        // A word of one or two letters joins a following code that starts with a letter.
        assert_eq!(tokenize("hp c4280 printer"), ["hpc4280", "printer"]);
        assert_eq!(tokenize("kx tg-9341t"), ["kxtg9341t"]);
        // Not a longer word, not a code starting with a digit, not across punctuation.
        assert_eq!(tokenize("sony dsc-w55"), ["sony", "dscw55"]);
        assert_eq!(tokenize("ab 123"), ["ab", "123"]);
        assert_eq!(tokenize("kx, tg9341t"), ["kx", "tg9341t"]);
        assert_eq!(tokenize("office 2007"), ["office", "2007"]);
    }

    #[test]
    fn model_number_glued_to_the_next_word_across_a_space() {
        assert_eq!(
            tokenize("panasonic kx-tg4323b 5.8 ghz"),
            ["panasonic", "kxtg4323b", "58", "ghz"]
        );
        let col = column_with(
            &[
                "Panasonic KX-TG4323B Cordless Phone",
                "Panasonic KX-TG4321B",
            ],
            FuzzyMeasure::Cosine,
        );
        assert!(
            score(&col, "Panasonic KX-TG4323B 5.8 GHz", 0)
                > score(&col, "Panasonic KX-TG4323B 5.8 GHz", 1)
        );
    }

    #[test]
    fn a_value_is_the_set_of_its_words() {
        assert_eq!(tokenize("the the band the"), ["the", "band"]);
        for measure in MEASURES {
            let col = column_with(
                &["alpha office supplies", "alpha alpha office", "beta"],
                measure,
            );
            // A repeated document word does not count twice, on either side.
            assert_eq!(
                score(&col, "alpha alpha office", 0),
                score(&col, "alpha office", 0),
                "{measure:?}"
            );
            assert_eq!(score(&col, "alpha office", 1), 1.0, "{measure:?}");
        }
    }

    /// Three rows, so that `N = 3`: `apple` is in two (`ln 2.5`), the rest in one (`ln 4`),
    /// and a word the column never uses weighs `ln(1 + 3) = ln 4`.
    fn fruit(measure: FuzzyMeasure) -> FuzzyColumn {
        column_with(&["apple banana", "apple cherry", "date"], measure)
    }

    #[test]
    fn cosine_on_a_hand_computed_example() {
        let (common, rare) = (2.5f64.ln(), 4f64.ln());
        let col = fruit(FuzzyMeasure::Cosine);
        // q = (apple, banana, kiwi), w = (apple, banana).
        let expected = (common * common + rare * rare)
            / ((common * common + 2.0 * rare * rare).sqrt()
                * (common * common + rare * rare).sqrt());
        assert!((score(&col, "apple banana kiwi", 0) - expected).abs() < 1e-6);
        // A typo (`aple`, unseen: weight ln 4) pairs with `apple` at 0.8.
        let expected = (rare * 0.8 * common + rare * rare)
            / ((3.0 * rare * rare).sqrt() * (common * common + rare * rare).sqrt());
        assert!((score(&col, "aple banana kiwi", 0) - expected).abs() < 1e-6);
    }

    #[test]
    fn dice_on_a_hand_computed_example() {
        let (common, rare) = (2.5f64.ln(), 4f64.ln());
        let col = fruit(FuzzyMeasure::Dice);
        // 2 x sum(s w_r) / (paired row weights + unpaired document weights + row weight).
        let expected = 2.0 * (common + rare) / ((common + rare) + rare + (common + rare));
        assert!((score(&col, "apple banana kiwi", 0) - expected).abs() < 1e-6);
        let expected = 2.0 * (0.8 * common + rare) / ((common + rare) + rare + (common + rare));
        assert!((score(&col, "aple banana kiwi", 0) - expected).abs() < 1e-6);
    }

    #[test]
    fn containment_on_a_hand_computed_example() {
        let (common, rare) = (2.5f64.ln(), 4f64.ln());
        let col = fruit(FuzzyMeasure::Containment);
        let expected = (common + rare) / (common + 2.0 * rare);
        assert!((score(&col, "apple banana kiwi", 0) - expected).abs() < 1e-6);
        let expected = (rare * 0.8 + rare) / (3.0 * rare);
        assert!((score(&col, "aple banana kiwi", 0) - expected).abs() < 1e-6);
        // A short document value found whole in a long row scores 1.
        assert_eq!(score(&col, "banana", 0), 1.0);
    }

    #[test]
    fn cosine_does_not_punish_a_long_value_as_dice_does() {
        let rows = [
            "acme rocket skates",
            "acme rocket skates with spare wheels and a carrying case",
            "acme anvil",
        ];
        let cosine = column_with(&rows, FuzzyMeasure::Cosine);
        let dice = column_with(&rows, FuzzyMeasure::Dice);
        let doc = "acme rocket skates carrying case";
        assert!(score(&cosine, doc, 1) > score(&dice, doc, 1));
    }

    #[test]
    fn word_order_case_and_diacritics_do_not_matter() {
        for measure in MEASURES {
            let col = column_with(VENDORS, measure);
            assert_eq!(score(&col, "GmbH Nordwind Logistik", 0), 1.0);
            assert_eq!(score(&col, "MULLER DRUCK GMBH", 4), 1.0);
        }
    }

    #[test]
    fn a_typo_costs_little() {
        for measure in MEASURES {
            let col = column_with(VENDORS, measure);
            let s = score(&col, "Nordwnid Logistik GmbH", 0);
            assert!(s > 0.85 && s < 1.0, "{measure:?}: {s}");
        }
    }

    #[test]
    fn rare_words_outweigh_legal_forms() {
        for measure in MEASURES {
            rare_words_outweigh_legal_forms_in(measure);
        }
    }

    fn rare_words_outweigh_legal_forms_in(measure: FuzzyMeasure) {
        let col = column_with(VENDORS, measure);
        // A wrong legal form costs less than a wrong distinctive name.
        let wrong_form = score(&col, "Schmidt Bau Inc", 5);
        let wrong_name = score(&col, "Weber Bau GmbH", 5);
        assert!(
            wrong_form > wrong_name,
            "{measure:?}: {wrong_form} vs {wrong_name}"
        );
        if measure != FuzzyMeasure::Containment {
            // Dropping the legal form costs less than dropping the distinctive name (a
            // document value wholly in the row is wholly contained either way).
            let without_form = score(&col, "Schmidt Bau", 5);
            let without_name = score(&col, "Bau GmbH", 5);
            assert!(
                without_form > without_name,
                "{measure:?}: {without_form} vs {without_name}"
            );
        }
        // The right vendor beats its look-alike.
        assert!(score(&col, "Alpha Office Supplies", 2) > score(&col, "Alpha Office Supplies", 3));
        assert!(score(&col, "Nordwind Logistik", 0) > score(&col, "Nordwind Logistik", 1));
    }

    #[test]
    fn codes_match_across_separators_but_not_across_digits() {
        assert_eq!(word_similarity("mx350", "mx850"), 0.0);
        for measure in MEASURES {
            let col = column_with(VENDORS, measure);
            assert_eq!(score(&col, "panasonic kxtg9341t phone", 7), 1.0);
            assert_eq!(score(&col, "Panasonic KX TG9341T Phone", 7), 1.0);
            assert!(
                score(&col, "Logitech MX350 Mouse", 8) > score(&col, "Logitech MX350 Mouse", 9)
            );
        }
    }

    #[test]
    fn min_similarity_zeroes_weak_scores() {
        for measure in MEASURES {
            let col = FuzzyColumn::build(VENDORS.iter().copied(), 0.9, measure);
            let probe = col.prepare(Some("Schmidt Elektro"), &mut FuzzyScratch::default());
            assert_eq!(
                col.score(&probe, 5, &mut FuzzyScratch::default()),
                FieldScore::Score(0.0)
            );
        }
    }

    #[test]
    fn empty_values_are_missing() {
        let col = column(&["Acme", "  ", "--"]);
        let mut scratch = FuzzyScratch::default();
        assert_eq!(
            col.score(
                &col.prepare(Some("Acme"), &mut FuzzyScratch::default()),
                1,
                &mut scratch
            ),
            FieldScore::Missing
        );
        assert_eq!(
            col.score(
                &col.prepare(Some("Acme"), &mut FuzzyScratch::default()),
                2,
                &mut scratch
            ),
            FieldScore::Missing
        );
        assert_eq!(
            col.score(
                &col.prepare(Some("..."), &mut FuzzyScratch::default()),
                0,
                &mut scratch
            ),
            FieldScore::Missing
        );
        assert_eq!(
            col.score(
                &col.prepare(None, &mut FuzzyScratch::default()),
                0,
                &mut scratch
            ),
            FieldScore::Missing
        );
    }

    fn digits_equal(a: &str, b: &str) -> bool {
        a.chars()
            .filter(char::is_ascii_digit)
            .eq(b.chars().filter(char::is_ascii_digit))
    }

    /// Words for the property tests: typos, codes with and without separators, legal forms.
    const POOL: [&str; 18] = [
        "nordwind",
        "nordwnid",
        "logistik",
        "logistics",
        "gmbh",
        "alpha",
        "alpah",
        "office",
        "kx-tg9341t",
        "kx tg9341t",
        "tg9341t",
        "mx350",
        "mx850",
        "5.8",
        "ghz",
        "s.a.",
        "co",
        "company",
    ];

    fn words(picks: &[usize]) -> String {
        picks
            .iter()
            .map(|&i| POOL[i % POOL.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }

    proptest! {
        /// Dropping the common prefix and suffix never changes the distance.
        #[test]
        fn bounded_osa_equals_strsim(a in "[ab12]{0,9}", b in "[ab12]{0,9}", max in 0usize..4) {
            let expected = strsim::osa_distance(&a, &b);
            let got = osa_within(a.as_bytes(), b.as_bytes(), max, &mut Default::default());
            prop_assert_eq!(got, (expected <= max).then_some(expected), "{} vs {}", a, b);
        }

        /// Bytes compared eight at a time find what items compared one by one find, for
        /// every byte value (zero and the high half included) and patterns up to 16 bytes
        /// and past them.
        #[test]
        fn packed_bytes_equal_items_one_by_one(
            a in proptest::collection::vec(prop_oneof![Just(0u8), Just(0x80), Just(0xFF), Just(b'1'), any::<u8>()], 1..24),
            b in proptest::collection::vec(prop_oneof![Just(0u8), Just(0x80), Just(0xFF), Just(b'1'), any::<u8>()], 0..24),
            max in 0usize..30,
        ) {
            let (ca, cb): (Vec<char>, Vec<char>) = (a.iter().map(|&x| char::from(x)).collect(), b.iter().map(|&x| char::from(x)).collect());
            let expected = osa_within(&ca, &cb, max, &mut Default::default());
            prop_assert_eq!(osa_within(&a, &b, max, &mut Default::default()), expected);
        }

        /// A prepared pattern gives the distance strsim's table gives, for every byte value.
        #[test]
        fn a_prepared_byte_pattern_gives_the_distance(
            a in proptest::collection::vec(prop_oneof![Just(0u8), Just(0xFF), Just(b'1'), Just(b'2'), any::<u8>()], 1..70),
            b in proptest::collection::vec(prop_oneof![Just(0u8), Just(0xFF), Just(b'1'), Just(b'2'), any::<u8>()], 0..70),
        ) {
            let (ca, cb): (Vec<char>, Vec<char>) = (a.iter().map(|&x| char::from(x)).collect(), b.iter().map(|&x| char::from(x)).collect());
            let expected = osa_within(&ca, &cb, usize::MAX, &mut Default::default());
            let pattern = BytePattern::new(&a);
            prop_assert_eq!(pattern.map(|p| p.distance(&b)), expected.filter(|_| a.len() <= 64));
        }

        /// The bit-parallel form against strsim's table, on patterns up to and past a word.
        #[test]
        fn bit_parallel_osa_equals_strsim(a in "[abc1 ]{1,70}", b in "[abc1 ]{0,70}", max in 0usize..80) {
            let expected = strsim::osa_distance(&a, &b);
            let got = osa_within(a.as_bytes(), b.as_bytes(), max, &mut Default::default());
            prop_assert_eq!(got, (expected <= max).then_some(expected), "{} vs {}", a, b);
            let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            let got = osa_within(&ca, &cb, max, &mut Default::default());
            prop_assert_eq!(got, (expected <= max).then_some(expected), "{} vs {}", a, b);
        }

        #[test]
        fn bounded_and_identity(a in "[a-zA-Z0-9 .-]{1,30}", b in "[a-zA-Z0-9 .-]{1,30}", m in 0usize..3) {
            let col = column_with(&[&a, &b], MEASURES[m]);
            let mut scratch = FuzzyScratch::default();
            for row in 0..2 {
                if let FieldScore::Score(s) = col.score(&col.prepare(Some(&a), &mut FuzzyScratch::default()), row, &mut scratch) {
                    prop_assert!((0.0..=1.0).contains(&s));
                }
            }
            if let FieldScore::Score(s) = col.score(&col.prepare(Some(&a), &mut FuzzyScratch::default()), 0, &mut scratch) {
                prop_assert!((s - 1.0).abs() < 1e-9, "{}", s);
            }
        }

        /// Cosine is symmetric when both values are rows of the column (so their words
        /// weigh the same on either side) and no two distinct words are alike.
        #[test]
        fn cosine_is_symmetric(a in proptest::collection::vec(0usize..8, 1..6), b in proptest::collection::vec(0usize..8, 1..6)) {
            let distinct = ["nordwind", "logistik", "gmbh", "alpha", "office", "mx350", "mx850", "ghz"];
            let text = |p: &[usize]| p.iter().map(|&i| distinct[i]).collect::<Vec<_>>().join(" ");
            let (a, b) = (text(&a), text(&b));
            let col = column_with(&[&a, &b], FuzzyMeasure::Cosine);
            prop_assert!((score(&col, &a, 1) - score(&col, &b, 0)).abs() < 1e-9);
        }

        /// A document value whose words are all in the row is wholly contained in it.
        #[test]
        fn containment_of_a_part_is_one(row in proptest::collection::vec(0usize..18, 1..6), take in 1usize..6) {
            // Commas keep a short word from joining the code after it.
            let list = |picks: &[usize]| picks.iter().map(|&i| POOL[i]).collect::<Vec<_>>().join(", ");
            let text = list(&row);
            let part = list(&row[..take.min(row.len())]);
            let col = column_with(&[&text, "alpha beta"], FuzzyMeasure::Containment);
            prop_assert!((score(&col, &part, 0) - 1.0).abs() < 1e-9, "{} in {}", part, text);
        }

        /// Whatever the walk leaves unwalked, every row's score is within its value's bound
        /// and within `unseen`, and a row whose value got no credit within `uncredited`.
        #[test]
        fn walked_bounds_hold_for_every_row(
            rows in proptest::collection::vec(proptest::collection::vec(0usize..18, 0..5), 1..25),
            doc in proptest::collection::vec(0usize..18, 1..6),
            m in 0usize..3,
            cap in 1usize..6,
        ) {
            let texts: Vec<String> = rows.iter().map(|r| words(r)).collect();
            let mut col = column_with(&texts.iter().map(String::as_str).collect::<Vec<_>>(), MEASURES[m]);
            col.lower_caps(cap);
            let doc = words(&doc);
            let mut walk = FuzzyScratch::default();
            let probe = col.prepare(Some(&doc), &mut walk);
            let residual = col.walk_values(&probe, &mut walk);
            let mut scoring = FuzzyScratch::default();
            for row in 0..texts.len() as u32 {
                let FieldScore::Score(s) = col.score(&probe, row, &mut scoring) else {
                    continue;
                };
                let bound = f64::from(col.bound(row, &walk, &residual));
                prop_assert!(s <= bound, "{doc:?} vs {:?}: {s} > bound {bound}", texts[row as usize]);
                prop_assert!(s <= f64::from(residual.unseen), "{s} > unseen {}", residual.unseen);
                let v = col.row_values()[row as usize] as usize;
                if walk.value_epoch[v] != walk.epoch {
                    prop_assert!(s <= f64::from(residual.uncredited), "{doc:?} vs {:?}: {s} > uncredited {}", texts[row as usize], residual.uncredited);
                }
            }
        }

        #[test]
        fn bigram_pruning_never_loses_an_alike_word(word in "[a-z0-9]{1,14}", edits in proptest::collection::vec((0usize..14, 0u8..4, "[a-z0-9]"), 0..3)) {
            let mut typo: Vec<char> = word.chars().collect();
            for (pos, op, c) in edits {
                let c = c.chars().next().unwrap_or('x');
                let p = pos.min(typo.len());
                match op {
                    0 if p < typo.len() => typo[p] = c,
                    1 => typo.insert(p, c),
                    2 if p < typo.len() && typo.len() > 1 => { typo.remove(p); }
                    3 if p + 1 < typo.len() => typo.swap(p, p + 1),
                    _ => {}
                }
            }
            let typo: String = typo.into_iter().collect();
            let col = column(&[&word]);
            let expected = word_similarity(&typo, &word);
            let found = col.alike_words(&typo, &mut FuzzyScratch::default());
            let got = found.first().map_or(0.0, |&(_, s)| f64::from(s));
            let reference = 1.0 - strsim::osa_distance(&typo, &word) as f64 / typo.chars().count().max(word.chars().count()) as f64;
            let reference = if digits_equal(&typo, &word) && reference >= WORD_SIMILARITY_FLOOR { reference } else { 0.0 };
            prop_assert!((expected - reference).abs() < 1e-9, "bounded OSA {expected} != strsim {reference}");
            prop_assert!((got - expected).abs() < 1e-6, "{typo} vs {word}: {got} != {expected}");
        }
    }
}
