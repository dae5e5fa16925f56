//! The matcher: a pure, deterministic library that knows nothing of SQLite, CSV or HTTP.
//!
//! `MatchIndex::build` parses each mapped reference column once and indexes it for its
//! strategy (`exact`, `fuzzy`, ..., one file each); `Matcher` is a validated config over
//! such an index (configs that differ only in weights or threshold share one). Matching a
//! document prepares its values once, walks the fields' candidate lists from the shortest
//! while keeping an upper bound of every reached row's confidence, scores rows exactly in
//! bound order (`combine`), and stops when nothing left can beat the best (`retrieve`).
//! `Mode::Exhaustive` scores every row instead, to check the index against: a row's score
//! never depends on how it was found, and the best candidate is the same either way.

pub mod assign;
pub mod combine;
pub mod date_range;
pub mod exact;
pub mod explain;
pub mod fuzzy;
pub mod identifier;
pub mod index;
pub mod numeric_range;
pub mod reference;
pub mod snapshot;
pub mod within;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::config::{Assignment, FieldMapping, MatchConfig, MissingValues, Strategy};
use crate::error::{Error, Result};
pub use combine::combine;
pub use explain::{CandidateEvidence, Evidence, FieldEvidence};
use identifier::Keys;
pub use reference::{ReferenceTable, StrColumn};

/// How many candidates a result reports.
pub const TOP_CANDIDATES: usize = 5;
/// When a document's lists hold at most this many rows in all, the index keeps going until
/// all five candidates are certain; above it, until the best one is (the contract holds the
/// index to the best candidate; the others are the best of the rows it had to score). On
/// messy invoices lists of a few thousand rows are common, and proving four more candidates
/// there cost a third of the matching time.
pub const EXACT_CANDIDATES_BUDGET: usize = 1_024;
/// Rows scored between two looks at whether the rest can still matter.
const SCORE_ROUND: usize = 8;
/// Pending rows whose values are loaded together before they are scored one by one.
const SCORE_AHEAD: usize = 8;
/// Scoring a row exactly costs about as much as crediting this many rows from a list: when
/// more rows wait to be scored than the next list divided by this, walking that list to
/// tighten their bounds is cheaper than scoring them.
const SCORE_COST: usize = 32;
/// What an entry of a partial identifier key's list counts, against a row of a sorted
/// list, when the walk weighs going on (tightening the bounds of the rows waiting) against
/// scoring those rows: the entries the sketch lets through cost an edit distance each.
/// The walk order counts entries once: the sketch rules most of them out, so a partial
/// list costs about what a window of as many rows does (which also bounds every row it
/// reaches), and it is often the list that proves a weak best candidate.
const EDIT_COST: usize = 4;
/// What the walk order counts a list that reaches every row it holds (a date or amount
/// window, a fuzzy field's rows) times its rows. Walked later, such a list is more often
/// not needed at all (the identifier's lists or the other fields prove the bound first),
/// and a fuzzy field's rows stop at a floor that rises as the bound falls. Measured on
/// the realistic invoice profile and both public benchmarks: 3 to 8% fewer instructions,
/// the same answers.
const DEFERRED: usize = 2;
/// Halvings that find the value bound under which a fuzzy field's rows are not reached.
const FLOOR_STEPS: usize = 12;
/// Rows reached and not yet bounded past which bounding waits for a walk that may stop.
const COLLECT_LAZY: usize = 2_048;
/// Slack in comparisons of bounds with scores: bounds are summed in `f32` and scores are
/// rounded to 4 decimals, so a row is skipped only when it is clearly below.
const MARGIN: f64 = 2e-4;
/// Most values an `exact` field may have to split row classes by value, and most classes
/// those fields may multiply the presence classes by.
const CLASS_KEYS: usize = 16;

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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatchOutcome {
    /// The best candidate's row when its confidence reaches the threshold.
    pub matched: Option<u32>,
    /// The best candidate's confidence, 0 without candidates.
    pub confidence: f64,
    /// Up to five rows with confidence > 0, best first, ties by row id.
    pub candidates: Vec<Candidate>,
    /// With `assignment: one_to_one`, the best `assignment_candidates` rows at or above the
    /// threshold, `(row, confidence)` best first, exactly as a full scan finds them: what
    /// the document brings to the assignment (until `complete`, only its head). Empty
    /// otherwise.
    pub assignable: Vec<(u32, f64)>,
    /// Whether `assignable` holds every row it would hold after a full scan. Indexed
    /// matching first finds only the rows that tie with the best at the assignment's
    /// precision (its head), which settles most documents; `Matcher::settle` completes
    /// the lists of the rest before `Matcher::assign`.
    pub complete: bool,
    /// Set by `Matcher::assign` when the assignment changed `matched` from the first
    /// candidate at or above the threshold (to another row, or to none).
    pub assigned: bool,
    /// Reference rows retrieval reached (credited from a list) for this document; every
    /// row in `Mode::Exhaustive`. What the index cost, for benchmarks.
    pub reached: usize,
}

impl MatchOutcome {
    /// What the document predicts, as `evaluate` judges it: its matched row (with a
    /// one-to-one assignment, the assigned row at its confidence); a document matching
    /// nothing offers its top candidate, below the threshold, to lower thresholds of a
    /// sweep, except one whose row went to another document (a sweep keeps the assignment
    /// made at the threshold).
    pub fn prediction(&self) -> Option<(u32, f64)> {
        match self.matched {
            Some(row) => Some((row, self.confidence)),
            None if self.assigned => None,
            None => self.candidates.first().map(|c| (c.row, c.confidence)),
        }
    }
}

enum FieldIndex {
    Exact(exact::ExactColumn),
    Fuzzy(Box<fuzzy::FuzzyColumn>),
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
    /// `(bound, slot)` of reached rows that may still matter, sorted up to `sorted` and
    /// scored up to `cursor`; chunks of `chunk` are sorted as scoring gets to them.
    pending: Vec<(f32, u32)>,
    cursor: usize,
    sorted: usize,
    chunk: usize,
    /// Reached rows already considered for `pending`.
    collected: usize,
    /// Per row class, the constant part of a bound and its denominator.
    class_bounds: Vec<(f64, f64)>,
    /// The document's fields, and the first fuzzy field's residual, when `pending` was
    /// last bounded (see `Matcher::tightened`).
    bounded: (u64, Option<fuzzy::FuzzyResidual>),
    /// The document being matched needs only the head of its assignable rows.
    head: bool,
    /// The residuals `pending` was last bounded under (empty before the first time).
    bounded_under: Vec<Residual>,
}

/// One step of retrieval: walk a field's list (for an identifier its whole-value keys,
/// then its partial keys, then partial keys shared by many rows), or for a fuzzy field its
/// values, then rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    List,
    IdentifierPartial,
    IdentifierCommon,
    FuzzyValues,
    /// The rows of the first fuzzy field's credited values inside the window of a date or
    /// amount field (the step's field), through `MatchIndex::within`.
    Within,
    FuzzyRows,
}

impl Step {
    /// What its place in the walk order counts a step's list cost times (see `DEFERRED`).
    fn order_weight(self, field: &FieldIndex) -> usize {
        match (self, field) {
            (Step::FuzzyRows, _) | (Step::List, FieldIndex::Date(_) | FieldIndex::Numeric(_)) => {
                DEFERRED
            }
            _ => 1,
        }
    }

    /// What walking a step costs against scoring the rows waiting, from its place in the
    /// walk order `cost` (see `EDIT_COST`, `DEFERRED`).
    fn walk_cost(self, field: &FieldIndex, cost: usize) -> usize {
        let cost = cost / self.order_weight(field);
        match self {
            Step::IdentifierPartial | Step::IdentifierCommon => cost.saturating_mul(EDIT_COST),
            _ => cost,
        }
    }
}

/// Which of a document's assignable rows matching must find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lists {
    /// Only the rows that tie with the best at the assignment's precision.
    Head,
    /// The best `assignment_candidates` rows at or above the threshold.
    Full,
}

/// What a document's walk of one field's list leaves unknown for the rows it did not reach.
#[derive(Clone, Copy, Debug)]
enum Residual {
    /// Not walked: any row may score up to the maximum, 1.
    Unwalked,
    /// A linear field: the bound of rows its list did not credit.
    Linear(f32),
    /// An `exact` field not walked whose few values split the row classes
    /// (`MatchIndex::class_keys`): a class's rows score 1 when their key is the document's
    /// (`None`: no row has its value), else 0.
    ByClass(Option<u32>),
    Fuzzy(fuzzy::FuzzyResidual),
}

/// The indexes of a reference table for one set of mapped columns and strategies. It does
/// not depend on weights, thresholds or document fields, so configs that differ only in
/// those share it (the service caches it per reference version).
pub struct MatchIndex {
    reference: Arc<ReferenceTable>,
    /// `(target column, strategy)` per mapping: what the index was built for.
    spec: Vec<(String, Strategy)>,
    fields: Vec<FieldIndex>,
    /// Each row's position in ascending byte order of ids: the tie-breaker everywhere.
    id_rank: Vec<u32>,
    /// Rows in ascending byte order of ids (the inverse of `id_rank`).
    by_rank: Vec<u32>,
    /// The distinct presence masks of rows: bit `i` set when a row has a usable value for
    /// mapping `i`. Bounds depend on which fields a row has, so they are computed per class.
    classes: Vec<u64>,
    /// Per class, the key of each `exact` field with at most `CLASS_KEYS` values (when the
    /// row has one): such a field is never walked (a value is shared by too many rows), so
    /// classes split by its value bound it exactly instead of at its weight.
    class_keys: Vec<Vec<(usize, u32)>>,
    /// A bit per field some class has a key of (the `exact` fields bounded by class).
    keyed: u64,
    /// Each row's index into `classes`.
    row_class: Vec<u32>,
    /// The first fuzzy mapping, whose per-row value the accumulator keeps.
    first_fuzzy: Option<usize>,
    /// The first fuzzy mapping's values crossed with each date or amount mapping.
    within: Vec<within::WithinIndex>,
    /// A bit per mapping that is not fuzzy: the fields whose credit is an exact score.
    linear: u64,
}

/// A config compiled against one reference table's index.
pub struct Matcher {
    config: MatchConfig,
    index: Arc<MatchIndex>,
    /// `EXACT_CANDIDATES_BUDGET`, lowered in tests to exercise the best-only path.
    exact_candidates_budget: usize,
    /// `COLLECT_LAZY`, lowered in tests so that small tables defer collections too.
    collect_lazy: usize,
    scratch: Mutex<Vec<Scratch>>,
}

/// What an index is built for: each mapping's target column and strategy, as text. Two
/// configs with the same key can share an index.
pub fn index_key(config: &MatchConfig) -> String {
    config
        .mappings
        .iter()
        .map(|m| format!("{}\u{1f}{:?}", m.target, m.strategy))
        .collect::<Vec<_>>()
        .join("\u{1e}")
}

impl MatchIndex {
    /// Parses and indexes every mapped reference column, on the caller's pool.
    pub fn build(config: &MatchConfig, reference: Arc<ReferenceTable>) -> Result<MatchIndex> {
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
        let build = |m: &FieldMapping, column: usize| {
            let values = reference.values[column].iter();
            match m.strategy {
                Strategy::Exact => FieldIndex::Exact(exact::ExactColumn::build(values)),
                Strategy::Fuzzy {
                    min_similarity,
                    measure,
                } => FieldIndex::Fuzzy(Box::new(fuzzy::FuzzyColumn::build(
                    values,
                    min_similarity,
                    measure,
                ))),
                Strategy::DateRange {
                    tolerance_days,
                    order,
                } => FieldIndex::Date(date_range::DateColumn::build(values, tolerance_days, order)),
                Strategy::NumericRange { tolerance } => {
                    FieldIndex::Numeric(numeric_range::NumericColumn::build(values, tolerance))
                }
                Strategy::Identifier => {
                    FieldIndex::Identifier(identifier::IdentifierColumn::build(values))
                }
            }
        };
        // Columns are indexed in parallel on the caller's pool, the costliest first (an
        // identifier folds and keys every row, a fuzzy field tokenises it, the others
        // parse it once): each thread takes the next column when it is free, so the
        // builds spread over the cores instead of one thread taking two costly ones.
        let cost = |m: &FieldMapping| match m.strategy {
            Strategy::Identifier => 2,
            Strategy::Fuzzy { .. } => 1,
            _ => 0,
        };
        let mut costliest: Vec<usize> = (0..config.mappings.len()).collect();
        costliest.sort_by_key(|&i| std::cmp::Reverse(cost(&config.mappings[i])));
        let built: Vec<std::sync::Mutex<Option<FieldIndex>>> = config
            .mappings
            .iter()
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        rayon::scope_fifo(|scope| {
            for &i in &costliest {
                let (built, build) = (&built, &build);
                let (m, column) = (&config.mappings[i], columns[i]);
                scope.spawn_fifo(move |_| {
                    let field = build(m, column);
                    if let Ok(mut slot) = built[i].lock() {
                        *slot = Some(field);
                    }
                });
            }
        });
        let fields: Vec<FieldIndex> = built
            .into_iter()
            .map(|slot| slot.into_inner().ok().flatten())
            .collect::<Option<_>>()
            .ok_or_else(|| Error::Internal("a column's index was not built".into()))?;
        let mut order: Vec<u32> = (0..reference.len() as u32).collect();
        order.par_sort_by(|&a, &b| {
            reference
                .id(a as usize)
                .as_bytes()
                .cmp(reference.id(b as usize).as_bytes())
        });
        let mut id_rank = vec![0u32; reference.len()];
        for (rank, &row) in order.iter().enumerate() {
            id_rank[row as usize] = rank as u32;
        }
        let first_fuzzy = fields
            .iter()
            .position(|f| matches!(f, FieldIndex::Fuzzy(_)));
        let within: Vec<within::WithinIndex> = match first_fuzzy.map(|f| &fields[f]) {
            Some(FieldIndex::Fuzzy(c)) => fields
                .par_iter()
                .enumerate()
                .filter_map(|(j, field)| {
                    let key: Box<dyn Fn(u32) -> Option<f64> + Sync> = match field {
                        FieldIndex::Date(d) => Box::new(move |row| d.key(row)),
                        FieldIndex::Numeric(n) => Box::new(move |row| n.key(row)),
                        _ => return None,
                    };
                    Some(within::WithinIndex::build(
                        j,
                        c.row_values(),
                        c.value_count(),
                        key,
                    ))
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(MatchIndex::assemble(
            config, reference, fields, id_rank, order, within,
        ))
    }

    /// The index from its stored parts; what is cheap to derive (presence classes, the
    /// first fuzzy field, the linear fields) is derived here, for `build` and snapshots
    /// alike.
    fn assemble(
        config: &MatchConfig,
        reference: Arc<ReferenceTable>,
        fields: Vec<FieldIndex>,
        id_rank: Vec<u32>,
        by_rank: Vec<u32>,
        within: Vec<within::WithinIndex>,
    ) -> MatchIndex {
        let row_masks: Vec<u64> = (0..reference.len() as u32)
            .into_par_iter()
            .map(|row| {
                fields.iter().enumerate().fold(0u64, |mask, (i, field)| {
                    if field.row_present(row) {
                        mask | (1 << i)
                    } else {
                        mask
                    }
                })
            })
            .collect();
        // `exact` fields of few values split classes by value, while the classes stay few.
        let mut keyed: Vec<(usize, &exact::ExactColumn)> = Vec::new();
        let mut product = 1usize;
        for (i, field) in fields.iter().enumerate() {
            if let FieldIndex::Exact(c) = field {
                let values = c.distinct() + 1;
                if c.distinct() <= CLASS_KEYS && product * values <= CLASS_KEYS {
                    product *= values;
                    keyed.push((i, c));
                }
            }
        }
        // A row's class: its presence mask and the keys of those fields, mixed into one
        // number (a key plus one per field, 0 when missing).
        let row_keys: Vec<u64> = (0..reference.len() as u32)
            .into_par_iter()
            .map(|row| {
                keyed.iter().fold(0u64, |mixed, &(_, c)| {
                    let key = c.key(row).map_or(0, |k| u64::from(k) + 1);
                    mixed * (c.distinct() as u64 + 1) + key
                })
            })
            .collect();
        // Classes numbered in order of first appearance.
        let mut class_of: rustc_hash::FxHashMap<(u64, u64), u32> = Default::default();
        for (&mask, &mixed) in row_masks.iter().zip(&row_keys) {
            let next = class_of.len() as u32;
            class_of.entry((mask, mixed)).or_insert(next);
        }
        let row_class = row_masks
            .iter()
            .zip(&row_keys)
            .map(|(&m, &k)| class_of.get(&(m, k)).copied().unwrap_or(0))
            .collect();
        let mut classes = vec![0u64; class_of.len()];
        let mut class_keys = vec![Vec::new(); class_of.len()];
        for (&(mask, mut mixed), &class) in &class_of {
            classes[class as usize] = mask;
            let keys = &mut class_keys[class as usize];
            for &(i, c) in keyed.iter().rev() {
                let base = c.distinct() as u64 + 1;
                if mixed % base > 0 {
                    keys.push((i, (mixed % base - 1) as u32));
                }
                mixed /= base;
            }
            keys.reverse();
        }
        let first_fuzzy = fields
            .iter()
            .position(|f| matches!(f, FieldIndex::Fuzzy(_)));
        let linear = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| !matches!(f, FieldIndex::Fuzzy(_)))
            .fold(0u64, |m, (i, _)| m | (1 << i));
        MatchIndex {
            reference,
            spec: config
                .mappings
                .iter()
                .map(|m| (m.target.clone(), m.strategy))
                .collect(),
            fields,
            id_rank,
            by_rank,
            classes,
            keyed: class_keys
                .iter()
                .flatten()
                .fold(0, |m, &(f, _)| m | (1 << f)),
            class_keys,
            row_class,
            first_fuzzy,
            within,
            linear,
        }
    }

    /// Writes the index after its spec line per mapping and its reference table, in the
    /// order `decode_from` reads them (see `snapshot`).
    fn encode_into(&self, w: &mut snapshot::Writer) {
        let spec: Vec<String> = self
            .spec
            .iter()
            .map(|(target, strategy)| snapshot::spec_line(target, strategy))
            .collect();
        w.put(&spec);
        w.put(self.reference.as_ref());
        for field in &self.fields {
            match field {
                FieldIndex::Exact(c) => c.encode(w),
                FieldIndex::Fuzzy(c) => c.encode(w),
                FieldIndex::Date(c) => c.encode(w),
                FieldIndex::Numeric(c) => c.encode(w),
                FieldIndex::Identifier(c) => c.encode(w),
            }
        }
        w.put(&self.id_rank);
        w.put(&self.by_rank);
        w.u64(self.within.len() as u64);
        for within in &self.within {
            within.encode(w);
        }
    }

    /// Reads the fields after the spec and the reference table; `config` has the
    /// mappings the spec named (checked by the caller).
    fn decode_from(
        r: &mut snapshot::Reader,
        config: &MatchConfig,
        reference: Arc<ReferenceTable>,
    ) -> snapshot::Decoded<MatchIndex> {
        let rows = reference.len();
        let corrupt = |what: &str| snapshot::Refused(format!("is corrupt ({what})"));
        if rows > u32::MAX as usize - 1 {
            return Err(corrupt("too many rows"));
        }
        let mut fields = Vec::with_capacity(config.mappings.len());
        for m in &config.mappings {
            if reference.column_index(&m.target).is_none() {
                return Err(corrupt("a mapped column is absent"));
            }
            fields.push(match m.strategy {
                Strategy::Exact => FieldIndex::Exact(exact::ExactColumn::decode(r, rows)?),
                Strategy::Fuzzy {
                    min_similarity,
                    measure,
                } => FieldIndex::Fuzzy(Box::new(fuzzy::FuzzyColumn::decode(
                    r,
                    rows,
                    min_similarity,
                    measure,
                )?)),
                Strategy::DateRange {
                    tolerance_days,
                    order,
                } => FieldIndex::Date(date_range::DateColumn::decode(
                    r,
                    rows,
                    tolerance_days,
                    order,
                )?),
                Strategy::NumericRange { tolerance } => {
                    FieldIndex::Numeric(numeric_range::NumericColumn::decode(r, rows, tolerance)?)
                }
                Strategy::Identifier => {
                    FieldIndex::Identifier(identifier::IdentifierColumn::decode(r, rows)?)
                }
            });
        }
        let id_rank: Vec<u32> = r.get()?;
        let by_rank: Vec<u32> = r.get()?;
        let permutation = id_rank.len() == rows
            && by_rank.len() == rows
            && by_rank
                .iter()
                .enumerate()
                .all(|(rank, &row)| id_rank.get(row as usize) == Some(&(rank as u32)));
        if !permutation {
            return Err(corrupt("row ranks are not a permutation"));
        }
        let values = fields.iter().find_map(|f| match f {
            FieldIndex::Fuzzy(c) => Some(c.value_count()),
            _ => None,
        });
        let count = r.len(16)?;
        let mut within = Vec::with_capacity(count);
        for _ in 0..count {
            let w = within::WithinIndex::decode(r, values.unwrap_or(0), rows)?;
            let ranged = matches!(
                fields.get(w.range),
                Some(FieldIndex::Date(_) | FieldIndex::Numeric(_))
            );
            if values.is_none() || !ranged {
                return Err(corrupt("a secondary order of no field"));
            }
            within.push(w);
        }
        Ok(MatchIndex::assemble(
            config, reference, fields, id_rank, by_rank, within,
        ))
    }

    pub fn reference(&self) -> &ReferenceTable {
        &self.reference
    }

    /// A rough size in bytes, for the service's cache budget.
    pub fn approx_bytes(&self) -> usize {
        let reference: usize = self
            .reference
            .values
            .iter()
            .chain(std::iter::once(&self.reference.ids))
            .map(|c| c.approx_bytes())
            .sum();
        // Per row: ranks, class, and per field its postings and parsed value.
        let within: usize = self.within.iter().map(|w| w.approx_bytes()).sum();
        reference + self.reference.len() * (12 + 40 * self.fields.len()) + within
    }
}

impl Matcher {
    /// Indexes the reference for `config` and compiles it.
    pub fn build(config: MatchConfig, reference: Arc<ReferenceTable>) -> Result<Matcher> {
        let index = MatchIndex::build(&config, reference)?;
        Matcher::with_index(config, Arc::new(index))
    }

    /// Compiles `config` against an index built for the same mapped columns and strategies
    /// (weights, threshold and document fields may differ).
    pub fn with_index(config: MatchConfig, index: Arc<MatchIndex>) -> Result<Matcher> {
        let same = config.mappings.len() == index.spec.len()
            && config
                .mappings
                .iter()
                .zip(&index.spec)
                .all(|(m, (target, strategy))| &m.target == target && m.strategy == *strategy);
        if !same {
            return Err(Error::Internal(
                "the index was built for other mappings".into(),
            ));
        }
        Ok(Matcher {
            config,
            index,
            exact_candidates_budget: EXACT_CANDIDATES_BUDGET,
            collect_lazy: COLLECT_LAZY,
            scratch: Mutex::new(Vec::new()),
        })
    }

    pub fn index(&self) -> &Arc<MatchIndex> {
        &self.index
    }

    /// The row with reference id `id`.
    pub fn row_of(&self, id: &str) -> Option<u32> {
        let reference = &self.index.reference;
        self.index
            .by_rank
            .binary_search_by(|&row| reference.id(row as usize).as_bytes().cmp(id.as_bytes()))
            .ok()
            .and_then(|i| self.index.by_rank.get(i).copied())
    }

    /// Which of `ids` are reference ids. Looked up in ascending order, each search starts
    /// where the last ended: `row_of` for each id of a 100,000-line truth file searched the
    /// whole million-row table every time, a third of a second before matching started.
    pub fn reference_ids<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
        let mut ids: Vec<&str> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let reference = &self.index.reference;
        let ranks = &self.index.by_rank;
        let below = |rank: usize, id: &str| {
            ranks
                .get(rank)
                .is_some_and(|&row| reference.id(row as usize).as_bytes() < id.as_bytes())
        };
        let mut found = HashSet::new();
        // Every rank below `start` holds an id below the ids still to find.
        let mut start = 0;
        for id in ids {
            // Gallop to a rank at or above `id`, then search the span it jumped.
            let (mut low, mut high, mut step) = (start, start, 1);
            while high < ranks.len() && below(high, id) {
                low = high + 1;
                high = high.saturating_add(step);
                step = step.saturating_mul(2);
            }
            let span = ranks.get(low..high.min(ranks.len())).unwrap_or(&[]);
            let at = low
                + span
                    .partition_point(|&row| reference.id(row as usize).as_bytes() < id.as_bytes());
            if ranks
                .get(at)
                .is_some_and(|&row| reference.id(row as usize) == id)
            {
                found.insert(id.to_string());
            }
            start = at;
        }
        found
    }

    pub fn config(&self) -> &MatchConfig {
        &self.config
    }

    pub fn reference(&self) -> &ReferenceTable {
        &self.index.reference
    }

    /// The document field each mapping reads, in config order.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.config.mappings.iter().map(|m| m.source.as_str())
    }

    fn new_scratch(&self) -> Scratch {
        let values = self.index.fields.iter().find_map(|f| match f {
            FieldIndex::Fuzzy(c) => Some(c.row_values()),
            _ => None,
        });
        Scratch {
            acc: index::Accumulator::new(
                self.index.reference.len(),
                &self.index.row_class,
                values.unwrap_or(&[]),
            ),
            fuzzy: self
                .index
                .fields
                .iter()
                .map(|_| fuzzy::FuzzyScratch::default())
                .collect(),
            fields: Vec::with_capacity(self.index.fields.len()),
            pending: Vec::new(),
            cursor: 0,
            sorted: 0,
            chunk: SCORE_ROUND,
            collected: 0,
            class_bounds: Vec::new(),
            bounded: (0, None),
            head: false,
            bounded_under: Vec::new(),
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
        let outcome = self.match_with(values, mode, excluded, self.lists(mode), &mut scratch);
        self.return_scratch(scratch);
        outcome
    }

    /// A document's `assignable` rows as a full scan finds them (what `settle` fills in).
    pub fn full_assignable(&self, values: &[Option<&str>], excluded: &[u32]) -> Vec<(u32, f64)> {
        let mut scratch = self.take_scratch();
        let outcome = self.match_with(values, Mode::Indexed, excluded, Lists::Full, &mut scratch);
        self.return_scratch(scratch);
        outcome.assignable
    }

    /// Which assignable lists a mode finds: indexed matching under a one-to-one assignment
    /// finds each document's head first (see `MatchOutcome::complete`).
    fn lists(&self, mode: Mode) -> Lists {
        let head = mode == Mode::Indexed
            && self.config.assignment == Assignment::OneToOne
            && self.config.assignment_candidates > 1;
        if head {
            Lists::Head
        } else {
            Lists::Full
        }
    }

    /// Scores one given row for a document, whether or not retrieval would reach it: the
    /// candidate that row would be, with the same confidence and per-field scores (a
    /// score never depends on how the row was found). `eval --report` uses it to explain
    /// why a document's true row lost.
    pub fn score_row(&self, values: &[Option<&str>], row: u32) -> Candidate {
        let mut scratch = self.take_scratch();
        let probes = self.prepare(values, &mut scratch);
        self.score_fields(&probes, row, &mut scratch);
        let candidate = Candidate {
            row,
            confidence: combine(&self.config, &scratch.fields),
            fields: scratch.fields.clone(),
        };
        self.return_scratch(scratch);
        candidate
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
                            Some(scratch) => {
                                self.match_with(&values, mode, &[], self.lists(mode), scratch)
                            }
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
        self.index
            .fields
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
        for ((field, probe), fuzzy_scratch) in self
            .index
            .fields
            .iter()
            .zip(probes)
            .zip(scratch.fuzzy.iter_mut())
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

    fn match_with(
        &self,
        values: &[Option<&str>],
        mode: Mode,
        excluded: &[u32],
        lists: Lists,
        scratch: &mut Scratch,
    ) -> MatchOutcome {
        let probes = self.prepare(values, scratch);
        scratch.head = lists == Lists::Head;
        let mut best: Vec<(f64, u32)> = Vec::with_capacity(self.kept() + 1);
        let reached = match mode {
            Mode::Exhaustive => {
                for row in 0..self.index.reference.len() as u32 {
                    if !excluded.contains(&row) {
                        self.score_into(&probes, row, scratch, &mut best);
                    }
                }
                self.index.reference.len()
            }
            Mode::Indexed => {
                self.retrieve(&probes, excluded, scratch, &mut best);
                scratch.acc.touched().len()
            }
        };
        let threshold = self.config.threshold;
        let head = best.first().map_or(0, |&(c, _)| assign::weight_of(c));
        let assignable = match self.config.assignment {
            Assignment::None => Vec::new(),
            Assignment::OneToOne => best
                .iter()
                .take_while(|&&(c, _)| c >= threshold)
                .take_while(|&&(c, _)| lists == Lists::Full || assign::weight_of(c) == head)
                .take(self.config.assignment_candidates)
                .map(|&(c, row)| (row, c))
                .collect(),
        };
        best.truncate(TOP_CANDIDATES);
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
            assignable,
            complete: lists == Lists::Full,
            assigned: false,
            reached,
        }
    }

    /// How many rows a document's running best list keeps: the five reported, or more
    /// when a one-to-one assignment needs them.
    fn kept(&self) -> usize {
        match self.config.assignment {
            Assignment::None => TOP_CANDIDATES,
            Assignment::OneToOne => TOP_CANDIDATES.max(self.config.assignment_candidates),
        }
    }

    /// The confidence a row must be able to reach to still matter: the `k`-th best so far
    /// for the reported candidates, and with a one-to-one assignment also anything that
    /// may enter the best `assignment_candidates` at or above the threshold (only what
    /// ties with the best at the assignment's precision when `head`). Rows below the
    /// threshold never enter an assignment, so the threshold raises that bound.
    fn theta(&self, best: &[(f64, u32)], k: usize, head: bool) -> f64 {
        let reported = kth(best, k);
        if self.config.assignment == Assignment::None {
            return reported;
        }
        let assignable = if head {
            kth(best, 1) - 1.0 / assign::WEIGHT_SCALE
        } else {
            kth(best, self.config.assignment_candidates)
        };
        reported.min(assignable.max(self.config.threshold))
    }

    /// The documents whose assignable lists must be complete before `assign` answers what
    /// it would over full lists (`assign::unsettled`: a document is settled by a head none
    /// of whose rows another document lists).
    pub fn unsettled(&self, outcomes: &[MatchOutcome]) -> Vec<usize> {
        if self.config.assignment == Assignment::None {
            return Vec::new();
        }
        let lists: Vec<(bool, &[(u32, f64)])> = outcomes
            .iter()
            .map(|o| (o.complete, o.assignable.as_slice()))
            .collect();
        assign::unsettled(&lists)
    }

    /// Completes the assignable lists `assign` needs: `complete` gets the positions of
    /// documents to rematch (ascending) and returns their full lists in that order (see
    /// `full_assignable`). Completing one list may unsettle other documents, so this
    /// repeats until every document is settled.
    pub fn settle<E>(
        &self,
        outcomes: &mut [MatchOutcome],
        mut complete: impl FnMut(&[usize]) -> std::result::Result<Vec<Vec<(u32, f64)>>, E>,
    ) -> std::result::Result<(), E> {
        loop {
            let unsettled = self.unsettled(outcomes);
            if unsettled.is_empty() {
                return Ok(());
            }
            let lists = complete(&unsettled)?;
            for (&i, list) in unsettled.iter().zip(lists) {
                outcomes[i].assignable = list;
            }
            // Even a list `complete` did not return counts as complete, so the loop ends
            // whatever `complete` does.
            for &i in &unsettled {
                outcomes[i].complete = true;
            }
        }
    }

    /// `settle` for documents held in memory, rematched on `pool`.
    pub fn settle_with<V: AsRef<[Option<S>]> + Sync, S: AsRef<str> + Sync>(
        &self,
        outcomes: &mut [MatchOutcome],
        documents: &[V],
        pool: &rayon::ThreadPool,
    ) {
        let _ = self.settle(outcomes, |positions| {
            Ok::<_, std::convert::Infallible>(pool.install(|| {
                positions
                    .par_iter()
                    .map(|&i| {
                        let values: Vec<Option<&str>> = documents
                            .get(i)
                            .map(|d| {
                                d.as_ref()
                                    .iter()
                                    .map(|v| v.as_ref().map(|s| s.as_ref()))
                                    .collect()
                            })
                            .unwrap_or_default();
                        self.full_assignable(&values, &[])
                    })
                    .collect()
            }))
        });
    }

    /// Applies the config's one-to-one assignment to `outcomes` (a no-op without one):
    /// each row is matched by at most one document, the matched pairs maximise the total
    /// confidence over every document's `assignable` rows, ties by document id (`ids`,
    /// one per outcome) then row id. A matched document's `confidence` becomes its matched
    /// row's; `candidates` stay as they were.
    pub fn assign<S: AsRef<str>>(&self, outcomes: &mut [MatchOutcome], ids: &[S]) {
        if self.config.assignment == Assignment::None {
            return;
        }
        let mut order: Vec<usize> = (0..outcomes.len()).collect();
        order.sort_by(|&a, &b| {
            let id = |i: usize| ids.get(i).map(|s| s.as_ref().as_bytes());
            id(a).cmp(&id(b)).then(a.cmp(&b))
        });
        let rank = |row: u32| self.index.id_rank[row as usize];
        let graph: Vec<Vec<(u32, u32)>> = order
            .iter()
            .map(|&i| {
                outcomes[i]
                    .assignable
                    .iter()
                    .map(|&(row, c)| (rank(row), assign::weight_of(c)))
                    .collect()
            })
            .collect();
        let chosen = assign::assign(&graph);
        for (&i, got) in order.iter().zip(chosen) {
            let outcome = &mut outcomes[i];
            let row = got.and_then(|r| self.index.by_rank.get(r as usize).copied());
            let own = outcome.assignable.first().map(|&(row, _)| row);
            if let Some((_, confidence)) = row
                .and_then(|r| outcome.assignable.iter().find(|&&(a, _)| a == r))
                .copied()
            {
                outcome.confidence = confidence;
            }
            outcome.matched = row;
            outcome.assigned = row != own;
        }
    }

    /// Scores `row` exactly and keeps it when it enters the top five.
    fn score_into(
        &self,
        probes: &[Probe],
        row: u32,
        scratch: &mut Scratch,
        best: &mut Vec<(f64, u32)>,
    ) {
        self.score_fields(probes, row, scratch);
        let confidence = combine(&self.config, &scratch.fields);
        if confidence > 0.0 {
            self.keep_best(best, confidence, row);
        }
    }

    /// Candidate retrieval with a guarantee (MaxScore). Every field whose document value is
    /// present has a list of the rows that can score above 0 on it: an identifier's keys,
    /// a value's postings, a date or amount window, the postings of alike words. Lists are
    /// walked from the shortest; each reached row gets an upper bound of its confidence
    /// (what walked fields credited it, the maximum for fields not walked), and reached
    /// rows are scored exactly in bound order. Walking stops when no row outside the
    /// walked lists can reach the `k`-th best exact confidence, and scoring stops when no
    /// reached row can. So the best candidate (all five when the lists are short) is the
    /// one a full scan finds, without looking at most of the table.
    fn retrieve(
        &self,
        probes: &[Probe],
        excluded: &[u32],
        scratch: &mut Scratch,
        best: &mut Vec<(f64, u32)>,
    ) {
        let mut doc_mask = 0u64;
        let mut order: Vec<(usize, usize, Step)> = Vec::with_capacity(self.index.fields.len() + 2);
        // Rows the identifier steps' lists hold (their order costs are forced to ascend).
        let mut listed = 0usize;
        for (i, (field, probe)) in self.index.fields.iter().zip(probes).enumerate() {
            if !field.is_present(probe) {
                continue;
            }
            doc_mask |= 1 << i;
            if let (FieldIndex::Fuzzy(c), Probe::Fuzzy(p)) = (field, probe) {
                // Values first (cheap, tightens every bound), rows only if still needed.
                let values = c.value_cost(p);
                order.push((values, i, Step::FuzzyValues));
                let rows = c.row_cost(p).max(values + 1);
                order.push((rows.saturating_mul(DEFERRED), i, Step::FuzzyRows));
            } else if let (FieldIndex::Identifier(c), Probe::Identifier(p)) = (field, probe) {
                // Whole-value keys first (short lists), partial keys only if still needed.
                // The steps keep their order whatever their lists hold; the budget counts
                // what they hold.
                let costs = c.costs(p);
                listed = costs.iter().fold(listed, |t, &n| t.saturating_add(n));
                let partial = costs[1].max(costs[0] + 1);
                let common = costs[2].max(partial + 1);
                order.push((costs[0], i, Step::List));
                order.push((partial, i, Step::IdentifierPartial));
                order.push((common, i, Step::IdentifierCommon));
            } else {
                let cost = field.cost(probe);
                if cost != usize::MAX {
                    let weight = Step::List.order_weight(field);
                    order.push((cost.saturating_mul(weight), i, Step::List));
                }
            }
        }
        scratch.acc.begin_document();
        if doc_mask == 0 {
            return;
        }
        order.sort_unstable();
        let total = order
            .iter()
            .filter(|&&(_, i, _)| !matches!(self.index.fields[i], FieldIndex::Identifier(_)))
            .fold(listed, |t, &(c, i, step)| {
                t.saturating_add(c / step.order_weight(&self.index.fields[i]))
            });
        let k = if total <= self.exact_candidates_budget {
            TOP_CANDIDATES
        } else {
            1
        };
        let mut residuals = vec![Residual::Unwalked; self.index.fields.len()];
        for (i, (field, probe)) in self.index.fields.iter().zip(probes).enumerate() {
            if let (FieldIndex::Exact(_), Probe::Exact(p)) = (field, probe) {
                let keyed = self.index.keyed & (1 << i) != 0;
                if let (true, Some(doc)) = (keyed, exact::ExactColumn::probe_key(p)) {
                    residuals[i] = Residual::ByClass(doc);
                }
            }
        }
        scratch.pending.clear();
        scratch.cursor = 0;
        scratch.sorted = 0;
        scratch.collected = 0;
        scratch.bounded_under.clear();
        let mut waiting = 0usize;
        // Range fields whose window was walked inside the first fuzzy field's values.
        let mut within = 0u64;
        let mut next = 0;
        while let Some(&(cost, i, step)) = order.get(next) {
            next += 1;
            let theta = self.theta(best, k, scratch.head);
            if theta > 0.0
                && self.unseen_bound(doc_mask, &residuals, within) + MARGIN < theta
                && waiting.saturating_mul(SCORE_COST) <= step.walk_cost(&self.index.fields[i], cost)
            {
                break;
            }
            let weight = self.config.mappings[i].weight as f32;
            if step == Step::Within {
                if matches!(residuals[i], Residual::Unwalked) {
                    self.walk_within(i, probes, scratch);
                    within |= 1 << i;
                }
            } else {
                let acc = &mut scratch.acc;
                acc.begin_field(i);
                residuals[i] = match (&self.index.fields[i], &probes[i]) {
                    (FieldIndex::Exact(c), Probe::Exact(p)) => {
                        Residual::Linear(c.enumerate(p, weight, acc))
                    }
                    (FieldIndex::Date(c), Probe::Date(p)) => {
                        Residual::Linear(c.enumerate(p, weight, acc))
                    }
                    (FieldIndex::Numeric(c), Probe::Numeric(p)) => {
                        Residual::Linear(c.enumerate(p, weight, acc))
                    }
                    (FieldIndex::Identifier(c), Probe::Identifier(p)) => {
                        let keys = match step {
                            Step::IdentifierPartial => Keys::Partial,
                            Step::IdentifierCommon => Keys::Common,
                            _ => Keys::Whole,
                        };
                        let gate = if keys == Keys::Common {
                            let theta = self.theta(best, k, scratch.head);
                            self.common_gate(doc_mask, &residuals, within, theta)
                        } else {
                            None
                        };
                        match gate {
                            Some((f, fuzzy, r, most)) => {
                                let values = &scratch.fuzzy[f];
                                let below = |v: u32| fuzzy.value_bound(v, values, &r) <= most;
                                Residual::Linear(c.enumerate_gated(
                                    p,
                                    keys,
                                    weight,
                                    acc,
                                    Some(&below),
                                ))
                            }
                            None => Residual::Linear(c.enumerate(p, keys, weight, acc)),
                        }
                    }
                    (FieldIndex::Fuzzy(c), Probe::Fuzzy(p)) => match (step, residuals[i]) {
                        (Step::FuzzyRows, Residual::Fuzzy(r)) => {
                            let theta = self.theta(best, k, scratch.head);
                            let floor = self.rows_floor(i, r, doc_mask, &residuals, within, theta);
                            let left = c.walk_rows(&scratch.fuzzy[i], &r, floor, acc);
                            Residual::Fuzzy(fuzzy::FuzzyResidual {
                                unseen: r.uncredited.max(left),
                                ..r
                            })
                        }
                        _ => Residual::Fuzzy(c.walk_values(p, &mut scratch.fuzzy[i])),
                    },
                    _ => Residual::Unwalked,
                };
                if step == Step::FuzzyValues && Some(i) == self.index.first_fuzzy {
                    // The credited values are known: their rows inside each date or amount
                    // window not yet walked are a step of their own.
                    let at = order.len();
                    self.plan_within(doc_mask, probes, &residuals, scratch, &mut order);
                    if order.len() > at {
                        order[next..].sort_unstable();
                    }
                }
            }
            // Bounding every reached row again costs a pass over them all. While many wait
            // and walking cannot stop before the next walk (nothing scored since this check
            // changes it), that walk comes first: the rows reached now are collected with
            // its own, and the last walk always collects.
            let backlog = scratch.acc.touched().len() - scratch.collected + scratch.pending.len()
                - scratch.cursor.min(scratch.pending.len());
            let theta = self.theta(best, k, scratch.head);
            if next < order.len()
                && backlog > self.collect_lazy
                && theta > 0.0
                && self.unseen_bound(doc_mask, &residuals, within) + MARGIN >= theta
            {
                waiting = backlog;
                continue;
            }
            self.collect_pending(doc_mask, &residuals, k, excluded, scratch, best);
            waiting = self.score_pending(probes, k, Some(SCORE_ROUND), scratch, best);
        }
        // The bounds of the last walk still hold: score on from where that round stopped.
        let _ = self.score_pending(probes, k, None, scratch, best);
    }

    /// The highest value bound of fuzzy field `i` (walked values, residual `r`) under which
    /// the rows of a value need not be reached: rows unreached because their value is
    /// bounded by it stay under `theta` with every other field at its residual. At least
    /// `r.uncredited`, the bound of rows whose value got no credit, which stay unreached
    /// anyway.
    fn rows_floor(
        &self,
        i: usize,
        r: fuzzy::FuzzyResidual,
        doc_mask: u64,
        residuals: &[Residual],
        within: u64,
        theta: f64,
    ) -> f32 {
        let mut simulated = residuals.to_vec();
        let mut holds = |floor: f32| {
            simulated[i] = Residual::Fuzzy(fuzzy::FuzzyResidual {
                unseen: r.uncredited.max(floor),
                ..r
            });
            self.unseen_bound(doc_mask, &simulated, within) + MARGIN < theta
        };
        let (mut low, mut high) = (r.uncredited, 1.0f32);
        if theta <= 0.0 || !holds(low) {
            return low;
        }
        if holds(high) {
            return high;
        }
        // `holds` falls as the floor rises: keep `low` holding and `high` not.
        for _ in 0..FLOOR_STEPS {
            let mid = (low + high) / 2.0;
            if holds(mid) {
                low = mid;
            } else {
                high = mid;
            }
        }
        low
    }

    /// For an identifier's last step (partial keys shared by many rows, which reach rows
    /// of every vendor): the first fuzzy field, its column and residual, and the highest
    /// bound of its value under which a row no list reached yet stays under `theta`
    /// whatever the identifier scores (at most its residual before the step, which
    /// `residuals` holds), every other field at its residual. The step need not credit
    /// such rows: `theta` only rises, so they never enter the document's lists. `None`
    /// when the fuzzy field's values are not walked or no bound is low enough.
    fn common_gate(
        &self,
        doc_mask: u64,
        residuals: &[Residual],
        within: u64,
        theta: f64,
    ) -> Option<(usize, &fuzzy::FuzzyColumn, fuzzy::FuzzyResidual, f32)> {
        let f = self.index.first_fuzzy?;
        let (FieldIndex::Fuzzy(column), Residual::Fuzzy(r)) = (&self.index.fields[f], residuals[f])
        else {
            return None;
        };
        if theta <= 0.0 {
            return None;
        }
        let mut simulated = residuals.to_vec();
        let mut holds = |most: f32| {
            simulated[f] = Residual::Fuzzy(fuzzy::FuzzyResidual {
                unseen: most,
                uncredited: most,
                ..r
            });
            self.unseen_bound(doc_mask, &simulated, within) + MARGIN < theta
        };
        if !holds(0.0) {
            return None;
        }
        let (mut low, mut high) = (0.0f32, 1.0f32);
        if holds(high) {
            return Some((f, column, r, high));
        }
        // `holds` falls as the bound rises: keep `low` holding and `high` not.
        for _ in 0..FLOOR_STEPS {
            let mid = (low + high) / 2.0;
            if holds(mid) {
                low = mid;
            } else {
                high = mid;
            }
        }
        Some((f, column, r, low))
    }

    /// The keys of the rows a date or amount field's walk would credit.
    fn key_range(&self, j: usize, probes: &[Probe]) -> Option<(f64, f64)> {
        match (&self.index.fields[j], &probes[j]) {
            (FieldIndex::Date(c), Probe::Date(p)) => c.key_range(p),
            (FieldIndex::Numeric(c), Probe::Numeric(p)) => c.key_range(p),
            _ => None,
        }
    }

    /// Adds a `Within` step, with an estimate of its cost, for every date or amount field the
    /// document has and the walk has not reached yet.
    fn plan_within(
        &self,
        doc_mask: u64,
        probes: &[Probe],
        residuals: &[Residual],
        scratch: &Scratch,
        order: &mut Vec<(usize, usize, Step)>,
    ) {
        let Some(f) = self.index.first_fuzzy else {
            return;
        };
        let Some(values) = scratch
            .fuzzy
            .get(f)
            .map(fuzzy::FuzzyColumn::credited_values)
        else {
            return;
        };
        for w in &self.index.within {
            let j = w.range;
            if doc_mask & (1 << j) == 0 || !matches!(residuals[j], Residual::Unwalked) {
                continue;
            }
            if self.key_range(j, probes).is_none() {
                continue;
            }
            // Searching each value's rows for the window costs about what the walk costs,
            // so the plan does not search: a value costs its search, plus the rows its
            // window would hold were its keys spread like the table's.
            let rows = self.index.reference.len().max(1);
            let share = self.index.fields[j].cost(&probes[j]).min(rows) as f64 / rows as f64;
            let held: usize = values.iter().map(|&v| w.len_of(v)).sum();
            let cost = values.len() + (held as f64 * share).ceil() as usize;
            order.push((cost, j, Step::Within));
        }
    }

    /// Reaches the rows of the first fuzzy field's credited values whose date or amount
    /// (field `j`) lies in the document's window, crediting `j` with its exact score.
    fn walk_within(&self, j: usize, probes: &[Probe], scratch: &mut Scratch) {
        let (Some(f), Some((lo, hi))) = (self.index.first_fuzzy, self.key_range(j, probes)) else {
            return;
        };
        let Some(w) = self.index.within.iter().find(|w| w.range == j) else {
            return;
        };
        let weight = self.config.mappings[j].weight as f32;
        let Scratch { acc, fuzzy, .. } = scratch;
        let Some(values) = fuzzy.get(f).map(fuzzy::FuzzyColumn::credited_values) else {
            return;
        };
        for &v in values {
            for &(_, row) in w.rows_in(v, lo, hi) {
                let score = match (&self.index.fields[j], &probes[j]) {
                    (FieldIndex::Date(c), Probe::Date(p)) => c.score(p, row),
                    (FieldIndex::Numeric(c), Probe::Numeric(p)) => c.score(p, row),
                    _ => FieldScore::Missing,
                };
                acc.begin_field(f);
                acc.credit(row, 0.0);
                acc.begin_field(j);
                if let FieldScore::Score(s) = score {
                    acc.credit(row, weight * s as f32);
                }
            }
        }
    }

    /// What linear field `i` adds to the bound of a row of `class` it did not credit, under
    /// residual `r` (not `Fuzzy`): its weight times the residual, or for `ByClass` the
    /// class's exact score.
    fn linear_part(&self, class: usize, i: usize, r: Residual) -> f64 {
        let weight = self.config.mappings[i].weight;
        match r {
            Residual::Unwalked => weight,
            Residual::Linear(r) => weight * f64::from(r),
            Residual::ByClass(doc) => {
                let key = self
                    .index
                    .class_keys
                    .get(class)
                    .and_then(|keys| keys.iter().find(|&&(f, _)| f == i));
                match key {
                    Some(&(_, key)) if doc != Some(key) => 0.0,
                    _ => weight,
                }
            }
            Residual::Fuzzy(_) => 0.0,
        }
    }

    /// Per row class, the part of a bound that is the same for every row of the class (the
    /// fields not walked at their maximum, walked linear fields at their residual) and the
    /// denominator that turns a weighted sum into a confidence.
    fn class_bounds(&self, doc_mask: u64, residuals: &[Residual], out: &mut Vec<(f64, f64)>) {
        out.clear();
        out.extend(
            self.index
                .classes
                .iter()
                .enumerate()
                .map(|(class, &row_mask)| {
                    let mask = doc_mask & row_mask;
                    let constant: f64 = bits(mask)
                        .map(|i| match residuals[i] {
                            Residual::Fuzzy(_) => 0.0,
                            r => self.linear_part(class, i, r),
                        })
                        .sum();
                    (constant, self.denominator(mask))
                }),
        );
    }

    /// The bound of `row`'s confidence from what the walked lists credited it.
    /// `with_residual` has the linear fields whose uncredited rows may still score above 0
    /// (not walked, or walked with a residual): the class constant counts that maximum or
    /// residual, which a row the field credited (at its exact score) does not take.
    #[allow(clippy::too_many_arguments)]
    fn row_bound(
        &self,
        row: u32,
        slot: usize,
        doc_mask: u64,
        residuals: &[Residual],
        class_bounds: &[(f64, f64)],
        (fuzzy_walked, with_residual): (u64, u64),
        acc: &index::Accumulator,
        scratches: &[fuzzy::FuzzyScratch],
    ) -> f64 {
        let class = acc.class(slot) as usize;
        let Some(&(constant, denominator)) = class_bounds.get(class) else {
            return 1.0;
        };
        let mut sum = f64::from(acc.linear(slot)) + constant;
        let row_mask = doc_mask & self.index.classes[class];
        for i in bits(row_mask & with_residual & acc.credited(slot)) {
            if !matches!(residuals[i], Residual::Fuzzy(_)) {
                sum -= self.linear_part(class, i, residuals[i]);
            }
        }
        let walked = doc_mask & self.index.classes[class] & fuzzy_walked;
        for i in bits(walked) {
            if let (Residual::Fuzzy(r), FieldIndex::Fuzzy(c), Some(scratch)) =
                (&residuals[i], &self.index.fields[i], scratches.get(i))
            {
                // The accumulator keeps the first fuzzy field's value of each reached row.
                let bound = if Some(i) == self.index.first_fuzzy {
                    c.value_bound(acc.value(slot), scratch, r)
                } else {
                    c.bound(row, scratch, r)
                };
                sum += self.config.mappings[i].weight * f64::from(bound);
            }
        }
        if denominator > 0.0 {
            sum / denominator
        } else {
            0.0
        }
    }

    /// The bound of the confidence of any row the walked lists did not reach. With `within`
    /// walks (a bit per date or amount field), an unreached row either has a value the
    /// first fuzzy field did not credit (bounded by its `uncredited`), or lies outside those
    /// fields' windows (they score 0): the larger of the two bounds holds.
    fn unseen_bound(&self, doc_mask: u64, residuals: &[Residual], within: u64) -> f64 {
        let bound = |uncredited_value: bool| {
            self.index
                .classes
                .iter()
                .enumerate()
                .map(|(class, &row_mask)| {
                    let mask = doc_mask & row_mask;
                    let sum: f64 = bits(mask)
                        .map(|i| {
                            let weight = self.config.mappings[i].weight;
                            match residuals[i] {
                                Residual::Unwalked if within & (1 << i) != 0 => {
                                    if uncredited_value {
                                        weight
                                    } else {
                                        0.0
                                    }
                                }
                                Residual::Fuzzy(r)
                                    if uncredited_value && Some(i) == self.index.first_fuzzy =>
                                {
                                    weight * f64::from(r.uncredited)
                                }
                                Residual::Fuzzy(r) => weight * f64::from(r.unseen),
                                // As in a class's constant: the weight, the residual's
                                // share of it, or the class's exact score.
                                r => self.linear_part(class, i, r),
                            }
                        })
                        .sum();
                    let denominator = self.denominator(mask);
                    if denominator > 0.0 {
                        sum / denominator
                    } else {
                        0.0
                    }
                })
                .fold(0.0, f64::max)
        };
        if within == 0 {
            bound(false)
        } else {
            bound(true).max(bound(false))
        }
    }

    /// What divides a weighted sum over the fields in `mask` to give a confidence: the
    /// contract's `combine` is `sum / max(present, total x min_coverage)` when missing values are
    /// ignored, and the plain sum when they score 0.
    fn denominator(&self, mask: u64) -> f64 {
        match self.config.missing_values {
            MissingValues::Zero => 1.0,
            MissingValues::Ignore => {
                let present: f64 = bits(mask).map(|i| self.config.mappings[i].weight).sum();
                let total: f64 = self.config.mappings.iter().map(|m| m.weight).sum();
                present.max(total * self.config.min_coverage)
            }
        }
    }

    /// How much each field's weighted residual fell since `before`, for rows it did not
    /// credit: a bound taken under `before` less those falls (over its class's
    /// denominator) is the bound under `now` of a row no field credited since. `None`
    /// when a change is not such a fall (the first bounding, a fuzzy field's values
    /// walked, which changes every row's bound of it).
    fn residual_falls(&self, before: &[Residual], now: &[Residual]) -> Option<Vec<f64>> {
        if before.len() != now.len() {
            return None;
        }
        before
            .iter()
            .zip(now)
            .zip(&self.config.mappings)
            .map(|((&was, &is), mapping)| {
                let level = |r: Residual| match r {
                    Residual::Unwalked => Some(1.0),
                    Residual::Linear(r) => Some(f64::from(r)),
                    Residual::Fuzzy(_) | Residual::ByClass(_) => None,
                };
                match (was, is) {
                    (Residual::ByClass(a), Residual::ByClass(b)) if a == b => Some(0.0),
                    // Walking a value's rows changes only what unreached rows may score.
                    (Residual::Fuzzy(a), Residual::Fuzzy(b))
                        if (a.capped, a.open_square, a.scale)
                            == (b.capped, b.open_square, b.scale) =>
                    {
                        Some(0.0)
                    }
                    _ => match (level(was), level(is)) {
                        (Some(a), Some(b)) if b <= a => Some(mapping.weight * (a - b)),
                        _ => None,
                    },
                }
            })
            .collect()
    }

    /// Computes the bound of every reached row not yet scored under the lists walked so
    /// far, and keeps those that can still reach the `k`-th best confidence.
    fn collect_pending(
        &self,
        doc_mask: u64,
        residuals: &[Residual],
        k: usize,
        excluded: &[u32],
        scratch: &mut Scratch,
        best: &[(f64, u32)],
    ) {
        let mut class_bounds = std::mem::take(&mut scratch.class_bounds);
        self.class_bounds(doc_mask, residuals, &mut class_bounds);
        let fuzzy_walked = residuals
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r, Residual::Fuzzy(_)))
            .fold(0u64, |m, (i, _)| m | (1 << i));
        let with_residual = residuals
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                matches!(
                    r,
                    Residual::Unwalked | Residual::Linear(_) | Residual::ByClass(_)
                )
            })
            .filter(|(_, r)| !matches!(r, Residual::Linear(r) if *r <= 0.0))
            .fold(0u64, |m, (i, _)| m | (1 << i))
            & self.index.linear;
        let theta = self.theta(best, k, scratch.head);
        let falls = self.residual_falls(&scratch.bounded_under, residuals);
        let acc = &scratch.acc;
        // A pending row no field credited since its bound was taken keeps it, less what
        // the residuals it takes fell by (a row credited since gets its bound anew, which
        // the credit tightens). The kept bound was rounded to `f32`, under an ulp per
        // round, far inside `MARGIN`.
        let lowered = |slot: usize, old: f32, falls: &[f64]| {
            let class = acc.class(slot) as usize;
            let (Some(&row_mask), Some(&(_, denominator))) =
                (self.index.classes.get(class), class_bounds.get(class))
            else {
                return 1.0;
            };
            if denominator <= 0.0 {
                return 0.0;
            }
            let open = doc_mask & row_mask & !acc.credited(slot);
            let fall: f64 = bits(open)
                .map(|i| falls.get(i).copied().unwrap_or(0.0))
                .sum();
            f64::from(old) - fall / denominator
        };
        let bound_of = |slot: usize, row: u32| {
            self.row_bound(
                row,
                slot,
                doc_mask,
                residuals,
                &class_bounds,
                (fuzzy_walked, with_residual),
                acc,
                &scratch.fuzzy,
            )
        };
        // Bounds only fall as lists are walked and the k-th best only rises, so a row once
        // left out stays out: re-examine the rows still pending, then the rows reached
        // since the last collection.
        let mut pending = std::mem::take(&mut scratch.pending);
        let start = scratch.cursor.min(pending.len());
        pending.drain(..start);
        pending.retain_mut(|entry| {
            let slot = entry.1 as usize;
            if acc.is_scored(slot) {
                return false;
            }
            let row = acc.touched()[slot];
            let bound = match &falls {
                Some(falls) if !acc.credited_this_round(slot) => lowered(slot, entry.0, falls),
                _ => bound_of(slot, row),
            };
            entry.0 = bound as f32;
            bound > 0.0 && bound + MARGIN >= theta
        });
        for (slot, &row) in acc.touched().iter().enumerate().skip(scratch.collected) {
            if acc.is_scored(slot) || excluded.contains(&row) {
                continue;
            }
            let bound = bound_of(slot, row);
            if bound > 0.0 && bound + MARGIN >= theta {
                pending.push((bound as f32, slot as u32));
            }
        }
        scratch.collected = acc.touched().len();
        scratch.acc.next_round();
        scratch.bounded_under.clear();
        scratch.bounded_under.extend_from_slice(residuals);
        scratch.pending = pending;
        scratch.cursor = 0;
        scratch.sorted = 0;
        scratch.chunk = SCORE_ROUND;
        scratch.class_bounds = class_bounds;
        scratch.bounded = (
            doc_mask,
            self.index.first_fuzzy.and_then(|f| match residuals[f] {
                Residual::Fuzzy(r) => Some(r),
                _ => None,
            }),
        );
    }

    /// Scores pending rows in descending bound order while their bound can still reach the
    /// `k`-th best confidence; at most `limit` of them when given. Returns how many pending
    /// rows still could.
    fn score_pending(
        &self,
        probes: &[Probe],
        k: usize,
        limit: Option<usize>,
        scratch: &mut Scratch,
        best: &mut Vec<(f64, u32)>,
    ) -> usize {
        let rank = |slot: u32, acc: &index::Accumulator| {
            let row = acc
                .touched()
                .get(slot as usize)
                .copied()
                .unwrap_or(u32::MAX);
            self.index
                .id_rank
                .get(row as usize)
                .copied()
                .unwrap_or(u32::MAX)
        };
        let mut budget = limit.unwrap_or(usize::MAX);
        // Pending rows up to here have had their values loaded.
        let mut ahead = scratch.cursor;
        loop {
            if scratch.cursor == scratch.sorted {
                let (start, len) = (scratch.sorted, scratch.pending.len());
                if start >= len {
                    break;
                }
                let end = (start + scratch.chunk).min(len);
                let acc = &scratch.acc;
                let order = |a: &(f32, u32), b: &(f32, u32)| {
                    b.0.total_cmp(&a.0)
                        .then_with(|| rank(a.1, acc).cmp(&rank(b.1, acc)))
                };
                if end < len {
                    select_first(&mut scratch.pending[start..], end - start, order);
                }
                scratch.pending[start..end].sort_unstable_by(order);
                scratch.sorted = end;
                scratch.chunk = scratch.chunk.saturating_mul(2);
            }
            let (bound, slot) = scratch.pending[scratch.cursor];
            if f64::from(bound) + MARGIN < self.theta(best, k, scratch.head) {
                // Everything after is bounded lower still.
                scratch.cursor = scratch.pending.len();
                scratch.sorted = scratch.pending.len();
                break;
            }
            if budget == 0 {
                break;
            }
            if scratch.cursor >= ahead {
                // Load the next sorted rows' values together before scoring them one by
                // one: they lie anywhere in the table, and misses issued back to back
                // overlap.
                ahead = (scratch.cursor + SCORE_AHEAD).min(scratch.sorted);
                self.touch_rows(&scratch.pending[scratch.cursor..ahead], &scratch.acc);
            }
            budget -= 1;
            scratch.cursor += 1;
            let theta = self.theta(best, k, scratch.head);
            if scratch.acc.mark_scored(slot as usize)
                && self.tightened(f64::from(bound), slot as usize, probes, scratch) + MARGIN
                    >= theta
            {
                let row = scratch.acc.touched()[slot as usize];
                self.score_into(probes, row, scratch, best);
            }
        }
        let theta = self.theta(best, k, scratch.head);
        scratch.pending[scratch.cursor.min(scratch.pending.len())..]
            .iter()
            .filter(|&&(bound, _)| f64::from(bound) + MARGIN >= theta)
            .count()
    }

    /// Reads what scoring the rows of `pending` entries reads first, on every field.
    fn touch_rows(&self, pending: &[(f32, u32)], acc: &index::Accumulator) {
        let mut sum = 0u32;
        for &(_, slot) in pending {
            if let Some(&row) = acc.touched().get(slot as usize) {
                for field in &self.index.fields {
                    sum = sum.wrapping_add(field.touch(row));
                }
            }
        }
        std::hint::black_box(sum);
    }

    /// `bound`, a pending row's bound, with its first fuzzy field's value bound replaced by
    /// the value's exact score once scoring another row of the same value computed it: the
    /// rows of a vendor share one score, so after the first of them the others are bounded
    /// exactly on that field and most need no scoring of their own.
    fn tightened(&self, bound: f64, slot: usize, probes: &[Probe], scratch: &Scratch) -> f64 {
        let (doc_mask, Some(residual)) = scratch.bounded else {
            return bound;
        };
        let Some(f) = self.index.first_fuzzy else {
            return bound;
        };
        let class = scratch.acc.class(slot) as usize;
        let (Some(&row_mask), Some(&(_, denominator))) = (
            self.index.classes.get(class),
            scratch.class_bounds.get(class),
        ) else {
            return bound;
        };
        if doc_mask & row_mask & (1 << f) == 0 || denominator <= 0.0 {
            return bound;
        }
        let (FieldIndex::Fuzzy(c), Probe::Fuzzy(p), Some(fuzzy)) =
            (&self.index.fields[f], &probes[f], scratch.fuzzy.get(f))
        else {
            return bound;
        };
        let v = scratch.acc.value(slot);
        match c.cached_value_score(v, p, fuzzy) {
            Some(exact) => {
                let loose = c.value_bound(v, fuzzy, &residual);
                let weight = self.config.mappings[f].weight;
                bound - weight * f64::from((loose - exact).max(0.0)) / denominator
            }
            None => bound,
        }
    }

    /// Inserts into the running best list (`kept` long): confidence descending, then id
    /// ascending.
    fn keep_best(&self, best: &mut Vec<(f64, u32)>, confidence: f64, row: u32) {
        let kept = self.kept();
        let rank = |r: u32| self.index.id_rank[r as usize];
        let pos = best
            .iter()
            .position(|&(c, r)| confidence > c || (confidence == c && rank(row) < rank(r)))
            .unwrap_or(best.len());
        if pos < kept {
            best.insert(pos, (confidence, row));
            best.truncate(kept);
        }
    }
}

/// Moves the `k` first items of `items` under `order` to its front, in any order, as
/// `select_nth_unstable_by` would. A few out of thousands (scoring takes a handful of
/// pending rows between two walks) are picked in one pass that compares most items with
/// the current `k`-th only, where a selection partitions the whole slice each time.
fn select_first<T: Copy>(
    items: &mut [T],
    k: usize,
    mut order: impl FnMut(&T, &T) -> std::cmp::Ordering,
) {
    use std::cmp::Ordering;
    if k == 0 || k >= items.len() {
        return;
    }
    if k > SELECT_SCAN {
        items.select_nth_unstable_by(k, order);
        return;
    }
    // Positions of the best `k` so far, best first (`k <= SELECT_SCAN`: no allocation).
    let mut best = [0usize; SELECT_SCAN + 1];
    let mut kept = 0;
    for i in 0..items.len() {
        if kept == k && order(&items[i], &items[best[k - 1]]) != Ordering::Less {
            continue;
        }
        let at =
            best[..kept].partition_point(|&j| order(&items[j], &items[i]) != Ordering::Greater);
        best.copy_within(at..kept, at + 1);
        best[at] = i;
        kept = (kept + 1).min(k);
    }
    // Swap the chosen into the front: chosen items already there stay, the others take
    // the places of front items that were not chosen (both in ascending order).
    let chosen = &mut best[..k];
    chosen.sort_unstable();
    let outside = chosen.iter().copied().filter(|&j| j >= k);
    let free = (0..k).filter(|j| chosen.binary_search(j).is_err());
    for (a, b) in free.zip(outside) {
        items.swap(a, b);
    }
}

/// Most items `select_first` picks by one pass; more are left to a selection.
const SELECT_SCAN: usize = 64;

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

/// The `k`-th best confidence so far; 0 while fewer than `k` rows scored above 0.
fn kth(best: &[(f64, u32)], k: usize) -> f64 {
    best.get(k.saturating_sub(1)).map_or(0.0, |&(c, _)| c)
}

/// The indexes of the set bits of `mask`, ascending.
fn bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(i)
    })
}

impl FieldIndex {
    /// Reads what scoring `row` on this field reads first; the value only feeds
    /// `black_box`.
    fn touch(&self, row: u32) -> u32 {
        match self {
            FieldIndex::Fuzzy(c) => c.touch(row),
            FieldIndex::Identifier(c) => c.touch(row),
            _ => u32::from(self.row_present(row)),
        }
    }

    fn row_present(&self, row: u32) -> bool {
        match self {
            FieldIndex::Exact(c) => c.row_present(row),
            FieldIndex::Fuzzy(c) => c.row_present(row),
            FieldIndex::Date(c) => c.row_present(row),
            FieldIndex::Numeric(c) => c.row_present(row),
            FieldIndex::Identifier(c) => c.row_present(row),
        }
    }

    fn is_present(&self, probe: &Probe) -> bool {
        match probe {
            Probe::Exact(p) => exact::ExactColumn::is_present(p),
            Probe::Fuzzy(p) => fuzzy::FuzzyColumn::is_present(p),
            Probe::Date(p) => date_range::DateColumn::is_present(p),
            Probe::Numeric(p) => numeric_range::NumericColumn::is_present(p),
            Probe::Identifier(p) => identifier::IdentifierColumn::is_present(p),
        }
    }

    /// Rows walking this field's list costs; `usize::MAX` when it is not walked.
    fn cost(&self, probe: &Probe) -> usize {
        match (self, probe) {
            (FieldIndex::Exact(c), Probe::Exact(p)) => c.cost(p),
            (FieldIndex::Date(c), Probe::Date(p)) => c.cost(p),
            (FieldIndex::Numeric(c), Probe::Numeric(p)) => c.cost(p),
            (FieldIndex::Identifier(c), Probe::Identifier(p)) => c.cost(p, Keys::Whole),
            _ => usize::MAX,
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

#[cfg(test)]
mod select_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn select_first_puts_the_k_first_in_front(mut items in proptest::collection::vec((0u8..6, any::<u16>()), 0..300), k in 0usize..80) {
            let mut sorted = items.clone();
            sorted.sort_unstable();
            select_first(&mut items, k, |a, b| a.cmp(b));
            let k = k.min(items.len());
            let mut front = items[..k].to_vec();
            front.sort_unstable();
            prop_assert_eq!(&front[..], &sorted[..k]);
            let mut all = items.clone();
            all.sort_unstable();
            prop_assert_eq!(all, sorted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CONFIG: &str = r#"{"threshold": 0.8, "min_coverage": 0.5, "field_mappings": [
        {"source": "inv", "target": "inv", "strategy": "identifier", "weight": 0.3},
        {"source": "vendor", "target": "vendor", "strategy": "fuzzy", "weight": 0.25},
        {"source": "total", "target": "total", "strategy": "numeric_range", "weight": 0.15},
        {"source": "date", "target": "date", "strategy": "date_range", "weight": 0.1, "tolerance_days": 5},
        {"source": "cur", "target": "cur", "strategy": "exact", "weight": 0.1},
        {"source": "alias", "target": "vendor", "strategy": "fuzzy", "weight": 0.1}]}"#;

    const WORDS: [&str; 12] = [
        "nordwind",
        "logistik",
        "gmbh",
        "alpha",
        "alpah",
        "office",
        "supplies",
        "ag",
        "kx-tg9341t",
        "kx tg9341t",
        "tg9341t 5.8 ghz",
        "alpha alpha",
    ];

    fn value(pick: u8, kind: usize) -> String {
        let p = pick as usize;
        match kind {
            0 => match p % 9 {
                0 => String::new(),
                n => near_miss(&format!("{:04}", n * 7 + p % 3), p / 9),
            },
            1 | 5 => match p % 11 {
                0 => String::new(),
                n => format!("{} {}", WORDS[n % 12], WORDS[(n * 3 + p) % 12]),
            },
            2 => match p % 13 {
                0 => String::new(),
                12 => "n/a".into(),
                n => format!("{}.{:02}", 100 + n * 3, p % 50),
            },
            3 => match p % 10 {
                0 => String::new(),
                9 => "someday".into(),
                n => format!("2024-03-{:02}", n * 2),
            },
            _ => ["EUR", "CHF", "", "USD"][p % 4].into(),
        }
    }

    /// An invoice number, or one of the near misses the `identifier` keys must find: a
    /// swapped, extra, missing or two wrong digits, a dropped prefix, an OCR look-alike.
    fn near_miss(number: &str, variant: usize) -> String {
        let mut d: Vec<char> = number.chars().collect();
        match variant % 8 {
            0 | 1 => format!("INV-{number}"),
            2 => {
                d.swap(2, 3);
                format!("INV-{}", d.into_iter().collect::<String>())
            }
            3 => format!("INV-{number}{}", variant % 10),
            4 => number.to_string(),
            5 => {
                d[1] = '9';
                d[3] = char::from(b'0' + (variant % 10) as u8);
                format!("INV-{}", d.into_iter().collect::<String>())
            }
            6 => format!("INV-{}", &number[1..]),
            _ => format!("inv {}", number.replace('0', "O").replace('2', "Z")),
        }
    }

    fn table(rows: &[[u8; 5]]) -> ReferenceTable {
        let columns = ["inv", "vendor", "total", "date", "cur"];
        let mut t = ReferenceTable::new(columns.iter().map(|c| c.to_string()).collect());
        for (i, r) in rows.iter().enumerate() {
            let values: Vec<String> = (0..5).map(|k| value(r[k], k)).collect();
            t.push_row(&format!("R{:03}", i), values.iter().map(String::as_str));
        }
        t
    }

    proptest! {
        /// Truth files are checked by `reference_ids`, one sorted pass: it must find the
        /// ids `row_of` finds, whatever order the rows and the ids come in.
        #[test]
        fn reference_ids_finds_what_row_of_finds(
            ids in proptest::collection::btree_set("[A-D]{1,3}", 1..40),
            queries in proptest::collection::vec("[A-D]{0,4}", 0..40),
            reversed in any::<bool>(),
        ) {
            let mut rows: Vec<&String> = ids.iter().collect();
            if reversed {
                rows.reverse();
            }
            let columns = ["inv", "vendor", "total", "date", "cur"];
            let mut t = ReferenceTable::new(columns.iter().map(|c| c.to_string()).collect());
            for id in rows {
                t.push_row(id, ["1", "a", "1.00", "2024-01-01", "EUR"].into_iter());
            }
            let matcher = Matcher::build(invoice_config(), Arc::new(t)).unwrap();
            let found = matcher.reference_ids(queries.iter().map(String::as_str));
            let expected: HashSet<String> = queries
                .iter()
                .filter(|q| matcher.row_of(q).is_some())
                .cloned()
                .collect();
            prop_assert_eq!(found, expected);
        }
    }

    /// The invoice mapping of the tests below: identifier, vendor, amount, date, currency.
    fn invoice_config() -> MatchConfig {
        MatchConfig::from_json(
            r#"{"threshold": 0.6, "field_mappings": [
                {"source": "inv", "target": "inv", "strategy": "identifier", "weight": 0.35},
                {"source": "vendor", "target": "vendor", "strategy": "fuzzy", "weight": 0.25},
                {"source": "total", "target": "total", "strategy": "numeric_range", "weight": 0.2, "tolerance_pct": 1.0},
                {"source": "date", "target": "date", "strategy": "date_range", "weight": 0.15, "tolerance_days": 5},
                {"source": "cur", "target": "cur", "strategy": "exact", "weight": 0.05}]}"#,
            "test",
        )
        .unwrap()
    }

    /// A ledger where half the invoice numbers share a year prefix (a partial key of 1,500
    /// rows, past `PARTIAL_CAP`, walked by the common step) and documents both
    /// with a true row (misread digits, typos) and without (random numbers and vendors):
    /// the index answers what a full scan answers, for every document.
    #[test]
    fn common_identifier_keys_narrowed_by_vendor_find_what_a_full_scan_finds() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        let vendors: Vec<String> = (0..40)
            .map(|v| {
                format!(
                    "{} {} ltd",
                    WORDS[v % 12],
                    ["north", "south", "east", "west"][v % 4]
                )
            })
            .collect();
        let columns = ["inv", "vendor", "total", "date", "cur"];
        let mut t = ReferenceTable::new(columns.iter().map(|c| c.to_string()).collect());
        let mut rows: Vec<[String; 5]> = Vec::new();
        for i in 0..3_000u64 {
            let prefix = if i % 2 == 0 { "2025" } else { "7311" };
            let row = [
                format!("{prefix}{:04}", next(10_000)),
                vendors[next(40) as usize].clone(),
                format!("{}.{:02}", 50 + next(200), next(100)),
                format!("2024-{:02}-{:02}", 1 + next(3), 1 + next(28)),
                ["EUR", "USD"][next(2) as usize].to_string(),
            ];
            t.push_row(&format!("R{i:04}"), row.iter().map(String::as_str));
            rows.push(row);
        }
        let reference = Arc::new(t);
        let mut docs: Vec<[String; 5]> = Vec::new();
        for d in 0..360u64 {
            let mut doc = rows[next(3_000) as usize].clone();
            if d >= 240 {
                // No true row, but one an edit or two away through a key of many rows,
                // whose vendor shares a word or two, or only the word all vendors have,
                // and whose date and amount are far off: the best row is reached by the
                // common step alone.
                let mut inv: Vec<char> = doc[0].chars().collect();
                for _ in 0..1 + d % 2 {
                    let at = 4 + next(4) as usize;
                    inv[at] = char::from(b'0' + next(10) as u8);
                }
                doc[0] = inv.into_iter().collect();
                let v = vendors.iter().position(|v| *v == doc[1]).unwrap_or(0);
                doc[1] = match next(4) {
                    // Only the word every vendor has, too common to walk.
                    0 => "zeta omega ltd".to_string(),
                    n => vendors[(v + [4, 12, 13][n as usize - 1]) % 40].clone(),
                };
                doc[2] = format!("{}.00", 300 + next(100));
                doc[3] = format!("2025-{:02}-{:02}", 1 + next(12), 1 + next(28));
            } else if d % 2 == 1 {
                // No true row: another number of the same year, another vendor.
                doc[0] = format!("2025{:04}", next(10_000));
                doc[1] = vendors[next(40) as usize].clone();
            } else {
                let mut inv: Vec<char> = doc[0].chars().collect();
                let at = 4 + next(4) as usize;
                inv[at] = char::from(b'0' + next(10) as u8);
                doc[0] = inv.into_iter().collect();
            }
            if d % 3 == 0 {
                doc[2] = format!("{}.00", 50 + next(200));
            }
            docs.push(doc);
        }
        let mut exercised = 0;
        for (assignment, missing_zero) in [(false, false), (true, false), (false, true)] {
            let mut config = invoice_config();
            if assignment {
                config.assignment = Assignment::OneToOne;
                config.assignment_candidates = 3;
            }
            if missing_zero {
                config.missing_values = crate::config::MissingValues::Zero;
            }
            let matcher = Matcher::build(config.clone(), Arc::clone(&reference)).unwrap();
            // Every reported candidate exact, whatever the lists hold.
            let mut five = Matcher::with_index(config, Arc::clone(matcher.index())).unwrap();
            five.exact_candidates_budget = usize::MAX;
            five.collect_lazy = 0;
            let FieldIndex::Identifier(c) = &matcher.index().fields[0] else {
                panic!("the first mapping is the identifier");
            };
            let (mut all_full, mut all_indexed) = (Vec::new(), Vec::new());
            for doc in &docs {
                let values: Vec<Option<&str>> = doc.iter().map(|v| Some(v.as_str())).collect();
                let probe = c.prepare(values[0]);
                if c.cost(&probe, identifier::Keys::Common) > 0 {
                    exercised += 1;
                }
                let full = matcher.match_one(&values, Mode::Exhaustive, &[]);
                let indexed = matcher.match_one(&values, Mode::Indexed, &[]);
                let all_five = five.match_one(&values, Mode::Indexed, &[]);
                assert_eq!(outcome_key(&all_five), outcome_key(&full), "{doc:?}");
                assert_eq!(
                    outcome_key(&indexed).first(),
                    outcome_key(&full).first(),
                    "{doc:?}"
                );
                assert_eq!(indexed.matched, full.matched, "{doc:?}");
                all_full.push(full);
                all_indexed.push(indexed);
            }
            let texts: Vec<Vec<Option<String>>> = docs
                .iter()
                .map(|d| d.iter().map(|v| Some(v.clone())).collect())
                .collect();
            let pool = thread_pool(2).unwrap();
            matcher.settle_with(&mut all_indexed, &texts, &pool);
            let ids: Vec<String> = (0..docs.len()).map(|i| format!("D{i:03}")).collect();
            matcher.assign(&mut all_full, &ids);
            matcher.assign(&mut all_indexed, &ids);
            let key = |o: &MatchOutcome| (o.matched, o.confidence, o.assigned);
            assert_eq!(
                all_indexed.iter().map(key).collect::<Vec<_>>(),
                all_full.iter().map(key).collect::<Vec<_>>()
            );
        }
        assert!(
            exercised > 100,
            "the documents must have common keys: {exercised}"
        );
    }

    const MEASURES: [crate::config::FuzzyMeasure; 3] = [
        crate::config::FuzzyMeasure::Cosine,
        crate::config::FuzzyMeasure::Dice,
        crate::config::FuzzyMeasure::Containment,
    ];

    /// The common step leaves out only rows whose vendor keeps them under the best so far:
    /// here the best row has the document's vendor and is two edits away through a
    /// key of every row of its year, and a big vendor keeps its rows unwalked, so the
    /// common step alone reaches it while a decoy's date and amount already set the bar.
    #[test]
    fn the_common_step_credits_rows_whose_vendor_may_lift_them_over_the_best() {
        let columns = ["inv", "vendor", "total", "date", "cur"];
        let mut t = ReferenceTable::new(columns.iter().map(|c| c.to_string()).collect());
        let mut push = |id: String, row: [&str; 5]| t.push_row(&id, row);
        for i in 0..1_100 {
            let inv = format!("2025{i:04}");
            push(
                format!("F{i:04}"),
                [&inv, "acme north ltd", "100.00", "2024-01-01", "EUR"],
            );
        }
        for i in 0..6_000 {
            let inv = format!("7311{i:04}");
            push(
                format!("Z{i:04}"),
                [&inv, "zeta omega gmbh", "700.00", "2023-01-01", "EUR"],
            );
        }
        push(
            "T".into(),
            ["20259999", "zeta omega gmbh", "900.00", "2024-06-01", "EUR"],
        );
        push(
            "D".into(),
            ["9999", "acme south", "500.00", "2025-01-01", "USD"],
        );
        let config = invoice_config();
        let matcher = Matcher::build(config, Arc::new(t)).unwrap();
        let doc = ["20258998", "zeta omega gmbh", "500.00", "2025-01-01", "USD"].map(Some);
        let full = matcher.match_one(&doc, Mode::Exhaustive, &[]);
        let indexed = matcher.match_one(&doc, Mode::Indexed, &[]);
        let id = |o: &MatchOutcome| {
            o.candidates
                .first()
                .map(|c| matcher.reference().id(c.row as usize).to_string())
        };
        assert_eq!(id(&full).as_deref(), Some("T"));
        assert_eq!(id(&indexed), id(&full));
        assert_eq!(indexed.confidence, full.confidence);
        // The big vendor's rows were left unreached: the answer did not come from a scan.
        assert!(indexed.reached < 2_000, "{}", indexed.reached);
    }

    fn outcome_key(o: &MatchOutcome) -> Vec<(u32, f64)> {
        o.candidates.iter().map(|c| (c.row, c.confidence)).collect()
    }

    /// A small index over generated rows, and documents to match against it.
    fn snapshot_case() -> (MatchConfig, MatchIndex, Vec<Vec<String>>) {
        let config = MatchConfig::from_json(CONFIG, "test").unwrap();
        let rows: Vec<[u8; 5]> = (0..40u8)
            .map(|i| [i, i.wrapping_mul(7), i / 3, i % 5, i.wrapping_mul(13)])
            .collect();
        let index = MatchIndex::build(&config, Arc::new(table(&rows))).unwrap();
        let docs = (0..12u8)
            .map(|d| {
                (0..6)
                    .map(|k| value(d.wrapping_mul(5).wrapping_add(k as u8), k % 5))
                    .collect()
            })
            .collect();
        (config, index, docs)
    }

    fn outcomes_of(matcher: &Matcher, docs: &[Vec<String>]) -> Vec<MatchOutcome> {
        docs.iter()
            .map(|d| {
                let values: Vec<Option<&str>> = d.iter().map(|t| Some(t.as_str())).collect();
                matcher.match_one(&values, Mode::Indexed, &[])
            })
            .collect()
    }

    #[test]
    fn a_snapshot_reads_back_into_an_index_that_matches_alike() {
        let (config, index, docs) = snapshot_case();
        let bytes = snapshot::encode(&index);
        let loaded = snapshot::decode(&bytes, &config).unwrap();
        assert_eq!(
            snapshot::encode(&loaded),
            bytes,
            "a second write is identical"
        );
        let built = Matcher::with_index(config.clone(), Arc::new(index)).unwrap();
        let read = Matcher::with_index(config, Arc::new(loaded)).unwrap();
        assert_eq!(outcomes_of(&built, &docs), outcomes_of(&read, &docs));
    }

    #[test]
    fn a_snapshot_for_other_mappings_is_refused_by_name() {
        let (config, index, _) = snapshot_case();
        let bytes = snapshot::encode(&index);
        let mut other = config.clone();
        other.mappings[3].strategy = crate::config::Strategy::DateRange {
            tolerance_days: 6,
            order: crate::parse::DateOrder::Dmy,
        };
        let refused = snapshot::decode(&bytes, &other).err().unwrap();
        assert!(refused.0.contains("other mappings"), "{refused}");
        // Weights and the threshold are not part of the index.
        let mut reweighted = config;
        reweighted.threshold = 0.5;
        reweighted.mappings[0].weight = 0.2;
        reweighted.mappings[1].weight = 0.35;
        assert!(snapshot::decode(&bytes, &reweighted).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// A truncated snapshot, or one with a flipped byte, is refused, never a panic;
        /// and the payload alone (what a file crafted to pass the checksum holds), cut or
        /// flipped anywhere, either is refused or loads into an index that matches
        /// without a panic.
        #[test]
        fn a_damaged_snapshot_is_refused_not_a_panic(
            cut in any::<proptest::sample::Index>(),
            flips in proptest::collection::vec((any::<proptest::sample::Index>(), 1u8..=255), 1..4),
        ) {
            let (config, index, docs) = snapshot_case();
            let bytes = snapshot::encode(&index);
            let at = cut.index(bytes.len());
            prop_assert!(snapshot::decode(&bytes[..at], &config).is_err());
            let mut flipped = bytes.clone();
            for (i, x) in &flips {
                let i = i.index(flipped.len());
                flipped[i] ^= x;
            }
            prop_assert!(snapshot::decode(&flipped, &config).is_err());

            let header = bytes.len() - snapshot::payload_len(&bytes);
            let payload = &bytes[header..];
            let _ = snapshot::decode_payload(&payload[..cut.index(payload.len())], &config);
            let mut damaged = payload.to_vec();
            for (i, x) in &flips {
                let i = i.index(damaged.len());
                damaged[i] ^= x;
            }
            if let Ok(loaded) = snapshot::decode_payload(&damaged, &config) {
                let matcher = Matcher::with_index(config.clone(), Arc::new(loaded)).unwrap();
                let _ = outcomes_of(&matcher, &docs);
            }
        }
    }

    proptest! {
        /// The index's guarantee: the best candidate is the one a full scan finds, and
        /// when the lists are short, all five are.
        #[test]
        fn retrieval_finds_what_a_full_scan_finds(
            rows in proptest::collection::vec(any::<[u8; 5]>(), 1..60),
            docs in proptest::collection::vec(any::<[u8; 6]>(), 1..12),
            missing_zero in any::<bool>(),
            one_to_one in any::<bool>(),
            assignment_candidates in 1usize..12,
            threshold in 0u8..=100,
            measures in (0usize..3, 0usize..3),
            min_similarity in prop_oneof![Just(0.0), Just(0.4), Just(0.7)],
        ) {
            let mut config = MatchConfig::from_json(CONFIG, "test").unwrap();
            if missing_zero {
                config.missing_values = crate::config::MissingValues::Zero;
            }
            if one_to_one {
                config.assignment = Assignment::OneToOne;
                config.assignment_candidates = assignment_candidates;
                config.threshold = f64::from(threshold) / 100.0;
            }
            // Each fuzzy mapping under any measure: the bounds differ per measure.
            for (i, pick) in [(1, measures.0), (5, measures.1)] {
                config.mappings[i].strategy = crate::config::Strategy::Fuzzy {
                    min_similarity,
                    measure: MEASURES[pick],
                };
            }
            let reference = Arc::new(table(&rows));
            let exact = Matcher::build(config.clone(), Arc::clone(&reference)).unwrap();
            let mut best_only = Matcher::with_index(config, Arc::clone(exact.index())).unwrap();
            best_only.exact_candidates_budget = 0;
            // Collections deferred after every walk that cannot stop.
            best_only.collect_lazy = 0;
            let (mut all_full, mut all_indexed, mut all_best) = (vec![], vec![], vec![]);
            for d in &docs {
                let texts: Vec<String> = (0..6).map(|k| value(d[k], if k == 5 { 1 } else { k })).collect();
                let values: Vec<Option<&str>> = texts.iter().map(|t| Some(t.as_str())).collect();
                let full = exact.match_one(&values, Mode::Exhaustive, &[]);
                let indexed = exact.match_one(&values, Mode::Indexed, &[]);
                prop_assert_eq!(outcome_key(&indexed), outcome_key(&full));
                let best = best_only.match_one(&values, Mode::Indexed, &[]);
                // The rows an assignment may use are exact whatever the index had to do:
                // the head at once, every row when asked.
                prop_assert_eq!(&exact.full_assignable(&values, &[]), &full.assignable);
                prop_assert_eq!(&best_only.full_assignable(&values, &[]), &full.assignable);
                let head = |o: &MatchOutcome| {
                    let top = o.assignable.first().map(|&(_, c)| assign::weight_of(c));
                    full.assignable
                        .iter()
                        .filter(|&&(_, c)| Some(assign::weight_of(c)) == top)
                        .copied()
                        .collect::<Vec<_>>()
                };
                prop_assert!(full.complete);
                for o in [&indexed, &best] {
                    prop_assert_eq!(o.assignable.first(), full.assignable.first());
                    if !o.complete {
                        prop_assert_eq!(&o.assignable, &head(o));
                    } else {
                        prop_assert_eq!(&o.assignable, &full.assignable);
                    }
                }
                if one_to_one {
                    let above: Vec<(u32, f64)> = (0..rows.len() as u32)
                        .map(|r| exact.score_row(&values, r))
                        .filter(|c| c.confidence > 0.0 && c.confidence >= exact.config().threshold)
                        .map(|c| (c.row, c.confidence))
                        .collect();
                    let mut above = above;
                    above.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    above.truncate(assignment_candidates);
                    prop_assert_eq!(&full.assignable, &above);
                } else {
                    prop_assert!(full.assignable.is_empty());
                }
                all_full.push(full.clone());
                all_indexed.push(indexed.clone());
                all_best.push(best.clone());
                let (best_key, full_key) = (outcome_key(&best), outcome_key(&full));
                prop_assert_eq!(best_key.first(), full_key.first());
                prop_assert_eq!(best.matched, full.matched);
                // Scoring a candidate's row on its own gives that candidate.
                for c in &full.candidates {
                    prop_assert_eq!(&exact.score_row(&values, c.row), c);
                }
                // A rejected best row is never proposed, and the next best takes its place.
                if let Some(top) = full.candidates.first() {
                    let without = exact.match_one(&values, Mode::Indexed, &[top.row]);
                    let full_without = exact.match_one(&values, Mode::Exhaustive, &[top.row]);
                    prop_assert!(without.candidates.iter().all(|c| c.row != top.row));
                    prop_assert!(without.assignable.iter().all(|&(r, _)| r != top.row));
                    prop_assert_eq!(outcome_key(&without), outcome_key(&full_without));
                    prop_assert_eq!(
                        &exact.full_assignable(&values, &[top.row]),
                        &full_without.assignable
                    );
                }
            }
            // After assignment the index still answers what a full scan does, in any
            // document order, and no row is matched twice.
            let ids: Vec<String> = (0..docs.len()).map(|i| format!("doc{i:02}")).collect();
            let raw_full = all_full.clone();
            let texts: Vec<Vec<Option<String>>> = docs
                .iter()
                .map(|d| (0..6).map(|k| Some(value(d[k], if k == 5 { 1 } else { k }))).collect())
                .collect();
            let pool = thread_pool(2).unwrap();
            exact.settle_with(&mut all_indexed, &texts, &pool);
            best_only.settle_with(&mut all_best, &texts, &pool);
            prop_assert!(exact.unsettled(&all_indexed).is_empty());
            exact.assign(&mut all_full, &ids);
            exact.assign(&mut all_indexed, &ids);
            best_only.assign(&mut all_best, &ids);
            let key = |o: &MatchOutcome| (o.matched, o.confidence, o.assigned);
            let full_keys: Vec<_> = all_full.iter().map(key).collect();
            prop_assert_eq!(all_indexed.iter().map(key).collect::<Vec<_>>(), full_keys.clone());
            prop_assert_eq!(all_best.iter().map(key).collect::<Vec<_>>(), full_keys.clone());
            let mut reversed: Vec<MatchOutcome> = raw_full.iter().rev().cloned().collect();
            let reversed_ids: Vec<String> = ids.iter().rev().cloned().collect();
            exact.assign(&mut reversed, &reversed_ids);
            let mut back: Vec<_> = reversed.iter().map(key).collect();
            back.reverse();
            prop_assert_eq!(back, full_keys);
            let mut used: Vec<u32> = all_full.iter().filter_map(|o| o.matched).collect();
            let n = used.len();
            used.sort_unstable();
            used.dedup();
            prop_assert!(!one_to_one || used.len() == n);
        }
    }
}
