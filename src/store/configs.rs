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
}

const SELECT: &str = "SELECT seq, id, name, reference_data_id, body, target_type, target_value,
        created_at, updated_at FROM configs";

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
                     target_type, target_value, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    id,
                    ws.0,
                    config.reference_data_id,
                    config.name,
                    Value::Object(config.body.clone()).to_string(),
                    config.target.kind(),
                    config.target.value().to_string(),
                    now
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
                     updated_at = ?5
                 WHERE id = ?6 AND workspace_id = ?7 AND deleted_at IS NULL",
                params![
                    config.name,
                    Value::Object(config.body.clone()).to_string(),
                    config.target.kind(),
                    config.target.value().to_string(),
                    now_iso(),
                    id,
                    ws.0
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
}
