//! `fuzzy`: token-aware similarity of names and descriptions.
//!
//! Text is normalised and cut into words; a run of short pieces that holds a digit is one
//! code (`KX-TG9341T` = `KX TG9341T` = `KXTG9341T`). Two words are alike when their digits
//! are the same and their edit distance is small (a typo costs little, `MX350` is not
//! `MX850`). Each word weighs by its rarity in the reference column (inverse document
//! frequency), so `Nordwind` outweighs `GmbH`. The score is a weighted Dice coefficient
//! over a greedy one-to-one pairing of the words: word order does not matter.
//!
//! Word similarity is computed against the column's vocabulary once per document word
//! (character-bigram postings find the alike words), so scoring a candidate row is only
//! table look-ups, and the same look-ups score a row whether the index proposed it or a
//! full scan did.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use super::index::{posting_cap, Accumulator};
use super::{FieldScore, Parsed};
use crate::parse::normalize_text;

/// Words less alike than this are different words.
pub const WORD_SIMILARITY_FLOOR: f64 = 0.7;

/// Spellings of one legal form or business word that extraction swaps freely; the first
/// is the one both sides are compared in.
const SAME_WORD: &[(&str, &str)] = &[
    ("limited", "ltd"),
    ("incorporated", "inc"),
    ("corporation", "corp"),
    ("company", "co"),
];

/// Cuts normalised text into words. A run of short pieces that holds a digit is one code,
/// even across spaces (`kx tg9341t`); single letters written without spaces between them
/// are one abbreviation (`s.a.` = `sa`), but spaced initials stay apart (`a. m. ouksel`).
pub fn tokenize(normalized: &str) -> Vec<String> {
    // Pieces of letters and digits, each with whether a space came before it.
    let mut pieces: Vec<(&str, bool)> = Vec::new();
    let mut start = None;
    let mut spaced = false;
    for (i, c) in normalized.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            pieces.push((&normalized[s..i], spaced));
            spaced = false;
        }
        spaced |= c.is_whitespace();
    }
    if let Some(s) = start {
        pieces.push((&normalized[s..], spaced));
    }

    let has_digit = |p: &str| p.chars().any(|c| c.is_ascii_digit());
    let single = |p: &str| p.chars().nth(1).is_none();
    // Codes are letters-and-digit pieces, or at most two letters next to such pieces.
    let joinable = |p: &str| has_digit(p) || p.chars().count() <= 2;
    let mut tokens = Vec::with_capacity(pieces.len());
    let mut i = 0;
    while i < pieces.len() {
        let mut j = i;
        while j < pieces.len() && joinable(pieces[j].0) {
            j += 1;
        }
        if j == i {
            tokens.push(canonical(pieces[i].0));
            i += 1;
            continue;
        }
        let run = &pieces[i..j];
        if run.iter().any(|p| has_digit(p.0)) {
            tokens.push(run.iter().map(|p| p.0).collect());
        } else {
            let mut k = 0;
            while k < run.len() {
                let mut end = k + 1;
                while end < run.len() && single(run[k].0) && single(run[end].0) && !run[end].1 {
                    end += 1;
                }
                tokens.push(canonical(
                    &run[k..end].iter().map(|p| p.0).collect::<String>(),
                ));
                k = end;
            }
        }
        i = j;
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
/// most `max`, else `None`; stops as soon as a row exceeds `max`.
fn osa_within<T: PartialEq>(
    a: &[T],
    b: &[T],
    max: usize,
    rows: &mut [Vec<usize>; 3],
) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
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

/// One document word: its weight and every vocabulary word alike enough, by id.
struct ProbeWord {
    weight: f32,
    /// `(vocabulary id, similarity)`, ascending by id.
    alike: Arc<[(u32, f32)]>,
}

pub struct FuzzyProbe {
    words: Parsed<Vec<ProbeWord>>,
}

pub struct FuzzyColumn {
    vocabulary: Vocabulary,
    /// Word ids of each row, flat with offsets; a row without words is missing.
    row_offsets: Vec<u32>,
    row_words: Vec<u32>,
    /// Rows of each word id, flat with offsets.
    word_offsets: Vec<u32>,
    word_rows: Vec<u32>,
    min_similarity: f64,
    cap: usize,
}

/// Entries a worker's word cache holds before it starts over.
const WORD_CACHE_LIMIT: usize = 200_000;

/// Per-thread working memory for one fuzzy column, reused across documents.
#[derive(Default)]
pub struct FuzzyScratch {
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
    pub fn build<'a>(values: impl Iterator<Item = &'a str>, min_similarity: f64) -> Self {
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
        let word_rows: Vec<u32> = pairs.into_iter().map(|(_, row)| row).collect();

        let with_words = (0..rows)
            .filter(|&r| row_offsets[r + 1] > row_offsets[r])
            .count()
            .max(1) as f64;
        let idf = |df: f64| (1.0 + with_words / df.max(1.0)).ln() as f32;
        let weights = (0..words.len())
            .map(|w| idf(f64::from(word_offsets[w + 1] - word_offsets[w])))
            .collect();
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

        FuzzyColumn {
            vocabulary: Vocabulary {
                words,
                ids,
                weights,
                lengths,
                bigram_counts,
                bigram_words,
                unseen_weight: idf(1.0),
            },
            row_offsets,
            row_words,
            word_offsets,
            word_rows,
            min_similarity,
            cap: posting_cap(rows),
        }
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
        let tokens = raw
            .map(|r| tokenize(&normalize_text(r)))
            .unwrap_or_default();
        if tokens.is_empty() {
            return FuzzyProbe {
                words: Parsed::Missing,
            };
        }
        let v = &self.vocabulary;
        let words = tokens
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
            words: Parsed::Value(words),
        }
    }

    fn row(&self, row: u32) -> &[u32] {
        let r = row as usize;
        match (self.row_offsets.get(r), self.row_offsets.get(r + 1)) {
            (Some(&s), Some(&e)) => &self.row_words[s as usize..e as usize],
            _ => &[],
        }
    }

    pub fn score(&self, probe: &FuzzyProbe, row: u32, scratch: &mut FuzzyScratch) -> FieldScore {
        let Parsed::Value(doc) = &probe.words else {
            return FieldScore::Missing;
        };
        let reference = self.row(row);
        if reference.is_empty() {
            return FieldScore::Missing;
        }
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
        let mut matched = 0.0f64;
        let mut doc_weight = 0.0f64;
        for &(s, d, r) in pairs.iter() {
            let (d, r) = (d as usize, r as usize);
            if scratch.doc_used[d] || scratch.row_used[r] {
                continue;
            }
            scratch.doc_used[d] = true;
            scratch.row_used[r] = true;
            let w = f64::from(weights[reference[r] as usize]);
            matched += f64::from(s) * w;
            doc_weight += w;
        }
        for (d, word) in doc.iter().enumerate() {
            if !scratch.doc_used[d] {
                doc_weight += f64::from(word.weight);
            }
        }
        let row_weight: f64 = reference
            .iter()
            .map(|&id| f64::from(weights[id as usize]))
            .sum();
        let total = doc_weight + row_weight;
        let score = if total > 0.0 {
            (2.0 * matched / total).clamp(0.0, 1.0)
        } else {
            0.0
        };
        FieldScore::Score(if score < self.min_similarity {
            0.0
        } else {
            score
        })
    }

    pub fn propose(&self, probe: &FuzzyProbe, weight: f32, acc: &mut Accumulator) {
        let Parsed::Value(doc) = &probe.words else {
            return;
        };
        let total: f32 = doc.iter().map(|w| w.weight).sum();
        if total <= 0.0 {
            return;
        }
        let mut alike: Vec<(u32, f32)> = Vec::new();
        for word in doc {
            alike.clear();
            alike.extend_from_slice(&word.alike[..]);
            alike.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            acc.begin_group();
            for &(id, s) in &alike {
                let (start, end) = (
                    self.word_offsets[id as usize] as usize,
                    self.word_offsets[id as usize + 1] as usize,
                );
                if end - start > self.cap {
                    continue;
                }
                let amount = weight * s * word.weight / total;
                for &row in &self.word_rows[start..end] {
                    acc.credit(row, amount);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn column(values: &[&str]) -> FuzzyColumn {
        FuzzyColumn::build(values.iter().copied(), 0.0)
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
        assert_eq!(tokenize("s.a."), ["sa"]);
        assert_eq!(
            tokenize("muller gmbh & co. kg"),
            ["muller", "gmbh", "co", "kg"]
        );
        assert_eq!(tokenize("iphone 15 pro"), ["iphone", "15", "pro"]);
        assert_eq!(tokenize("a. m. ouksel"), ["a", "m", "ouksel"]);
        assert_eq!(tokenize("u.s.a. inc"), ["usa", "inc"]);
        assert_eq!(
            tokenize("thistle facilities limited"),
            ["thistle", "facilities", "ltd"]
        );
    }

    #[test]
    fn word_order_case_and_diacritics_do_not_matter() {
        let col = column(VENDORS);
        assert_eq!(score(&col, "GmbH Nordwind Logistik", 0), 1.0);
        assert_eq!(score(&col, "MULLER DRUCK GMBH", 4), 1.0);
    }

    #[test]
    fn a_typo_costs_little() {
        let col = column(VENDORS);
        let s = score(&col, "Nordwnid Logistik GmbH", 0);
        assert!(s > 0.85 && s < 1.0, "{s}");
    }

    #[test]
    fn rare_words_outweigh_legal_forms() {
        let col = column(VENDORS);
        // Dropping the legal form costs less than dropping the distinctive name.
        let without_form = score(&col, "Schmidt Bau", 5);
        let without_name = score(&col, "Bau GmbH", 5);
        assert!(
            without_form > without_name,
            "{without_form} vs {without_name}"
        );
        // The right vendor beats its look-alike.
        assert!(score(&col, "Alpha Office Supplies", 2) > score(&col, "Alpha Office Supplies", 3));
        assert!(score(&col, "Nordwind Logistik", 0) > score(&col, "Nordwind Logistik", 1));
    }

    #[test]
    fn codes_match_across_separators_but_not_across_digits() {
        let col = column(VENDORS);
        assert_eq!(score(&col, "panasonic kxtg9341t phone", 7), 1.0);
        assert_eq!(score(&col, "Panasonic KX TG9341T Phone", 7), 1.0);
        assert_eq!(word_similarity("mx350", "mx850"), 0.0);
        assert!(score(&col, "Logitech MX350 Mouse", 8) > score(&col, "Logitech MX350 Mouse", 9));
    }

    #[test]
    fn min_similarity_zeroes_weak_scores() {
        let col = FuzzyColumn::build(VENDORS.iter().copied(), 0.9);
        let probe = col.prepare(Some("Schmidt Elektro"), &mut FuzzyScratch::default());
        assert_eq!(
            col.score(&probe, 5, &mut FuzzyScratch::default()),
            FieldScore::Score(0.0)
        );
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

    proptest! {
        #[test]
        fn bounded_and_identity(a in "[a-zA-Z0-9 .-]{1,30}", b in "[a-zA-Z0-9 .-]{1,30}") {
            let col = column(&[&a, &b]);
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
