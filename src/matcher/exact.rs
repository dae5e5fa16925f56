//! `exact`: equal after text normalisation (case, diacritics, whitespace), else 0.
//! Index: a hash of the normalised value.

use super::index::{posting_cap, Accumulator, Postings};
use super::snapshot::{check_ids, Decoded, Encode, Reader, Refused, Writer};
use super::{FieldScore, Parsed};
use crate::parse::normalize_text;

pub struct ExactColumn {
    values: Vec<Parsed<u32>>,
    postings: Postings<String>,
    cap: usize,
}

/// A document value, normalised and looked up once.
pub struct ExactProbe {
    /// The key id of the document's value; `None` when no reference row has it.
    key: Parsed<Option<u32>>,
}

fn prepare_value(raw: &str) -> Option<String> {
    let normalized = normalize_text(raw);
    (!normalized.is_empty()).then_some(normalized)
}

impl ExactColumn {
    pub fn build<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let normalized: Vec<Option<String>> = values.map(prepare_value).collect();
        let rows = normalized.len();
        let postings = Postings::build(
            normalized
                .iter()
                .enumerate()
                .filter_map(|(row, v)| v.clone().map(|v| (v, row as u32))),
        );
        let values = normalized
            .iter()
            .map(|v| match v {
                Some(v) => postings
                    .key_id(v.as_str())
                    .map_or(Parsed::Missing, Parsed::Value),
                None => Parsed::Missing,
            })
            .collect();
        ExactColumn {
            values,
            postings,
            cap: posting_cap(rows),
        }
    }

    pub fn encode(&self, w: &mut Writer) {
        self.values.encode(w);
        self.postings.encode(w);
    }

    pub fn decode(r: &mut Reader, rows: usize) -> Decoded<Self> {
        let values: Vec<Parsed<u32>> = r.get()?;
        let postings = Postings::<String>::decode(r, rows)?;
        if values.len() != rows {
            return Err(Refused("is corrupt (a column of another length)".into()));
        }
        check_ids(
            values.iter().filter_map(|v| match v {
                Parsed::Value(k) => Some(*k),
                _ => None,
            }),
            postings.len(),
        )?;
        Ok(ExactColumn {
            values,
            postings,
            cap: posting_cap(rows),
        })
    }

    pub fn prepare(&self, raw: Option<&str>) -> ExactProbe {
        let key = match raw.and_then(prepare_value) {
            Some(v) => Parsed::Value(self.postings.key_id(v.as_str())),
            None => Parsed::Missing,
        };
        ExactProbe { key }
    }

    pub fn score(&self, probe: &ExactProbe, row: u32) -> FieldScore {
        let Parsed::Value(doc) = probe.key else {
            return FieldScore::Missing;
        };
        match self.values.get(row as usize) {
            Some(Parsed::Value(key)) => {
                FieldScore::Score(if doc == Some(*key) { 1.0 } else { 0.0 })
            }
            _ => FieldScore::Missing,
        }
    }

    /// How many distinct values the column holds.
    pub fn distinct(&self) -> usize {
        self.postings.len()
    }

    /// The key of `row`'s value (an index below `distinct`); `None` when missing.
    pub fn key(&self, row: u32) -> Option<u32> {
        match self.values.get(row as usize) {
            Some(Parsed::Value(key)) => Some(*key),
            _ => None,
        }
    }

    /// The key of the document's value: `Some(None)` when no row has it, `None` when the
    /// document has none.
    pub fn probe_key(probe: &ExactProbe) -> Option<Option<u32>> {
        match probe.key {
            Parsed::Value(key) => Some(key),
            _ => None,
        }
    }

    /// Whether the document has a value: only then does the field count.
    pub fn is_present(probe: &ExactProbe) -> bool {
        matches!(probe.key, Parsed::Value(_))
    }

    pub fn row_present(&self, row: u32) -> bool {
        matches!(self.values.get(row as usize), Some(Parsed::Value(_)))
    }

    /// Rows `enumerate` walks; `usize::MAX` when the value is too common to walk.
    pub fn cost(&self, probe: &ExactProbe) -> usize {
        match probe.key {
            Parsed::Value(Some(key)) => {
                let n = self.postings.rows_of(key).len();
                if n > self.cap {
                    usize::MAX
                } else {
                    n
                }
            }
            Parsed::Value(None) => 0,
            _ => usize::MAX,
        }
    }

    /// Credits every row with the document's value (score 1). Returns the bound for rows
    /// not credited: 0, every other row scores 0.
    pub fn enumerate(&self, probe: &ExactProbe, weight: f32, acc: &mut Accumulator) -> f32 {
        if let Parsed::Value(Some(key)) = probe.key {
            for &row in self.postings.rows_of(key) {
                acc.credit(row, weight);
            }
        }
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn column(values: &[&str]) -> ExactColumn {
        ExactColumn::build(values.iter().copied())
    }

    #[test]
    fn ignores_case_whitespace_and_diacritics() {
        let col = column(&["EUR", "Müller  GmbH", ""]);
        assert_eq!(
            col.score(&col.prepare(Some(" eur ")), 0),
            FieldScore::Score(1.0)
        );
        assert_eq!(
            col.score(&col.prepare(Some("muller gmbh")), 1),
            FieldScore::Score(1.0)
        );
        assert_eq!(
            col.score(&col.prepare(Some("USD")), 0),
            FieldScore::Score(0.0)
        );
        assert_eq!(col.score(&col.prepare(Some("EUR")), 2), FieldScore::Missing);
        assert_eq!(col.score(&col.prepare(Some("  ")), 0), FieldScore::Missing);
        assert_eq!(col.score(&col.prepare(None), 0), FieldScore::Missing);
    }

    proptest! {
        #[test]
        fn scores_are_zero_or_one_and_identity_is_one(a in "\\PC{0,12}", b in "\\PC{0,12}") {
            let col = column(&[&a]);
            match col.score(&col.prepare(Some(&a)), 0) {
                FieldScore::Score(s) => prop_assert_eq!(s, 1.0),
                FieldScore::Missing => prop_assert!(normalize_text(&a).is_empty()),
                FieldScore::Unparsable => prop_assert!(false),
            }
            if let FieldScore::Score(s) = col.score(&col.prepare(Some(&b)), 0) {
                prop_assert!(s == 0.0 || s == 1.0);
            }
        }
    }
}
