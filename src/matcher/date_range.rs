//! `date_range`: 1 at equal dates, falling linearly to 0.5 at `tolerance_days` apart, 0
//! beyond. Index: the reference dates as a sorted array, searched by range.

use super::index::{Accumulator, PREFETCH};
use super::snapshot::{check_ids, Decoded, Encode, Reader, Refused, Writer};
use super::{FieldScore, Parsed};
use crate::parse::{parse_date, DateOrder};
use chrono::Datelike;

pub struct DateColumn {
    values: Vec<Parsed<i32>>,
    /// `(day number, row)` of every parsable reference date, ascending.
    sorted: Vec<(i32, u32)>,
    tolerance_days: u32,
    order: DateOrder,
}

pub struct DateProbe {
    day: Parsed<i32>,
    /// The positions in `sorted` of the rows within the tolerance, searched once: the plan
    /// and the walk both ask.
    window: (u32, u32),
}

fn parse_day(raw: &str, order: DateOrder) -> Parsed<i32> {
    if raw.trim().is_empty() {
        return Parsed::Missing;
    }
    match parse_date(raw, order) {
        Some(date) => Parsed::Value(date.num_days_from_ce()),
        None => Parsed::Unparsable,
    }
}

/// The score of two dates `days_apart` apart under a tolerance.
pub fn date_score(days_apart: u32, tolerance_days: u32) -> f64 {
    if days_apart == 0 {
        1.0
    } else if days_apart > tolerance_days {
        0.0
    } else {
        1.0 - 0.5 * f64::from(days_apart) / f64::from(tolerance_days)
    }
}

impl DateColumn {
    pub fn build<'a>(
        values: impl Iterator<Item = &'a str>,
        tolerance_days: u32,
        order: DateOrder,
    ) -> Self {
        let values: Vec<Parsed<i32>> = values.map(|v| parse_day(v, order)).collect();
        let mut sorted: Vec<(i32, u32)> = values
            .iter()
            .enumerate()
            .filter_map(|(row, v)| match v {
                Parsed::Value(day) => Some((*day, row as u32)),
                _ => None,
            })
            .collect();
        sorted.sort_unstable();
        DateColumn {
            values,
            sorted,
            tolerance_days,
            order,
        }
    }

    pub fn encode(&self, w: &mut Writer) {
        self.values.encode(w);
        self.sorted.encode(w);
    }

    pub fn decode(
        r: &mut Reader,
        rows: usize,
        tolerance_days: u32,
        order: DateOrder,
    ) -> Decoded<Self> {
        let values: Vec<Parsed<i32>> = r.get()?;
        let sorted: Vec<(i32, u32)> = r.get()?;
        if values.len() != rows {
            return Err(Refused("is corrupt (a column of another length)".into()));
        }
        check_ids(sorted.iter().map(|&(_, row)| row), rows)?;
        Ok(DateColumn {
            values,
            sorted,
            tolerance_days,
            order,
        })
    }

    pub fn prepare(&self, raw: Option<&str>) -> DateProbe {
        let day = raw.map_or(Parsed::Missing, |raw| parse_day(raw, self.order));
        let window = match day {
            Parsed::Value(day) => {
                let tolerance = self.tolerance_days as i32;
                let start = self
                    .sorted
                    .partition_point(|&(d, _)| d < day.saturating_sub(tolerance));
                let end = self
                    .sorted
                    .partition_point(|&(d, _)| d <= day.saturating_add(tolerance));
                (start as u32, end.max(start) as u32)
            }
            _ => (0, 0),
        };
        DateProbe { day, window }
    }

    pub fn score(&self, probe: &DateProbe, row: u32) -> FieldScore {
        let reference = self.values.get(row as usize).unwrap_or(&Parsed::Missing);
        match (&probe.day, reference) {
            (Parsed::Missing, _) | (_, Parsed::Missing) => FieldScore::Missing,
            (Parsed::Unparsable, _) | (_, Parsed::Unparsable) => FieldScore::Unparsable,
            (Parsed::Value(a), Parsed::Value(b)) => {
                FieldScore::Score(date_score(a.abs_diff(*b), self.tolerance_days))
            }
        }
    }

    pub fn is_present(probe: &DateProbe) -> bool {
        matches!(probe.day, Parsed::Value(_))
    }

    pub fn row_present(&self, row: u32) -> bool {
        matches!(self.values.get(row as usize), Some(Parsed::Value(_)))
    }

    /// The row's day number as a sort key (see `within`), when it has a date.
    pub fn key(&self, row: u32) -> Option<f64> {
        match self.values.get(row as usize) {
            Some(Parsed::Value(day)) => Some(f64::from(*day)),
            _ => None,
        }
    }

    /// The keys of the rows `enumerate` credits: the days within the tolerance.
    pub fn key_range(&self, probe: &DateProbe) -> Option<(f64, f64)> {
        let Parsed::Value(day) = probe.day else {
            return None;
        };
        let tolerance = self.tolerance_days as i32;
        Some((
            f64::from(day.saturating_sub(tolerance)),
            f64::from(day.saturating_add(tolerance)),
        ))
    }

    /// The slice of `sorted` within the tolerance of the document's date.
    fn window(&self, probe: &DateProbe) -> &[(i32, u32)] {
        let (start, end) = probe.window;
        self.sorted.get(start as usize..end as usize).unwrap_or(&[])
    }

    pub fn cost(&self, probe: &DateProbe) -> usize {
        self.window(probe).len()
    }

    /// Credits every row within the tolerance with its exact weighted score. Returns the
    /// bound for rows not credited: 0, dates beyond the tolerance score 0.
    pub fn enumerate(&self, probe: &DateProbe, weight: f32, acc: &mut Accumulator) -> f32 {
        let Parsed::Value(day) = probe.day else {
            return 0.0;
        };
        for batch in self.window(probe).chunks(PREFETCH) {
            acc.prefetch(batch.iter().map(|&(_, row)| row));
            for &(d, row) in batch {
                let score = date_score(d.abs_diff(day), self.tolerance_days);
                acc.credit(row, weight * score as f32);
            }
        }
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn score(doc: &str, reference: &str, tolerance: u32) -> FieldScore {
        let col = DateColumn::build([reference].into_iter(), tolerance, DateOrder::Dmy);
        col.score(&col.prepare(Some(doc)), 0)
    }

    #[test]
    fn equal_dates_in_other_forms_score_one() {
        assert_eq!(score("02.03.2026", "2026-03-02", 7), FieldScore::Score(1.0));
        assert_eq!(score("2 Mar 2026", "2026-03-02", 7), FieldScore::Score(1.0));
    }

    #[test]
    fn falls_linearly_to_half_at_the_tolerance_then_zero() {
        assert_eq!(
            score("2026-03-05", "2026-03-02", 6),
            FieldScore::Score(0.75)
        );
        assert_eq!(score("2026-03-09", "2026-03-02", 7), FieldScore::Score(0.5));
        assert_eq!(score("2026-03-10", "2026-03-02", 7), FieldScore::Score(0.0));
        assert_eq!(score("2026-03-02", "2026-03-02", 0), FieldScore::Score(1.0));
        assert_eq!(score("2026-03-03", "2026-03-02", 0), FieldScore::Score(0.0));
    }

    #[test]
    fn missing_and_unparsable_are_flagged() {
        assert_eq!(score("", "2026-03-02", 7), FieldScore::Missing);
        assert_eq!(score("2026-03-02", " ", 7), FieldScore::Missing);
        assert_eq!(
            score("next tuesday", "2026-03-02", 7),
            FieldScore::Unparsable
        );
        assert_eq!(score("2026-03-02", "31.02.2026", 7), FieldScore::Unparsable);
    }

    proptest! {
        #[test]
        fn score_is_bounded_symmetric_and_monotone(a in 0u32..5000, b in 0u32..5000, tol in 0u32..60) {
            let s = date_score(a.abs_diff(b), tol);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(s, date_score(b.abs_diff(a), tol));
            prop_assert!(date_score(a.abs_diff(b) + 1, tol) <= s);
            prop_assert_eq!(date_score(0, tol), 1.0);
        }
    }
}
