//! Matching configs: `RawConfig` is the JSON as users write it (one schema for files and
//! the API); `MatchConfig` is the validated, compiled form the matcher runs. Validation
//! happens once, here, and names the offending field (`field_mappings[2].weight`); the
//! matcher never looks at JSON.

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};
use crate::parse::DateOrder;

/// Most mappings a config may hold: more is a mistake, not a config.
pub const MAX_MAPPINGS: usize = 64;
pub const DEFAULT_THRESHOLD: f64 = 0.85;
pub const DEFAULT_MIN_COVERAGE: f64 = 0.5;
/// Candidates per document that enter a one-to-one assignment, by default and at most.
pub const DEFAULT_ASSIGNMENT_CANDIDATES: usize = 10;
pub const MAX_ASSIGNMENT_CANDIDATES: usize = 100;
const WEIGHT_SUM_TOLERANCE: f64 = 1e-6;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    Exact,
    Fuzzy,
    DateRange,
    NumericRange,
    Identifier,
}

impl StrategyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::Exact => "exact",
            StrategyKind::Fuzzy => "fuzzy",
            StrategyKind::DateRange => "date_range",
            StrategyKind::NumericRange => "numeric_range",
            StrategyKind::Identifier => "identifier",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingValues {
    /// A field missing on either side is left out and the rest is reweighted.
    #[default]
    Ignore,
    /// A field missing on either side scores 0.
    Zero,
}

/// Whether a reference row may be matched by more than one document of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    /// Each document takes its own best candidate.
    #[default]
    None,
    /// A row is matched at most once, the matched pairs maximising the total confidence.
    OneToOne,
}

/// How `fuzzy` turns paired words into a similarity (docs/CONTRACT.md, "Fuzzy, precisely").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FuzzyMeasure {
    /// Weighted cosine: rare shared words dominate and a long value is not punished for
    /// being long.
    #[default]
    Cosine,
    /// The weighted Dice coefficient of earlier releases.
    Dice,
    /// The share of the document value's weight found in the row: a short document field
    /// against a long reference text.
    Containment,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawDateOrder {
    Dmy,
    Mdy,
}

/// A config as written. Unknown keys are rejected; service-only keys are accepted.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_mappings: Vec<RawMapping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_values: Option<MissingValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_coverage: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<Assignment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_candidates: Option<i64>,
    // Keys that only mean something to the service; offline they are accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_data_id: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_id: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rematch_on_new_version: Option<serde_json::Value>,
}

/// One field mapping as written, with every strategy's options; `validate` checks that
/// only the chosen strategy's options are set.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMapping {
    pub source: String,
    pub target: String,
    pub strategy: StrategyKind,
    pub weight: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_similarity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<FuzzyMeasure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_order: Option<RawDateOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_abs: Option<f64>,
}

/// How far apart two numbers may be before `numeric_range` scores 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tolerance {
    /// Percent of the larger absolute value.
    Percent(f64),
    Absolute(f64),
}

/// A strategy with its options resolved to their defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Strategy {
    Exact,
    Fuzzy {
        min_similarity: f64,
        measure: FuzzyMeasure,
    },
    DateRange {
        tolerance_days: u32,
        order: DateOrder,
    },
    NumericRange {
        tolerance: Tolerance,
    },
    Identifier,
}

impl Strategy {
    pub fn kind(&self) -> StrategyKind {
        match self {
            Strategy::Exact => StrategyKind::Exact,
            Strategy::Fuzzy { .. } => StrategyKind::Fuzzy,
            Strategy::DateRange { .. } => StrategyKind::DateRange,
            Strategy::NumericRange { .. } => StrategyKind::NumericRange,
            Strategy::Identifier => StrategyKind::Identifier,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldMapping {
    /// Evidence key: `name`, else `source`, else `source->target` when a source repeats.
    pub name: String,
    pub source: String,
    pub target: String,
    pub weight: f64,
    pub strategy: Strategy,
}

/// A validated config, ready to compile into a matcher.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchConfig {
    pub mappings: Vec<FieldMapping>,
    pub threshold: f64,
    pub missing_values: MissingValues,
    pub min_coverage: f64,
    pub assignment: Assignment,
    /// How many of each document's best rows at or above the threshold enter a one-to-one
    /// assignment.
    pub assignment_candidates: usize,
}

impl MatchConfig {
    /// Parses and validates a config; `origin` names it in errors (a file name, `body`).
    pub fn from_json(text: &str, origin: &str) -> Result<MatchConfig> {
        let raw = RawConfig::from_json(text, origin)?;
        raw.validate(origin)
    }

    /// Checks that every mapping's columns exist on both sides.
    pub fn check_columns(
        &self,
        origin: &str,
        reference_name: &str,
        reference_columns: &[String],
        documents_name: &str,
        document_columns: &[String],
    ) -> Result<()> {
        let mut details = Vec::new();
        for (i, m) in self.mappings.iter().enumerate() {
            if !reference_columns.iter().any(|c| c == &m.target) {
                details.push(FieldError::new(
                    format!("field_mappings[{i}].target"),
                    format!(
                        "\"{}\" is not a column of {reference_name} (columns: {})",
                        m.target,
                        reference_columns.join(", ")
                    ),
                ));
            }
            if !document_columns.iter().any(|c| c == &m.source) {
                details.push(FieldError::new(
                    format!("field_mappings[{i}].source"),
                    format!(
                        "\"{}\" is not a column of {documents_name} (columns: {})",
                        m.source,
                        document_columns.join(", ")
                    ),
                ));
            }
        }
        if details.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation {
                origin: origin.to_string(),
                details,
            })
        }
    }
}

impl RawConfig {
    pub fn from_json(text: &str, origin: &str) -> Result<RawConfig> {
        crate::error::refuse_array(origin, text)?;
        let mut de = serde_json::Deserializer::from_str(text);
        let raw: RawConfig = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            Error::json(origin, &path, e.inner())
        })?;
        de.end().map_err(|e| Error::json(origin, ".", &e))?;
        Ok(raw)
    }

    /// Checks every rule of the config schema and resolves defaults and evidence names.
    pub fn validate(&self, origin: &str) -> Result<MatchConfig> {
        let mut errors = Vec::new();
        let mut err = |field: String, message: String| errors.push(FieldError::new(field, message));

        let threshold = self.threshold.unwrap_or(DEFAULT_THRESHOLD);
        if !(0.0..=1.0).contains(&threshold) {
            err(
                "threshold".into(),
                format!("must be between 0 and 1, got {threshold}"),
            );
        }
        let min_coverage = self.min_coverage.unwrap_or(DEFAULT_MIN_COVERAGE);
        if !(min_coverage > 0.0 && min_coverage <= 1.0) {
            err(
                "min_coverage".into(),
                format!("must be greater than 0 and at most 1, got {min_coverage}"),
            );
        }
        let assignment_candidates = self
            .assignment_candidates
            .unwrap_or(DEFAULT_ASSIGNMENT_CANDIDATES as i64);
        if !(1..=MAX_ASSIGNMENT_CANDIDATES as i64).contains(&assignment_candidates) {
            err(
                "assignment_candidates".into(),
                format!(
                    "must be between 1 and {MAX_ASSIGNMENT_CANDIDATES}, got {assignment_candidates}"
                ),
            );
        }
        if self.field_mappings.is_empty() {
            err("field_mappings".into(), "needs at least one mapping".into());
        }
        if self.field_mappings.len() > MAX_MAPPINGS {
            err(
                "field_mappings".into(),
                format!(
                    "at most {MAX_MAPPINGS} mappings, got {}",
                    self.field_mappings.len()
                ),
            );
        }

        let mut mappings = Vec::with_capacity(self.field_mappings.len());
        for (i, m) in self.field_mappings.iter().enumerate() {
            let at = |key: &str| format!("field_mappings[{i}].{key}");
            if m.source.trim().is_empty() {
                err(at("source"), "must not be empty".into());
            }
            if m.target.trim().is_empty() {
                err(at("target"), "must not be empty".into());
            }
            if !(m.weight.is_finite() && m.weight > 0.0) {
                err(
                    at("weight"),
                    format!("must be greater than 0, got {}", m.weight),
                );
            }
            let kind = m.strategy;
            let mut not_an_option = |key: &str, set: bool| {
                if set {
                    err(
                        at(key),
                        format!("is not an option of strategy \"{}\"", kind.as_str()),
                    );
                }
            };
            let fuzzy = kind == StrategyKind::Fuzzy;
            let date = kind == StrategyKind::DateRange;
            let numeric = kind == StrategyKind::NumericRange;
            not_an_option("min_similarity", !fuzzy && m.min_similarity.is_some());
            not_an_option("measure", !fuzzy && m.measure.is_some());
            not_an_option("tolerance_days", !date && m.tolerance_days.is_some());
            not_an_option("date_order", !date && m.date_order.is_some());
            not_an_option("tolerance_pct", !numeric && m.tolerance_pct.is_some());
            not_an_option("tolerance_abs", !numeric && m.tolerance_abs.is_some());

            let strategy = match kind {
                StrategyKind::Exact => Strategy::Exact,
                StrategyKind::Identifier => Strategy::Identifier,
                StrategyKind::Fuzzy => {
                    let min_similarity = m.min_similarity.unwrap_or(0.0);
                    if !(0.0..=1.0).contains(&min_similarity) {
                        err(
                            at("min_similarity"),
                            format!("must be between 0 and 1, got {min_similarity}"),
                        );
                    }
                    Strategy::Fuzzy {
                        min_similarity,
                        measure: m.measure.unwrap_or_default(),
                    }
                }
                StrategyKind::DateRange => Strategy::DateRange {
                    tolerance_days: m.tolerance_days.unwrap_or(7),
                    order: match m.date_order {
                        Some(RawDateOrder::Mdy) => DateOrder::Mdy,
                        Some(RawDateOrder::Dmy) | None => DateOrder::Dmy,
                    },
                },
                StrategyKind::NumericRange => {
                    let tolerance = match (m.tolerance_pct, m.tolerance_abs) {
                        (Some(_), Some(_)) => {
                            err(
                                at("tolerance_abs"),
                                "set tolerance_pct or tolerance_abs, not both".into(),
                            );
                            Tolerance::Percent(1.0)
                        }
                        (Some(p), None) => Tolerance::Percent(p),
                        (None, Some(a)) => Tolerance::Absolute(a),
                        (None, None) => Tolerance::Percent(1.0),
                    };
                    let (key, value) = match tolerance {
                        Tolerance::Percent(p) => ("tolerance_pct", p),
                        Tolerance::Absolute(a) => ("tolerance_abs", a),
                    };
                    if !(value.is_finite() && value >= 0.0) {
                        err(at(key), format!("must be 0 or more, got {value}"));
                    }
                    Strategy::NumericRange { tolerance }
                }
            };
            mappings.push(FieldMapping {
                name: String::new(),
                source: m.source.clone(),
                target: m.target.clone(),
                weight: m.weight,
                strategy,
            });
        }

        let sum: f64 = self.field_mappings.iter().map(|m| m.weight).sum();
        if !self.field_mappings.is_empty() && (sum - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
            err(
                "field_mappings".into(),
                format!("weights must sum to 1.0, they sum to {sum:.6}"),
            );
        }

        // Evidence names: explicit, else the source, else `source->target` for a repeated source.
        for (i, m) in self.field_mappings.iter().enumerate() {
            let repeated = self
                .field_mappings
                .iter()
                .filter(|o| o.source == m.source)
                .count()
                > 1;
            mappings[i].name = match &m.name {
                Some(name) => name.clone(),
                None if repeated => format!("{}->{}", m.source, m.target),
                None => m.source.clone(),
            };
        }
        for (i, m) in mappings.iter().enumerate() {
            if mappings[..i].iter().any(|o| o.name == m.name) {
                err(
                    format!("field_mappings[{i}].name"),
                    format!(
                        "\"{}\" is used by another mapping; names must be unique",
                        m.name
                    ),
                );
            }
        }

        if !errors.is_empty() {
            return Err(Error::Validation {
                origin: origin.to_string(),
                details: errors,
            });
        }
        Ok(MatchConfig {
            mappings,
            threshold,
            missing_values: self.missing_values.unwrap_or_default(),
            min_coverage,
            assignment: self.assignment.unwrap_or_default(),
            assignment_candidates: assignment_candidates.clamp(1, MAX_ASSIGNMENT_CANDIDATES as i64)
                as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_written_as_an_array_is_refused_not_read_by_position() {
        let error = RawConfig::from_json(r#"["n", [], 0.5]"#, "config").expect_err("an array");
        assert_eq!(error.details()[0].field, "config");
        assert!(error.to_string().contains("JSON object"), "{error}");
    }

    fn fields(err: Error) -> Vec<String> {
        match err {
            Error::Validation { details, .. } => details.into_iter().map(|d| d.field).collect(),
            other => panic!("expected a validation error, got {other}"),
        }
    }

    const GOOD: &str = r#"{
        "field_mappings": [
            {"source": "vendor", "target": "vendor_name", "strategy": "fuzzy", "weight": 0.5},
            {"source": "date", "target": "invoice_date", "strategy": "date_range", "weight": 0.3, "tolerance_days": 3},
            {"source": "total", "target": "amount", "strategy": "numeric_range", "weight": 0.2, "tolerance_abs": 1.5}
        ],
        "reference_data_id": "ignored offline"
    }"#;

    #[test]
    fn a_config_snapshot_reads_back_with_the_same_floats() {
        // serde_json's fast float parser read 1.6666666666666665 two ULPs low.
        let text = r#"{"field_mappings": [{"source": "t", "target": "t",
            "strategy": "numeric_range", "weight": 1, "tolerance_abs": 1.6666666666666665}]}"#;
        let raw = RawConfig::from_json(text, "c.json").unwrap();
        let snapshot = serde_json::to_string(&raw).unwrap();
        assert_eq!(
            MatchConfig::from_json(&snapshot, "snapshot").unwrap(),
            raw.validate("c.json").unwrap()
        );
        assert_eq!(
            raw.field_mappings[0].tolerance_abs,
            Some(1.6666666666666665)
        );
    }

    #[test]
    fn defaults_are_filled_in() {
        let config = MatchConfig::from_json(GOOD, "c.json").unwrap();
        assert_eq!(config.threshold, DEFAULT_THRESHOLD);
        assert_eq!(config.missing_values, MissingValues::Ignore);
        assert_eq!(config.min_coverage, DEFAULT_MIN_COVERAGE);
        assert_eq!(
            config.mappings[0].strategy,
            Strategy::Fuzzy {
                min_similarity: 0.0,
                measure: FuzzyMeasure::Cosine
            }
        );
        assert_eq!(
            config.mappings[1].strategy,
            Strategy::DateRange {
                tolerance_days: 3,
                order: DateOrder::Dmy
            }
        );
        assert_eq!(
            config.mappings[2].strategy,
            Strategy::NumericRange {
                tolerance: Tolerance::Absolute(1.5)
            }
        );
        assert_eq!(config.mappings[0].name, "vendor");
    }

    #[test]
    fn repeated_source_names_evidence_by_source_and_target() {
        let text = r#"{"field_mappings": [
            {"source": "desc", "target": "name", "strategy": "fuzzy", "weight": 0.5},
            {"source": "desc", "target": "description", "strategy": "fuzzy", "weight": 0.5}]}"#;
        let config = MatchConfig::from_json(text, "c.json").unwrap();
        assert_eq!(config.mappings[0].name, "desc->name");
        assert_eq!(config.mappings[1].name, "desc->description");
    }

    #[test]
    fn weights_must_sum_to_one() {
        let text = r#"{"field_mappings": [
            {"source": "a", "target": "a", "strategy": "exact", "weight": 0.5},
            {"source": "b", "target": "b", "strategy": "exact", "weight": 0.4}]}"#;
        assert_eq!(
            fields(MatchConfig::from_json(text, "c").unwrap_err()),
            ["field_mappings"]
        );
    }

    #[test]
    fn bad_values_name_their_field() {
        let text = r#"{"threshold": 1.5, "field_mappings": [
            {"source": "a", "target": "a", "strategy": "exact", "weight": -0.5},
            {"source": "b", "target": "b", "strategy": "fuzzy", "weight": 1.5, "tolerance_days": 3}]}"#;
        let got = fields(MatchConfig::from_json(text, "c").unwrap_err());
        assert_eq!(
            got,
            [
                "threshold",
                "field_mappings[0].weight",
                "field_mappings[1].tolerance_days"
            ]
        );
    }

    #[test]
    fn unknown_keys_and_strategies_are_rejected_with_their_path() {
        let text = r#"{"field_mappings": [{"source": "a", "target": "a", "strategy": "exact", "weight": 1, "wieght": 1}]}"#;
        assert_eq!(
            fields(MatchConfig::from_json(text, "c").unwrap_err()),
            ["field_mappings[0].wieght"]
        );
        let text = r#"{"field_mappings": [{"source": "a", "target": "a", "strategy": "fuzzzy", "weight": 1}]}"#;
        let err = MatchConfig::from_json(text, "c").unwrap_err();
        assert!(
            err.to_string().contains("field_mappings[0].strategy"),
            "{err}"
        );
        assert!(err.to_string().contains("fuzzzy"), "{err}");
        let text = r#"{"field_mappings": [], "colour": "red"}"#;
        assert!(MatchConfig::from_json(text, "c")
            .unwrap_err()
            .to_string()
            .contains("colour"));
    }

    #[test]
    fn fuzzy_measure_defaults_to_cosine_and_is_only_a_fuzzy_option() {
        let text = r#"{"field_mappings": [
            {"source": "a", "target": "a", "strategy": "fuzzy", "weight": 0.4, "measure": "dice"},
            {"source": "b", "target": "b", "strategy": "fuzzy", "weight": 0.3, "measure": "containment", "min_similarity": 0.5},
            {"source": "c", "target": "c", "strategy": "fuzzy", "weight": 0.3, "measure": "cosine"}]}"#;
        let config = MatchConfig::from_json(text, "c").unwrap();
        let measures: Vec<Strategy> = config.mappings.iter().map(|m| m.strategy).collect();
        assert_eq!(
            measures,
            [
                Strategy::Fuzzy {
                    min_similarity: 0.0,
                    measure: FuzzyMeasure::Dice
                },
                Strategy::Fuzzy {
                    min_similarity: 0.5,
                    measure: FuzzyMeasure::Containment
                },
                Strategy::Fuzzy {
                    min_similarity: 0.0,
                    measure: FuzzyMeasure::Cosine
                },
            ]
        );
        let text = r#"{"field_mappings": [
            {"source": "a", "target": "a", "strategy": "exact", "weight": 0.5, "measure": "dice"},
            {"source": "b", "target": "b", "strategy": "identifier", "weight": 0.5, "measure": "cosine"}]}"#;
        let err = MatchConfig::from_json(text, "c").unwrap_err();
        assert!(
            err.to_string()
                .contains("is not an option of strategy \"exact\""),
            "{err}"
        );
        assert_eq!(
            fields(err),
            ["field_mappings[0].measure", "field_mappings[1].measure"]
        );
        let text = r#"{"field_mappings": [{"source": "a", "target": "a", "strategy": "fuzzy", "weight": 1, "measure": "jaccard"}]}"#;
        let err = MatchConfig::from_json(text, "c").unwrap_err();
        assert!(
            err.to_string().contains("field_mappings[0].measure"),
            "{err}"
        );
    }

    #[test]
    fn a_measure_survives_a_snapshot() {
        let text = r#"{"field_mappings": [{"source": "a", "target": "a", "strategy": "fuzzy", "weight": 1, "measure": "containment"}]}"#;
        let raw = RawConfig::from_json(text, "c").unwrap();
        let snapshot = serde_json::to_string(&raw).unwrap();
        assert!(
            snapshot.contains(r#""measure":"containment""#),
            "{snapshot}"
        );
        assert_eq!(
            MatchConfig::from_json(&snapshot, "snapshot").unwrap(),
            raw.validate("c").unwrap()
        );
    }

    #[test]
    fn not_json_is_a_validation_error() {
        let err = MatchConfig::from_json("{not json", "c.json").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("c.json: "), "{err}");
    }

    #[test]
    fn both_tolerances_and_duplicate_names_are_rejected() {
        let text = r#"{"field_mappings": [
            {"source": "a", "target": "a", "strategy": "numeric_range", "weight": 0.5, "tolerance_pct": 1, "tolerance_abs": 2},
            {"source": "b", "target": "b", "strategy": "exact", "weight": 0.5, "name": "a"}]}"#;
        assert_eq!(
            fields(MatchConfig::from_json(text, "c").unwrap_err()),
            ["field_mappings[0].tolerance_abs", "field_mappings[1].name"]
        );
    }

    #[test]
    fn assignment_defaults_to_none_and_its_candidates_are_bounded() {
        let config = MatchConfig::from_json(GOOD, "c.json").unwrap();
        assert_eq!(config.assignment, Assignment::None);
        assert_eq!(config.assignment_candidates, DEFAULT_ASSIGNMENT_CANDIDATES);
        let with = |extra: &str| {
            GOOD.replacen(
                "\"field_mappings\"",
                &format!("{extra}, \"field_mappings\""),
                1,
            )
        };
        let config = MatchConfig::from_json(
            &with(r#""assignment": "one_to_one", "assignment_candidates": 3"#),
            "c.json",
        )
        .unwrap();
        assert_eq!(config.assignment, Assignment::OneToOne);
        assert_eq!(config.assignment_candidates, 3);
        for bad in ["0", "101", "-1"] {
            let text = with(&format!(r#""assignment_candidates": {bad}"#));
            assert_eq!(
                fields(MatchConfig::from_json(&text, "c").unwrap_err()),
                ["assignment_candidates"],
                "{bad}"
            );
        }
        let err = MatchConfig::from_json(&with(r#""assignment": "greedy""#), "c").unwrap_err();
        assert!(err.to_string().contains("assignment"), "{err}");
        assert!(err.to_string().contains("greedy"), "{err}");
    }

    #[test]
    fn columns_are_checked_against_both_headers() {
        let config = MatchConfig::from_json(GOOD, "c.json").unwrap();
        let reference = vec!["vendor_name".to_string(), "invoice_date".to_string()];
        let documents = vec!["vendor".to_string(), "date".to_string(), "totl".to_string()];
        let err = config
            .check_columns("c.json", "ref.csv", &reference, "docs.csv", &documents)
            .unwrap_err();
        assert_eq!(
            fields(err),
            ["field_mappings[2].target", "field_mappings[2].source"]
        );
    }
}
