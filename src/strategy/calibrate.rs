//! Calibration of generated configs: weights and a threshold from the data itself, and,
//! given labels, fitted to them. `strategy::propose` decides which fields map to which
//! columns and with what strategy; this module decides how much each mapping weighs and
//! where the threshold lies.
//!
//! Both paths match the sample once (plus once per mapping with that mapping's weight
//! raised, so that rows a different weighting would prefer are in view) and keep every
//! document's candidates with their per-field scores: a `CandidatePool`. A config that
//! differs only in weights and threshold ranks those candidates by `combine` alone, in
//! microseconds, so a search over weights never matches again.
//!
//! - Without labels (`calibrate`): a Fellegi-Sunter model is fitted by EM to the field
//!   scores of the pooled candidates (the resolver's `resolve::Model`). A mapping weighs in
//!   proportion to the evidence its agreement carries, `ln(m/u)` at full agreement minus
//!   `ln(m/u)` at disagreement (the slope of the model's log-odds in that field's score).
//!   The threshold maximises the F1 the model expects: each document's top candidate is
//!   a true match with the model's posterior probability, so expected true positives at a
//!   threshold are the sum of those probabilities above it.
//! - With labels (`fit`): coordinate search over weights on the pool, maximising the F1
//!   the labels give, the threshold in the middle of the widest run of best thresholds;
//!   the reported F1 comes from a real match at the fitted config, and a k-fold
//!   cross-validation (weights and threshold fitted without the fold, counted on it)
//!   says what to expect on documents the fit has not seen.
//!
//! Pure and deterministic, like `strategy`: no files, no SQLite, no HTTP.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::{round_weights, sort_mappings, Calibration, DocumentSample, Fitted, Proposal, ORIGIN};
use crate::config::{Assignment, MatchConfig, MissingValues};
use crate::error::{Error, Result};
use crate::evaluate::{self, Counts, Prediction, SweepPoint};
use crate::ingest::Truth;
use crate::matcher::combine::round4;
use crate::matcher::{combine, FieldScore, MatchIndex, Matcher, Mode, ReferenceTable};
use crate::resolve;

/// Weight factors `fit` tries on each mapping, and how many passes it makes over them.
const FIT_FACTORS: [f64; 6] = [0.25, 0.5, 0.75, 1.5, 2.0, 4.0];
const FIT_PASSES: usize = 6;
/// Folds of the cross-validation of `fit`.
const FOLDS: usize = 5;
/// The share of the weight a mapping gets in the extra matches that widen the pool.
const EMPHASIS: f64 = 0.5;
/// Extra matches widen the pool only for configs with at most this many mappings: each
/// costs a full match of the sample.
const MAX_EMPHASISED: usize = 8;
/// Least weight share `calibrate` gives a mapping: a field the model finds useless still
/// says something when the others are missing.
const MIN_EVIDENCE: f64 = 0.05;
/// Posterior at which an answer counts as confident when judging whether rows are
/// claimed once.
const CONFIDENT: f64 = 0.9;
/// Answers needed before their rows say anything about how often rows are claimed.
const MIN_CLAIMS: usize = 20;
/// Share of confident answers that may share their row while rows still count as claimed
/// once. Even on one-to-one data some confident answers collide (3.7% on Amazon-Google,
/// whose listings have near-duplicates); where rows are claimed many times (invoices
/// against a vendor master) most do. A wrong call costs little near this bound: the
/// assignment only changes answers whose rows collide.
const SHARED_ROWS: f64 = 0.1;
/// Missing share of a column above which a mapping's absence must not cap a row's
/// confidence (see `coverage_floor`).
const OFTEN_MISSING: f64 = 0.05;
/// `min_coverage` is never proposed below this: a document sharing one light field with a
/// row must not reach a high confidence.
const MIN_COVERAGE_FLOOR: f64 = 0.2;

/// One candidate row of a document with its per-field scores, in mapping order.
#[derive(Clone, Debug)]
struct Pooled {
    row: u32,
    fields: Vec<FieldScore>,
}

/// The candidates of every sampled document, gathered once.
struct CandidatePool {
    docs: Vec<Vec<Pooled>>,
}

/// The documents' values for each mapping's source, in mapping order.
pub(crate) fn source_values(
    config: &MatchConfig,
    documents: &DocumentSample,
) -> Result<Vec<Vec<Option<String>>>> {
    let columns = config
        .mappings
        .iter()
        .enumerate()
        .map(|(i, m)| {
            documents.column(&m.source).ok_or_else(|| {
                Error::invalid(
                    ORIGIN,
                    format!("field_mappings[{i}].source"),
                    format!("\"{}\" is not a column of the documents", m.source),
                )
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    Ok(documents
        .rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|&c| row.get(c).cloned().flatten())
                .collect()
        })
        .collect())
}

fn with_weights(config: &MatchConfig, weights: &[f64]) -> MatchConfig {
    let mut c = config.clone();
    for (m, &w) in c.mappings.iter_mut().zip(weights) {
        m.weight = w;
    }
    c
}

impl CandidatePool {
    /// Matches `values` under `config` and, when `emphasise`, under each mapping emphasised
    /// in turn, keeping every candidate found.
    fn gather(
        config: &MatchConfig,
        index: &Arc<MatchIndex>,
        values: &[Vec<Option<String>>],
        emphasise: bool,
        pool: &rayon::ThreadPool,
    ) -> Result<CandidatePool> {
        let base: Vec<f64> = config.mappings.iter().map(|m| m.weight).collect();
        let mut weightings = vec![base.clone()];
        let n = base.len();
        if emphasise && n > 1 && n <= MAX_EMPHASISED {
            for i in 0..n {
                weightings.push(
                    base.iter()
                        .enumerate()
                        .map(|(j, &w)| (1.0 - EMPHASIS) * w + if i == j { EMPHASIS } else { 0.0 })
                        .collect(),
                );
            }
        }
        let mut docs: Vec<Vec<Pooled>> = vec![Vec::new(); values.len()];
        for weights in &weightings {
            let matcher = Matcher::with_index(with_weights(config, weights), Arc::clone(index))?;
            let outcomes = matcher.match_many(values, Mode::Indexed, pool, &|| {});
            for (doc, outcome) in docs.iter_mut().zip(outcomes) {
                for c in outcome.candidates {
                    if !doc.iter().any(|p| p.row == c.row) {
                        doc.push(Pooled {
                            row: c.row,
                            fields: c.fields,
                        });
                    }
                }
            }
        }
        Ok(CandidatePool { docs })
    }

    /// Adds `row` to document `doc`'s candidates, scored by `matcher`.
    fn add(&mut self, doc: usize, row: u32, values: &[Option<&str>], matcher: &Matcher) {
        if let Some(list) = self.docs.get_mut(doc) {
            if !list.iter().any(|p| p.row == row) {
                let c = matcher.score_row(values, row);
                list.push(Pooled {
                    row,
                    fields: c.fields,
                });
            }
        }
    }

    /// Each document's best candidate under `config`: confidence descending, ties by
    /// reference id ascending, as the matcher ranks them; `None` when nothing scores.
    fn top<'a>(
        &'a self,
        config: &MatchConfig,
        reference: &ReferenceTable,
    ) -> Vec<Option<(&'a Pooled, f64)>> {
        self.docs
            .iter()
            .map(|list| {
                let mut best: Option<(&Pooled, f64)> = None;
                for p in list {
                    let c = combine(config, &p.fields);
                    if c <= 0.0 {
                        continue;
                    }
                    let better = match best {
                        None => true,
                        Some((b, bc)) => {
                            c > bc
                                || (c == bc
                                    && reference.id(p.row as usize).as_bytes()
                                        < reference.id(b.row as usize).as_bytes())
                        }
                    };
                    if better {
                        best = Some((p, c));
                    }
                }
                best
            })
            .collect()
    }
}

fn comparison(fields: &[FieldScore]) -> resolve::Comparison {
    fields
        .iter()
        .map(|f| match f {
            FieldScore::Score(s) => Some(*s),
            FieldScore::Missing | FieldScore::Unparsable => None,
        })
        .collect()
}

/// Estimates weights, `min_coverage` and the threshold of `proposal` from the sample
/// without labels. The proposal's mappings, strategies and options stay as they are.
pub fn calibrate(
    mut proposal: Proposal,
    reference: Arc<ReferenceTable>,
    documents: &DocumentSample,
    pool: &rayon::ThreadPool,
) -> Result<Proposal> {
    let config = proposal.config.validate(ORIGIN)?;
    let values = source_values(&config, documents)?;
    if values.is_empty() {
        return Ok(proposal);
    }
    let index = Arc::new(pool.install(|| MatchIndex::build(&config, Arc::clone(&reference)))?);
    let candidates = CandidatePool::gather(&config, &index, &values, false, pool)?;
    let fields = config.mappings.len();
    let comparisons: Vec<Vec<resolve::Comparison>> = candidates
        .docs
        .iter()
        .map(|list| list.iter().map(|p| comparison(&p.fields)).collect())
        .collect();
    if comparisons.iter().all(Vec::is_empty) {
        return Ok(proposal);
    }
    let model = ExclusiveModel::fit(fields, &comparisons);

    // Weights: each mapping's evidence, with a floor, in hundredths.
    let evidence: Vec<f64> = (0..fields).map(|f| model.evidence(f).max(0.0)).collect();
    let total: f64 = evidence.iter().sum();
    let raw: Vec<f64> = if total > 0.0 {
        evidence
            .iter()
            .map(|e| (e / total).max(MIN_EVIDENCE))
            .collect()
    } else {
        config.mappings.iter().map(|m| m.weight).collect()
    };
    let weights = round_weights(&raw);
    let mut calibrated = with_weights(&config, &weights);
    calibrated.min_coverage = coverage_floor(&calibrated, &reference, &values);

    // Threshold: the F1 the model expects, over thresholds in hundredths. A document's
    // top candidate is its match with the posterior the model gives it among its own
    // candidates.
    let tops = candidates.top(&calibrated, &reference);
    let scored: Vec<(f64, f64)> = tops
        .iter()
        .zip(scored_posteriors(&tops, &comparisons, &candidates, &model))
        .filter_map(|(top, p)| top.map(|(_, c)| (c, p)))
        .collect();
    let Some((threshold, expected_f1)) = expected_best_threshold(&scored) else {
        return Ok(proposal);
    };
    let expected_matches: f64 = scored.iter().map(|(_, p)| p).sum();
    // Rows claimed once: the confident answers (almost) never share a row.
    let confident: Vec<u32> = tops
        .iter()
        .zip(&scored_posteriors(&tops, &comparisons, &candidates, &model))
        .filter_map(|(top, &p)| {
            let (row, c) = (*top)?;
            (c >= threshold && p >= CONFIDENT).then_some(row.row)
        })
        .collect();
    let one_to_one = claimed_once(&confident);

    let raw_config = &mut proposal.config;
    for (m, &w) in raw_config.field_mappings.iter_mut().zip(&weights) {
        m.weight = w;
    }
    for (i, m) in raw_config.field_mappings.iter_mut().enumerate() {
        let note = format!(
            "weight from the data: agreement carries {:.1} nats of evidence",
            evidence[i]
        );
        m.rationale = Some(match m.rationale.take() {
            Some(r) if !r.is_empty() => format!("{r}; {note}"),
            _ => note,
        });
    }
    raw_config.threshold = Some(threshold);
    raw_config.min_coverage = Some(calibrated.min_coverage);
    if let Some(one_to_one) = one_to_one {
        raw_config.assignment = Some(if one_to_one {
            Assignment::OneToOne
        } else {
            Assignment::None
        });
    }
    sort_mappings(&mut raw_config.field_mappings);
    raw_config.validate(ORIGIN)?;
    proposal.calibration = Some(Calibration {
        expected_match_rate: round4(expected_matches / values.len() as f64),
        expected_f1: round4(expected_f1),
        threshold,
        one_to_one: one_to_one.unwrap_or(false),
    });
    Ok(proposal)
}

/// The posterior of each document's top candidate (0 without one).
fn scored_posteriors(
    tops: &[Option<(&Pooled, f64)>],
    comparisons: &[Vec<resolve::Comparison>],
    candidates: &CandidatePool,
    model: &ExclusiveModel,
) -> Vec<f64> {
    tops.iter()
        .zip(comparisons)
        .zip(&candidates.docs)
        .map(|((top, compared), list)| {
            top.and_then(|(p, _)| list.iter().position(|q| q.row == p.row))
                .and_then(|j| model.posteriors(compared).get(j).copied())
                .unwrap_or(0.0)
        })
        .collect()
}

/// Whether rows are claimed once, judged from the rows of confident answers: `Some(true)`
/// when at most `SHARED_ROWS` of them share their row with another, `Some(false)` when
/// more do, `None` with too few answers to tell.
fn claimed_once(rows: &[u32]) -> Option<bool> {
    if rows.len() < MIN_CLAIMS {
        return None;
    }
    let mut sorted = rows.to_vec();
    sorted.sort_unstable();
    let shared = sorted
        .iter()
        .enumerate()
        .filter(|&(i, r)| (i > 0 && sorted[i - 1] == *r) || sorted.get(i + 1) == Some(r))
        .count();
    Some(shared as f64 <= SHARED_ROWS * rows.len() as f64)
}

/// Whether labelled true rows are claimed once: no row is the true row of two
/// documents; `None` with fewer than `MIN_CLAIMS` true rows.
fn claimed_once_exactly(rows: &[u32]) -> Option<bool> {
    if rows.len() < MIN_CLAIMS {
        return None;
    }
    let mut sorted = rows.to_vec();
    sorted.sort_unstable();
    Some(sorted.windows(2).all(|w| w[0] != w[1]))
}

/// A Fellegi-Sunter model in which each document has at most one match among its
/// candidates. Plain EM over candidate pairs lets the match class take whatever the
/// candidates share most (the vendor of every invoice of one vendor, a price of 0 on half
/// a product catalogue); with at most one match per document, agreement that many of a
/// document's candidates share cannot single one out, and only what tells the right row
/// from its neighbours becomes evidence.
#[derive(Clone, Debug)]
struct ExclusiveModel {
    /// `m[field][level]` and `u[field][level]`, as in `resolve::Model`.
    m: Vec<[f64; resolve::LEVEL_COUNT]>,
    u: Vec<[f64; resolve::LEVEL_COUNT]>,
    /// The probability that a document has its match among its candidates.
    prior: f64,
}

const EM_ITERATIONS: usize = 100;

impl ExclusiveModel {
    fn fit(fields: usize, documents: &[Vec<resolve::Comparison>]) -> ExclusiveModel {
        let mut model = ExclusiveModel {
            m: vec![[0.70, 0.15, 0.10, 0.05]; fields],
            u: vec![[0.05, 0.10, 0.25, 0.60]; fields],
            prior: 0.5,
        };
        for _ in 0..EM_ITERATIONS {
            let mut m = vec![[1.0; resolve::LEVEL_COUNT]; fields];
            let mut u = vec![[1.0; resolve::LEVEL_COUNT]; fields];
            let mut matched = 0.0;
            for compared in documents {
                let posteriors = model.posteriors(compared);
                for (c, p) in compared.iter().zip(&posteriors) {
                    matched += p;
                    for (f, score) in c.iter().enumerate().take(fields) {
                        if let Some(s) = score {
                            let l = resolve::level(*s);
                            m[f][l] += p;
                            u[f][l] += 1.0 - p;
                        }
                    }
                }
            }
            for table in m.iter_mut().chain(u.iter_mut()) {
                let sum: f64 = table.iter().sum();
                table.iter_mut().for_each(|x| *x /= sum);
            }
            let prior = (matched + 1.0) / (documents.len() as f64 + 2.0);
            let next = ExclusiveModel { m, u, prior };
            let change = next
                .m
                .iter()
                .zip(&model.m)
                .chain(next.u.iter().zip(&model.u))
                .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
                .fold((next.prior - model.prior).abs(), f64::max);
            model = next;
            if change < 1e-9 {
                break;
            }
        }
        model
    }

    fn log_ratio(&self, comparison: &[Option<f64>]) -> f64 {
        comparison
            .iter()
            .zip(self.m.iter().zip(&self.u))
            .filter_map(|(score, (m, u))| {
                score.map(|s| {
                    let l = resolve::level(s);
                    (m[l] / u[l]).ln()
                })
            })
            .sum()
    }

    /// The probability that each candidate is the document's match: `prior / K` times its
    /// likelihood ratio, against no match at all (`1 - prior`) and the other candidates.
    fn posteriors(&self, compared: &[resolve::Comparison]) -> Vec<f64> {
        if compared.is_empty() {
            return Vec::new();
        }
        let k = compared.len() as f64;
        let none = (1.0 - self.prior).max(1e-12).ln();
        let logs: Vec<f64> = compared
            .iter()
            .map(|c| (self.prior / k).max(1e-12).ln() + self.log_ratio(c))
            .collect();
        let top = logs.iter().copied().fold(none, f64::max);
        let total = (none - top).exp() + logs.iter().map(|l| (l - top).exp()).sum::<f64>();
        logs.iter()
            .map(|l| {
                let p = (l - top).exp() / total;
                if p.is_finite() {
                    p.clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// The evidence of a field in nats: `ln(m/u)` at full agreement minus `ln(m/u)` at
    /// disagreement, the slope of the log-odds in the field's score. Measured on the
    /// public benchmarks, this ranks fields better than the divergence of `m` and `u`,
    /// which rewards a field for separating classes at levels the threshold never sees.
    fn evidence(&self, field: usize) -> f64 {
        let last = resolve::LEVEL_COUNT - 1;
        match (self.m.get(field), self.u.get(field)) {
            (Some(m), Some(u)) => (m[0] / u[0]).ln() - (m[last] / u[last]).ln(),
            _ => 0.0,
        }
    }
}

/// The threshold in hundredths that maximises the expected F1 of predictions `(confidence,
/// probability that the prediction is right)`, with that F1; the lowest of ties.
///
/// At threshold `t`, expected true positives are the probabilities summed over predictions
/// at or above `t`; predictions are counted; the documents that have their true row on top
/// are expected to number the sum of all probabilities. A document whose true row is not
/// on top at all is invisible here, so the estimate errs towards recall.
fn expected_best_threshold(scored: &[(f64, f64)]) -> Option<(f64, f64)> {
    if scored.is_empty() {
        return None;
    }
    let mut right = [0f64; 101];
    let mut count = [0u64; 101];
    for &(confidence, p) in scored {
        let h = ((confidence * 10_000.0).round() as i64 / 100).clamp(0, 100) as usize;
        right[h] += p;
        count[h] += 1;
    }
    let actual: f64 = scored.iter().map(|(_, p)| p).sum();
    let (mut tp, mut predicted) = (0.0, 0u64);
    let mut best = (1.0, 0.0);
    // From the top down, so each step adds the predictions of one hundredth.
    for h in (0..=100).rev() {
        tp += right[h];
        predicted += count[h];
        let denominator = predicted as f64 + actual;
        let f1 = if denominator > 0.0 {
            2.0 * tp / denominator
        } else {
            0.0
        };
        if f1 >= best.1 - 1e-12 {
            best = (h as f64 / 100.0, f1);
        }
    }
    Some(best)
}

/// `min_coverage` that lets a row missing one often-missing mapping still reach full
/// confidence: a row without mapping `i` has coverage `1 - w_i`, which must not fall below
/// `min_coverage`. Bounded below by `MIN_COVERAGE_FLOOR`; never above the config's own.
fn coverage_floor(
    config: &MatchConfig,
    reference: &ReferenceTable,
    values: &[Vec<Option<String>>],
) -> f64 {
    if config.missing_values != MissingValues::Ignore {
        return config.min_coverage;
    }
    let total: f64 = config.mappings.iter().map(|m| m.weight).sum();
    let mut floor = config.min_coverage;
    for (i, m) in config.mappings.iter().enumerate() {
        let blank = |v: &str| v.trim().is_empty();
        let column = reference.column_index(&m.target);
        let rows = reference.len().max(1);
        let missing_rows = column.map_or(0, |c| {
            reference.values[c].iter().filter(|v| blank(v)).count()
        });
        let missing_docs = values
            .iter()
            .filter(|v| v.get(i).cloned().flatten().is_none_or(|s| blank(&s)))
            .count();
        let often = missing_rows as f64 / rows as f64 > OFTEN_MISSING
            || missing_docs as f64 / values.len().max(1) as f64 > OFTEN_MISSING;
        if often && total > 0.0 {
            floor = floor.min(1.0 - m.weight / total);
        }
    }
    round2_down(floor.max(MIN_COVERAGE_FLOOR))
}

fn round2_down(x: f64) -> f64 {
    (x * 100.0 + 1e-9).floor() / 100.0
}

/// How good a set of weights is on the labels: the best F1 of the sweep, then the width of
/// the widest run of thresholds reaching it (a wider run leaves more margin on new data).
#[derive(Clone, Debug)]
struct Trial {
    best_f1: f64,
    /// The widest run of thresholds (hundredths, inclusive) with the best F1.
    run: (usize, usize),
}

impl Trial {
    fn better_than(&self, other: &Trial) -> bool {
        let width = |t: &Trial| t.run.1 - t.run.0;
        self.best_f1 > other.best_f1
            || (self.best_f1 == other.best_f1 && width(self) > width(other))
    }

    /// The middle of the best run: the same F1 on the labels, the most room either side.
    fn threshold(&self) -> f64 {
        ((self.run.0 + self.run.1) / 2) as f64 / 100.0
    }
}

fn point_f1(p: &SweepPoint) -> f64 {
    Counts {
        tp: p.tp,
        fp: p.fp,
        fn_: p.fn_,
    }
    .f1()
}

fn trial_of(points: &[SweepPoint]) -> Trial {
    let best_f1 = points.iter().map(point_f1).fold(0.0, f64::max);
    let mut run: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < points.len() {
        if point_f1(&points[i]) == best_f1 {
            let start = i;
            while i + 1 < points.len() && point_f1(&points[i + 1]) == best_f1 {
                i += 1;
            }
            if run.is_none_or(|(a, b)| i - start > b - a) {
                run = Some((start, i));
            }
        }
        i += 1;
    }
    Trial {
        best_f1,
        run: run.unwrap_or((0, 0)),
    }
}

/// The labelled documents, and what the pool predicts for a subset of them.
struct Labelled<'a> {
    /// Sample positions of the labelled documents.
    docs: Vec<usize>,
    ids: Vec<&'a str>,
    truth: Truth,
}

impl Labelled<'_> {
    fn predictions<'p>(
        &'p self,
        tops: &[Option<(&Pooled, f64)>],
        subset: &[usize],
        reference: &'p ReferenceTable,
    ) -> Vec<Prediction<'p>> {
        subset
            .iter()
            .map(|&k| Prediction {
                document_id: self.ids[k],
                top: tops[self.docs[k]].map(|(p, c)| (reference.id(p.row as usize), c)),
            })
            .collect()
    }
}

/// Coordinate search of weights on the pool over the labelled documents in `subset`.
fn search(
    config: &MatchConfig,
    candidates: &CandidatePool,
    labelled: &Labelled,
    subset: &[usize],
    reference: &ReferenceTable,
) -> (Vec<f64>, Trial, Trial) {
    let mut tried: BTreeMap<Vec<i64>, Trial> = BTreeMap::new();
    let mut run_trial = |weights: &[f64]| -> Trial {
        let key: Vec<i64> = weights.iter().map(|w| (w * 100.0).round() as i64).collect();
        if let Some(t) = tried.get(&key) {
            return t.clone();
        }
        let tops = candidates.top(&with_weights(config, weights), reference);
        let predictions = labelled.predictions(&tops, subset, reference);
        let points = evaluate::sweep(&predictions, &labelled.truth);
        let trial = trial_of(&points);
        tried.insert(key, trial.clone());
        trial
    };
    let original: Vec<f64> = config.mappings.iter().map(|m| m.weight).collect();
    let before = run_trial(&original);
    let mut weights = original;
    let mut best = before.clone();
    for _ in 0..FIT_PASSES {
        let mut improved = false;
        for i in 0..weights.len() {
            for factor in FIT_FACTORS {
                let mut scaled = weights.clone();
                scaled[i] *= factor;
                let candidate = round_weights(&scaled);
                if candidate == weights {
                    continue;
                }
                let trial = run_trial(&candidate);
                if trial.better_than(&best) {
                    weights = candidate;
                    best = trial;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    (weights, best, before)
}

/// What `eval` reports for `matcher` on documents given by their values (in mapping
/// order) and ids: matched, assigned as the config says, each prediction judged against
/// `truth`, with the best F1 over thresholds.
pub(crate) fn evaluate_sample<S: AsRef<str>>(
    matcher: &Matcher,
    values: &[Vec<Option<String>>],
    ids: &[S],
    truth: &Truth,
    pool: &rayon::ThreadPool,
) -> evaluate::Report {
    let mut outcomes = matcher.match_many(values, Mode::Indexed, pool, &|| {});
    // Heads first: the documents whose head does not settle them need their full lists
    // before the assignment is the one `eval` makes.
    matcher.settle_with(&mut outcomes, values, pool);
    matcher.assign(&mut outcomes, ids);
    let reference = matcher.reference();
    let predictions: Vec<Prediction> = ids
        .iter()
        .zip(&outcomes)
        .map(|(id, o)| Prediction {
            document_id: id.as_ref(),
            top: o
                .prediction()
                .map(|(row, c)| (reference.id(row as usize), c)),
        })
        .collect();
    evaluate::evaluate(
        &predictions,
        truth,
        matcher.config().threshold,
        reference.len(),
        false,
    )
}

/// Fits weights and threshold of `proposal` to labelled pairs (document id -> true
/// reference row id, or `None` for no true row), maximising F1; returns the fitted
/// proposal with metrics. Only documents of the sample that have a label count; a caller
/// with the truth-file rule of docs/CONTRACT.md (a document absent from the file has no true row) passes
/// `None` for those.
pub fn fit(
    proposal: Proposal,
    reference: Arc<ReferenceTable>,
    documents: &DocumentSample,
    labels: &HashMap<String, Option<String>>,
    pool: &rayon::ThreadPool,
) -> Result<Proposal> {
    let config = proposal.config.validate(ORIGIN)?;
    let values = source_values(&config, documents)?;
    let docs: Vec<usize> = (0..documents.ids.len())
        .filter(|&i| labels.contains_key(&documents.ids[i]))
        .collect();
    if docs.is_empty() {
        return Err(Error::invalid(
            "labels",
            "",
            "no document of the sample has a label",
        ));
    }
    if !docs.iter().any(|&i| labels[&documents.ids[i]].is_some()) {
        return Err(Error::invalid(
            "labels",
            "",
            "no labelled document of the sample has a true row: F1 would be 0 whatever the weights",
        ));
    }
    let ids: Vec<&str> = docs.iter().map(|&i| documents.ids[i].as_str()).collect();
    let truth: Truth = ids
        .iter()
        .map(|&id| (id.to_string(), labels[id].clone()))
        .collect();

    let index = Arc::new(pool.install(|| MatchIndex::build(&config, Arc::clone(&reference)))?);
    let matcher = Matcher::with_index(config.clone(), Arc::clone(&index))?;
    let mut unknown: Vec<&str> = truth
        .values()
        .flatten()
        .map(String::as_str)
        .filter(|row| matcher.row_of(row).is_none())
        .collect();
    unknown.sort_unstable();
    if let Some(row) = unknown.first() {
        return Err(Error::invalid(
            "labels",
            "",
            format!(
                "row id \"{row}\" is not a row of the reference ({} unknown)",
                unknown.len()
            ),
        ));
    }

    let labelled_values: Vec<Vec<Option<String>>> =
        docs.iter().map(|&i| values[i].clone()).collect();
    let mut candidates = CandidatePool::gather(&config, &index, &labelled_values, true, pool)?;
    // The true rows join the pool: a search that raises their fields must see them rise.
    for (k, id) in ids.iter().enumerate() {
        if let Some(row) = truth[*id].as_deref().and_then(|r| matcher.row_of(r)) {
            let v: Vec<Option<&str>> = labelled_values[k].iter().map(|s| s.as_deref()).collect();
            candidates.add(k, row, &v, &matcher);
        }
    }
    let labelled = Labelled {
        docs: (0..docs.len()).collect(),
        ids,
        truth,
    };
    let everyone: Vec<usize> = (0..docs.len()).collect();
    let (weights, best, _) = search(&config, &candidates, &labelled, &everyone, &reference);
    let fitted_threshold = best.threshold();

    // Cross-validation: each fold counted at weights and threshold fitted without it.
    let mut held_out = Counts::default();
    for fold in 0..FOLDS.min(docs.len()) {
        let (test, train): (Vec<usize>, Vec<usize>) =
            everyone.iter().partition(|&&k| k % FOLDS == fold);
        if train.is_empty() || test.is_empty() {
            continue;
        }
        let (w, t, _) = search(&config, &candidates, &labelled, &train, &reference);
        let tops = candidates.top(&with_weights(&config, &w), &reference);
        let predictions = labelled.predictions(&tops, &test, &reference);
        let c = evaluate::count(&predictions, &labelled.truth, |c| c >= t.threshold());
        held_out.tp += c.tp;
        held_out.fp += c.fp;
        held_out.fn_ += c.fn_;
    }

    // The reported F1s come from real matches, not from the pool.
    let exact_f1 = |c: &MatchConfig| -> Result<f64> {
        let matcher = Matcher::with_index(c.clone(), Arc::clone(&index))?;
        Ok(evaluate_sample(
            &matcher,
            &labelled_values,
            &labelled.ids,
            &labelled.truth,
            pool,
        )
        .f1)
    };
    let f1_before = exact_f1(&config)?;
    let mut fitted = with_weights(&config, &weights);
    fitted.threshold = fitted_threshold;

    let mut raw = proposal.config;
    // Labels outrank the data on whether rows are claimed once.
    let true_rows: Vec<u32> = labelled
        .truth
        .values()
        .flatten()
        .filter_map(|r| matcher.row_of(r))
        .collect();
    if let Some(once) = claimed_once_exactly(&true_rows) {
        raw.assignment = Some(if once {
            Assignment::OneToOne
        } else {
            Assignment::None
        });
        fitted.assignment = raw.assignment.unwrap_or_default();
    }
    let f1_after = exact_f1(&fitted)?;
    // `validate` keeps mapping order, so weights line up with the raw mappings.
    for (m, &w) in raw.field_mappings.iter_mut().zip(&weights) {
        m.weight = w;
    }
    raw.threshold = Some(fitted_threshold);
    sort_mappings(&mut raw.field_mappings);
    raw.validate(ORIGIN)?;
    Ok(Proposal {
        config: raw,
        metrics: Some(Fitted {
            f1_before: round4(f1_before),
            f1_after: round4(f1_after),
            threshold: fitted_threshold,
            f1_cross_validated: round4(held_out.f1()),
        }),
        calibration: proposal.calibration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{self, Encoding};
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    struct Set {
        reference: Arc<ReferenceTable>,
        documents: DocumentSample,
        truth: Truth,
    }

    fn load(dir: &Path) -> Set {
        let reference =
            ingest::read_reference(&dir.join("reference.csv"), Encoding::Utf8, None).unwrap();
        let (documents, scan) =
            crate::strategy::DocumentSample::read(&dir.join("documents.csv"), Encoding::Utf8, None)
                .unwrap();
        let ids: HashSet<&str> = scan.ids.iter().map(String::as_str).collect();
        let rows: HashSet<&str> = reference.ids.iter().collect();
        let mut truth = ingest::truth_from_csv(
            ingest::read_csv(&dir.join("truth.csv"), Encoding::Utf8).unwrap(),
            &ids,
            &|id| rows.contains(id),
        )
        .unwrap();
        for id in &documents.ids {
            truth.entry(id.clone()).or_insert(None);
        }
        Set {
            reference: Arc::new(reference),
            documents,
            truth,
        }
    }

    /// F1 at the config's threshold and the best F1 over thresholds, as `eval` counts.
    fn f1s(set: &Set, raw: &crate::config::RawConfig, pool: &rayon::ThreadPool) -> (f64, f64) {
        let config = raw.validate("test").unwrap();
        let matcher = pool
            .install(|| Matcher::build(config, Arc::clone(&set.reference)))
            .unwrap();
        let values = source_values(matcher.config(), &set.documents).unwrap();
        let report = evaluate_sample(&matcher, &values, &set.documents.ids, &set.truth, pool);
        (report.f1, report.best_f1)
    }

    /// Under a one-to-one assignment two documents whose best row is the same make the
    /// assignment reach past their heads: `evaluate_sample` (what `bench quality` and the
    /// fitted configs' reported F1 use) must answer what `eval` answers, the optimal
    /// assignment over full lists, and not one over heads only.
    #[test]
    fn a_sample_is_assigned_over_full_lists() {
        let mut reference = ReferenceTable::new(vec!["name".into(), "total".into()]);
        reference.push_row("R1", ["acme", "100.00"]);
        reference.push_row("R2", ["acme", "104.00"]);
        let config = MatchConfig::from_json(
            r#"{"threshold": 0.35, "assignment": "one_to_one", "field_mappings": [
                {"source": "name", "target": "name", "strategy": "exact", "weight": 0.5},
                {"source": "total", "target": "total", "strategy": "numeric_range", "weight": 0.5, "tolerance_pct": 5.0}]}"#,
            "test",
        )
        .unwrap();
        let matcher = Matcher::build(config, Arc::new(reference)).unwrap();
        // Both documents are best with R1; D1 is nearly as good with R2, D2 only with R1.
        let values: Vec<Vec<Option<String>>> = [["acme", "100.00"], ["zeta", "100.00"]]
            .iter()
            .map(|d| d.iter().map(|v| Some(v.to_string())).collect())
            .collect();
        let ids = ["D1", "D2"];
        let truth: ingest::Truth = [("D1", "R2"), ("D2", "R1")]
            .iter()
            .map(|&(d, r)| (d.to_string(), Some(r.to_string())))
            .collect();
        let pool = crate::matcher::thread_pool(2).unwrap();
        let report = evaluate_sample(&matcher, &values, &ids, &truth, &pool);
        assert_eq!(report.f1, 1.0, "{report:?}");
    }

    /// Issue 12's bar for configs generated without labels: the F1 at the generated
    /// threshold within 0.03 of the best those mappings reach.
    fn check_unlabelled(dir: &Path) -> (f64, f64, Proposal) {
        let set = load(dir);
        let pool = crate::matcher::thread_pool(2).unwrap();
        let proposal = pool
            .install(|| crate::strategy::propose(&set.reference, &set.documents))
            .unwrap();
        let calibrated =
            calibrate(proposal, Arc::clone(&set.reference), &set.documents, &pool).unwrap();
        let (f1, best) = f1s(&set, &calibrated.config, &pool);
        assert!(
            f1 >= best - 0.03,
            "{}: F1 {f1} at the generated threshold, best {best}",
            dir.display()
        );
        (f1, best, calibrated)
    }

    #[test]
    fn a_config_generated_without_labels_is_usable_at_its_own_threshold_on_the_fixtures() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/invoices");
        let (f1, best, proposal) = check_unlabelled(&dir);
        assert!(best >= 0.99, "{best}");
        assert!(f1 >= 0.99, "{f1}");
        // Open items are claimed once, and the data say so.
        assert_eq!(proposal.config.assignment, Some(Assignment::OneToOne));
        let calibration = proposal.calibration.unwrap();
        assert!((0.5..=1.0).contains(&calibration.expected_match_rate));
    }

    #[test]
    fn a_config_generated_without_labels_is_usable_on_the_public_benchmarks() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/benchmarks");
        for name in ["dblp-acm", "amazon-google"] {
            let dir = root.join(name);
            if !dir.join("truth.csv").exists() {
                eprintln!("SKIPPED {name}: {} is absent", dir.display());
                continue;
            }
            let (f1, best, _) = check_unlabelled(&dir);
            eprintln!("{name}: generated F1 {f1}, best {best}");
        }
    }

    #[test]
    fn fitting_reports_a_cross_validated_f1_beside_the_in_sample_one() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/invoices");
        let set = load(&dir);
        let pool = crate::matcher::thread_pool(2).unwrap();
        let proposal = pool
            .install(|| crate::strategy::propose(&set.reference, &set.documents))
            .unwrap();
        let fitted = fit(
            proposal,
            Arc::clone(&set.reference),
            &set.documents,
            &set.truth,
            &pool,
        )
        .unwrap();
        let m = fitted.metrics.unwrap();
        let (f1, _) = f1s(&set, &fitted.config, &pool);
        // The in-sample figure is what eval counts at the fitted threshold.
        assert_eq!(m.f1_after, round4(f1));
        assert!(
            m.f1_cross_validated > 0.9 && m.f1_cross_validated <= 1.0,
            "{m:?}"
        );
        // The labels say each row is the true row of one document at most.
        assert_eq!(fitted.config.assignment, Some(Assignment::OneToOne));
    }

    #[test]
    fn expected_threshold_separates_confident_from_doubtful_predictions() {
        // Right predictions cluster high, wrong ones low.
        let mut scored = Vec::new();
        for i in 0..50 {
            scored.push((0.9 + f64::from(i % 10) / 100.0, 0.99));
            scored.push((0.3 + f64::from(i % 20) / 100.0, 0.02));
        }
        let (t, f1) = expected_best_threshold(&scored).unwrap();
        assert!((0.5..=0.9).contains(&t), "{t}");
        assert!(f1 > 0.95, "{f1}");
        assert_eq!(expected_best_threshold(&[]), None);
    }

    #[test]
    fn one_match_per_document_keeps_shared_values_from_passing_for_evidence() {
        // Field 0 tells the match from its neighbours; field 1 is shared by every
        // candidate of a document (the vendor of all its invoices, a price of 0).
        let mut documents = Vec::new();
        for i in 0..200 {
            let mut compared = vec![vec![Some(1.0), Some(1.0)]];
            for j in 0..4 {
                compared.push(vec![Some(f64::from((i + j) % 7) / 10.0), Some(1.0)]);
            }
            if i % 4 == 0 {
                // No true row: only neighbours.
                compared.remove(0);
            }
            documents.push(compared);
        }
        let model = ExclusiveModel::fit(2, &documents);
        assert!(model.evidence(0) > 2.0, "{model:?}");
        assert!(model.evidence(1) < 0.5, "{model:?}");
        let p = model.posteriors(&documents[1]);
        assert!(p[0] > 0.9 && p[1..].iter().all(|&x| x < 0.05), "{p:?}");
        assert!((0.65..=0.95).contains(&model.prior), "{}", model.prior);
        // A document with only neighbours is far less likely to hold its match.
        let sum: f64 = model.posteriors(&documents[0]).iter().sum();
        assert!(sum < 0.7 && sum < p[0] - 0.3, "{sum}");
    }
}
