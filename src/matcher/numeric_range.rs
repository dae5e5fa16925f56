//! `numeric_range`: 1 at equal values, falling linearly to 0.5 at the tolerance, 0 beyond;
//! 0 when both sides carry different currencies. Index: the reference values as a sorted
//! array, searched by the tolerance window.

use super::index::{Accumulator, PREFETCH};
use super::snapshot::{check_ids, Decoded, Encode, Reader, Refused, Writer};
use super::{FieldScore, Parsed};
use crate::config::Tolerance;
use crate::parse::{parse_amount, Amount};

pub struct NumericColumn {
    values: Vec<Parsed<Amount>>,
    /// Every parsable reference amount with its row, ascending by value: a window walk reads
    /// them in order without touching `values`.
    sorted: Vec<(Amount, u32)>,
    tolerance: Tolerance,
}

pub struct NumericProbe {
    amount: Parsed<Amount>,
    /// The positions in `sorted` of the rows that can score above 0, searched once: the
    /// plan and the walk both ask.
    candidates: (u32, u32),
}

fn parse(raw: &str) -> Parsed<Amount> {
    if raw.trim().is_empty() {
        return Parsed::Missing;
    }
    match parse_amount(raw) {
        Some(amount) if amount.value.is_finite() => Parsed::Value(amount),
        _ => Parsed::Unparsable,
    }
}

/// The score of two amounts under a tolerance.
pub fn amount_score(a: &Amount, b: &Amount, tolerance: Tolerance) -> f64 {
    if let (Some(x), Some(y)) = (a.currency, b.currency) {
        if x != y {
            return 0.0;
        }
    }
    let diff = (a.value - b.value).abs();
    let allowed = match tolerance {
        Tolerance::Percent(p) => p / 100.0 * a.value.abs().max(b.value.abs()),
        Tolerance::Absolute(t) => t,
    };
    // Values parsed from decimal text carry binary rounding noise; a difference within it
    // is no difference.
    let noise = 1e-9 * a.value.abs().max(b.value.abs()).max(1.0);
    if diff <= noise {
        1.0
    } else if diff > allowed + noise {
        0.0
    } else {
        (1.0 - 0.5 * diff / allowed).clamp(0.5, 1.0)
    }
}

impl NumericColumn {
    pub fn build<'a>(values: impl Iterator<Item = &'a str>, tolerance: Tolerance) -> Self {
        let values: Vec<Parsed<Amount>> = values.map(parse).collect();
        let mut sorted: Vec<(Amount, u32)> = values
            .iter()
            .enumerate()
            .filter_map(|(row, v)| match v {
                Parsed::Value(a) => Some((*a, row as u32)),
                _ => None,
            })
            .collect();
        sorted.sort_unstable_by(|a, b| a.0.value.total_cmp(&b.0.value).then(a.1.cmp(&b.1)));
        NumericColumn {
            values,
            sorted,
            tolerance,
        }
    }

    pub fn encode(&self, w: &mut Writer) {
        self.values.encode(w);
        self.sorted.encode(w);
    }

    pub fn decode(r: &mut Reader, rows: usize, tolerance: Tolerance) -> Decoded<Self> {
        let values: Vec<Parsed<Amount>> = r.get()?;
        let sorted: Vec<(Amount, u32)> = r.get()?;
        if values.len() != rows {
            return Err(Refused("is corrupt (a column of another length)".into()));
        }
        check_ids(sorted.iter().map(|&(_, row)| row), rows)?;
        Ok(NumericColumn {
            values,
            sorted,
            tolerance,
        })
    }

    pub fn prepare(&self, raw: Option<&str>) -> NumericProbe {
        let amount = raw.map_or(Parsed::Missing, parse);
        let candidates = match &amount {
            Parsed::Value(amount) => {
                let (lo, hi) = self.window(amount.value);
                let start = self.sorted.partition_point(|(a, _)| a.value < lo);
                let end = self.sorted.partition_point(|(a, _)| a.value <= hi);
                (start as u32, end.max(start) as u32)
            }
            _ => (0, 0),
        };
        NumericProbe { amount, candidates }
    }

    pub fn score(&self, probe: &NumericProbe, row: u32) -> FieldScore {
        let reference = self.values.get(row as usize).unwrap_or(&Parsed::Missing);
        match (&probe.amount, reference) {
            (Parsed::Missing, _) | (_, Parsed::Missing) => FieldScore::Missing,
            (Parsed::Unparsable, _) | (_, Parsed::Unparsable) => FieldScore::Unparsable,
            (Parsed::Value(a), Parsed::Value(b)) => {
                FieldScore::Score(amount_score(a, b, self.tolerance))
            }
        }
    }

    /// The values `b` that can score above 0 against `a`, widened slightly for rounding.
    fn window(&self, a: f64) -> (f64, f64) {
        let (lo, hi) = match self.tolerance {
            Tolerance::Absolute(t) => (a - t, a + t),
            Tolerance::Percent(p) => {
                let f = p / 100.0;
                if f >= 1.0 {
                    (f64::NEG_INFINITY, f64::INFINITY)
                } else {
                    // |a - b| <= f * max(|a|, |b|) holds exactly for b between a*(1-f) and
                    // a/(1-f) (for either sign of a).
                    let (x, y) = (a * (1.0 - f), a / (1.0 - f));
                    (x.min(y), x.max(y))
                }
            }
        };
        let slack = 1e-9 * a.abs().max(1.0);
        (lo - slack, hi + slack)
    }

    pub fn is_present(probe: &NumericProbe) -> bool {
        matches!(probe.amount, Parsed::Value(_))
    }

    pub fn row_present(&self, row: u32) -> bool {
        matches!(self.values.get(row as usize), Some(Parsed::Value(_)))
    }

    /// The row's amount as a sort key (see `within`), when it has one.
    pub fn key(&self, row: u32) -> Option<f64> {
        match self.values.get(row as usize) {
            Some(Parsed::Value(amount)) => Some(amount.value),
            _ => None,
        }
    }

    /// The keys of the rows `enumerate` walks: the amounts that can score above 0.
    pub fn key_range(&self, probe: &NumericProbe) -> Option<(f64, f64)> {
        match &probe.amount {
            Parsed::Value(amount) => Some(self.window(amount.value)),
            _ => None,
        }
    }

    /// The slice of `sorted` that can score above 0 against the document's value.
    fn candidates(&self, probe: &NumericProbe) -> &[(Amount, u32)] {
        let (start, end) = probe.candidates;
        self.sorted.get(start as usize..end as usize).unwrap_or(&[])
    }

    pub fn cost(&self, probe: &NumericProbe) -> usize {
        self.candidates(probe).len()
    }

    /// Credits every row within the tolerance with its exact weighted score (0 for another
    /// currency). Returns the bound for rows not credited: 0.
    pub fn enumerate(&self, probe: &NumericProbe, weight: f32, acc: &mut Accumulator) -> f32 {
        let Parsed::Value(amount) = &probe.amount else {
            return 0.0;
        };
        for batch in self.candidates(probe).chunks(PREFETCH) {
            acc.prefetch(batch.iter().map(|&(_, row)| row));
            for (reference, row) in batch {
                let score = amount_score(amount, reference, self.tolerance);
                if score > 0.0 {
                    acc.credit(*row, weight * score as f32);
                }
            }
        }
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Currency;
    use proptest::prelude::*;

    fn score(doc: &str, reference: &str, tolerance: Tolerance) -> FieldScore {
        let col = NumericColumn::build([reference].into_iter(), tolerance);
        col.score(&col.prepare(Some(doc)), 0)
    }

    fn amount(value: f64) -> Amount {
        Amount {
            value,
            currency: None,
        }
    }

    #[test]
    fn formats_and_currencies() {
        let pct = Tolerance::Percent(1.0);
        assert_eq!(
            score("1.240,00 EUR", "1240.00", pct),
            FieldScore::Score(1.0)
        );
        assert_eq!(score("EUR 1,240.00", "1240", pct), FieldScore::Score(1.0));
        assert_eq!(score("1240 USD", "1240 EUR", pct), FieldScore::Score(0.0));
        assert_eq!(score("", "1240", pct), FieldScore::Missing);
        assert_eq!(score("twelve", "1240", pct), FieldScore::Unparsable);
    }

    #[test]
    fn tolerance_edges() {
        let abs = Tolerance::Absolute(2.0);
        assert_eq!(amount_score(&amount(100.0), &amount(101.0), abs), 0.75);
        assert_eq!(amount_score(&amount(100.0), &amount(102.0), abs), 0.5);
        assert_eq!(amount_score(&amount(100.0), &amount(102.01), abs), 0.0);
        let pct = Tolerance::Percent(1.0);
        assert_eq!(amount_score(&amount(99.0), &amount(100.0), pct), 0.5);
        assert_eq!(amount_score(&amount(98.9), &amount(100.0), pct), 0.0);
        let zero = Tolerance::Percent(0.0);
        assert_eq!(amount_score(&amount(10.0), &amount(10.0), zero), 1.0);
        assert_eq!(amount_score(&amount(10.0), &amount(10.01), zero), 0.0);
        assert_eq!(amount_score(&amount(-12.0), &amount(-12.0), zero), 1.0);
    }

    #[test]
    fn the_window_holds_every_row_that_scores() {
        let col = NumericColumn::build(
            ["95", "99", "100", "101", "102", "-100"].into_iter(),
            Tolerance::Percent(1.0),
        );
        let (lo, hi) = col.window(100.0);
        assert!(
            (95.0..=99.0).contains(&lo) && (101.0..102.0).contains(&hi),
            "{lo} {hi}"
        );
        let (lo, hi) = col.window(-100.0);
        assert!(lo <= -101.0 && hi >= -99.0, "{lo} {hi}");
    }

    proptest! {
        #[test]
        fn score_is_bounded_and_symmetric(a in -1e7f64..1e7, b in -1e7f64..1e7, t in 0f64..50.0, pct in any::<bool>()) {
            let tol = if pct { Tolerance::Percent(t) } else { Tolerance::Absolute(t) };
            let s = amount_score(&amount(a), &amount(b), tol);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(s, amount_score(&amount(b), &amount(a), tol));
            prop_assert_eq!(amount_score(&amount(a), &amount(a), tol), 1.0);
        }

        #[test]
        fn rows_that_score_are_inside_the_window(a in -1e6f64..1e6, b in -1e6f64..1e6, t in 0f64..150.0) {
            let tol = Tolerance::Percent(t);
            let col = NumericColumn::build(std::iter::empty(), tol);
            let (lo, hi) = col.window(a);
            if amount_score(&amount(a), &amount(b), tol) > 0.0 {
                prop_assert!(lo <= b && b <= hi, "{a} {b} {t} -> [{lo}, {hi}]");
            }
        }

        #[test]
        fn different_currencies_never_match(a in 0f64..1e6) {
            let eur = Amount { value: a, currency: Some(Currency(*b"EUR")) };
            let usd = Amount { value: a, currency: Some(Currency(*b"USD")) };
            prop_assert_eq!(amount_score(&eur, &usd, Tolerance::Percent(100.0)), 0.0);
        }
    }
}
