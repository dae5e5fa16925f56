//! The matcher: a pure, deterministic library that knows nothing of SQLite, CSV or HTTP.
//!
//! `Matcher::build` compiles a validated config against a reference table: each mapping's
//! reference column is parsed once and indexed for its strategy (`exact`, `fuzzy`, ...,
//! one file each). Matching a document prepares its values once, lets each field's index
//! propose candidate rows with an estimate, scores the best-estimated rows in full
//! (`combine`), and keeps the top five. `Mode::Exhaustive` scores every row instead, to
//! check the index against: a row's score never depends on how it was found.

mod combine;
pub mod date_range;
pub mod exact;
pub mod explain;
pub mod fuzzy;
pub mod identifier;
pub mod index;
pub mod numeric_range;
pub mod reference;

use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::config::{MatchConfig, Strategy};
use crate::error::{Error, Result};
pub use combine::combine;
pub use reference::{ReferenceTable, StrColumn};

/// How many candidates a result reports.
pub const TOP_CANDIDATES: usize = 5;
/// How many index-proposed rows are scored in full per document.
pub const SCORED_PER_DOCUMENT: usize = 256;

/// A value on one side of a comparison, parsed once.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed<T> {
    Missing,
    Unparsable,
    Value(T),
}

/// The outcome of comparing one field of a document with one reference row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldScore {
    /// A similarity in 0..1.
    Score(f64),
    /// Empty, absent or null on either side.
    Missing,
    /// Present but not a date or number where one was needed.
    Unparsable,
}

/// Whether candidates come from the indexes or from every row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Indexed,
    Exhaustive,
}

/// One scored reference row.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub row: u32,
    /// Weighted confidence in 0..1, rounded to 4 decimals.
    pub confidence: f64,
    /// One entry per mapping, in config order.
    pub fields: Vec<FieldScore>,
}

/// The answer for one document.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchOutcome {
    /// The best candidate's row when its confidence reaches the threshold.
    pub matched: Option<u32>,
    /// The best candidate's confidence, 0 without candidates.
    pub confidence: f64,
    /// Up to five rows with confidence > 0, best first, ties by row id.
    pub candidates: Vec<Candidate>,
}

enum FieldIndex {
    Exact(exact::ExactColumn),
    Fuzzy(fuzzy::FuzzyColumn),
    Date(date_range::DateColumn),
    Numeric(numeric_range::NumericColumn),
    Identifier(identifier::IdentifierColumn),
}

enum Probe {
    Exact(exact::ExactProbe),
    Fuzzy(fuzzy::FuzzyProbe),
    Date(date_range::DateProbe),
    Numeric(numeric_range::NumericProbe),
    Identifier(identifier::IdentifierProbe),
}

/// Per-thread working memory, reused across documents.
pub struct Scratch {
    acc: index::Accumulator,
    /// One per mapping; only fuzzy mappings use theirs.
    fuzzy: Vec<fuzzy::FuzzyScratch>,
    fields: Vec<FieldScore>,
}

/// A config compiled against one reference table.
pub struct Matcher {
    config: MatchConfig,
    reference: Arc<ReferenceTable>,
    fields: Vec<FieldIndex>,
    /// Each row's position in ascending byte order of ids: the tie-breaker everywhere.
    id_rank: Vec<u32>,
    scratch: Mutex<Vec<Scratch>>,
}

impl Matcher {
    /// Parses and indexes every mapped reference column.
    pub fn build(config: MatchConfig, reference: Arc<ReferenceTable>) -> Result<Matcher> {
        if reference.len() > u32::MAX as usize - 1 {
            return Err(Error::Internal("reference table too large".into()));
        }
        let columns = config
            .mappings
            .iter()
            .enumerate()
            .map(|(i, m)| {
                reference.column_index(&m.target).ok_or_else(|| {
                    Error::invalid(
                        "config",
                        format!("field_mappings[{i}].target"),
                        format!("\"{}\" is not a column of the reference data", m.target),
                    )
                })
            })
            .collect::<Result<Vec<usize>>>()?;
        // Columns are indexed in parallel on the caller's pool.
        let fields: Vec<FieldIndex> = config
            .mappings
            .par_iter()
            .zip(columns)
            .map(|(m, column)| {
                let values = reference.values[column].iter();
                match m.strategy {
                    Strategy::Exact => FieldIndex::Exact(exact::ExactColumn::build(values)),
                    Strategy::Fuzzy { min_similarity } => {
                        FieldIndex::Fuzzy(fuzzy::FuzzyColumn::build(values, min_similarity))
                    }
                    Strategy::DateRange {
                        tolerance_days,
                        order,
                    } => FieldIndex::Date(date_range::DateColumn::build(
                        values,
                        tolerance_days,
                        order,
                    )),
                    Strategy::NumericRange { tolerance } => {
                        FieldIndex::Numeric(numeric_range::NumericColumn::build(values, tolerance))
                    }
                    Strategy::Identifier => {
                        FieldIndex::Identifier(identifier::IdentifierColumn::build(values))
                    }
                }
            })
            .collect();
        let mut order: Vec<u32> = (0..reference.len() as u32).collect();
        order.sort_by(|&a, &b| {
            reference
                .id(a as usize)
                .as_bytes()
                .cmp(reference.id(b as usize).as_bytes())
        });
        let mut id_rank = vec![0u32; reference.len()];
        for (rank, &row) in order.iter().enumerate() {
            id_rank[row as usize] = rank as u32;
        }
        Ok(Matcher {
            config,
            reference,
            fields,
            id_rank,
            scratch: Mutex::new(Vec::new()),
        })
    }

    pub fn config(&self) -> &MatchConfig {
        &self.config
    }

    pub fn reference(&self) -> &ReferenceTable {
        &self.reference
    }

    /// The document field each mapping reads, in config order.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.config.mappings.iter().map(|m| m.source.as_str())
    }

    fn new_scratch(&self) -> Scratch {
        Scratch {
            acc: index::Accumulator::new(self.reference.len()),
            fuzzy: self
                .fields
                .iter()
                .map(|_| fuzzy::FuzzyScratch::default())
                .collect(),
            fields: Vec::with_capacity(self.fields.len()),
        }
    }

    fn take_scratch(&self) -> Scratch {
        let pooled = self.scratch.lock().ok().and_then(|mut pool| pool.pop());
        pooled.unwrap_or_else(|| self.new_scratch())
    }

    fn return_scratch(&self, scratch: Scratch) {
        if let Ok(mut pool) = self.scratch.lock() {
            pool.push(scratch);
        }
    }

    /// Matches one document. `values` holds the document's value for each mapping's
    /// `source` in config order (`None` or empty when missing). Rows in `excluded` are
    /// never proposed (rows a reviewer rejected for this document).
    pub fn match_one(&self, values: &[Option<&str>], mode: Mode, excluded: &[u32]) -> MatchOutcome {
        let mut scratch = self.take_scratch();
        let outcome = self.match_with(values, mode, excluded, &mut scratch);
        self.return_scratch(scratch);
        outcome
    }

    /// Matches many documents on `pool`; results come back in input order and do not
    /// depend on the number of threads.
    /// `done` is called once per finished document, from the worker that finished it.
    pub fn match_many<V: AsRef<[Option<S>]> + Sync, S: AsRef<str> + Sync>(
        &self,
        documents: &[V],
        mode: Mode,
        pool: &rayon::ThreadPool,
        done: &(dyn Fn() + Sync),
    ) -> Vec<MatchOutcome> {
        pool.install(|| {
            documents
                .par_iter()
                .map_init(
                    || ScratchGuard {
                        matcher: self,
                        scratch: Some(self.take_scratch()),
                    },
                    |guard, doc| {
                        let values: Vec<Option<&str>> = doc
                            .as_ref()
                            .iter()
                            .map(|v| v.as_ref().map(|s| s.as_ref()))
                            .collect();
                        let outcome = match guard.scratch.as_mut() {
                            Some(scratch) => self.match_with(&values, mode, &[], scratch),
                            None => self.match_one(&values, mode, &[]),
                        };
                        done();
                        outcome
                    },
                )
                .collect()
        })
    }

    fn prepare(&self, values: &[Option<&str>], scratch: &mut Scratch) -> Vec<Probe> {
        self.fields
            .iter()
            .zip(scratch.fuzzy.iter_mut())
            .enumerate()
            .map(|(i, (field, fuzzy_scratch))| {
                let raw = values.get(i).copied().flatten();
                match field {
                    FieldIndex::Exact(c) => Probe::Exact(c.prepare(raw)),
                    FieldIndex::Fuzzy(c) => Probe::Fuzzy(c.prepare(raw, fuzzy_scratch)),
                    FieldIndex::Date(c) => Probe::Date(c.prepare(raw)),
                    FieldIndex::Numeric(c) => Probe::Numeric(c.prepare(raw)),
                    FieldIndex::Identifier(c) => Probe::Identifier(c.prepare(raw)),
                }
            })
            .collect()
    }

    fn score_fields(&self, probes: &[Probe], row: u32, scratch: &mut Scratch) {
        scratch.fields.clear();
        for ((field, probe), fuzzy_scratch) in
            self.fields.iter().zip(probes).zip(scratch.fuzzy.iter_mut())
        {
            let score = match (field, probe) {
                (FieldIndex::Exact(c), Probe::Exact(p)) => c.score(p, row),
                (FieldIndex::Fuzzy(c), Probe::Fuzzy(p)) => c.score(p, row, fuzzy_scratch),
                (FieldIndex::Date(c), Probe::Date(p)) => c.score(p, row),
                (FieldIndex::Numeric(c), Probe::Numeric(p)) => c.score(p, row),
                (FieldIndex::Identifier(c), Probe::Identifier(p)) => c.score(p, row),
                _ => FieldScore::Missing,
            };
            scratch.fields.push(score);
        }
    }

    fn propose(&self, probes: &[Probe], acc: &mut index::Accumulator) {
        acc.begin_document();
        for ((field, probe), mapping) in self.fields.iter().zip(probes).zip(&self.config.mappings) {
            let w = mapping.weight as f32;
            match (field, probe) {
                (FieldIndex::Exact(c), Probe::Exact(p)) => c.propose(p, w, acc),
                (FieldIndex::Fuzzy(c), Probe::Fuzzy(p)) => c.propose(p, w, acc),
                (FieldIndex::Date(c), Probe::Date(p)) => c.propose(p, w, acc),
                (FieldIndex::Numeric(c), Probe::Numeric(p)) => c.propose(p, w, acc),
                (FieldIndex::Identifier(c), Probe::Identifier(p)) => c.propose(p, w, acc),
                _ => {}
            }
        }
    }

    fn match_with(
        &self,
        values: &[Option<&str>],
        mode: Mode,
        excluded: &[u32],
        scratch: &mut Scratch,
    ) -> MatchOutcome {
        let probes = self.prepare(values, scratch);
        let rows: Vec<u32> = match mode {
            Mode::Exhaustive => (0..self.reference.len() as u32).collect(),
            Mode::Indexed => {
                self.propose(&probes, &mut scratch.acc);
                scratch.acc.top(SCORED_PER_DOCUMENT, &self.id_rank)
            }
        };
        let mut best: Vec<(f64, u32)> = Vec::with_capacity(TOP_CANDIDATES + 1);
        for row in rows {
            if excluded.contains(&row) {
                continue;
            }
            self.score_fields(&probes, row, scratch);
            let confidence = combine(&self.config, &scratch.fields);
            if confidence <= 0.0 {
                continue;
            }
            self.keep_best(&mut best, confidence, row);
        }
        let candidates: Vec<Candidate> = best
            .into_iter()
            .map(|(confidence, row)| {
                self.score_fields(&probes, row, scratch);
                Candidate {
                    row,
                    confidence,
                    fields: scratch.fields.clone(),
                }
            })
            .collect();
        let confidence = candidates.first().map_or(0.0, |c| c.confidence);
        let matched = candidates
            .first()
            .filter(|c| c.confidence >= self.config.threshold)
            .map(|c| c.row);
        MatchOutcome {
            matched,
            confidence,
            candidates,
        }
    }

    /// Inserts into the running top five: confidence descending, then id ascending.
    fn keep_best(&self, best: &mut Vec<(f64, u32)>, confidence: f64, row: u32) {
        let rank = |r: u32| self.id_rank[r as usize];
        let pos = best
            .iter()
            .position(|&(c, r)| confidence > c || (confidence == c && rank(row) < rank(r)))
            .unwrap_or(best.len());
        if pos < TOP_CANDIDATES {
            best.insert(pos, (confidence, row));
            best.truncate(TOP_CANDIDATES);
        }
    }
}

/// Returns a worker's scratch to the matcher's pool when the worker is done.
struct ScratchGuard<'a> {
    matcher: &'a Matcher,
    scratch: Option<Scratch>,
}

impl Drop for ScratchGuard<'_> {
    fn drop(&mut self) {
        if let Some(scratch) = self.scratch.take() {
            self.matcher.return_scratch(scratch);
        }
    }
}

/// A dedicated matcher pool: `threads` workers, or one per core when 0.
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("refmatch-matcher-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the matcher pool: {e}")))
}
