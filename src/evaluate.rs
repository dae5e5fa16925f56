//! Offline evaluation of a config against labelled data, as docs/CONTRACT.md counts it (Command line, Evaluation):
//! the top candidate is the prediction when its confidence reaches the threshold; a true
//! positive when it is the true row, a false positive when it is any other row; a true row
//! not predicted is a false negative. Needs no database.

use serde::Serialize;

use crate::ingest::Truth;
use crate::matcher::combine::round4;

/// What the matcher answered for one document: its top candidate, if any.
#[derive(Clone, Debug)]
pub struct Prediction<'a> {
    pub document_id: &'a str,
    pub top: Option<(&'a str, f64)>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// Compares F1 exactly, as fractions, so ties are real ties.
    fn f1_cmp(&self, other: &Counts) -> std::cmp::Ordering {
        let (a_num, a_den) = (
            2 * self.tp as u128,
            (2 * self.tp + self.fp + self.fn_) as u128,
        );
        let (b_num, b_den) = (
            2 * other.tp as u128,
            (2 * other.tp + other.fp + other.fn_) as u128,
        );
        (a_num * b_den.max(1)).cmp(&(b_num * a_den.max(1)))
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Counts at a threshold given as a predicate on confidence.
pub fn count(predictions: &[Prediction], truth: &Truth, predicted: impl Fn(f64) -> bool) -> Counts {
    let mut counts = Counts::default();
    for p in predictions {
        let true_row = truth.get(p.document_id).and_then(|r| r.as_deref());
        let guess = p.top.filter(|&(_, c)| predicted(c)).map(|(row, _)| row);
        match (guess, true_row) {
            (Some(g), Some(t)) if g == t => counts.tp += 1,
            (Some(_), Some(_)) => {
                counts.fp += 1;
                counts.fn_ += 1;
            }
            (Some(_), None) => counts.fp += 1,
            (None, Some(_)) => counts.fn_ += 1,
            (None, None) => {}
        }
    }
    counts
}

/// The documents at one threshold by what they have and what was predicted. A wrong row
/// counts once here but as both a false positive and a false negative in `Counts`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Confusion {
    /// The true row was predicted (true positives).
    pub right_row: u64,
    /// Another row than the true one was predicted.
    pub wrong_row: u64,
    /// A true row exists and nothing was predicted.
    pub missed: u64,
    /// A row was predicted for a document without a true row.
    pub spurious: u64,
    /// No true row and nothing predicted (true negatives).
    pub left_unmatched: u64,
}

impl Confusion {
    pub fn counts(&self) -> Counts {
        Counts {
            tp: self.right_row,
            fp: self.wrong_row + self.spurious,
            fn_: self.wrong_row + self.missed,
        }
    }
}

/// The confusion at `threshold`, judged as `evaluate` judges it.
pub fn confusion(predictions: &[Prediction], truth: &Truth, threshold: f64) -> Confusion {
    let mut c = Confusion::default();
    for p in predictions {
        let true_row = truth.get(p.document_id).and_then(|r| r.as_deref());
        let guess = p
            .top
            .filter(|&(_, conf)| conf >= threshold)
            .map(|(row, _)| row);
        match (guess, true_row) {
            (Some(g), Some(t)) if g == t => c.right_row += 1,
            (Some(_), Some(_)) => c.wrong_row += 1,
            (None, Some(_)) => c.missed += 1,
            (Some(_), None) => c.spurious += 1,
            (None, None) => c.left_unmatched += 1,
        }
    }
    c
}

/// One threshold of the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct SweepPoint {
    pub threshold: f64,
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// The result of an evaluation, in the key order `eval --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub documents: usize,
    pub reference_rows: usize,
    pub threshold: f64,
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub best_threshold: f64,
    pub best_f1: f64,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Vec<SweepPoint>>,
}

/// Thresholds swept as integer hundredths, compared with confidences in ten-thousandths
/// so that no float rounding decides a prediction.
pub fn sweep(predictions: &[Prediction], truth: &Truth) -> Vec<SweepPoint> {
    // Each prediction is looked up once: a document's top candidate counts at every
    // threshold up to its confidence (in hundredths), so per-threshold counts are suffix
    // sums of a histogram instead of 101 passes over the predictions.
    let mut right = [0u64; 101];
    let mut wrong = [0u64; 101];
    let mut with_row = 0u64;
    for p in predictions {
        let true_row = truth.get(p.document_id).and_then(|r| r.as_deref());
        with_row += u64::from(true_row.is_some());
        if let Some((row, c)) = p.top {
            let ten_thousandths = (c * 10_000.0).round() as i64;
            // Counted at threshold t when ten_thousandths >= t * 100.
            let highest = (ten_thousandths.div_euclid(100)).clamp(-1, 100);
            if highest >= 0 {
                let bucket = highest as usize;
                if Some(row) == true_row {
                    right[bucket] += 1;
                } else {
                    wrong[bucket] += 1;
                }
            }
        }
    }
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut points: Vec<SweepPoint> = (0..=100usize)
        .rev()
        .map(|t| {
            tp += right[t];
            fp += wrong[t];
            let counts = Counts {
                tp,
                fp,
                fn_: with_row - tp,
            };
            SweepPoint {
                threshold: t as f64 / 100.0,
                tp: counts.tp,
                fp: counts.fp,
                fn_: counts.fn_,
                precision: round4(counts.precision()),
                recall: round4(counts.recall()),
                f1: round4(counts.f1()),
            }
        })
        .collect();
    points.reverse();
    points
}

/// Evaluates predictions at `threshold` and finds the best threshold of the sweep.
pub fn evaluate(
    predictions: &[Prediction],
    truth: &Truth,
    threshold: f64,
    reference_rows: usize,
    keep_sweep: bool,
) -> Report {
    let counts = count(predictions, truth, |c| c >= threshold);
    let points = sweep(predictions, truth);
    // The lowest threshold among those with the best F1.
    let mut best: Option<(&SweepPoint, Counts)> = None;
    for p in &points {
        let c = Counts {
            tp: p.tp,
            fp: p.fp,
            fn_: p.fn_,
        };
        if best.is_none_or(|(_, b)| c.f1_cmp(&b).is_gt()) {
            best = Some((p, c));
        }
    }
    let (best_threshold, best_f1) = best.map_or((0.0, 0.0), |(p, c)| (p.threshold, round4(c.f1())));
    Report {
        documents: predictions.len(),
        reference_rows,
        threshold,
        tp: counts.tp,
        fp: counts.fp,
        fn_: counts.fn_,
        precision: round4(counts.precision()),
        recall: round4(counts.recall()),
        f1: round4(counts.f1()),
        best_threshold,
        best_f1,
        elapsed_ms: 0,
        sweep: keep_sweep.then_some(points),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(pairs: &[(&str, Option<&str>)]) -> Truth {
        pairs
            .iter()
            .map(|(d, r)| (d.to_string(), r.map(str::to_string)))
            .collect()
    }

    #[test]
    fn counts_as_the_spec_defines() {
        let t = truth(&[
            ("d1", Some("r1")),
            ("d2", Some("r2")),
            ("d3", None),
            ("d4", Some("r4")),
        ]);
        let p = [
            Prediction {
                document_id: "d1",
                top: Some(("r1", 0.9)),
            },
            Prediction {
                document_id: "d2",
                top: Some(("r9", 0.95)),
            },
            Prediction {
                document_id: "d3",
                top: Some(("r3", 0.9)),
            },
            Prediction {
                document_id: "d4",
                top: Some(("r4", 0.5)),
            },
            Prediction {
                document_id: "d5",
                top: None,
            },
        ];
        let r = evaluate(&p, &t, 0.85, 10, false);
        assert_eq!((r.tp, r.fp, r.fn_), (1, 2, 2));
        assert_eq!(r.precision, round4(1.0 / 3.0));
        assert_eq!(r.recall, round4(1.0 / 3.0));
        // At 0.50 d4 becomes a true positive: tp 2, fp 2, fn 1 -> F1 4/7, the best.
        assert_eq!(r.best_threshold, 0.0);
        assert_eq!(r.best_f1, round4(4.0 / 7.0));
    }

    #[test]
    fn confusion_agrees_with_the_counts() {
        let t = truth(&[("d1", Some("r1")), ("d2", Some("r2")), ("d3", None)]);
        let p = [
            Prediction {
                document_id: "d1",
                top: Some(("r1", 0.9)),
            },
            Prediction {
                document_id: "d2",
                top: Some(("r9", 0.95)),
            },
            Prediction {
                document_id: "d3",
                top: Some(("r3", 0.4)),
            },
            Prediction {
                document_id: "d4",
                top: None,
            },
        ];
        let c = confusion(&p, &t, 0.85);
        assert_eq!(
            (c.right_row, c.wrong_row, c.missed, c.spurious),
            (1, 1, 0, 0)
        );
        // d3 (below the threshold) and d4 (absent from the truth) have no true row.
        assert_eq!(c.left_unmatched, 2);
        assert_eq!(c.counts(), count(&p, &t, |x| x >= 0.85));
    }

    #[test]
    fn best_threshold_is_the_lowest_of_the_tied_best() {
        let t = truth(&[("d1", Some("r1")), ("d2", None)]);
        let p = [
            Prediction {
                document_id: "d1",
                top: Some(("r1", 0.9)),
            },
            Prediction {
                document_id: "d2",
                top: Some(("r2", 0.3)),
            },
        ];
        let r = evaluate(&p, &t, 0.85, 2, true);
        assert_eq!(r.best_threshold, 0.31);
        assert_eq!(r.best_f1, 1.0);
        assert_eq!(r.sweep.as_ref().map(Vec::len), Some(101));
    }

    #[test]
    fn precision_is_zero_when_nothing_is_predicted() {
        let t = truth(&[("d1", Some("r1"))]);
        let p = [Prediction {
            document_id: "d1",
            top: None,
        }];
        let r = evaluate(&p, &t, 0.5, 1, false);
        assert_eq!((r.precision, r.recall, r.f1), (0.0, 0.0, 0.0));
    }

    proptest::proptest! {
        /// The histogram sweep counts what a pass per threshold counts.
        #[test]
        fn sweep_equals_counting_each_threshold(
            docs in proptest::collection::vec((0u8..4, 0u8..4, proptest::option::of(0u32..=10_000)), 0..40)
        ) {
            let ids: Vec<String> = (0..docs.len()).map(|i| format!("d{i}")).collect();
            let rows = ["r0", "r1", "r2", "r3"];
            let truth: Truth = docs
                .iter()
                .zip(&ids)
                .filter(|((t, _, _), _)| *t < 3)
                .map(|((t, _, _), id)| (id.clone(), (*t < 2).then(|| rows[*t as usize].to_string())))
                .collect();
            let predictions: Vec<Prediction> = docs
                .iter()
                .zip(&ids)
                .map(|((_, g, c), id)| Prediction {
                    document_id: id,
                    top: c.map(|c| (rows[*g as usize], f64::from(c) / 10_000.0)),
                })
                .collect();
            for point in sweep(&predictions, &truth) {
                let hundredths = (point.threshold * 100.0).round() as i64;
                let c = count(&predictions, &truth, |c| {
                    (c * 10_000.0).round() as i64 >= hundredths * 100
                });
                proptest::prop_assert_eq!((c.tp, c.fp, c.fn_), (point.tp, point.fp, point.fn_));
            }
        }
    }
}
