//! Secondary orders: for the first fuzzy mapping (a vendor name) and one date or amount
//! mapping, each fuzzy value's rows sorted by that date or amount, so that "the rows of the
//! document's alike vendors inside its date window" is a few binary searches and a short
//! range, not a walk of the whole window (thousands of rows at a million) or of a big
//! vendor's postings (tens of thousands).
//!
//! A document without a true row proves its weak best candidate this way: a row of an alike
//! vendor that the walk did not reach lies outside the window (its date or amount scores 0),
//! and a row of any other vendor is bounded by the fuzzy field's residual. The matcher takes
//! the larger of those two bounds (`Matcher::unseen_bound`). Depends only on the posting
//! layout of `index`.

use super::snapshot::{check_ids, check_offsets, Decoded, Encode, Reader, Writer};

/// One fuzzy mapping's values crossed with one range mapping's keys.
pub struct WithinIndex {
    /// The range mapping (date or amount) whose keys order each value's rows.
    pub range: usize,
    /// Per fuzzy value `v`, its entries are `entries[offsets[v]..offsets[v + 1]]`.
    offsets: Vec<u32>,
    /// `(key, row)`, ascending by key within each value; rows without a key are left out.
    entries: Vec<(f64, u32)>,
}

impl WithinIndex {
    /// `value_of[row]` is the row's fuzzy value (below `values`), `key(row)` its date or
    /// amount as a number when it has a usable one.
    pub fn build(
        range: usize,
        value_of: &[u32],
        values: usize,
        key: impl Fn(u32) -> Option<f64>,
    ) -> Self {
        let mut counts = vec![0u32; values + 1];
        let keyed: Vec<(u32, f64, u32)> = value_of
            .iter()
            .enumerate()
            .filter_map(|(row, &v)| {
                let k = key(row as u32)?;
                ((v as usize) < values && k.is_finite()).then_some((v, k, row as u32))
            })
            .collect();
        for &(v, _, _) in &keyed {
            counts[v as usize + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let offsets = counts.clone();
        let mut entries = vec![(0.0, 0u32); keyed.len()];
        let mut next = counts;
        for (v, k, row) in keyed {
            let at = &mut next[v as usize];
            entries[*at as usize] = (k, row);
            *at += 1;
        }
        for v in 0..values {
            let (start, end) = (offsets[v] as usize, offsets[v + 1] as usize);
            entries[start..end].sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        WithinIndex {
            range,
            offsets,
            entries,
        }
    }

    pub fn encode(&self, w: &mut Writer) {
        w.u64(self.range as u64);
        self.offsets.encode(w);
        self.entries.encode(w);
    }

    /// Reads what `encode` wrote: for `values` fuzzy values and a table of `rows` rows.
    pub fn decode(r: &mut Reader, values: usize, rows: usize) -> Decoded<Self> {
        let range = usize::try_from(r.u64()?).unwrap_or(usize::MAX);
        let offsets: Vec<u32> = r.get()?;
        let entries: Vec<(f64, u32)> = r.get()?;
        check_offsets(&offsets, values, entries.len())?;
        check_ids(entries.iter().map(|&(_, row)| row), rows)?;
        Ok(WithinIndex {
            range,
            offsets,
            entries,
        })
    }

    /// The rows of value `v` whose key lies in `lo..=hi`.
    pub fn rows_in(&self, v: u32, lo: f64, hi: f64) -> &[(f64, u32)] {
        let Some(rows) = self.entries.get(self.span(v)) else {
            return &[];
        };
        let from = rows.partition_point(|&(k, _)| k < lo);
        let to = rows.partition_point(|&(k, _)| k <= hi);
        rows.get(from..to.max(from)).unwrap_or(&[])
    }

    /// How many rows value `v` has.
    pub fn len_of(&self, v: u32) -> usize {
        self.span(v).len()
    }

    /// Where value `v`'s rows lie in `entries` (empty for an unknown value).
    fn span(&self, v: u32) -> std::ops::Range<usize> {
        let start = self.offsets.get(v as usize).copied().unwrap_or(0) as usize;
        let end = self.offsets.get(v as usize + 1).copied().unwrap_or(0) as usize;
        start..end.max(start)
    }

    pub fn approx_bytes(&self) -> usize {
        self.offsets.len() * 4 + self.entries.len() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_s_rows_are_found_by_key_range() {
        // Rows 0..8: values 0,1,0,2,0,1,0,0 and keys 5,1,3,9,None,2,3,8.
        let value_of = [0, 1, 0, 2, 0, 1, 0, 0];
        let keys = [
            Some(5.0),
            Some(1.0),
            Some(3.0),
            Some(9.0),
            None,
            Some(2.0),
            Some(3.0),
            Some(8.0),
        ];
        let index = WithinIndex::build(3, &value_of, 3, |row| keys[row as usize]);
        let rows =
            |v, lo, hi| -> Vec<u32> { index.rows_in(v, lo, hi).iter().map(|&(_, r)| r).collect() };
        assert_eq!(rows(0, 3.0, 5.0), vec![2, 6, 0]);
        assert_eq!(rows(0, f64::NEG_INFINITY, f64::INFINITY), vec![2, 6, 0, 7]);
        assert_eq!(rows(1, 0.0, 1.5), vec![1]);
        assert_eq!(rows(2, 0.0, 8.9), Vec::<u32>::new());
        assert_eq!(
            rows(7, 0.0, 10.0),
            Vec::<u32>::new(),
            "an unknown value has no rows"
        );
        assert_eq!(index.range, 3);
    }
}
