//! Combines per-field scores into a confidence, as docs/CONTRACT.md (Scoring) defines it.

use crate::config::{MatchConfig, MissingValues};

use super::FieldScore;

/// Rounds to the 4 decimals confidences and scores are reported and compared at.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// `sum(weight_i * score_i)`. With `missing_values: ignore`, missing or unparsable fields
/// are left out, the rest reweighted, and the result scaled by
/// `min(1, coverage / min_coverage)`; with `zero` they score 0. In 0..1, rounded to 4 decimals.
pub fn combine(config: &MatchConfig, fields: &[FieldScore]) -> f64 {
    let mut present = 0.0;
    let mut total = 0.0;
    let mut sum = 0.0;
    for (mapping, field) in config.mappings.iter().zip(fields) {
        total += mapping.weight;
        if let FieldScore::Score(s) = field {
            present += mapping.weight;
            sum += mapping.weight * s;
        }
    }
    let confidence = match config.missing_values {
        MissingValues::Zero => sum,
        MissingValues::Ignore => {
            if present <= 0.0 || total <= 0.0 {
                0.0
            } else {
                let coverage = present / total;
                sum / present * (coverage / config.min_coverage).min(1.0)
            }
        }
    };
    round4(confidence.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MatchConfig;
    use proptest::prelude::*;

    fn config(missing: &str, min_coverage: f64) -> MatchConfig {
        MatchConfig::from_json(
            &format!(
                r#"{{"missing_values": "{missing}", "min_coverage": {min_coverage}, "field_mappings": [
                {{"source": "a", "target": "a", "strategy": "fuzzy", "weight": 0.6}},
                {{"source": "b", "target": "b", "strategy": "exact", "weight": 0.3}},
                {{"source": "c", "target": "c", "strategy": "exact", "weight": 0.1}}]}}"#
            ),
            "test",
        )
        .unwrap()
    }

    use FieldScore::{Missing, Score, Unparsable};

    #[test]
    fn weighted_sum_when_everything_is_present() {
        let c = config("ignore", 0.5);
        assert_eq!(combine(&c, &[Score(1.0), Score(0.5), Score(0.0)]), 0.75);
    }

    #[test]
    fn ignore_reweights_present_fields() {
        let c = config("ignore", 0.5);
        // A missing PO number must not sink an otherwise certain match.
        assert_eq!(combine(&c, &[Score(1.0), Missing, Score(1.0)]), 1.0);
        // Sharing only a minor field cannot reach a high confidence: 1.0 * 0.1 / 0.5.
        assert_eq!(combine(&c, &[Missing, Unparsable, Score(1.0)]), 0.2);
        assert_eq!(combine(&c, &[Missing, Missing, Missing]), 0.0);
    }

    #[test]
    fn zero_scores_missing_fields_zero() {
        let c = config("zero", 0.5);
        assert_eq!(combine(&c, &[Score(1.0), Missing, Score(1.0)]), 0.7);
    }

    proptest! {
        #[test]
        fn confidence_is_bounded(a in 0f64..=1.0, b in 0f64..=1.0, c in 0f64..=1.0, mask in 0u8..8, cov in 0.01f64..=1.0) {
            let pick = |bit: u8, s: f64| if mask & bit != 0 { Missing } else { Score(s) };
            for missing in ["ignore", "zero"] {
                let conf = combine(&config(missing, cov), &[pick(1, a), pick(2, b), pick(4, c)]);
                prop_assert!((0.0..=1.0).contains(&conf));
            }
        }
    }
}
