//! Runs: the queue, their lifecycle columns, owners and heartbeats, and the batches of results
//! a run writes. Status changes are single UPDATEs guarded by the expected current status, so
//! two processes sharing a database never both take a run or both finish it.

use r2d2_sqlite::rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use r2d2_sqlite::rusqlite::{params, OptionalExtension, Row, Transaction};
use serde_json::{json, Value};

use super::compact::{StoredCandidates, StoredDetail};
use super::documents::Target;
use super::reference::VersionRef;
use super::{cursor_page, iso, new_id, now_ms, CursorPage, Position, Store, WorkspaceId};
use crate::error::{Error, Result};
use crate::matcher::combine::round4;

/// A run's status (docs/CONTRACT.md, Runs): `queued -> running -> completed | failed |
/// cancelled`, and `completed -> ai_resolving -> completed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
    AiResolving,
}

impl RunStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::AiResolving,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::AiResolving => "ai_resolving",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl serde::Serialize for RunStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromSql for RunStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        RunStatus::parse(text)
            .ok_or_else(|| FromSqlError::Other(format!("unknown run status {text:?}").into()))
    }
}

/// A run's progress as `GET /v1/matching/runs/:id/progress` answers it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RunProgress {
    pub id: String,
    pub status: RunStatus,
    /// `queued`, `loading`, `indexing`, `matching`, `ai_resolving` or `done`.
    pub phase: String,
    /// Within the phase, 0 to 1.
    pub phase_progress: f64,
    pub rows_total: Option<i64>,
    pub rows_processed: Option<i64>,
    pub rows_matched: Option<i64>,
    pub elapsed_ms: Option<i64>,
    /// Estimated from the rate so far while running; null while queued; 0 once ended.
    pub eta_ms: Option<i64>,
}

/// A run taken off the queue by this process.
#[derive(Clone, Debug)]
pub struct ClaimedRun {
    pub id: String,
    pub workspace: WorkspaceId,
    pub config_id: String,
    pub config_snapshot: String,
    pub reference_version_id: i64,
    pub target: Target,
}

/// One document's result as the runner produced it.
#[derive(Clone, Debug)]
pub struct NewResult {
    pub document_id: String,
    pub document_external_id: Option<String>,
    pub document_filename: Option<String>,
    pub matched_reference_row_id: Option<String>,
    pub confidence: f64,
    /// The candidates and evidence in their stored form.
    pub detail: StoredDetail,
    /// A one-to-one assignment moved the match off the first candidate.
    pub assigned: bool,
}

/// Counters a batch adds to its run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub rows_processed: i64,
    pub rows_matched: i64,
    pub confidence_sum: f64,
}

pub(super) const RUN_COLUMNS: &str =
    "seq, id, config_id, status, triggered_by, rows_processed, rows_matched,
    avg_confidence, started_at, completed_at, error, created_at, reference_version";

/// A run as stored, its fields in the order run detail shows them (docs/CONTRACT.md, Runs).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredRun {
    pub id: String,
    pub matching_config_id: String,
    pub status: RunStatus,
    pub triggered_by: String,
    pub rows_processed: Option<i64>,
    pub rows_matched: Option<i64>,
    pub avg_confidence: Option<f64>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub reference_version: i64,
}

pub(super) fn from_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<(i64, StoredRun)> {
    Ok((
        r.get(0)?,
        StoredRun {
            id: r.get(1)?,
            matching_config_id: r.get(2)?,
            status: r.get(3)?,
            triggered_by: r.get(4)?,
            rows_processed: r.get(5)?,
            rows_matched: r.get(6)?,
            avg_confidence: r.get(7)?,
            started_at: r.get(8)?,
            completed_at: r.get(9)?,
            error: r.get(10)?,
            created_at: r.get(11)?,
            reference_version: r.get(12)?,
        },
    ))
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "run",
        id: id.to_string(),
    }
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub fn insert_run(
        &self,
        ws: WorkspaceId,
        config_id: &str,
        config_snapshot: &str,
        version: VersionRef,
        target: &Target,
        triggered_by: &str,
    ) -> Result<StoredRun> {
        let id = self.write(|tx| {
            insert_run(
                tx,
                ws,
                &NewRun {
                    config_id,
                    config_snapshot,
                    version,
                    target,
                    triggered_by,
                },
            )
        })?;
        self.get_run(ws, &id)
    }

    /// The run object without results.
    pub fn get_run(&self, ws: WorkspaceId, id: &str) -> Result<StoredRun> {
        self.conn()?
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1 AND workspace_id = ?2"),
                params![id, ws.0],
                from_row,
            )
            .optional()?
            .map(|(_, v)| v)
            .ok_or_else(|| not_found(id))
    }

    pub fn run_status(&self, ws: WorkspaceId, id: &str) -> Result<RunStatus> {
        self.conn()?
            .query_row(
                "SELECT status FROM runs WHERE id = ?1 AND workspace_id = ?2",
                params![id, ws.0],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| not_found(id))
    }

    /// `{id,status,phase,phase_progress,rows_total,rows_processed,rows_matched,elapsed_ms,eta_ms}`.
    pub fn run_progress(&self, ws: WorkspaceId, id: &str) -> Result<RunProgress> {
        let row = self
            .conn()?
            .query_row(
                "SELECT status, phase, phase_progress, rows_total, rows_processed, rows_matched,
                     started_ms, completed_ms
                 FROM runs WHERE id = ?1 AND workspace_id = ?2",
                params![id, ws.0],
                |r| {
                    Ok((
                        r.get::<_, RunStatus>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, f64>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                        r.get::<_, Option<i64>>(7)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| not_found(id))?;
        let (status, phase, phase_progress, total, processed, matched, started, completed) = row;
        let elapsed = started.map(|s| completed.unwrap_or_else(now_ms).saturating_sub(s).max(0));
        let eta = match (status, elapsed, total, processed) {
            (RunStatus::Running, Some(elapsed), Some(total), Some(done))
                if done > 0 && total >= done =>
            {
                Some(elapsed.saturating_mul(total - done) / done)
            }
            (RunStatus::Running | RunStatus::Queued, ..) => None,
            _ => Some(0),
        };
        Ok(RunProgress {
            id: id.to_string(),
            status,
            phase,
            phase_progress: round4(phase_progress),
            rows_total: total,
            rows_processed: processed,
            rows_matched: matched,
            elapsed_ms: elapsed,
            eta_ms: eta,
        })
    }

    pub fn list_runs(
        &self,
        ws: WorkspaceId,
        config_id: Option<&str>,
        status: Option<RunStatus>,
        at: Position<'_>,
        limit: usize,
    ) -> Result<CursorPage<StoredRun>> {
        let (before, offset) = at.bounds()?;
        let status = status.map(RunStatus::as_str);
        let conn = self.conn()?;
        let filter = "workspace_id = ?1 AND (?2 IS NULL OR config_id = ?2)
                      AND (?3 IS NULL OR status = ?3)";
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM runs WHERE {filter}"),
            params![ws.0, config_id, status],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE {filter} AND seq < ?4
             ORDER BY seq DESC LIMIT ?5 OFFSET ?6"
        ))?;
        let rows = stmt
            .query_map(
                params![ws.0, config_id, status, before, limit as i64 + 1, offset],
                from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cursor_page(rows, limit, total))
    }

    /// Takes one particular queued run for `owner`; false when another process took it first.
    pub fn claim_run(&self, run_id: &str, owner: &str) -> Result<bool> {
        let now = now_ms();
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE runs SET status = 'running', phase = 'loading', phase_progress = 0,
                     owner = ?1, heartbeat_ms = ?2, started_ms = ?2, started_at = ?3,
                     rows_processed = 0, rows_matched = 0, confidence_sum = 0
                 WHERE id = ?4 AND status = 'queued'",
                params![owner, now, iso(now), run_id],
            )? == 1)
        })
    }

    /// A run this process claimed, as the runner executes it.
    pub fn claimed_run(&self, run_id: &str) -> Result<ClaimedRun> {
        let row = self.conn()?.query_row(
            "SELECT id, workspace_id, config_id, config_snapshot, reference_version_id,
                 target_type, target_value
             FROM runs WHERE id = ?1",
            [run_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            },
        )?;
        let (id, ws, config_id, snapshot, version_id, kind, value) = row;
        let value: Value = serde_json::from_str(&value).unwrap_or(json!({}));
        let target = Target::from_json(Some(&Value::String(kind)), Some(&value))?;
        Ok(ClaimedRun {
            id,
            workspace: WorkspaceId(ws),
            config_id,
            config_snapshot: snapshot,
            reference_version_id: version_id,
            target,
        })
    }

    /// Takes the oldest queued run for `owner`, or None when the queue is empty.
    pub fn claim_next_run(&self, owner: &str) -> Result<Option<ClaimedRun>> {
        loop {
            let next: Option<String> = self
                .conn()?
                .query_row(
                    "SELECT id FROM runs WHERE status = 'queued' ORDER BY seq LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(id) = next else {
                return Ok(None);
            };
            // Another process may take it between the two statements; then try the next one.
            if self.claim_run(&id, owner)? {
                return self.claimed_run(&id).map(Some);
            }
        }
    }

    pub fn set_phase(
        &self,
        ws: WorkspaceId,
        run_id: &str,
        phase: &str,
        rows_total: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET phase = ?1, phase_progress = 0,
                     rows_total = coalesce(?2, rows_total), heartbeat_ms = ?3
                 WHERE id = ?4 AND workspace_id = ?5 AND status = 'running'",
                params![phase, rows_total, now_ms(), run_id, ws.0],
            )?;
            Ok(())
        })
    }

    /// How far the current phase has got, 0..1, when no batch of results says it (a
    /// one-to-one run matches every document before it writes any).
    pub fn set_phase_progress(&self, ws: WorkspaceId, run_id: &str, progress: f64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET phase_progress = ?1, heartbeat_ms = ?2
                 WHERE id = ?3 AND workspace_id = ?4 AND status = 'running'",
                params![progress.clamp(0.0, 1.0), now_ms(), run_id, ws.0],
            )?;
            Ok(())
        })
    }

    /// Stores a batch of results and advances the run's counters, in one transaction.
    pub fn save_results(
        &self,
        run_id: &str,
        ws: WorkspaceId,
        results: &[NewResult],
        progress: Progress,
    ) -> Result<()> {
        self.write(|tx| {
            insert_results(tx, run_id, ws, results)?;
            tx.execute(
                "UPDATE runs SET rows_processed = rows_processed + ?1,
                     rows_matched = rows_matched + ?2, confidence_sum = confidence_sum + ?3,
                     phase_progress = CASE WHEN rows_total > 0
                         THEN (rows_processed + ?1) * 1.0 / rows_total ELSE 1 END,
                     heartbeat_ms = ?4
                 WHERE id = ?5 AND workspace_id = ?6",
                params![
                    progress.rows_processed,
                    progress.rows_matched,
                    progress.confidence_sum,
                    now_ms(),
                    run_id,
                    ws.0
                ],
            )?;
            Ok(())
        })
    }

    /// Ends a running run: `completed`, `failed` (with `error`) or `cancelled`.
    pub fn finish_run(
        &self,
        ws: WorkspaceId,
        run_id: &str,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<()> {
        let now = now_ms();
        let status = status.as_str();
        self.write(|tx| {
            let ended = tx.execute(
                "UPDATE runs SET status = ?1, error = ?2, phase = 'done', phase_progress = 1,
                     completed_ms = ?3, completed_at = ?4, owner = NULL,
                     avg_confidence = CASE WHEN rows_matched > 0
                         THEN round(confidence_sum / rows_matched, 4) END
                 WHERE id = ?5 AND workspace_id = ?6 AND status = 'running'",
                params![status, error, now, iso(now), run_id, ws.0],
            )?;
            if ended == 1 {
                announce(tx, ws, run_id)?;
            }
            Ok(())
        })
    }

    /// Refreshes the heartbeat of `owner`'s running runs; returns those asked to cancel.
    pub fn heartbeat(&self, owner: &str) -> Result<Vec<String>> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET heartbeat_ms = ?1
                 WHERE owner = ?2 AND status IN ('running', 'ai_resolving')",
                params![now_ms(), owner],
            )?;
            let mut stmt = tx.prepare(
                "SELECT id FROM runs WHERE owner = ?1 AND status = 'running' AND cancel_requested = 1",
            )?;
            let ids = stmt
                .query_map([owner], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(ids)
        })
    }

    /// Fails running runs whose owner has not been heard of for `stale_ms`: the process that
    /// executed them stopped. Returns how many.
    pub fn fail_stale_runs(&self, stale_ms: i64, me: &str) -> Result<usize> {
        let now = now_ms();
        self.write(|tx| {
            let stale = {
                let mut stmt = tx.prepare(
                    "SELECT id, workspace_id FROM runs
                     WHERE status IN ('running', 'ai_resolving') AND heartbeat_ms < ?1
                         AND owner IS NOT ?2",
                )?;
                let rows = stmt
                    .query_map(params![now - stale_ms, me], |r| {
                        Ok((r.get::<_, String>(0)?, WorkspaceId(r.get(1)?)))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                rows
            };
            let failed = tx.execute(
                "UPDATE runs SET status = 'failed', phase = 'done', owner = NULL,
                     completed_ms = ?1, completed_at = ?2,
                     avg_confidence = CASE WHEN rows_matched > 0
                         THEN round(confidence_sum / rows_matched, 4) END,
                     error = 'the process running it (' || coalesce(owner, 'unknown') ||
                         ') stopped: no heartbeat since ' ||
                         strftime('%Y-%m-%dT%H:%M:%fZ', heartbeat_ms / 1000.0, 'unixepoch')
                 WHERE status IN ('running', 'ai_resolving') AND heartbeat_ms < ?3
                     AND owner IS NOT ?4",
                params![now, iso(now), now - stale_ms, me],
            )?;
            for (id, ws) in &stale {
                announce(tx, *ws, id)?;
            }
            Ok(failed)
        })
    }

    /// Cancels a queued run at once; asks the owner of a running one to stop (it keeps the
    /// results saved so far). Any other status is `409 conflict`.
    pub fn cancel_run(&self, ws: WorkspaceId, id: &str) -> Result<RunStatus> {
        let now = now_ms();
        self.write(|tx| {
            let status: RunStatus = tx
                .query_row(
                    "SELECT status FROM runs WHERE id = ?1 AND workspace_id = ?2",
                    params![id, ws.0],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| not_found(id))?;
            match status {
                RunStatus::Queued => {
                    tx.execute(
                        "UPDATE runs SET status = 'cancelled', phase = 'done',
                             completed_ms = ?1, completed_at = ?2
                         WHERE id = ?3",
                        params![now, iso(now), id],
                    )?;
                    announce(tx, ws, id)?;
                }
                RunStatus::Running => {
                    tx.execute(
                        "UPDATE runs SET cancel_requested = 1 WHERE id = ?1",
                        params![id],
                    )?;
                }
                other => {
                    return Err(Error::Conflict(format!(
                        "the run is {other}; only a queued or running run can be cancelled"
                    )))
                }
            }
            Ok(status)
        })
    }

    /// Puts a running run back in the queue as if it never started: its partial results
    /// (with any reviews of them) are removed, in one transaction.
    pub fn requeue_run(&self, ws: WorkspaceId, run_id: &str) -> Result<()> {
        self.write(|tx| {
            let of_run = "SELECT id FROM results WHERE run_id = ?1 AND workspace_id = ?2";
            tx.execute(
                &format!("DELETE FROM reviews WHERE result_id IN ({of_run})"),
                params![run_id, ws.0],
            )?;
            tx.execute(
                &format!("DELETE FROM exclusions WHERE result_id IN ({of_run})"),
                params![run_id, ws.0],
            )?;
            tx.execute(
                "DELETE FROM results WHERE run_id = ?1 AND workspace_id = ?2",
                params![run_id, ws.0],
            )?;
            tx.execute(
                "UPDATE runs SET status = 'queued', phase = 'queued', phase_progress = 0,
                     owner = NULL, heartbeat_ms = NULL, started_at = NULL, started_ms = NULL,
                     rows_total = NULL, rows_processed = NULL, rows_matched = NULL,
                     confidence_sum = NULL, cancel_requested = 0,
                     results_version = results_version + 1
                 WHERE id = ?1 AND workspace_id = ?2 AND status = 'running'",
                params![run_id, ws.0],
            )?;
            Ok(())
        })
    }

    /// Marks a completed run `ai_resolving` for `owner`; any other status is `409`.
    pub fn begin_resolve(&self, ws: WorkspaceId, run_id: &str, owner: &str) -> Result<()> {
        let now = now_ms();
        self.write(|tx| {
            let status: String = tx
                .query_row(
                    "SELECT status FROM runs WHERE id = ?1 AND workspace_id = ?2",
                    params![run_id, ws.0],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| not_found(run_id))?;
            if status != "completed" {
                return Err(Error::Conflict(format!(
                    "the run is {status}; only a completed run can be resolved"
                )));
            }
            tx.execute(
                "UPDATE runs SET status = 'ai_resolving', phase = 'ai_resolving',
                     phase_progress = 0, owner = ?1, heartbeat_ms = ?2
                 WHERE id = ?3",
                params![owner, now, run_id],
            )?;
            Ok(())
        })
    }

    /// Returns a resolving run to `completed`.
    pub fn end_resolve(&self, ws: WorkspaceId, run_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET status = 'completed', phase = 'done', phase_progress = 1,
                     owner = NULL
                 WHERE id = ?1 AND workspace_id = ?2 AND status = 'ai_resolving'",
                params![run_id, ws.0],
            )?;
            Ok(())
        })
    }

    /// The frozen config of a run and whether it resolves automatically (smart run).
    pub fn run_config(&self, ws: WorkspaceId, run_id: &str) -> Result<(String, String, bool)> {
        self.conn()?
            .query_row(
                "SELECT config_id, config_snapshot, auto_resolve FROM runs
                 WHERE id = ?1 AND workspace_id = ?2",
                params![run_id, ws.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0)),
            )
            .optional()?
            .ok_or_else(|| not_found(run_id))
    }

    /// Marks a queued run as a smart run.
    pub fn set_auto_resolve(&self, ws: WorkspaceId, run_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET auto_resolve = 1 WHERE id = ?1 AND workspace_id = ?2",
                params![run_id, ws.0],
            )?;
            Ok(())
        })
    }

    /// How many runs have each status, in one workspace or all of them (for `/metrics`).
    pub fn runs_by_status(&self, ws: Option<WorkspaceId>) -> Result<Vec<(String, i64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT status, count(*) FROM runs WHERE ?1 IS NULL OR workspace_id = ?1
             GROUP BY status ORDER BY status",
        )?;
        let rows = stmt
            .query_map([ws.map(|w| w.0)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Rows a reviewer rejected, per document, for runs of `config_id`.
    pub fn exclusions(&self, ws: WorkspaceId, config_id: &str) -> Result<Vec<(String, String)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT document_id, reference_row_id FROM exclusions
             WHERE workspace_id = ?1 AND config_id = ?2 ORDER BY document_id, reference_row_id",
        )?;
        let rows = stmt
            .query_map(params![ws.0, config_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// Writes the webhook deliveries of a run that just ended (`run.completed`, `run.failed`,
/// `run.cancelled`), in the transaction that ended it: the outbox row exists exactly when
/// the end does. The event's data is the run object.
fn announce(tx: &Transaction<'_>, ws: WorkspaceId, run_id: &str) -> Result<()> {
    let (_, run) = tx.query_row(
        &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1 AND workspace_id = ?2"),
        params![run_id, ws.0],
        from_row,
    )?;
    let event = match run.status {
        RunStatus::Completed => "run.completed",
        RunStatus::Failed => "run.failed",
        RunStatus::Cancelled => "run.cancelled",
        _ => return Ok(()),
    };
    super::webhooks::enqueue(tx, ws, event, &run)?;
    Ok(())
}

/// A run to queue, as `insert_run` writes it.
pub struct NewRun<'a> {
    pub config_id: &'a str,
    pub config_snapshot: &'a str,
    pub version: VersionRef,
    pub target: &'a Target,
    pub triggered_by: &'a str,
}

/// Queues a run inside a caller's transaction (a package run queues its slots' runs with
/// its documents, all or nothing); returns its id.
pub(super) fn insert_run(
    tx: &Transaction<'_>,
    ws: WorkspaceId,
    run: &NewRun<'_>,
) -> Result<String> {
    let id = new_id();
    tx.execute(
        "INSERT INTO runs (id, workspace_id, config_id, config_snapshot, reference_version_id,
             reference_version, target_type, target_value, status, phase, triggered_by,
             created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', 'queued', ?9, ?10)",
        params![
            id,
            ws.0,
            run.config_id,
            run.config_snapshot,
            run.version.id,
            run.version.version,
            run.target.kind(),
            run.target.value().to_string(),
            run.triggered_by,
            iso(now_ms())
        ],
    )?;
    Ok(id)
}

fn insert_results(
    tx: &Transaction<'_>,
    run_id: &str,
    ws: WorkspaceId,
    results: &[NewResult],
) -> Result<()> {
    // Counts of this run's results kept for its pages are stale from here on.
    tx.prepare_cached("UPDATE runs SET results_version = results_version + 1 WHERE id = ?1")?
        .execute([run_id])?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO results (id, run_id, workspace_id, document_id, document_external_id,
             document_filename, matched_reference_row_id, confidence, evidence, candidates,
             assigned)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for r in results {
        let candidates: &dyn r2d2_sqlite::rusqlite::ToSql = match &r.detail.candidates {
            StoredCandidates::Compact(bytes) => bytes,
            StoredCandidates::Json(text) => text,
        };
        stmt.execute(params![
            new_id(),
            run_id,
            ws.0,
            r.document_id,
            r.document_external_id,
            r.document_filename,
            r.matched_reference_row_id,
            r.confidence,
            r.detail.evidence,
            candidates,
            r.assigned
        ])?;
    }
    Ok(())
}

/// The run queries against a temporary database (`testkit`'s fixture: a table, two
/// documents and a config).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{fixture, queue_run as queue};

    #[test]
    fn the_queue_hands_out_runs_in_order_and_each_to_one_owner() {
        let f = fixture();
        let (first, second) = (queue(&f), queue(&f));
        let claimed = f
            .store
            .claim_next_run("a")
            .expect("the queue")
            .expect("a run");
        assert_eq!(claimed.id, first);
        assert!(
            !f.store.claim_run(&first, "b").expect("a claim"),
            "taken twice"
        );
        let next = f
            .store
            .claim_next_run("b")
            .expect("the queue")
            .expect("a run");
        assert_eq!(next.id, second);
        assert!(f.store.claim_next_run("c").expect("the queue").is_none());
        let running = f
            .store
            .list_runs(f.ws, None, Some(RunStatus::Running), Position::First, 10)
            .expect("runs");
        assert_eq!(running.total, 2);
    }

    #[test]
    fn cancel_asks_a_running_run_to_stop_and_an_ended_run_cannot_be_cancelled() {
        let f = fixture();
        let run = queue(&f);
        assert!(f.store.claim_run(&run, "a").expect("a claim"));
        assert_eq!(
            f.store.cancel_run(f.ws, &run).expect("asked"),
            RunStatus::Running
        );
        assert_eq!(
            f.store.heartbeat("a").expect("a heartbeat"),
            vec![run.clone()]
        );
        f.store
            .finish_run(f.ws, &run, RunStatus::Cancelled, None)
            .expect("ended");
        // Finishing again changes nothing: only a running run can end.
        f.store
            .finish_run(f.ws, &run, RunStatus::Completed, None)
            .expect("a no-op");
        assert_eq!(
            f.store.run_status(f.ws, &run).expect("status"),
            RunStatus::Cancelled
        );
        let again = f.store.cancel_run(f.ws, &run).expect_err("already ended");
        assert_eq!(again.http().status, 409);
    }

    #[test]
    fn a_silent_owner_s_run_fails_but_never_the_caller_s_own() {
        let f = fixture();
        let run = queue(&f);
        assert!(f.store.claim_run(&run, "a").expect("a claim"));
        // Every heartbeat is older than "a second from now".
        assert_eq!(f.store.fail_stale_runs(-1_000, "a").expect("checked"), 0);
        assert_eq!(f.store.fail_stale_runs(-1_000, "b").expect("checked"), 1);
        let failed = f.store.get_run(f.ws, &run).expect("the run");
        assert_eq!(failed.status, RunStatus::Failed);
        assert!(
            failed
                .error
                .as_deref()
                .unwrap_or("")
                .contains("(a) stopped"),
            "{failed:?}"
        );
    }
}
