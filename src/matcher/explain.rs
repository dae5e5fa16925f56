//! Evidence: why a candidate scored what it did, per mapped field. This is the shape every
//! surface shows (the `match` output, run results, the review page, the resolver's input),
//! and one type from the matcher to the store and back: `Evidence` serialises to, and
//! reads from, exactly the JSON object the API shows.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::combine::round4;
use super::{Candidate, FieldScore, MatchOutcome, Matcher};
use crate::config::{MissingValues, StrategyKind};

/// One mapped field's evidence for one candidate:
/// `{strategy, score, source_value, target_value, missing?, unparsable?}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldEvidence {
    pub strategy: StrategyKind,
    /// Null when the field was left out (a value missing on either side under
    /// `missing_values: ignore`), else rounded to four places.
    pub score: Option<f64>,
    /// The document's value, null when empty.
    pub source_value: Option<String>,
    /// The reference row's value, null when empty.
    pub target_value: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unparsable: bool,
}

/// A candidate's evidence: one entry per mapping, in the config's order, serialised as a
/// JSON object keyed by the mapping's name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence(pub Vec<(String, FieldEvidence)>);

impl Evidence {
    pub fn get(&self, name: &str) -> Option<&FieldEvidence> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = &(String, FieldEvidence)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, entry) in &self.0 {
            map.serialize_entry(name, entry)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Evidence;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of field evidence")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Evidence, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Evidence(entries))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

/// One candidate as results list it: `{reference_row_id, confidence, evidence}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateEvidence {
    pub reference_row_id: String,
    pub confidence: f64,
    pub evidence: Evidence,
}

fn text_or_none(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty()).map(str::to_string)
}

impl Matcher {
    /// The evidence of `candidate` for the document `values`.
    pub fn evidence(&self, values: &[Option<&str>], candidate: &Candidate) -> Evidence {
        let reference = self.reference();
        let unscored = match self.config().missing_values {
            MissingValues::Ignore => None,
            MissingValues::Zero => Some(0.0),
        };
        let entries = self
            .config()
            .mappings
            .iter()
            .zip(&candidate.fields)
            .enumerate()
            .map(|(i, (mapping, field))| {
                let target = reference
                    .column_index(&mapping.target)
                    .map(|c| reference.values[c].get(candidate.row as usize));
                let entry = FieldEvidence {
                    strategy: mapping.strategy.kind(),
                    score: match field {
                        FieldScore::Score(s) => Some(round4(*s)),
                        _ => unscored,
                    },
                    source_value: text_or_none(values.get(i).copied().flatten()),
                    target_value: text_or_none(target),
                    missing: matches!(field, FieldScore::Missing),
                    unparsable: matches!(field, FieldScore::Unparsable),
                };
                (mapping.name.clone(), entry)
            })
            .collect();
        Evidence(entries)
    }

    /// The candidates of `outcome` with their evidence, best first.
    pub fn candidates(
        &self,
        values: &[Option<&str>],
        outcome: &MatchOutcome,
    ) -> Vec<CandidateEvidence> {
        outcome
            .candidates
            .iter()
            .map(|c| CandidateEvidence {
                reference_row_id: self.reference().id(c.row as usize).to_string(),
                confidence: c.confidence,
                evidence: self.evidence(values, c),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_reads_back_as_the_json_it_writes_in_order() {
        let text = r#"[{"reference_row_id":"INV-1","confidence":0.9312,"evidence":{"vendor":{"strategy":"fuzzy","score":0.95,"source_value":"Acme","target_value":"ACME Corp"},"amount":{"strategy":"numeric_range","score":null,"source_value":null,"target_value":"12.50","missing":true},"date":{"strategy":"date_range","score":0.0,"source_value":"13/45/2024","target_value":"2024-01-05","unparsable":true}}}]"#;
        let parsed: Vec<CandidateEvidence> = serde_json::from_str(text).expect("reads");
        assert_eq!(
            parsed[0].evidence.names().collect::<Vec<_>>(),
            ["vendor", "amount", "date"]
        );
        assert!(parsed[0].evidence.get("amount").is_some_and(|e| e.missing));
        assert_eq!(serde_json::to_string(&parsed).expect("writes"), text);
    }

    #[test]
    fn evidence_refuses_a_key_it_does_not_know() {
        let text = r#"{"f":{"strategy":"exact","score":1.0,"source_value":"a","target_value":"a","extra":1}}"#;
        assert!(serde_json::from_str::<Evidence>(text).is_err());
    }
}
