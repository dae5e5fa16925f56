//! Evidence: why a candidate scored what it did, per mapped field, as JSON. This is the
//! shape every surface shows (the `match` output, run results, the review page).

use serde_json::{json, Map, Value};

use super::combine::round4;
use super::{Candidate, FieldScore, MatchOutcome, Matcher};
use crate::config::MissingValues;

fn text_or_null(value: Option<&str>) -> Value {
    match value {
        Some(v) if !v.trim().is_empty() => Value::String(v.to_string()),
        _ => Value::Null,
    }
}

impl Matcher {
    /// `{name: {strategy, score, source_value, target_value, missing?, unparsable?}}`.
    pub fn evidence(&self, values: &[Option<&str>], candidate: &Candidate) -> Map<String, Value> {
        let reference = self.reference();
        let mut evidence = Map::new();
        for (i, (mapping, field)) in self
            .config()
            .mappings
            .iter()
            .zip(&candidate.fields)
            .enumerate()
        {
            let target = reference
                .column_index(&mapping.target)
                .map(|c| reference.values[c].get(candidate.row as usize));
            let unscored = match self.config().missing_values {
                MissingValues::Ignore => Value::Null,
                MissingValues::Zero => json!(0.0),
            };
            let mut entry = Map::new();
            entry.insert("strategy".into(), json!(mapping.strategy.kind().as_str()));
            entry.insert(
                "score".into(),
                match field {
                    FieldScore::Score(s) => json!(round4(*s)),
                    _ => unscored,
                },
            );
            entry.insert(
                "source_value".into(),
                text_or_null(values.get(i).copied().flatten()),
            );
            entry.insert("target_value".into(), text_or_null(target));
            match field {
                FieldScore::Missing => {
                    entry.insert("missing".into(), Value::Bool(true));
                }
                FieldScore::Unparsable => {
                    entry.insert("unparsable".into(), Value::Bool(true));
                }
                FieldScore::Score(_) => {}
            }
            evidence.insert(mapping.name.clone(), Value::Object(entry));
        }
        evidence
    }

    /// `[{reference_row_id, confidence, evidence}]`, best first.
    pub fn candidates_json(&self, values: &[Option<&str>], outcome: &MatchOutcome) -> Value {
        Value::Array(
            outcome
                .candidates
                .iter()
                .map(|c| {
                    json!({
                        "reference_row_id": self.reference().id(c.row as usize),
                        "confidence": c.confidence,
                        "evidence": self.evidence(values, c),
                    })
                })
                .collect(),
        )
    }
}
