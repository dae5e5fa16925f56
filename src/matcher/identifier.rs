//! `identifier`: invoice, order and reference numbers. Case and separators are ignored and
//! OCR look-alikes folded (O/0, I/l/1, S/5, B/8). 1.0 when equal; 0.9 when equal after one
//! side drops a leading letters-only prefix (`INV-2023-0042` vs `2023-0042`); 0.8 for one
//! adjacent transposition; when the digits agree and only letters differ, 1 minus the
//! normalised edit distance; any other digit difference is 0, because the neighbouring
//! number of the same vendor is the commonest wrong match.
//! Index: hash keys that every pair scoring above 0 shares (the folded form, the form
//! without prefix, the digits, and the sorted characters for transpositions).

use super::index::{posting_cap, Accumulator, Postings};
use super::{FieldScore, Parsed};

/// An identifier in the forms the rules compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folded {
    /// Upper case, separators dropped, look-alikes folded to digits.
    full: String,
    /// `full` without the leading letters-only prefix, when there was one.
    without_prefix: Option<String>,
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
    let prefix = compact.iter().take_while(|c| c.is_alphabetic()).count();
    let full: String = compact.iter().copied().map(fold_char).collect();
    let without_prefix = (prefix > 0 && prefix < compact.len())
        .then(|| compact[prefix..].iter().copied().map(fold_char).collect());
    Some(Folded {
        full,
        without_prefix,
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
    if a.full == b.full {
        return 1.0;
    }
    let dropped = match (&a.without_prefix, &b.without_prefix) {
        (Some(x), None) => *x == b.full,
        (None, Some(y)) => *y == a.full,
        _ => false,
    };
    if dropped {
        return 0.9;
    }
    if is_adjacent_transposition(&a.full, &b.full) {
        return 0.8;
    }
    if digits(&a.full).eq(digits(&b.full)) {
        let longest = a.full.chars().count().max(b.full.chars().count());
        let distance = strsim::levenshtein(&a.full, &b.full);
        return 1.0 - distance as f64 / longest as f64;
    }
    0.0
}

/// Keys of which two values scoring above 0 always share at least one.
fn keys(f: &Folded) -> Vec<(String, f32)> {
    let mut keys = vec![(format!("F{}", f.full), 1.0)];
    if let Some(w) = &f.without_prefix {
        keys.push((format!("F{w}"), 0.9));
    }
    let mut sorted: Vec<char> = f.full.chars().collect();
    sorted.sort_unstable();
    keys.push((format!("T{}", sorted.into_iter().collect::<String>()), 0.8));
    keys.push((format!("D{}", digits(&f.full).collect::<String>()), 0.5));
    keys
}

pub struct IdentifierColumn {
    values: Vec<Parsed<Folded>>,
    postings: Postings<String>,
    cap: usize,
}

pub struct IdentifierProbe {
    value: Parsed<(Folded, Vec<(String, f32)>)>,
}

fn parse(raw: &str) -> Parsed<Folded> {
    match fold(raw) {
        Some(f) => Parsed::Value(f),
        None => Parsed::Missing,
    }
}

impl IdentifierColumn {
    pub fn build<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let values: Vec<Parsed<Folded>> = values.map(parse).collect();
        let postings = Postings::build(values.iter().enumerate().flat_map(|(row, v)| {
            let keys = match v {
                Parsed::Value(f) => keys(f),
                _ => Vec::new(),
            };
            keys.into_iter().map(move |(k, _)| (k, row as u32))
        }));
        let cap = posting_cap(values.len());
        IdentifierColumn {
            values,
            postings,
            cap,
        }
    }

    pub fn prepare(&self, raw: Option<&str>) -> IdentifierProbe {
        let value = match raw.map_or(Parsed::Missing, parse) {
            Parsed::Value(f) => {
                let mut k = keys(&f);
                k.sort_by(|a, b| b.1.total_cmp(&a.1));
                Parsed::Value((f, k))
            }
            _ => Parsed::Missing,
        };
        IdentifierProbe { value }
    }

    pub fn score(&self, probe: &IdentifierProbe, row: u32) -> FieldScore {
        match (&probe.value, self.values.get(row as usize)) {
            (Parsed::Value((a, _)), Some(Parsed::Value(b))) => {
                FieldScore::Score(identifier_score(a, b))
            }
            _ => FieldScore::Missing,
        }
    }

    pub fn propose(&self, probe: &IdentifierProbe, weight: f32, acc: &mut Accumulator) {
        let Parsed::Value((_, keys)) = &probe.value else {
            return;
        };
        acc.begin_group();
        for (key, estimate) in keys {
            let rows = self.postings.get(key.as_str());
            if rows.len() <= self.cap {
                for &row in rows {
                    acc.credit(row, weight * estimate);
                }
            }
        }
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
        let kb: Vec<String> = keys(b).into_iter().map(|k| k.0).collect();
        keys(a).iter().any(|(k, _)| kb.contains(k))
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
