//! Results of runs: the pages the API shows, confidence descending then document id, and
//! reviews. A review updates its result, appends to the review log and keeps the exclusion
//! list (rows rejected for a document under a config) in step, all in one transaction.

use r2d2_sqlite::rusqlite::{params, OptionalExtension, Row, ToSql};
use serde_json::{json, Map, Value};

use super::{now_iso, Store, WorkspaceId};
use crate::error::{Error, Result};

/// Filters of `GET /v1/matching/runs/:id/results`.
#[derive(Clone, Debug, Default)]
pub struct ResultFilter {
    pub status: Option<String>,
    pub matched: Option<bool>,
    pub min_confidence: Option<f64>,
    pub max_confidence: Option<f64>,
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

const COLUMNS: &str = "id, document_id, document_external_id, document_filename,
    matched_reference_row_id, confidence, status, evidence, candidates, notes, reviewed_at,
    reviewed_by, resolved_by, confidence_before";

const ORDER: &str = "ORDER BY confidence DESC, document_id";

fn parse_json(text: Option<String>) -> Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

/// A result in the seed example's key order.
fn to_json(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(r.get::<_, String>(0)?));
    o.insert("document_id".into(), json!(r.get::<_, String>(1)?));
    o.insert(
        "document_external_id".into(),
        json!(r.get::<_, Option<String>>(2)?),
    );
    o.insert(
        "document_filename".into(),
        json!(r.get::<_, Option<String>>(3)?),
    );
    o.insert(
        "matched_reference_row_id".into(),
        json!(r.get::<_, Option<String>>(4)?),
    );
    o.insert("confidence".into(), json!(r.get::<_, f64>(5)?));
    o.insert("status".into(), json!(r.get::<_, String>(6)?));
    o.insert("evidence".into(), parse_json(r.get(7)?));
    let candidates = parse_json(r.get(8)?);
    o.insert(
        "candidates".into(),
        if candidates.is_null() {
            json!([])
        } else {
            candidates
        },
    );
    o.insert("notes".into(), json!(r.get::<_, Option<String>>(9)?));
    o.insert("reviewed_at".into(), json!(r.get::<_, Option<String>>(10)?));
    o.insert("reviewed_by".into(), json!(r.get::<_, Option<String>>(11)?));
    o.insert("resolved_by".into(), json!(r.get::<_, Option<String>>(12)?));
    o.insert(
        "confidence_before".into(),
        json!(r.get::<_, Option<f64>>(13)?),
    );
    Ok(Value::Object(o))
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "result",
        id: id.to_string(),
    }
}

impl Store {
    /// The run with its `limit` best results, read in one transaction so the counters and
    /// the results agree: what `GET /v1/matching/runs/:id` shows.
    pub fn run_detail(&self, ws: WorkspaceId, run_id: &str, limit: usize) -> Result<Value> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let run = tx
            .query_row(
                &format!(
                    "SELECT {} FROM runs WHERE id = ?1 AND workspace_id = ?2",
                    super::runs::RUN_COLUMNS
                ),
                params![run_id, ws.0],
                super::runs::to_json,
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
                .query_map(params![run_id, ws.0, limit as i64], to_json)?
                .collect::<Result<Vec<_>, _>>()?;
            rows
        };
        tx.commit()?;
        let mut run = run;
        if let Value::Object(object) = &mut run {
            object.insert("results".into(), Value::Array(results));
        }
        Ok(run)
    }

    /// The run's `limit` best results.
    pub fn top_results(&self, ws: WorkspaceId, run_id: &str, limit: usize) -> Result<Vec<Value>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM results WHERE run_id = ?1 AND workspace_id = ?2 {ORDER} LIMIT ?3"
        ))?;
        let rows = stmt
            .query_map(params![run_id, ws.0, limit as i64], to_json)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// One 1-based page of a run's results under `filter`, with the filtered total.
    pub fn results_page(
        &self,
        ws: WorkspaceId,
        run_id: &str,
        filter: &ResultFilter,
        page: usize,
        limit: usize,
    ) -> Result<(Vec<Value>, i64)> {
        let conn = self.conn()?;
        let condition = "run_id = ?1 AND workspace_id = ?2
            AND (?3 IS NULL OR status = ?3)
            AND (?4 IS NULL OR (matched_reference_row_id IS NOT NULL) = ?4)
            AND (?5 IS NULL OR confidence >= ?5)
            AND (?6 IS NULL OR confidence <= ?6)";
        let offset = (page.saturating_sub(1) as i64).saturating_mul(limit as i64);
        let args: [&dyn ToSql; 8] = [
            &run_id,
            &ws.0,
            &filter.status,
            &filter.matched,
            &filter.min_confidence,
            &filter.max_confidence,
            &(limit as i64),
            &offset,
        ];
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM results WHERE {condition}"),
            &args[..6],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM results WHERE {condition} {ORDER} LIMIT ?7 OFFSET ?8"
        ))?;
        let rows = stmt
            .query_map(&args[..], to_json)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((rows, total))
    }

    pub fn get_result(&self, ws: WorkspaceId, run_id: &str, id: &str) -> Result<Value> {
        self.conn()?
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM results WHERE id = ?1 AND run_id = ?2 AND workspace_id = ?3"
                ),
                params![id, run_id, ws.0],
                to_json,
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
    ) -> Result<Value> {
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
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()?
                .ok_or_else(|| not_found(result_id))?;
            let (document_id, mut matched, candidates, config_id) = row;
            let now = now_iso();
            if let Some(pick) = &review.reference_row_id {
                let candidates: Vec<Value> = serde_json::from_str(&candidates).unwrap_or_default();
                let chosen = candidates
                    .iter()
                    .find(|c| c.get("reference_row_id").and_then(Value::as_str) == Some(pick))
                    .ok_or_else(|| {
                        Error::invalid(
                            "body",
                            "reference_row_id",
                            format!("\"{pick}\" is not one of this result's candidates"),
                        )
                    })?;
                let confidence = chosen
                    .get("confidence")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                let evidence = chosen.get("evidence").map(Value::to_string);
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
