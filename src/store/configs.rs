//! Matching configs as stored: the scoring part (`field_mappings`, `threshold`, ...) as JSON,
//! the reference table it reads (fixed at creation) and which documents its runs score.

use r2d2_sqlite::rusqlite::{params, OptionalExtension, Row};
use serde_json::{json, Map, Value};

use super::documents::Target;
use super::{cursor_page, new_id, now_iso, CursorPage, Position, Store, WorkspaceId};
use crate::error::{Error, Result};

/// A config as a run needs it.
#[derive(Clone, Debug)]
pub struct StoredConfig {
    pub id: String,
    pub reference_data_id: String,
    /// `field_mappings`, `threshold`, `missing_values`, `min_coverage`: a valid config JSON.
    pub body: Map<String, Value>,
    pub target: Target,
}

/// What a create or replace writes.
pub struct ConfigWrite<'a> {
    pub name: Option<&'a str>,
    pub reference_data_id: &'a str,
    pub body: &'a Map<String, Value>,
    pub target: &'a Target,
    /// A cron expression, checked, and its first slot (unix ms).
    pub schedule: Option<(&'a str, i64)>,
    pub rematch_on_new_version: bool,
}

const SELECT: &str = "SELECT seq, id, name, reference_data_id, body, target_type, target_value,
        created_at, updated_at, schedule, schedule_next_ms, rematch_on_new_version FROM configs";

/// A schedule whose slot has come.
#[derive(Clone, Debug)]
pub struct DueSchedule {
    pub config_id: String,
    pub workspace: WorkspaceId,
    pub expression: String,
    pub next_ms: i64,
}

/// A config as listed: its scoring part (`body`, the client's JSON with defaults resolved)
/// between its identity and its target.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ConfigRow {
    pub id: String,
    pub name: Option<String>,
    pub reference_data_id: String,
    #[serde(flatten)]
    pub body: Map<String, Value>,
    pub target_type: String,
    pub target_value: Value,
    /// A cron expression in the server's local time zone, or null (ext).
    pub schedule: Option<String>,
    /// When the schedule next fires (ext).
    pub next_scheduled_at: Option<String>,
    /// A new version of the table queues a run over the still pending documents (ext).
    pub rematch_on_new_version: bool,
    pub created_at: String,
    pub updated_at: String,
}

fn from_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<(i64, ConfigRow)> {
    let body: String = r.get(4)?;
    let target_value: String = r.get(6)?;
    Ok((
        r.get(0)?,
        ConfigRow {
            id: r.get(1)?,
            name: r.get(2)?,
            reference_data_id: r.get(3)?,
            body: match serde_json::from_str::<Value>(&body) {
                Ok(Value::Object(body)) => body,
                _ => Map::new(),
            },
            target_type: r.get(5)?,
            target_value: serde_json::from_str(&target_value).unwrap_or(json!({})),
            schedule: r.get(9)?,
            next_scheduled_at: r
                .get::<_, Option<String>>(9)?
                .and(r.get::<_, Option<i64>>(10)?)
                .map(super::iso),
            rematch_on_new_version: r.get(11)?,
            created_at: r.get(7)?,
            updated_at: r.get(8)?,
        },
    ))
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "matching config",
        id: id.to_string(),
    }
}

impl Store {
    pub fn insert_config(&self, ws: WorkspaceId, config: &ConfigWrite<'_>) -> Result<ConfigRow> {
        let id = new_id();
        let now = now_iso();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO configs (id, workspace_id, reference_data_id, name, body,
                     target_type, target_value, created_at, updated_at, schedule,
                     schedule_next_ms, rematch_on_new_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11)",
                params![
                    id,
                    ws.0,
                    config.reference_data_id,
                    config.name,
                    Value::Object(config.body.clone()).to_string(),
                    config.target.kind(),
                    config.target.value().to_string(),
                    now,
                    config.schedule.map(|s| s.0),
                    config.schedule.map(|s| s.1),
                    config.rematch_on_new_version
                ],
            )?;
            Ok(())
        })?;
        self.get_config_row(ws, &id)
    }

    /// Replaces name, scoring and target; the reference table stays.
    pub fn replace_config(
        &self,
        ws: WorkspaceId,
        id: &str,
        config: &ConfigWrite<'_>,
    ) -> Result<ConfigRow> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE configs SET name = ?1, body = ?2, target_type = ?3, target_value = ?4,
                     updated_at = ?5, schedule = ?8, schedule_next_ms = ?9,
                     rematch_on_new_version = ?10
                 WHERE id = ?6 AND workspace_id = ?7 AND deleted_at IS NULL",
                params![
                    config.name,
                    Value::Object(config.body.clone()).to_string(),
                    config.target.kind(),
                    config.target.value().to_string(),
                    now_iso(),
                    id,
                    ws.0,
                    config.schedule.map(|s| s.0),
                    config.schedule.map(|s| s.1),
                    config.rematch_on_new_version
                ],
            )?)
        })?;
        if changed == 0 {
            return Err(not_found(id));
        }
        self.get_config_row(ws, id)
    }

    pub fn delete_config(&self, ws: WorkspaceId, id: &str) -> Result<()> {
        self.soft_delete("configs", "matching config", ws, id)
    }

    pub fn get_config_row(&self, ws: WorkspaceId, id: &str) -> Result<ConfigRow> {
        self.conn()?
            .query_row(
                &format!("{SELECT} WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL"),
                params![id, ws.0],
                from_row,
            )
            .optional()?
            .map(|(_, v)| v)
            .ok_or_else(|| not_found(id))
    }

    pub fn get_config(&self, ws: WorkspaceId, id: &str) -> Result<StoredConfig> {
        let row = self
            .conn()?
            .query_row(
                "SELECT reference_data_id, body, target_type, target_value FROM configs
                 WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
                params![id, ws.0],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| not_found(id))?;
        let (reference_data_id, body, kind, value) = row;
        let body = match serde_json::from_str(&body) {
            Ok(Value::Object(body)) => body,
            _ => return Err(Error::Internal(format!("config {id} is stored corrupt"))),
        };
        let value: Value = serde_json::from_str(&value).unwrap_or(json!({}));
        let target = Target::from_json(Some(&Value::String(kind)), Some(&value))?;
        Ok(StoredConfig {
            id: id.to_string(),
            reference_data_id,
            body,
            target,
        })
    }

    pub fn list_configs(
        &self,
        ws: WorkspaceId,
        at: Position<'_>,
        limit: usize,
    ) -> Result<CursorPage<ConfigRow>> {
        let (before, offset) = at.bounds()?;
        let conn = self.conn()?;
        let total: i64 = conn.query_row(
            "SELECT count(*) FROM configs WHERE workspace_id = ?1 AND deleted_at IS NULL",
            [ws.0],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "{SELECT} WHERE workspace_id = ?1 AND deleted_at IS NULL AND seq < ?2
             ORDER BY seq DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt
            .query_map(params![ws.0, before, limit as i64 + 1, offset], from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cursor_page(rows, limit, total))
    }

    /// Live configs whose schedule's next slot is at or before `now_ms`, in every workspace.
    pub fn due_schedules(&self, now_ms: i64) -> Result<Vec<DueSchedule>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, workspace_id, schedule, schedule_next_ms FROM configs
             WHERE schedule IS NOT NULL AND schedule_next_ms <= ?1 AND deleted_at IS NULL
             ORDER BY schedule_next_ms, seq",
        )?;
        let rows = stmt
            .query_map([now_ms], |r| {
                Ok(DueSchedule {
                    config_id: r.get(0)?,
                    workspace: WorkspaceId(r.get(1)?),
                    expression: r.get(2)?,
                    next_ms: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Fires a due schedule: moves its slot to `next_ms` (none: the schedule never fires
    /// again) and queues a run of the config (`triggered_by: "scheduled"`) on its table's
    /// current version, in one transaction. `None` when another server fired the slot
    /// first, or when the config's table was deleted (the slot moves on, nothing runs).
    pub fn fire_schedule(&self, due: &DueSchedule, next_ms: Option<i64>) -> Result<Option<String>> {
        self.write(|tx| {
            let moved = tx.execute(
                "UPDATE configs SET schedule_next_ms = ?1
                 WHERE id = ?2 AND schedule_next_ms = ?3 AND deleted_at IS NULL",
                params![next_ms, due.config_id, due.next_ms],
            )?;
            if moved == 0 {
                return Ok(None);
            }
            queue_config_run(tx, due.workspace, &due.config_id, None, "scheduled")
        })
    }
}

/// Queues a run of a live config on its table's current version, inside a transaction:
/// over `documents` when given, else the config's own target. `None` when the table was
/// deleted.
pub(super) fn queue_config_run(
    tx: &r2d2_sqlite::rusqlite::Transaction<'_>,
    ws: WorkspaceId,
    config_id: &str,
    documents: Option<Vec<String>>,
    triggered_by: &str,
) -> Result<Option<String>> {
    let found = tx
        .query_row(
            "SELECT c.body, c.target_type, c.target_value, v.id, v.version FROM configs c
             JOIN reference_tables t ON t.id = c.reference_data_id AND t.deleted_at IS NULL
             JOIN reference_versions v ON v.table_id = t.id AND v.version = t.current_version
             WHERE c.id = ?1 AND c.workspace_id = ?2 AND c.deleted_at IS NULL",
            params![config_id, ws.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((body, kind, value, version_id, version)) = found else {
        return Ok(None);
    };
    let target = match documents {
        Some(ids) => Target::Documents(ids),
        None => {
            let value: Value = serde_json::from_str(&value).unwrap_or(json!({}));
            Target::from_json(Some(&Value::String(kind)), Some(&value))?
        }
    };
    let id = super::runs::insert_run(
        tx,
        ws,
        &super::runs::NewRun {
            config_id,
            config_snapshot: &body,
            version: super::reference::VersionRef {
                id: version_id,
                version,
            },
            target: &target,
            triggered_by,
        },
    )?;
    Ok(Some(id))
}

/// After a new version of table `table_id`: queues, for each live config of it with
/// `rematch_on_new_version`, a run (`triggered_by: "reference_update"`) over the documents
/// whose latest result under that config is still pending review (unmatched or not);
/// reviewed documents are never decided again. Package documents stay with their package.
/// Returns the runs queued.
pub(super) fn queue_rematch_runs(
    tx: &r2d2_sqlite::rusqlite::Transaction<'_>,
    ws: WorkspaceId,
    table_id: &str,
) -> Result<Vec<String>> {
    let configs: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT id FROM configs WHERE reference_data_id = ?1 AND workspace_id = ?2
             AND rematch_on_new_version = 1 AND deleted_at IS NULL ORDER BY seq",
        )?;
        let rows = stmt
            .query_map(params![table_id, ws.0], |r| r.get(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows
    };
    let mut runs = Vec::new();
    for config_id in configs {
        let documents: Vec<String> = {
            let mut stmt = tx.prepare(
                "WITH latest AS (
                     SELECT r.document_id, max(r.seq) AS seq FROM results r
                     JOIN runs x ON x.id = r.run_id
                     WHERE x.config_id = ?1 AND x.workspace_id = ?2
                     GROUP BY r.document_id)
                 SELECT l.document_id FROM latest l
                 JOIN results r ON r.seq = l.seq
                 JOIN documents d ON d.id = l.document_id
                 WHERE r.status = 'pending' AND d.deleted_at IS NULL
                     AND d.package_run_id IS NULL
                 ORDER BY d.seq",
            )?;
            let rows = stmt
                .query_map(params![config_id, ws.0], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?;
            rows
        };
        if documents.is_empty() {
            continue;
        }
        if let Some(run) =
            queue_config_run(tx, ws, &config_id, Some(documents), "reference_update")?
        {
            runs.push(run);
        }
    }
    Ok(runs)
}
