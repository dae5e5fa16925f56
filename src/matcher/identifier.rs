//! `identifier`: invoice, order and reference numbers. Case and separators are ignored and
//! OCR look-alikes folded (O/0, I/l/1, S/5, B/8). 1.0 when equal; 0.9 when equal after one
//! side drops a leading letters-only prefix (`INV-2023-0042` vs `2023-0042`); 0.8 for one
//! adjacent transposition; when the digits agree and only letters differ, 1 minus the
//! normalised edit distance; any other digit difference is 0, because the neighbouring
//! number of the same vendor is the commonest wrong match.
//! Index: hash keys that every pair scoring above 0 shares (the folded form, the form
//! without prefix, the digits, and the sorted characters for transpositions).

use std::hash::Hasher;

use rustc_hash::FxHasher;

use super::index::{posting_cap, Accumulator, Postings};
use super::{FieldScore, Parsed, StrColumn};

/// An identifier in the forms the rules compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folded {
    /// Upper case, separators dropped, look-alikes folded to digits.
    full: String,
    /// Bytes of `full` taken by a leading letters-only prefix, 0 when there is none.
    prefix: usize,
}

/// A borrowed `Folded`, as stored in a column.
#[derive(Clone, Copy, Debug)]
struct FoldedRef<'a> {
    full: &'a str,
    prefix: usize,
}

impl Folded {
    fn as_ref(&self) -> FoldedRef<'_> {
        FoldedRef {
            full: &self.full,
            prefix: self.prefix,
        }
    }
}

impl<'a> FoldedRef<'a> {
    /// `full` without the leading letters-only prefix, when there was one.
    fn without_prefix(&self) -> Option<&'a str> {
        (self.prefix > 0)
            .then(|| self.full.get(self.prefix..))
            .flatten()
    }
}

fn fold_char(c: char) -> char {
    match c {
        'O' => '0',
        'I' | 'L' => '1',
        'S' => '5',
        'B' => '8',
        _ => c,
    }
}

/// Folds an identifier; `None` when it has no letter or digit.
pub fn fold(raw: &str) -> Option<Folded> {
    let compact: Vec<char> = crate::parse::normalize_text(raw)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    if compact.is_empty() {
        return None;
    }
    let letters = compact.iter().take_while(|c| c.is_alphabetic()).count();
    // Folding maps each character to one of the same width, so byte offsets carry over.
    let prefix = if letters < compact.len() {
        compact[..letters].iter().map(|c| c.len_utf8()).sum()
    } else {
        0
    };
    Some(Folded {
        full: compact.into_iter().map(fold_char).collect(),
        prefix,
    })
}

fn digits(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().filter(char::is_ascii_digit)
}

fn is_adjacent_transposition(a: &str, b: &str) -> bool {
    fn check<T: PartialEq>(a: &[T], b: &[T]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) else {
            return false;
        };
        i + 1 < a.len() && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i + 2..] == b[i + 2..]
    }
    if a.is_ascii() && b.is_ascii() {
        check(a.as_bytes(), b.as_bytes())
    } else {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        check(&a, &b)
    }
}

/// The identifier score of two folded values.
pub fn identifier_score(a: &Folded, b: &Folded) -> f64 {
    score_refs(a.as_ref(), b.as_ref())
}

fn score_refs(a: FoldedRef, b: FoldedRef) -> f64 {
    if a.full == b.full {
        return 1.0;
    }
    let dropped = match (a.without_prefix(), b.without_prefix()) {
        (Some(x), None) => x == b.full,
        (None, Some(y)) => y == a.full,
        _ => false,
    };
    if dropped {
        return 0.9;
    }
    if is_adjacent_transposition(a.full, b.full) {
        return 0.8;
    }
    if digits(a.full).eq(digits(b.full)) {
        let longest = a.full.chars().count().max(b.full.chars().count());
        let distance = strsim::levenshtein(a.full, b.full);
        return 1.0 - distance as f64 / longest as f64;
    }
    0.0
}

/// Hashes a key of one kind; a collision only proposes an extra row, never changes a score.
fn key(kind: u8, chars: impl Iterator<Item = char>) -> u64 {
    let mut h = FxHasher::default();
    h.write_u8(kind);
    for c in chars {
        h.write_u32(c as u32);
    }
    h.finish()
}

/// The estimate of the sorted-characters key, and the most a pair sharing no other key can
/// score: its digits differ (else it shares the digits key), so it is at best one adjacent
/// transposition.
const TRANSPOSED: f32 = 0.8;

/// Keys of which two values scoring above 0 always share at least one, with the score a
/// row sharing it can be expected to have.
fn keys(f: FoldedRef) -> Vec<(u64, f32)> {
    let mut keys = vec![(key(b'F', f.full.chars()), 1.0)];
    if let Some(w) = f.without_prefix() {
        keys.push((key(b'F', w.chars()), 0.9));
    }
    let mut sorted: Vec<char> = f.full.chars().collect();
    sorted.sort_unstable();
    keys.push((key(b'T', sorted.into_iter()), TRANSPOSED));
    keys.push((key(b'D', digits(f.full)), 0.5));
    keys
}

pub struct IdentifierColumn {
    /// Folded values; an empty one is missing.
    full: StrColumn,
    prefix: Vec<u32>,
    postings: Postings<u64>,
    cap: usize,
}

pub struct IdentifierProbe {
    value: Parsed<(Folded, Vec<(u64, f32)>)>,
}

impl IdentifierColumn {
    pub fn build<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let mut full = StrColumn::default();
        let mut prefix = Vec::new();
        let mut pairs = Vec::new();
        for (row, raw) in values.enumerate() {
            match fold(raw) {
                Some(f) => {
                    pairs.extend(keys(f.as_ref()).into_iter().map(|(k, _)| (k, row as u32)));
                    full.push(&f.full);
                    prefix.push(f.prefix as u32);
                }
                None => {
                    full.push("");
                    prefix.push(0);
                }
            }
        }
        let cap = posting_cap(full.len());
        IdentifierColumn {
            full,
            prefix,
            postings: Postings::build(pairs),
            cap,
        }
    }

    fn get(&self, row: u32) -> Option<FoldedRef<'_>> {
        let full = self.full.get(row as usize);
        (!full.is_empty()).then(|| FoldedRef {
            full,
            prefix: self.prefix.get(row as usize).copied().unwrap_or(0) as usize,
        })
    }

    pub fn prepare(&self, raw: Option<&str>) -> IdentifierProbe {
        let value = match raw.and_then(fold) {
            Some(f) => {
                let mut k = keys(f.as_ref());
                k.sort_by(|a, b| b.1.total_cmp(&a.1));
                Parsed::Value((f, k))
            }
            None => Parsed::Missing,
        };
        IdentifierProbe { value }
    }

    pub fn score(&self, probe: &IdentifierProbe, row: u32) -> FieldScore {
        match (&probe.value, self.get(row)) {
            (Parsed::Value((a, _)), Some(b)) => FieldScore::Score(score_refs(a.as_ref(), b)),
            _ => FieldScore::Missing,
        }
    }

    pub fn is_present(probe: &IdentifierProbe) -> bool {
        matches!(probe.value, Parsed::Value(_))
    }

    pub fn row_present(&self, row: u32) -> bool {
        self.get(row).is_some()
    }

    /// Rows `enumerate` walks: those sharing a key that is not too common to walk.
    pub fn cost(&self, probe: &IdentifierProbe) -> usize {
        let Parsed::Value((_, keys)) = &probe.value else {
            return 0;
        };
        keys.iter()
            .map(|(key, _)| self.postings.get(key).len())
            .filter(|&n| n <= self.cap)
            .sum()
    }

    /// Credits every row sharing a key with the document: with its exact weighted score,
    /// except rows that share only the sorted-characters key (a common key among
    /// sequential numbers), which get the most such a row can score. Every pair scoring
    /// above 0 shares a key, so rows not credited score 0, unless a key was too common to
    /// walk: then the bound for rows not credited is the maximum, 1.
    pub fn enumerate(&self, probe: &IdentifierProbe, weight: f32, acc: &mut Accumulator) -> f32 {
        let Parsed::Value((folded, keys)) = &probe.value else {
            return 0.0;
        };
        acc.begin_group();
        let mut residual = 0.0;
        let exact = keys.iter().filter(|(_, e)| *e != TRANSPOSED);
        let transposed = keys.iter().filter(|(_, e)| *e == TRANSPOSED);
        for (key, _) in exact {
            let rows = self.postings.get(key);
            if rows.len() > self.cap {
                residual = 1.0;
                continue;
            }
            for &row in rows {
                if acc.fresh_in_group(row) {
                    if let Some(b) = self.get(row) {
                        let score = score_refs(folded.as_ref(), b);
                        acc.credit(row, weight * score as f32);
                    }
                }
            }
        }
        for (key, _) in transposed {
            let rows = self.postings.get(key);
            if rows.len() > self.cap {
                residual = 1.0;
                continue;
            }
            for &row in rows {
                acc.credit(row, weight * TRANSPOSED);
            }
        }
        residual
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn score(a: &str, b: &str) -> f64 {
        identifier_score(&fold(a).unwrap(), &fold(b).unwrap())
    }

    #[test]
    fn spec_rules() {
        assert_eq!(score("INV-2023-0042", "inv 2023/0042"), 1.0);
        assert_eq!(score("INV-2O23-OO42", "INV-2023-0042"), 1.0);
        assert_eq!(score("1NV-2023-0042", "INV.2023.0042"), 1.0);
        assert_eq!(score("INV-2023-0042", "2023-0042"), 0.9);
        assert_eq!(score("INV-2023-0042", "INV-2023-0024"), 0.8);
        assert_eq!(score("INV-2023-0042", "NIV-2023-0042"), 0.8);
        assert!(!is_adjacent_transposition("ab", "ab"));
        assert!(!is_adjacent_transposition("abc", "bca"));
        assert_eq!(score("INV-2023-0042", "INV-2023-0043"), 0.0);
        assert_eq!(score("INV-2023-0042", "INV-2023-0041"), 0.0);
        assert_eq!(score("INV-2023-0042", "INV-2023-00042"), 0.0);
        // Only letters differ: 1 - 1/11.
        assert!((score("INV-2023-0042", "INW-2023-0042") - (1.0 - 1.0 / 11.0)).abs() < 1e-12);
    }

    #[test]
    fn values_without_letters_or_digits_are_missing() {
        assert!(fold(" - / ").is_none());
        let col = IdentifierColumn::build(["INV-1", "--"].into_iter());
        assert_eq!(
            col.score(&col.prepare(Some("INV-1")), 1),
            FieldScore::Missing
        );
        assert_eq!(col.score(&col.prepare(None), 0), FieldScore::Missing);
        assert_eq!(
            col.score(&col.prepare(Some("inv 1")), 0),
            FieldScore::Score(1.0)
        );
    }

    fn shares_a_key(a: &Folded, b: &Folded) -> bool {
        let kb: Vec<u64> = keys(b.as_ref()).into_iter().map(|k| k.0).collect();
        keys(a.as_ref()).iter().any(|(k, _)| kb.contains(k))
    }

    proptest! {
        #[test]
        fn bounded_symmetric_identity(a in "[A-Z]{0,3}-?[0-9OIS]{1,6}", b in "[A-Z]{0,3}-?[0-9OIS]{1,6}") {
            let (fa, fb) = (fold(&a).unwrap(), fold(&b).unwrap());
            let s = identifier_score(&fa, &fb);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(s, identifier_score(&fb, &fa));
            prop_assert_eq!(identifier_score(&fa, &fa), 1.0);
        }

        #[test]
        fn every_pair_that_scores_shares_an_index_key(a in "[A-Z]{0,3}-?[0-9A-Z]{1,6}", b in "[A-Z]{0,3}-?[0-9A-Z]{1,6}") {
            let (fa, fb) = (fold(&a).unwrap(), fold(&b).unwrap());
            if identifier_score(&fa, &fb) > 0.0 {
                prop_assert!(shares_a_key(&fa, &fb), "{a} {b}");
            }
        }

        #[test]
        fn edits_keep_partial_credit_findable(n in 100000u32..999999, i in 0usize..5) {
            let original = format!("INV-{n}");
            let mut chars: Vec<char> = original.chars().collect();
            chars.swap(4 + i, 5 + i);
            let swapped: String = chars.into_iter().collect();
            let (fa, fb) = (fold(&original).unwrap(), fold(&swapped).unwrap());
            prop_assert!(identifier_score(&fa, &fb) >= 0.8);
            prop_assert!(shares_a_key(&fa, &fb));
            let dropped = fold(&format!("{n}")).unwrap();
            prop_assert!(shares_a_key(&fa, &dropped));
        }
    }
}
