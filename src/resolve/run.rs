//! The resolver's run-level half: reads a completed run's results and its config's reviews
//! from the store, fits the model of `resolve` (or asks the language model of `llm`) and
//! writes back what changed. The runner calls it after a smart run and for `ai-resolve`.

use serde_json::Value;

use crate::error::Result;
use crate::matcher::CandidateEvidence;
use crate::store::{Store, WorkspaceId};

/// The confidences `ai-resolve` re-scores: `[low, high)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub low: f64,
    pub high: f64,
}

impl Band {
    /// The default band of a run: 0.5 (or the threshold, when lower) up to the threshold.
    pub fn default_for(threshold: f64) -> Band {
        Band {
            low: 0.5f64.min(threshold),
            high: threshold,
        }
    }
}

/// The threshold of a run's frozen config: the top of its default band and what a
/// resolved result must reach to be matched. The one place a run's threshold is read.
pub fn run_threshold(store: &Store, ws: WorkspaceId, run_id: &str) -> Result<f64> {
    let (_, snapshot, _) = store.run_config(ws, run_id)?;
    Ok(crate::config::MatchConfig::from_json(&snapshot, "config")?.threshold)
}

/// Re-scores the unreviewed results of a run whose confidence lies in `[low, high)` with
/// the built-in model (`crate::resolve`), learned from the run's candidates and from the
/// reviews of its config, or first with the language model of `llm` when one is set (up
/// to its call budget; the model is the fallback whenever it fails). A result whose best
/// candidate or confidence changes records `resolved_by` (`model` or `llm`) and its
/// `confidence_before`; review status never changes.
/// Returns how many results changed.
pub fn resolve_run(
    store: &Store,
    ws: WorkspaceId,
    run_id: &str,
    band: Band,
    llm: Option<&crate::llm::Endpoint>,
) -> Result<usize> {
    let (config_id, _, _) = store.run_config(ws, run_id)?;
    let threshold = run_threshold(store, ws, run_id)?;
    let rows = store.resolve_inputs(ws, run_id)?;
    let fields: Vec<String> = rows
        .iter()
        .find_map(|r| r.candidates.first())
        .map(|c| c.evidence.names().map(str::to_string).collect())
        .unwrap_or_default();
    let comparison = |candidate: &CandidateEvidence| -> super::Comparison {
        fields
            .iter()
            .map(|f| candidate.evidence.get(f).and_then(|e| e.score))
            .collect()
    };
    // Unlabelled pairs: the candidates of the run's unreviewed results (a sample at scale).
    let unlabelled: Vec<super::Comparison> = rows
        .iter()
        .filter(|r| !r.reviewed)
        .take(20_000)
        .flat_map(|r| &r.candidates)
        .map(comparison)
        .collect();
    // Labelled pairs: an approved row is a match and the other candidates are not; a
    // rejected row is not.
    let mut labelled = Vec::new();
    for reviewed in store.reviewed_candidates(ws, &config_id, 20_000)? {
        for c in &reviewed.candidates {
            let is_row = Some(c.reference_row_id.as_str()) == reviewed.matched.as_deref();
            if reviewed.approved {
                labelled.push((comparison(c), is_row));
            } else if is_row {
                labelled.push((comparison(c), false));
            }
        }
    }
    let model = super::Model::fit(fields.len(), &unlabelled, &labelled);
    let mut by_model = Vec::new();
    let mut by_llm = Vec::new();
    let (mut calls, mut failures_in_a_row) = (0usize, 0usize);
    for row in &rows {
        let (id, confidence, matched) = (&row.id, &row.confidence, &row.matched);
        if row.reviewed || *confidence < band.low || *confidence >= band.high {
            continue;
        }
        let candidates = &row.candidates;
        if candidates.is_empty() {
            continue;
        }
        // The language model first, when configured, within its budget; after three
        // failures in a row it is not asked again in this run.
        if let Some(endpoint) = llm.filter(|e| calls < e.max_calls && failures_in_a_row < 3) {
            calls += 1;
            // The document's values and each candidate's, by field, as the model reads them.
            let values = |c: &CandidateEvidence, document: bool| -> Value {
                let mut out = serde_json::Map::new();
                for f in &fields {
                    let entry = c.evidence.get(f);
                    let value = if document {
                        entry.and_then(|e| e.source_value.clone())
                    } else {
                        entry.and_then(|e| e.target_value.clone())
                    };
                    out.insert(f.clone(), value.map_or(Value::Null, Value::String));
                }
                Value::Object(out)
            };
            let document = values(&candidates[0], true);
            let listed: Vec<(String, Value)> = candidates
                .iter()
                .map(|c| (c.reference_row_id.clone(), values(c, false)))
                .collect();
            match endpoint.choose(&document, &listed) {
                Ok((row_id, p)) => {
                    failures_in_a_row = 0;
                    let p = crate::matcher::combine::round4(p);
                    let chosen = candidates
                        .iter()
                        .find(|c| Some(c.reference_row_id.as_str()) == row_id.as_deref());
                    let new_matched = row_id.filter(|_| p >= threshold);
                    if (p - confidence).abs() > 1e-9 || new_matched != *matched {
                        by_llm.push((
                            id.clone(),
                            *confidence,
                            p,
                            new_matched,
                            chosen.and_then(|c| serde_json::to_string(&c.evidence).ok()),
                        ));
                    }
                    continue;
                }
                Err(e) => {
                    failures_in_a_row += 1;
                    log::warn!("run {run_id}: the resolver endpoint failed ({e}); using the built-in model");
                }
            }
        }
        let mut best: Option<(f64, &CandidateEvidence)> = None;
        for c in candidates {
            let p = crate::matcher::combine::round4(model.posterior(&comparison(c)));
            if best.is_none_or(|(b, _)| p > b) {
                best = Some((p, c));
            }
        }
        let Some((p, chosen)) = best else {
            continue;
        };
        let row_id = Some(chosen.reference_row_id.clone());
        let new_matched = row_id.filter(|_| p >= threshold);
        if (p - confidence).abs() > 1e-9 || new_matched != *matched {
            by_model.push((
                id.clone(),
                *confidence,
                p,
                new_matched,
                serde_json::to_string(&chosen.evidence).ok(),
            ));
        }
    }
    Ok(store.apply_resolutions(ws, run_id, &by_model, "model")?
        + store.apply_resolutions(ws, run_id, &by_llm, "llm")?)
}
