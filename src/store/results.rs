//! Results of runs: the pages the API shows, confidence descending then document id, and
//! reviews. A review updates its result, appends to the review log and keeps the exclusion
//! list (rows rejected for a document under a config) in step, all in one transaction.

use r2d2_sqlite::rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use r2d2_sqlite::rusqlite::{params, OptionalExtension, Row, ToSql, Transaction};
use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::compact::{self, Compact, StoredJson};
use super::{now_iso, Store, WorkspaceId};
use crate::error::{Error, Result};
use crate::matcher::CandidateEvidence;

/// Filters of `GET /v1/matching/runs/:id/results`.
#[derive(Clone, Debug, Default)]
pub struct ResultFilter {
    pub status: Option<ReviewStatus>,
    pub matched: Option<bool>,
    pub min_confidence: Option<f64>,
    pub max_confidence: Option<f64>,
    /// One document's results: its id or the caller's id (`?document_id=`).
    pub document_id: Option<String>,
}

/// A run's results counted by confidence hundredth (index 0..=100): all of them, and the
/// approved and rejected ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    pub all: Vec<i64>,
    pub approved: Vec<i64>,
    pub rejected: Vec<i64>,
}

/// A result as the resolver reads it.
#[derive(Clone, Debug)]
pub struct ResolveInput {
    pub id: String,
    pub confidence: f64,
    pub matched: Option<String>,
    /// A person reviewed it: the resolver leaves it alone.
    pub reviewed: bool,
    /// Its candidates, best first.
    pub candidates: Vec<CandidateEvidence>,
}

/// A reviewed result as the resolver learns from it.
#[derive(Clone, Debug)]
pub struct ReviewedResult {
    /// Approved; else rejected.
    pub approved: bool,
    pub matched: Option<String>,
    pub candidates: Vec<CandidateEvidence>,
}

/// A review decision as the API takes it.
#[derive(Clone, Debug)]
pub struct Review {
    pub status: ReviewStatus,
    /// `Some(None)` clears the notes; `None` leaves them.
    pub notes: Option<Option<String>>,
    pub reference_row_id: Option<String>,
    pub reviewed_by: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewStatus {
    Pending,
    Approved,
    Rejected,
}

impl ReviewStatus {
    pub fn parse(text: &str) -> Option<ReviewStatus> {
        match text {
            "pending" => Some(ReviewStatus::Pending),
            "approved" => Some(ReviewStatus::Approved),
            "rejected" => Some(ReviewStatus::Rejected),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
        }
    }
}

impl Serialize for ReviewStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl FromSql for ReviewStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        ReviewStatus::parse(text)
            .ok_or_else(|| FromSqlError::Other(format!("unknown review status {text:?}").into()))
    }
}

const COLUMNS: &str = "id, document_id, document_external_id, document_filename,
    matched_reference_row_id, confidence, status, evidence, candidates, notes, reviewed_at,
    reviewed_by, resolved_by, confidence_before, assigned";

const ORDER: &str = "ORDER BY confidence DESC, document_id";

/// A result in the seed example's key order. Evidence and candidates are passed through
/// as stored (text as it is, compact candidates serialised from their bytes): run detail
/// is the hottest read, and parsing 50 results' candidates into values only to print them
/// again would dominate its cost.
#[derive(Debug, Serialize)]
pub struct ResultRow {
    pub id: String,
    pub document_id: String,
    pub document_external_id: Option<String>,
    pub document_filename: Option<String>,
    pub matched_reference_row_id: Option<String>,
    pub confidence: f64,
    pub status: ReviewStatus,
    pub evidence: Option<StoredJson>,
    pub candidates: StoredJson,
    pub notes: Option<String>,
    pub reviewed_at: Option<String>,
    pub reviewed_by: Option<String>,
    pub resolved_by: Option<String>,
    pub confidence_before: Option<f64>,
    /// A one-to-one assignment moved the match off the first candidate (ext).
    pub assigned: bool,
}

/// The run object followed by its best results.
#[derive(Debug, Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: Map<String, Value>,
    pub results: Vec<ResultRow>,
}

impl RunDetail {
    /// The JSON text of run detail: the same bytes as serialising it with serde_json,
    /// written by hand so that compact candidates are rendered straight into the body
    /// (serialising through serde formats every key and string of every candidate anew).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(&self.run).unwrap_or_else(|_| b"{}".to_vec());
        out.pop();
        if !self.run.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"results\":[");
        for (i, row) in self.results.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            row.write_json(&mut out);
        }
        out.extend_from_slice(b"]}");
        out
    }
}

/// What a run's results look like under one filter, as last counted: the total, and for
/// pages deep in the list the sort key (`confidence`, `document_id`) of every
/// `ANCHOR_STRIDE`th result, so that page 1000 seeks to the nearest anchor instead of
/// stepping over 50,000 index entries (`OFFSET`).
#[derive(Clone, Debug)]
struct Counted {
    version: i64,
    total: i64,
    anchors: Option<Arc<Vec<(f64, String)>>>,
    used: u64,
}

/// Results pages seek to the sort key of every this-many-th result.
const ANCHOR_STRIDE: usize = 1000;

/// Totals (and anchors) of results pages by workspace, run and filter, each with the
/// `results_version` of its run it was counted at: reused only while the run's results are
/// unchanged. At most `CAPACITY` are kept; past that the least recently used half goes.
#[derive(Debug, Default)]
pub struct PageCounts {
    counted: std::collections::HashMap<String, Counted>,
    clock: u64,
}

impl PageCounts {
    const CAPACITY: usize = 256;

    fn get(&mut self, key: &str, version: i64) -> Option<Counted> {
        self.clock += 1;
        let clock = self.clock;
        match self.counted.get_mut(key) {
            Some(counted) if counted.version == version => {
                counted.used = clock;
                Some(counted.clone())
            }
            _ => None,
        }
    }

    fn put(&mut self, key: String, mut counted: Counted) {
        if self.counted.len() >= Self::CAPACITY {
            let mut ages: Vec<u64> = self.counted.values().map(|c| c.used).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            self.counted.retain(|_, c| c.used > cut);
        }
        self.clock += 1;
        counted.used = self.clock;
        self.counted.insert(key, counted);
    }
}

/// `{"data": [...], "pagination": {total, page, limit}}` of a results page, written the
/// way run detail is (compact candidates straight into the body): the same bytes as
/// serialising it with serde_json.
pub fn page_json(rows: &[ResultRow], total: i64, page: usize, limit: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 4096 + 64);
    out.extend_from_slice(b"{\"data\":[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        row.write_json(&mut out);
    }
    out.extend_from_slice(
        format!("],\"pagination\":{{\"total\":{total},\"page\":{page},\"limit\":{limit}}}}}")
            .as_bytes(),
    );
    out
}

impl ResultRow {
    /// Appends the result's JSON text, the same bytes as serialising it.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        fn value(out: &mut Vec<u8>, key: &str, value: &impl Serialize) {
            out.extend_from_slice(key.as_bytes());
            // Writing into a Vec does not fail.
            let _ = serde_json::to_writer(&mut *out, value);
        }
        value(out, "{\"id\":", &self.id);
        value(out, ",\"document_id\":", &self.document_id);
        value(
            out,
            ",\"document_external_id\":",
            &self.document_external_id,
        );
        value(out, ",\"document_filename\":", &self.document_filename);
        value(
            out,
            ",\"matched_reference_row_id\":",
            &self.matched_reference_row_id,
        );
        value(out, ",\"confidence\":", &self.confidence);
        value(out, ",\"status\":", &self.status);
        out.extend_from_slice(b",\"evidence\":");
        match &self.evidence {
            Some(evidence) => evidence.write(out),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"candidates\":");
        self.candidates.write(out);
        value(out, ",\"notes\":", &self.notes);
        value(out, ",\"reviewed_at\":", &self.reviewed_at);
        value(out, ",\"reviewed_by\":", &self.reviewed_by);
        value(out, ",\"resolved_by\":", &self.resolved_by);
        value(out, ",\"confidence_before\":", &self.confidence_before);
        value(out, ",\"assigned\":", &self.assigned);
        out.push(b'}');
    }
}

fn raw(text: Option<String>) -> Option<Box<RawValue>> {
    text.and_then(|t| RawValue::from_string(t).ok())
}

/// A result's `(evidence, candidates)` JSON text from the `evidence` and `candidates`
/// columns, whichever form (`compact`) they are stored in. Candidates that cannot be read
/// (a database written by something else) read as none rather than failing.
pub(super) fn detail_text(
    evidence: Option<String>,
    candidates: ValueRef<'_>,
) -> (Option<String>, Option<String>) {
    match candidates {
        ValueRef::Blob(bytes) => match compact::render(bytes) {
            Ok(rendered) => (
                evidence.or(rendered.first_evidence),
                Some(rendered.candidates),
            ),
            Err(compact::Corrupt) => (evidence, None),
        },
        ValueRef::Text(text) => (evidence, std::str::from_utf8(text).ok().map(str::to_string)),
        _ => (evidence, None),
    }
}

/// A result's candidates, typed (the resolver's and reviews' reads). Candidates that do
/// not read as the matcher's shape (a database written by something else) read as none.
fn stored_candidates(candidates: ValueRef<'_>) -> Vec<CandidateEvidence> {
    detail_text(None, candidates)
        .1
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// The `evidence` and `candidates` of a result row as the API serialises them: stored text
/// as it is, compact candidates written straight from their bytes (no text to build and
/// parse again on the hottest read).
fn stored_json(
    evidence: Option<String>,
    candidates: ValueRef<'_>,
) -> (Option<StoredJson>, StoredJson) {
    let text = |t: Option<String>| raw(t).map(StoredJson::Text);
    match candidates {
        ValueRef::Blob(bytes) => match Compact::new(bytes) {
            Ok(compact) => {
                let compact = Arc::new(compact);
                let evidence = match evidence {
                    Some(e) => text(Some(e)),
                    None => compact
                        .first_evidence()
                        .is_some()
                        .then(|| StoredJson::FirstEvidence(Arc::clone(&compact))),
                };
                (evidence, StoredJson::Candidates(compact))
            }
            Err(compact::Corrupt) => (text(evidence), StoredJson::Text(empty_array())),
        },
        ValueRef::Text(t) => (
            text(evidence),
            text(std::str::from_utf8(t).ok().map(str::to_string))
                .unwrap_or_else(|| StoredJson::Text(empty_array())),
        ),
        _ => (text(evidence), StoredJson::Text(empty_array())),
    }
}

fn to_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<ResultRow> {
    let (evidence, candidates) = stored_json(r.get(7)?, r.get_ref(8)?);
    Ok(ResultRow {
        id: r.get(0)?,
        document_id: r.get(1)?,
        document_external_id: r.get(2)?,
        document_filename: r.get(3)?,
        matched_reference_row_id: r.get(4)?,
        confidence: r.get(5)?,
        status: r.get(6)?,
        evidence,
        candidates,
        notes: r.get(9)?,
        reviewed_at: r.get(10)?,
        reviewed_by: r.get(11)?,
        resolved_by: r.get(12)?,
        confidence_before: r.get(13)?,
        assigned: r.get(14)?,
    })
}

fn empty_array() -> Box<RawValue> {
    RawValue::from_string("[]".into()).unwrap_or_default()
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "result",
        id: id.to_string(),
    }
}

/// Migration 4: rewrites results whose candidates are JSON text in the compact form, each
/// only if that form reads back as exactly the text stored (evidence included); the others
/// keep their text, which reads as before. In batches by `seq`, within the migration's
/// transaction. The pages freed are reused by later results; `VACUUM` returns them.
/// Migration 5: `runs.results_version` and the trigger that bumps it on reviews and
/// resolutions, each added only where missing (a database copied back to an older
/// `user_version` by hand may have them already).
pub(super) fn add_results_version(tx: &Transaction<'_>) -> Result<()> {
    let has_column: bool = tx.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('runs') WHERE name = 'results_version'",
        [],
        |r| r.get(0),
    )?;
    if !has_column {
        tx.execute_batch(
            "ALTER TABLE runs ADD COLUMN results_version INTEGER NOT NULL DEFAULT 0;",
        )?;
    }
    tx.execute_batch(
        "CREATE TRIGGER IF NOT EXISTS results_change_their_run
         AFTER UPDATE OF status, matched_reference_row_id, confidence ON results
         BEGIN
             UPDATE runs SET results_version = results_version + 1 WHERE id = NEW.run_id;
         END;",
    )?;
    Ok(())
}

pub(super) fn compact_stored_results(tx: &Transaction<'_>) -> Result<()> {
    const BATCH: i64 = 2_000;
    let mut select = tx.prepare(
        "SELECT seq, evidence, candidates FROM results
         WHERE seq > ?1 AND typeof(candidates) = 'text' ORDER BY seq LIMIT ?2",
    )?;
    let mut update =
        tx.prepare("UPDATE results SET evidence = ?1, candidates = ?2 WHERE seq = ?3")?;
    let mut after = 0i64;
    loop {
        let rows = select
            .query_map(params![after, BATCH], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.0;
        for (seq, evidence, text) in rows {
            if let Some((evidence, bytes)) = compact_exactly(evidence, &text) {
                update.execute(params![evidence, bytes, seq])?;
            }
        }
    }
    Ok(())
}

/// The compact form of a result stored as text, and its `evidence` column in that form:
/// None unless it reads back exactly as `(evidence, candidates)`.
fn compact_exactly(
    evidence: Option<String>,
    candidates: &str,
) -> Option<(Option<String>, Vec<u8>)> {
    let bytes = compact::encode_text(candidates)?;
    let rendered = compact::render(&bytes).ok()?;
    let evidence = match (evidence, rendered.first_evidence()) {
        // The compact form reads a NULL evidence as the first candidate's.
        (None, Some(_)) => return None,
        (None, None) => None,
        (Some(e), Some(first)) if e == first => None,
        (Some(e), _) => Some(e),
    };
    Some((evidence, bytes))
}

/// What a database's results take on disk (`bench server`): pages of the table and of its
/// indexes as SQLite's `dbstat` counts them, after a checkpoint moved the WAL into the file.
#[derive(Clone, Copy, Debug, Default)]
pub struct ResultsStorage {
    pub results: i64,
    pub table_bytes: i64,
    pub index_bytes: i64,
    pub file_bytes: i64,
}

impl Store {
    /// Checkpoints the WAL into the database file and measures the results table.
    pub fn results_storage(&self) -> Result<ResultsStorage> {
        let conn = self.conn()?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let results = conn.query_row("SELECT count(*) FROM results", [], |r| r.get(0))?;
        let (table_bytes, index_bytes) = conn.query_row(
            "SELECT coalesce(sum(CASE WHEN name = 'results' THEN pgsize END), 0),
                    coalesce(sum(CASE WHEN name <> 'results' THEN pgsize END), 0)
             FROM dbstat WHERE name = 'results'
                OR name IN (SELECT name FROM sqlite_schema
                            WHERE type = 'index' AND tbl_name = 'results')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let page_count: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(ResultsStorage {
            results,
            table_bytes,
            index_bytes,
            file_bytes: page_count * page_size,
        })
    }
    /// The run with its `limit` best results, read in one transaction so the counters and
    /// the results agree: what `GET /v1/matching/runs/:id` shows.
    pub fn run_detail(&self, ws: WorkspaceId, run_id: &str, limit: usize) -> Result<RunDetail> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let run = tx
            .query_row(
                &format!(
                    "SELECT {} FROM runs WHERE id = ?1 AND workspace_id = ?2",
                    super::runs::RUN_COLUMNS
                ),
                params![run_id, ws.0],
                super::runs::from_row,
            )
            .optional()?
            .map(|(_, v)| v)
            .ok_or_else(|| Error::NotFound {
                what: "run",
                id: run_id.to_string(),
            })?;
        let results = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM results WHERE run_id = ?1 AND workspace_id = ?2 {ORDER} LIMIT ?3"
            ))?;
            let rows = stmt
                .query_map(params![run_id, ws.0, limit as i64], to_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows
        };
        tx.commit()?;
        let run = match serde_json::to_value(&run) {
            Ok(Value::Object(run)) => run,
            _ => return Err(Error::Internal("cannot encode a run".into())),
        };
        Ok(RunDetail { run, results })
    }

    /// What reviewers decided on results of `config_id`'s runs, oldest first: `(document
    /// id, matched row, status)` for approved and rejected results.
    pub fn reviewed_results(
        &self,
        ws: WorkspaceId,
        config_id: &str,
    ) -> Result<Vec<(String, Option<String>, String)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT r.document_id, r.matched_reference_row_id, r.status FROM results r
             JOIN runs ON runs.id = r.run_id
             WHERE runs.config_id = ?1 AND r.workspace_id = ?2
               AND r.status IN ('approved', 'rejected')
             ORDER BY r.reviewed_at, r.seq",
        )?;
        let rows = stmt
            .query_map(params![config_id, ws.0], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Results of a run for the resolver, in result order.
    pub fn resolve_inputs(&self, ws: WorkspaceId, run_id: &str) -> Result<Vec<ResolveInput>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT id, confidence, matched_reference_row_id, reviewed_at IS NOT NULL, candidates
             FROM results WHERE run_id = ?1 AND workspace_id = ?2 {ORDER}"
        ))?;
        let rows = stmt
            .query_map(params![run_id, ws.0], |r| {
                Ok(ResolveInput {
                    id: r.get(0)?,
                    confidence: r.get(1)?,
                    matched: r.get(2)?,
                    reviewed: r.get(3)?,
                    candidates: stored_candidates(r.get_ref(4)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Reviewed results of a config's runs with their candidates, newest first: the labels
    /// the resolver learns from.
    pub fn reviewed_candidates(
        &self,
        ws: WorkspaceId,
        config_id: &str,
        limit: usize,
    ) -> Result<Vec<ReviewedResult>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT r.status = 'approved', r.matched_reference_row_id, r.candidates
             FROM results r JOIN runs ON runs.id = r.run_id
             WHERE runs.config_id = ?1 AND r.workspace_id = ?2
               AND r.status IN ('approved', 'rejected')
             ORDER BY r.seq DESC LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![config_id, ws.0, limit as i64], |r| {
                Ok(ReviewedResult {
                    approved: r.get(0)?,
                    matched: r.get(1)?,
                    candidates: stored_candidates(r.get_ref(2)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Applies the resolver's changes in one transaction, never to a reviewed result:
    /// `(result id, confidence before, new confidence, new matched row, new evidence)`.
    #[allow(clippy::type_complexity)]
    pub fn apply_resolutions(
        &self,
        ws: WorkspaceId,
        run_id: &str,
        changes: &[(String, f64, f64, Option<String>, Option<String>)],
        resolved_by: &str,
    ) -> Result<usize> {
        self.write(|tx| {
            let mut stmt = tx.prepare(
                "UPDATE results SET confidence = ?1, matched_reference_row_id = ?2,
                     evidence = coalesce(?3, evidence), resolved_by = ?4,
                     confidence_before = coalesce(confidence_before, ?5)
                 WHERE id = ?6 AND run_id = ?7 AND workspace_id = ?8 AND reviewed_at IS NULL",
            )?;
            let mut changed = 0;
            for (id, before, confidence, matched, evidence) in changes {
                changed += stmt.execute(params![
                    confidence,
                    matched,
                    evidence,
                    resolved_by,
                    before,
                    id,
                    run_id,
                    ws.0
                ])?;
            }
            Ok(changed)
        })
    }

    /// The ids of a run's results under `filter`, at most `limit`, in result order.
    pub fn result_ids(
        &self,
        ws: WorkspaceId,
        run_id: &str,
        filter: &ResultFilter,
        limit: usize,
    ) -> Result<Vec<String>> {
        let (rows, _) = self.results_page(ws, run_id, filter, 1, limit)?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// One 1-based page of a run's results under `filter`, with the filtered total, read in
    /// one transaction. Only the filters given enter the query, so the covering index
    /// (`results_by_run_filter`) answers pages and counts without reading result rows, and
    /// the total is counted once per run, filter and `results_version` (issue 17: at 100,000
    /// results counting took longer than the page itself).
    pub fn results_page(
        &self,
        ws: WorkspaceId,
        run_id: &str,
        filter: &ResultFilter,
        page: usize,
        limit: usize,
    ) -> Result<(Vec<ResultRow>, i64)> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let version: i64 = tx
            .prepare_cached("SELECT results_version FROM runs WHERE id = ?1 AND workspace_id = ?2")?
            .query_row(params![run_id, ws.0], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::NotFound {
                what: "run",
                id: run_id.to_string(),
            })?;
        let mut condition = String::from("run_id = ?1 AND workspace_id = ?2");
        let mut args: Vec<&dyn ToSql> = vec![&run_id, &ws.0];
        let matched = filter.matched.map(i64::from);
        let status = filter.status.map(ReviewStatus::as_str);
        let mut clause = |sql: &str| {
            condition.push_str(" AND ");
            condition.push_str(sql);
        };
        if let Some(status) = &status {
            clause("status = ?");
            args.push(status);
        }
        if let Some(matched) = &matched {
            clause("(matched_reference_row_id IS NOT NULL) = ?");
            args.push(matched);
        }
        if let Some(min) = &filter.min_confidence {
            clause("confidence >= ?");
            args.push(min);
        }
        if let Some(max) = &filter.max_confidence {
            clause("confidence <= ?");
            args.push(max);
        }
        if let Some(document) = &filter.document_id {
            clause("(document_id = lower(?) OR document_external_id = ?)");
            args.push(document);
            args.push(document);
        }
        // Anonymous `?` parameters after the numbered ones take the next numbers in order.
        let key = format!(
            "{}|{run_id}|{:?}|{matched:?}|{:?}|{:?}|{:?}",
            ws.0,
            filter.status,
            filter.min_confidence.map(f64::to_bits),
            filter.max_confidence.map(f64::to_bits),
            filter.document_id
        );
        let offset = (page.saturating_sub(1)).saturating_mul(limit);
        let deep = offset >= ANCHOR_STRIDE;
        let cached = self
            .page_counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key, version)
            .filter(|c| !deep || c.anchors.is_some());
        let counted = match cached {
            Some(counted) => counted,
            None => {
                let counted = if deep {
                    // One pass over the index gives the total and the anchors.
                    let mut stmt = tx.prepare_cached(&format!(
                        "SELECT confidence, document_id FROM results WHERE {condition} {ORDER}"
                    ))?;
                    let mut rows = stmt.query(&args[..])?;
                    let (mut total, mut anchors) = (0i64, Vec::new());
                    while let Some(row) = rows.next()? {
                        if total as usize % ANCHOR_STRIDE == 0 {
                            anchors.push((row.get(0)?, row.get(1)?));
                        }
                        total += 1;
                    }
                    Counted {
                        version,
                        total,
                        anchors: Some(Arc::new(anchors)),
                        used: 0,
                    }
                } else {
                    let total: i64 = tx
                        .prepare_cached(&format!("SELECT count(*) FROM results WHERE {condition}"))?
                        .query_row(&args[..], |r| r.get(0))?;
                    Counted {
                        version,
                        total,
                        anchors: None,
                        used: 0,
                    }
                };
                self.page_counts
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .put(key, counted.clone());
                counted
            }
        };
        let total = counted.total;
        // Start at the anchor at or before the offset: results from there on are those
        // ordered at or after its key (confidence descending, then document id).
        let anchor = counted
            .anchors
            .as_ref()
            .and_then(|anchors| anchors.get(offset / ANCHOR_STRIDE).cloned());
        let mut skip = offset as i64;
        if let Some((confidence, document)) = &anchor {
            skip = (offset % ANCHOR_STRIDE) as i64;
            condition.push_str(" AND confidence <= ? AND NOT (confidence = ? AND document_id < ?)");
            args.push(confidence);
            args.push(confidence);
            args.push(document);
        } else if deep {
            // Past the last result.
            tx.commit()?;
            return Ok((Vec::new(), total));
        }
        let limit = limit as i64;
        args.push(&limit);
        args.push(&skip);
        let rows = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM results WHERE {condition} {ORDER} LIMIT ? OFFSET ?"
            ))?;
            let rows = stmt
                .query_map(&args[..], to_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows
        };
        tx.commit()?;
        Ok((rows, total))
    }

    /// How many of a run's results have each confidence, in whole hundredths rounded down,
    /// in all and among those reviewers approved and rejected: `counts[h]` for `h` in
    /// 0..=100. A threshold slider needs only this to say how many results would match at
    /// each value, and how precision and recall on the reviewed ones would move, however
    /// many results the run has. Confidences are first rounded to ten-thousandths, as
    /// `eval`'s sweep does, so that 0.29 (stored as 0.28999...) falls in bucket 29.
    pub fn confidence_histogram(&self, ws: WorkspaceId, run_id: &str) -> Result<Histogram> {
        self.run_status(ws, run_id)?;
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT CAST(round(confidence * 10000) AS INTEGER) / 100 AS bucket, status, count(*)
             FROM results WHERE run_id = ?1 AND workspace_id = ?2 GROUP BY bucket, status",
        )?;
        let mut histogram = Histogram {
            all: vec![0; 101],
            approved: vec![0; 101],
            rejected: vec![0; 101],
        };
        let rows = stmt.query_map(params![run_id, ws.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (bucket, status, count) = row?;
            // Confidences are in 0..1 by construction; clamp rather than trust it.
            let bucket = bucket.clamp(0, 100) as usize;
            histogram.all[bucket] += count;
            match status.as_str() {
                "approved" => histogram.approved[bucket] += count,
                "rejected" => histogram.rejected[bucket] += count,
                _ => {}
            }
        }
        Ok(histogram)
    }

    /// Every result of a run as CSV, in result order, with its review status.
    pub fn export_results(&self, ws: WorkspaceId, run_id: &str) -> Result<Vec<u8>> {
        self.run_status(ws, run_id)?;
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT id, document_id, document_external_id, document_filename,
                 matched_reference_row_id, confidence, status, notes, reviewed_at, reviewed_by,
                 resolved_by, confidence_before,
                 CASE WHEN assigned THEN 'true' ELSE 'false' END
             FROM results WHERE run_id = ?1 AND workspace_id = ?2 {ORDER}"
        ))?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let header = [
            "result_id",
            "document_id",
            "document_external_id",
            "document_filename",
            "matched_reference_row_id",
            "confidence",
            "status",
            "notes",
            "reviewed_at",
            "reviewed_by",
            "resolved_by",
            "confidence_before",
            "assigned",
        ];
        let csv_error = |e: csv::Error| Error::Internal(format!("cannot write CSV: {e}"));
        out.write_record(header).map_err(csv_error)?;
        let mut rows = stmt.query(params![run_id, ws.0])?;
        while let Some(row) = rows.next()? {
            let text = |i: usize| -> Result<String> {
                Ok(match row.get_ref(i)? {
                    r2d2_sqlite::rusqlite::types::ValueRef::Null => String::new(),
                    r2d2_sqlite::rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    r2d2_sqlite::rusqlite::types::ValueRef::Real(x) => x.to_string(),
                    r2d2_sqlite::rusqlite::types::ValueRef::Text(t)
                    | r2d2_sqlite::rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                })
            };
            let record = (0..header.len())
                .map(|i| text(i).map(|t| crate::export::spreadsheet_safe(&t).into_owned()))
                .collect::<Result<Vec<_>>>()?;
            out.write_record(&record).map_err(csv_error)?;
        }
        out.into_inner()
            .map_err(|e| Error::Internal(format!("cannot write CSV: {e}")))
    }

    pub fn get_result(&self, ws: WorkspaceId, run_id: &str, id: &str) -> Result<ResultRow> {
        self.conn()?
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM results WHERE id = ?1 AND run_id = ?2 AND workspace_id = ?3"
                ),
                params![id, run_id, ws.0],
                to_row,
            )
            .optional()?
            .ok_or_else(|| not_found(id))
    }

    /// Applies a review to one result; returns the result as it now is.
    pub fn review_result(
        &self,
        ws: WorkspaceId,
        run_id: &str,
        result_id: &str,
        review: &Review,
    ) -> Result<ResultRow> {
        self.write(|tx| {
            let row = tx
                .query_row(
                    "SELECT r.document_id, r.matched_reference_row_id, r.candidates, runs.config_id
                     FROM results r JOIN runs ON runs.id = r.run_id
                     WHERE r.id = ?1 AND r.run_id = ?2 AND r.workspace_id = ?3",
                    params![result_id, run_id, ws.0],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            stored_candidates(r.get_ref(2)?),
                            r.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()?
                .ok_or_else(|| not_found(result_id))?;
            let (document_id, mut matched, candidates, config_id) = row;
            let now = now_iso();
            if let Some(pick) = &review.reference_row_id {
                let chosen = candidates
                    .iter()
                    .find(|c| c.reference_row_id == *pick)
                    .ok_or_else(|| {
                        Error::invalid(
                            "body",
                            "reference_row_id",
                            format!("\"{pick}\" is not one of this result's candidates"),
                        )
                    })?;
                let confidence = chosen.confidence;
                let evidence = serde_json::to_string(&chosen.evidence).ok();
                tx.execute(
                    "UPDATE results SET matched_reference_row_id = ?1, confidence = ?2,
                         evidence = ?3
                     WHERE id = ?4",
                    params![pick, confidence, evidence, result_id],
                )?;
                matched = Some(pick.clone());
            }
            match &review.notes {
                Some(notes) => tx.execute(
                    "UPDATE results SET status = ?1, notes = ?2, reviewed_at = ?3, reviewed_by = ?4
                     WHERE id = ?5",
                    params![
                        review.status.as_str(),
                        notes,
                        now,
                        review.reviewed_by,
                        result_id
                    ],
                )?,
                None => tx.execute(
                    "UPDATE results SET status = ?1, reviewed_at = ?2, reviewed_by = ?3
                     WHERE id = ?4",
                    params![review.status.as_str(), now, review.reviewed_by, result_id],
                )?,
            };
            tx.execute("DELETE FROM exclusions WHERE result_id = ?1", [result_id])?;
            if review.status == ReviewStatus::Rejected {
                if let Some(row) = &matched {
                    tx.execute(
                        "INSERT INTO exclusions
                             (result_id, workspace_id, config_id, document_id, reference_row_id)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![result_id, ws.0, config_id, document_id, row],
                    )?;
                }
            }
            tx.execute(
                "INSERT INTO reviews (workspace_id, result_id, status, reference_row_id, notes,
                     reviewed_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    ws.0,
                    result_id,
                    review.status.as_str(),
                    review.reference_row_id,
                    review.notes.clone().flatten(),
                    review.reviewed_by,
                    now
                ],
            )?;
            Ok(())
        })?;
        self.get_result(ws, run_id, result_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Run detail written by hand is byte for byte what serde_json writes for it, for
    /// every form a result's evidence and candidates can be stored in.
    #[test]
    fn hand_written_run_detail_equals_serde_json() {
        let candidates = json!([
            {"reference_row_id": "OI-1", "confidence": 0.9312, "evidence": {
                "vendor \"name\"": {"strategy": "fuzzy", "score": 0.87, "source_value": "Acmé\n",
                    "target_value": "ACME"},
                "date": {"strategy": "date_range", "score": null, "source_value": null,
                    "target_value": "2024-01-02", "missing": true}}},
            {"reference_row_id": "OI-2", "confidence": 1e-7, "evidence": {
                "vendor \"name\"": {"strategy": "fuzzy", "score": 0.1, "source_value": "Acmé\n",
                    "target_value": "Acmé\n"},
                "date": {"strategy": "date_range", "score": 0.0, "source_value": null,
                    "target_value": "x", "unparsable": true}}},
        ]);
        let typed: Vec<CandidateEvidence> =
            serde_json::from_value(candidates.clone()).expect("the matcher's shape");
        let compact =
            Arc::new(Compact::new(&compact::encode(&typed).expect("compact")).expect("reads"));
        let empty = Arc::new(Compact::new(&compact::encode(&[]).expect("compact")).expect("reads"));
        let text =
            |v: &Value| StoredJson::Text(RawValue::from_string(v.to_string()).expect("json"));
        let row = |evidence: Option<StoredJson>, candidates: StoredJson, n: usize| ResultRow {
            id: format!("r{n}"),
            document_id: "d\u{1}".into(),
            document_external_id: (n % 2 == 0).then(|| "D-1".into()),
            document_filename: None,
            matched_reference_row_id: Some("OI-1".into()),
            confidence: 0.5 + n as f64 / 3.0,
            status: ReviewStatus::Pending,
            evidence,
            candidates,
            notes: Some("a \"note\"".into()),
            reviewed_at: None,
            reviewed_by: None,
            resolved_by: Some("rules".into()),
            confidence_before: (n == 1).then_some(0.25),
            assigned: n == 2,
        };
        let rows = vec![
            row(
                Some(StoredJson::FirstEvidence(Arc::clone(&compact))),
                StoredJson::Candidates(Arc::clone(&compact)),
                0,
            ),
            row(
                Some(text(&candidates[1]["evidence"])),
                StoredJson::Candidates(Arc::clone(&compact)),
                1,
            ),
            row(None, StoredJson::Candidates(empty), 2),
            row(Some(text(&candidates[0]["evidence"])), text(&candidates), 3),
        ];
        let mut run = Map::new();
        run.insert("id".into(), json!("run-1"));
        run.insert("avg_confidence".into(), json!(0.75));
        let detail = RunDetail { run, results: rows };
        let by_hand = detail.to_json();
        assert_eq!(
            String::from_utf8(by_hand).expect("UTF-8"),
            serde_json::to_string(&detail).expect("serialises")
        );
        let bare = RunDetail {
            run: Map::new(),
            results: Vec::new(),
        };
        assert_eq!(
            bare.to_json(),
            serde_json::to_vec(&bare).expect("serialises")
        );
    }
}

/// Results pages deep in a large run (issue 17): seeking to an anchor gives exactly the
/// rows `OFFSET` gives, across ties of confidence, after reviews change what a filter
/// selects, and past the end.
#[cfg(test)]
mod deep_pages {
    use super::*;
    use crate::store::compact::StoredDetail;
    use crate::store::runs::{NewResult, Progress};
    use crate::testkit::{fixture, queue_run};

    fn ids(rows: &[ResultRow]) -> Vec<String> {
        rows.iter().map(|r| r.document_id.clone()).collect()
    }

    #[test]
    fn anchored_pages_equal_offset_pages() {
        let f = fixture();
        let run = queue_run(&f);
        f.store.claim_run(&run, "test").expect("claimed");
        // 4,321 results over 7 confidences: long ties, as real runs have at 0 and 1.
        let results: Vec<NewResult> = (0..4321)
            .map(|i| NewResult {
                document_id: format!("doc-{:05}", (i * 7919) % 4321),
                document_external_id: None,
                document_filename: None,
                matched_reference_row_id: (i % 3 == 0).then(|| "R1".to_string()),
                confidence: f64::from(i % 7) / 7.0,
                detail: StoredDetail::from_candidates(&[]),
                assigned: false,
            })
            .collect();
        f.store
            .save_results(&run, f.ws, &results, Progress::default())
            .expect("stored");
        let everything = |filter: &ResultFilter| -> Vec<String> {
            let conn = f.store.conn().expect("a connection");
            let (status, matched) = (
                filter.status.map(ReviewStatus::as_str),
                filter.matched.map(i64::from),
            );
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT document_id FROM results WHERE run_id = ?1
                       AND (?2 IS NULL OR status = ?2)
                       AND (?3 IS NULL OR (matched_reference_row_id IS NOT NULL) = ?3) {ORDER}"
                ))
                .expect("a query");
            let rows = stmt
                .query_map(params![run, status, matched], |r| r.get(0))
                .expect("rows");
            rows.collect::<Result<_, _>>().expect("ids")
        };
        let check = |filter: &ResultFilter| {
            let all = everything(filter);
            for (page, limit) in [
                (1, 50),
                (20, 50),
                (21, 50),
                (40, 50),
                (87, 50),
                (3, 500),
                (9, 500),
                (90, 50),
            ] {
                let (rows, total) = f
                    .store
                    .results_page(f.ws, &run, filter, page, limit)
                    .expect("a page");
                assert_eq!(total as usize, all.len());
                let start = ((page - 1) * limit).min(all.len());
                let end = (start + limit).min(all.len());
                assert_eq!(ids(&rows), all[start..end], "page {page} of {limit}");
            }
        };
        check(&ResultFilter::default());
        let matched = ResultFilter {
            matched: Some(true),
            ..ResultFilter::default()
        };
        check(&matched);
        // A review changes what a status filter selects: counts and anchors follow.
        let approved = ResultFilter {
            status: Some(ReviewStatus::Approved),
            ..ResultFilter::default()
        };
        check(&approved);
        let conn = f.store.conn().expect("a connection");
        conn.execute(
            "UPDATE results SET status = 'approved' WHERE run_id = ?1 AND confidence > 0.5",
            [&run],
        )
        .expect("reviewed");
        drop(conn);
        check(&approved);
        check(&ResultFilter::default());
    }
}
