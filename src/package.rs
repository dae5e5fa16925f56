//! Packages: one verdict for a bundle of documents of different types (the three-way match
//! of an invoice, its purchase order and its delivery note). This module owns the package
//! config as validated values, the per-slot statuses, the cross-document checks and the
//! verdict: pure functions over the slots' outcomes, no I/O. Executing a package (storing
//! its documents, running each slot's matching config) is `service` and `http`'s job; the
//! rules here decide what those outcomes mean (docs/CONTRACT.md, Packages).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::parse::number::parse_amount;
use crate::parse::text::normalize_text;

/// How present a document type must be in a package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Missing or unmatched fails the package.
    Required,
    /// Missing or unmatched sends the package to review when `allow_review_on_expected`,
    /// else fails it.
    Expected,
    /// Never decides the verdict; its values still feed the checks.
    Optional,
}

impl Presence {
    pub fn parse(text: &str) -> Option<Presence> {
        match text {
            "required" => Some(Presence::Required),
            "expected" => Some(Presence::Expected),
            "optional" => Some(Presence::Optional),
            _ => None,
        }
    }
}

/// A package's verdict, in rising severity: the worst of its slots and checks wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Review,
    Failed,
    Error,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::Passed,
        Verdict::Review,
        Verdict::Failed,
        Verdict::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Review => "review",
            Verdict::Failed => "failed",
            Verdict::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// One document type of a package: which matching config matches it and how present it
/// must be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlotSpec {
    pub document_type: String,
    pub matching_config_id: String,
    pub presence: Presence,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassCriteria {
    /// Required types must be matched (else only found).
    pub all_required_matched: bool,
    /// A matched slot below this confidence counts as unmatched.
    pub min_confidence: Option<f64>,
    /// An expected type missed makes the package `review` instead of `failed`.
    pub allow_review_on_expected: bool,
}

impl Default for PassCriteria {
    fn default() -> Self {
        PassCriteria {
            all_required_matched: true,
            min_confidence: None,
            allow_review_on_expected: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// The values are one value: equal amounts, or equal text ignoring case, accents,
    /// spaces, punctuation and a leading letters prefix (`PO-4711` = `po 4711` = `4711`).
    SameValue,
    /// The amounts differ by at most `tolerance_pct` percent of the largest.
    AmountWithin,
}

impl CheckKind {
    pub fn parse(text: &str) -> Option<CheckKind> {
        match text {
            "same_value" => Some(CheckKind::SameValue),
            "amount_within" => Some(CheckKind::AmountWithin),
            _ => None,
        }
    }
}

/// A consistency check across the bundle. A field is `type.field` (the document's value)
/// or `type.row.column` (the column of the row the type's document matched).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckSpec {
    pub kind: CheckKind,
    pub fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_pct: Option<f64>,
    /// `review` (default) or `failed`.
    pub on_fail: Verdict,
}

/// A validated package config, as stored and shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackageSpec {
    pub name: String,
    pub document_type_configs: Vec<SlotSpec>,
    pub pass_criteria: PassCriteria,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
}

/// Where a check reads one value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldRef<'a> {
    Document {
        document_type: &'a str,
        field: &'a str,
    },
    Row {
        document_type: &'a str,
        column: &'a str,
    },
}

/// Reads `type.field` or `type.row.column`; `None` when it is neither.
pub fn field_ref(text: &str) -> Option<FieldRef<'_>> {
    let (document_type, rest) = text.split_once('.')?;
    if document_type.is_empty() || rest.is_empty() {
        return None;
    }
    match rest.strip_prefix("row.") {
        Some(column) if !column.is_empty() => Some(FieldRef::Row {
            document_type,
            column,
        }),
        _ => Some(FieldRef::Document {
            document_type,
            field: rest,
        }),
    }
}

impl FieldRef<'_> {
    pub fn document_type(&self) -> &str {
        match self {
            FieldRef::Document { document_type, .. } | FieldRef::Row { document_type, .. } => {
                document_type
            }
        }
    }
}

/// A slot's status in a package run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotStatus {
    /// Matched at or above the package's `min_confidence`.
    Matched,
    /// Matched, but below `min_confidence`.
    LowConfidence,
    /// Its document(s) matched no reference row.
    Unmatched,
    /// No document of this type was given.
    Missing,
    /// The slot's matching run failed.
    Error,
}

/// What one slot's matching run gave, for the verdict and the checks.
#[derive(Clone, Debug, Default)]
pub struct SlotOutcome {
    pub document_found: bool,
    pub run_failed: bool,
    pub matched: bool,
    pub confidence: Option<f64>,
    /// The values of the slot's reported document (its best one).
    pub values: Map<String, Value>,
    /// The columns of the row it matched.
    pub row: Option<Map<String, Value>>,
}

impl SlotOutcome {
    pub fn status(&self, criteria: &PassCriteria) -> SlotStatus {
        if self.run_failed {
            SlotStatus::Error
        } else if !self.document_found {
            SlotStatus::Missing
        } else if !self.matched {
            SlotStatus::Unmatched
        } else if criteria
            .min_confidence
            .is_some_and(|min| self.confidence.unwrap_or(0.0) < min)
        {
            SlotStatus::LowConfidence
        } else {
            SlotStatus::Matched
        }
    }
}

/// A check's outcome in a package run, with the values it compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub kind: CheckKind,
    pub fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_pct: Option<f64>,
    pub on_fail: Verdict,
    /// `passed`, `failed` or `skipped` (fewer than two values to compare).
    pub outcome: String,
    pub values: Vec<ComparedValue>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparedValue {
    pub field: String,
    pub value: Value,
}

/// One document type's result in a package run (the hosted API's shape, plus the caller's
/// `document_id` of the reported document and its `result_id`, to review it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentResult {
    pub document_type: String,
    pub matching_config_id: String,
    pub matching_run_id: Option<String>,
    pub presence: Presence,
    pub document_found: bool,
    pub status: SlotStatus,
    pub confidence: Option<f64>,
    pub matched_reference_row_id: Option<String>,
    pub evidence: Option<Value>,
    pub document_id: Option<String>,
    pub result_id: Option<String>,
}

/// What a package run holds besides its identity and verdict.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PackageRecord {
    pub document_results: Vec<DocumentResult>,
    /// Document type -> the caller's document ids, as given.
    pub input_documents: Map<String, Value>,
    #[serde(default)]
    pub checks: Vec<CheckOutcome>,
    /// Why the verdict is not `passed`, one line per slot or check (ext).
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// The verdict of a package and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    pub statuses: Vec<SlotStatus>,
    pub checks: Vec<CheckOutcome>,
    /// One line per slot or check that lowered the verdict, in config order.
    pub reasons: Vec<String>,
}

/// Decides a package: each slot's status by its presence, then each check; the worst
/// wins. `outcomes[i]` belongs to `spec.document_type_configs[i]`.
pub fn decide(spec: &PackageSpec, outcomes: &[SlotOutcome]) -> Decision {
    let criteria = &spec.pass_criteria;
    let mut verdict = Verdict::Passed;
    let mut reasons = Vec::new();
    let mut statuses = Vec::with_capacity(outcomes.len());
    for (slot, outcome) in spec.document_type_configs.iter().zip(outcomes) {
        let status = outcome.status(criteria);
        statuses.push(status);
        let missed = matches!(
            status,
            SlotStatus::Missing | SlotStatus::Unmatched | SlotStatus::LowConfidence
        );
        let slot_verdict = match (slot.presence, status) {
            (_, SlotStatus::Error) => Verdict::Error,
            (_, SlotStatus::Matched) | (Presence::Optional, _) => Verdict::Passed,
            (Presence::Required, SlotStatus::Missing) => Verdict::Failed,
            (Presence::Required, _) if criteria.all_required_matched => Verdict::Failed,
            (Presence::Required, _) => Verdict::Passed,
            (Presence::Expected, _) if missed && criteria.allow_review_on_expected => {
                Verdict::Review
            }
            (Presence::Expected, _) => Verdict::Failed,
        };
        if slot_verdict > Verdict::Passed {
            reasons.push(format!(
                "{} ({}): {}",
                slot.document_type,
                presence_name(slot.presence),
                status_name(status)
            ));
        }
        verdict = verdict.max(slot_verdict);
    }
    let mut checks = Vec::with_capacity(spec.checks.len());
    for (i, check) in spec.checks.iter().enumerate() {
        let outcome = run_check(spec, check, outcomes);
        if outcome.outcome == "failed" {
            reasons.push(format!(
                "checks[{i}] {}: {}",
                kind_name(check.kind),
                outcome.message
            ));
            verdict = verdict.max(check.on_fail);
        }
        checks.push(outcome);
    }
    Decision {
        verdict,
        statuses,
        checks,
        reasons,
    }
}

fn presence_name(p: Presence) -> &'static str {
    match p {
        Presence::Required => "required",
        Presence::Expected => "expected",
        Presence::Optional => "optional",
    }
}

fn status_name(s: SlotStatus) -> &'static str {
    match s {
        SlotStatus::Matched => "matched",
        SlotStatus::LowConfidence => "matched below min_confidence",
        SlotStatus::Unmatched => "unmatched",
        SlotStatus::Missing => "missing",
        SlotStatus::Error => "its matching run failed",
    }
}

fn kind_name(k: CheckKind) -> &'static str {
    match k {
        CheckKind::SameValue => "same_value",
        CheckKind::AmountWithin => "amount_within",
    }
}

/// A value as a check reads it: a non-empty string or a number, as text.
fn value_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn run_check(spec: &PackageSpec, check: &CheckSpec, outcomes: &[SlotOutcome]) -> CheckOutcome {
    let mut values = Vec::with_capacity(check.fields.len());
    let mut present: Vec<(String, String)> = Vec::new();
    for field in &check.fields {
        let found = field_ref(field).and_then(|r| {
            let slot = spec
                .document_type_configs
                .iter()
                .position(|s| s.document_type == r.document_type())?;
            let outcome = outcomes.get(slot)?;
            match r {
                FieldRef::Document { field, .. } => value_text(outcome.values.get(field)),
                FieldRef::Row { column, .. } => {
                    value_text(outcome.row.as_ref().and_then(|row| row.get(column)))
                }
            }
        });
        values.push(ComparedValue {
            field: field.clone(),
            value: found.clone().map_or(Value::Null, Value::String),
        });
        if let Some(text) = found {
            present.push((field.clone(), text));
        }
    }
    let (outcome, message) = if present.len() < 2 {
        (
            "skipped",
            "fewer than two of its values are present".to_string(),
        )
    } else {
        match check.kind {
            CheckKind::SameValue => same_value(&present),
            CheckKind::AmountWithin => amount_within(&present, check.tolerance_pct.unwrap_or(0.0)),
        }
    };
    CheckOutcome {
        kind: check.kind,
        fields: check.fields.clone(),
        tolerance_pct: check.tolerance_pct,
        on_fail: check.on_fail,
        outcome: outcome.to_string(),
        values,
        message,
    }
}

/// Text for `same_value`: normalised, only letters and digits kept, and a leading
/// letters-only prefix before digits dropped (`PO-4500012301` = `4500012301`, as the
/// `identifier` strategy's prefix rule has it; no edit distance: one digit off is another
/// order).
fn comparable(text: &str) -> String {
    let kept: String = normalize_text(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let digits_from = kept.find(|c: char| c.is_ascii_digit());
    match digits_from {
        Some(at) if at > 0 && kept[..at].chars().all(char::is_alphabetic) => kept[at..].to_string(),
        _ => kept,
    }
}

fn same_value(present: &[(String, String)]) -> (&'static str, String) {
    let amounts: Option<Vec<f64>> = present
        .iter()
        .map(|(_, t)| parse_amount(t).map(|a| a.value))
        .collect();
    let equal = match amounts {
        Some(amounts) => amounts.iter().all(|a| (a - amounts[0]).abs() < 1e-9),
        None => {
            let first = comparable(&present[0].1);
            present.iter().all(|(_, t)| comparable(t) == first)
        }
    };
    if equal {
        ("passed", "the values are the same".into())
    } else {
        let listed: Vec<String> = present
            .iter()
            .map(|(f, t)| format!("{f} = \"{t}\""))
            .collect();
        (
            "failed",
            format!("the values differ: {}", listed.join(", ")),
        )
    }
}

fn amount_within(present: &[(String, String)], tolerance_pct: f64) -> (&'static str, String) {
    let mut amounts = Vec::with_capacity(present.len());
    for (field, text) in present {
        match parse_amount(text) {
            Some(amount) => amounts.push(amount),
            None => return ("failed", format!("{field} = \"{text}\" is not an amount")),
        }
    }
    let currencies: Vec<_> = amounts.iter().filter_map(|a| a.currency).collect();
    if currencies.windows(2).any(|w| w[0] != w[1]) {
        return ("failed", "the amounts are in different currencies".into());
    }
    let max = amounts.iter().map(|a| a.value).fold(f64::MIN, f64::max);
    let min = amounts.iter().map(|a| a.value).fold(f64::MAX, f64::min);
    let largest = amounts.iter().map(|a| a.value.abs()).fold(0.0, f64::max);
    let difference = max - min;
    let allowed = tolerance_pct / 100.0 * largest;
    let pct = if largest > 0.0 {
        difference / largest * 100.0
    } else {
        0.0
    };
    // Rounded to cents and hundredths of a percent, as they are reported.
    if difference <= allowed + 1e-9 {
        (
            "passed",
            format!("the amounts differ by {difference:.2} ({pct:.2}%), within {tolerance_pct}%"),
        )
    } else {
        (
            "failed",
            format!(
                "the amounts differ by {difference:.2} ({pct:.2}%), more than {tolerance_pct}%"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(checks: Vec<CheckSpec>, allow_review: bool) -> PackageSpec {
        let slot = |t: &str, presence| SlotSpec {
            document_type: t.into(),
            matching_config_id: format!("cfg-{t}"),
            presence,
        };
        PackageSpec {
            name: "three-way".into(),
            document_type_configs: vec![
                slot("invoice", Presence::Required),
                slot("purchase_order", Presence::Required),
                slot("delivery_note", Presence::Expected),
            ],
            pass_criteria: PassCriteria {
                all_required_matched: true,
                min_confidence: Some(0.8),
                allow_review_on_expected: allow_review,
            },
            checks,
        }
    }

    fn matched(values: Value, row: Value) -> SlotOutcome {
        SlotOutcome {
            document_found: true,
            run_failed: false,
            matched: true,
            confidence: Some(0.95),
            values: values.as_object().cloned().unwrap_or_default(),
            row: row.as_object().cloned(),
        }
    }

    fn check(kind: CheckKind, fields: &[&str], tolerance: Option<f64>) -> CheckSpec {
        CheckSpec {
            kind,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            tolerance_pct: tolerance,
            on_fail: Verdict::Review,
        }
    }

    #[test]
    fn every_slot_matched_passes_and_a_missing_required_one_fails() {
        let s = spec(vec![], false);
        let all = vec![
            matched(json!({}), json!({})),
            matched(json!({}), json!({})),
            matched(json!({}), json!({})),
        ];
        assert_eq!(decide(&s, &all).verdict, Verdict::Passed);
        let mut missing = all.clone();
        missing[1] = SlotOutcome::default();
        let decision = decide(&s, &missing);
        assert_eq!(decision.verdict, Verdict::Failed);
        assert_eq!(decision.statuses[1], SlotStatus::Missing);
        assert_eq!(decision.reasons, vec!["purchase_order (required): missing"]);
    }

    #[test]
    fn low_confidence_counts_as_unmatched_and_an_error_outranks_all() {
        let s = spec(vec![], true);
        let mut low = matched(json!({}), json!({}));
        low.confidence = Some(0.5);
        let outcomes = vec![low, matched(json!({}), json!({})), SlotOutcome::default()];
        let decision = decide(&s, &outcomes);
        assert_eq!(decision.statuses[0], SlotStatus::LowConfidence);
        assert_eq!(decision.verdict, Verdict::Failed);
        let mut failed_run = outcomes.clone();
        failed_run[2].run_failed = true;
        assert_eq!(decide(&s, &failed_run).verdict, Verdict::Error);
    }

    #[test]
    fn an_expected_type_missed_is_review_only_when_allowed() {
        let outcomes = vec![
            matched(json!({}), json!({})),
            matched(json!({}), json!({})),
            SlotOutcome::default(),
        ];
        assert_eq!(
            decide(&spec(vec![], true), &outcomes).verdict,
            Verdict::Review
        );
        assert_eq!(
            decide(&spec(vec![], false), &outcomes).verdict,
            Verdict::Failed
        );
    }

    #[test]
    fn checks_compare_document_values_and_matched_row_columns() {
        let checks = vec![
            check(
                CheckKind::SameValue,
                &["invoice.po_number", "delivery_note.po_number"],
                None,
            ),
            check(
                CheckKind::AmountWithin,
                &["invoice.total", "purchase_order.row.total"],
                Some(2.0),
            ),
        ];
        let s = spec(checks, false);
        let outcomes = vec![
            matched(
                json!({"po_number": "4711", "total": "1.010,00 EUR"}),
                json!({}),
            ),
            matched(json!({}), json!({"total": "1000.00"})),
            matched(json!({"po_number": "PO 4711"}), json!({})),
        ];
        let decision = decide(&s, &outcomes);
        assert_eq!(decision.verdict, Verdict::Passed, "{:?}", decision.checks);
        assert_eq!(decision.checks[1].values[1].value, "1000.00");
        let mut over = outcomes.clone();
        over[0].values.insert("total".into(), json!("1030.00"));
        let decision = decide(&s, &over);
        assert_eq!(decision.verdict, Verdict::Review);
        assert_eq!(decision.checks[1].outcome, "failed");
        assert!(
            decision.checks[1].message.contains("2.91%"),
            "{}",
            decision.checks[1].message
        );
        let mut other_po = outcomes;
        other_po[2]
            .values
            .insert("po_number".into(), json!("PO-4712"));
        let mut strict = s.clone();
        strict.checks[0].on_fail = Verdict::Failed;
        assert_eq!(decide(&strict, &other_po).verdict, Verdict::Failed);
    }

    #[test]
    fn a_check_with_a_value_missing_is_skipped() {
        let s = spec(
            vec![check(
                CheckKind::SameValue,
                &["invoice.po_number", "delivery_note.po_number"],
                None,
            )],
            true,
        );
        let outcomes = vec![
            matched(json!({"po_number": "PO-1"}), json!({})),
            matched(json!({}), json!({})),
            SlotOutcome::default(),
        ];
        let decision = decide(&s, &outcomes);
        assert_eq!(decision.checks[0].outcome, "skipped");
        assert_eq!(decision.checks[0].values[1].value, Value::Null);
        assert_eq!(decision.verdict, Verdict::Review);
    }

    #[test]
    fn field_refs_read_document_values_and_row_columns() {
        assert_eq!(
            field_ref("invoice.total"),
            Some(FieldRef::Document {
                document_type: "invoice",
                field: "total"
            })
        );
        assert_eq!(
            field_ref("purchase_order.row.total"),
            Some(FieldRef::Row {
                document_type: "purchase_order",
                column: "total"
            })
        );
        assert_eq!(field_ref("invoice"), None);
        assert_eq!(field_ref(".total"), None);
        assert_eq!(field_ref("invoice."), None);
    }
}
