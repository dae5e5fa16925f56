//! Overlap: the document sample's values keyed the ways each strategy compares them, so
//! one pass over each reference column counts how many document values find their like
//! in it.

use super::*;

/// One distinct non-empty value of a document field.
pub(super) struct DocValue {
    pub(super) field: usize,
    pub(super) count: usize,
    /// Indexes into the sample's word vocabulary.
    pub(super) words: Vec<u32>,
}

/// The document sample's values, keyed the ways each strategy compares them, so that one
/// pass over each reference column finds which document values it holds.
pub(super) struct DocKeys {
    pub(super) values: Vec<DocValue>,
    pub(super) dates: FxHashMap<NaiveDate, Vec<u32>>,
    /// `(amount, value)`, ascending by amount.
    pub(super) amounts: Vec<(f64, u32)>,
    pub(super) digits: FxHashMap<String, Vec<u32>>,
    pub(super) exact: FxHashMap<String, Vec<u32>>,
    pub(super) vocabulary: FxHashMap<String, u32>,
}

impl DocKeys {
    pub(super) fn build(documents: &DocumentSample, fields: &[usize]) -> DocKeys {
        let mut keys = DocKeys {
            values: Vec::new(),
            dates: FxHashMap::default(),
            amounts: Vec::new(),
            digits: FxHashMap::default(),
            exact: FxHashMap::default(),
            vocabulary: FxHashMap::default(),
        };
        for (f, &c) in fields.iter().enumerate() {
            // Distinct values in first-seen order, with how often each occurs.
            let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
            let mut order: Vec<(&str, usize)> = Vec::new();
            for value in documents.values(c) {
                match seen.get(value) {
                    Some(&i) => order[i].1 += 1,
                    None => {
                        seen.insert(value, order.len());
                        order.push((value, 1));
                    }
                }
            }
            for (value, count) in order {
                let v = keys.values.len() as u32;
                for order in [DateOrder::Dmy, DateOrder::Mdy] {
                    if let Some(d) = parse_date(value, order) {
                        let list = keys.dates.entry(d).or_default();
                        if list.last() != Some(&v) {
                            list.push(v);
                        }
                    }
                }
                if let Some(a) = parse_amount(value).filter(|a| a.value.is_finite()) {
                    keys.amounts.push((a.value, v));
                }
                for key in digit_keys(value) {
                    keys.digits.entry(key).or_default().push(v);
                }
                keys.exact.entry(normalize_text(value)).or_default().push(v);
                let mut ids: Vec<u32> = words(value)
                    .into_iter()
                    .map(|w| {
                        let next = keys.vocabulary.len() as u32;
                        *keys.vocabulary.entry(w).or_insert(next)
                    })
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                keys.values.push(DocValue {
                    field: f,
                    count,
                    words: ids,
                });
            }
        }
        keys.amounts
            .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        keys
    }

    /// For one reference column of kind `kind`, the share of each field's values that find
    /// their like in it, compared the way the column's strategy compares.
    pub(super) fn overlap(
        &self,
        column: &crate::matcher::StrColumn,
        kind: ValueKind,
        fields: &[usize],
        present: &[usize],
    ) -> Vec<f64> {
        let mut hit = vec![false; self.values.len()];
        // Per word of the sample, how many of the column's values hold it.
        let mut word_rows = vec![0u32; self.vocabulary.len()];
        let mut rows = 0u32;
        fn mark(hit: &mut [bool], list: Option<&Vec<u32>>) {
            for &v in list.into_iter().flatten() {
                hit[v as usize] = true;
            }
        }
        for raw in column.iter() {
            let value = raw.trim();
            if value.is_empty() {
                continue;
            }
            rows += 1;
            match kind {
                ValueKind::Date => {
                    if let Some(d) = parse_date(value, DateOrder::Dmy) {
                        mark(&mut hit, self.dates.get(&d));
                    }
                }
                ValueKind::Amount => {
                    if let Some(a) = parse_amount(value).filter(|a| a.value.is_finite()) {
                        // Within 1% of the larger of the two, as `numeric_range` at its default.
                        let x = a.value;
                        let reach = x.abs() / 0.99 * 0.01 + f64::EPSILON;
                        let start = self.amounts.partition_point(|&(y, _)| y < x - reach);
                        for &(y, v) in &self.amounts[start..] {
                            if y > x + reach {
                                break;
                            }
                            if (x - y).abs() <= 0.01 * x.abs().max(y.abs()) {
                                hit[v as usize] = true;
                            }
                        }
                    }
                }
                ValueKind::Identifier => {
                    for key in digit_keys(value) {
                        mark(&mut hit, self.digits.get(&key));
                    }
                    mark(&mut hit, self.exact.get(&normalize_text(value)));
                }
                ValueKind::Code => mark(&mut hit, self.exact.get(&normalize_text(value))),
                ValueKind::Text | ValueKind::Empty => {
                    let mut held: Vec<u32> = words(value)
                        .iter()
                        .filter_map(|w| self.vocabulary.get(w).copied())
                        .collect();
                    held.sort_unstable();
                    held.dedup();
                    for w in held {
                        word_rows[w as usize] += 1;
                    }
                }
            }
        }
        let mut found = vec![0usize; fields.len()];
        for (v, value) in self.values.iter().enumerate() {
            let alike = match kind {
                // Half its words are in the column, one of them a rare one there: a
                // legal form such as `GmbH` alone does not make a name found.
                ValueKind::Text | ValueKind::Empty => {
                    let known = value
                        .words
                        .iter()
                        .filter(|&&w| word_rows[w as usize] > 0)
                        .count();
                    let rare = value.words.iter().any(|&w| {
                        let n = word_rows[w as usize];
                        n > 0 && (n <= 1 || 5 * n <= rows)
                    });
                    rare && 2 * known >= value.words.len()
                }
                _ => hit[v],
            };
            if alike {
                found[value.field] += value.count;
            }
        }
        found
            .iter()
            .zip(present)
            .map(|(&n, &p)| round4(ratio(n, p)))
            .collect()
    }
}
