//! Reference tables and their versions. Each upload is a new version with its own rows, so a
//! run that recorded a version reads the same rows forever; the table's `current_version`
//! is what new runs use.

use std::borrow::Cow;

use r2d2_sqlite::rusqlite::{params, OptionalExtension, Row, Transaction};
use serde_json::Value;

use super::{cursor_page, new_id, now_iso, CursorPage, Position, Store, WorkspaceId};
use crate::error::{Error, Result};
use crate::matcher::ReferenceTable;

/// A table to store: its rows and the inferred type of each column (`string`, `integer`, ...).
pub struct NewVersion<'a> {
    pub name: Option<&'a str>,
    pub source_type: &'a str,
    pub table: &'a ReferenceTable,
    pub column_types: Vec<&'static str>,
}

/// The version a run reads: its row id in `reference_versions` and its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionRef {
    pub id: i64,
    pub version: i64,
}

const SELECT: &str = "SELECT t.id, t.name, v.source_type, v.version, v.row_count, v.columns,
        t.created_at, t.updated_at, t.seq
    FROM reference_tables t
    JOIN reference_versions v ON v.table_id = t.id AND v.version = t.current_version";

/// A reference table as listed: its current version's shape. Imports are synchronous, so
/// a stored table is always `ready`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredReference {
    pub id: String,
    pub name: String,
    pub source_type: String,
    pub status: &'static str,
    pub version: i64,
    pub row_count: i64,
    pub columns: Vec<ColumnInfo>,
    pub created_at: String,
    pub updated_at: String,
}

/// A column and the type inferred from its values (`string`, `integer`, `number`, `date`,
/// `empty`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

fn from_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<(i64, StoredReference)> {
    let columns: String = r.get(5)?;
    Ok((
        r.get(8)?,
        StoredReference {
            id: r.get(0)?,
            name: r.get(1)?,
            source_type: r.get(2)?,
            status: "ready",
            version: r.get(3)?,
            row_count: r.get(4)?,
            columns: serde_json::from_str(&columns).unwrap_or_default(),
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        },
    ))
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "reference data",
        id: id.to_string(),
    }
}

fn insert_rows(tx: &Transaction<'_>, version_id: i64, table: &ReferenceTable) -> Result<()> {
    let mut stmt = tx.prepare(
        "INSERT INTO reference_rows (version_id, ordinal, row_id, vals) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut values: Vec<&str> = Vec::with_capacity(table.columns.len());
    for row in 0..table.len() {
        values.clear();
        values.extend(table.values.iter().map(|c| c.get(row)));
        let vals = serde_json::to_string(&values)
            .map_err(|e| Error::Internal(format!("cannot encode a row: {e}")))?;
        stmt.execute(params![version_id, row as i64, table.id(row), vals])?;
    }
    Ok(())
}

impl Store {
    /// Stores a new table (`replace` = None) or a new version of table `replace`, in one
    /// transaction. Returns the table as the API shows it.
    pub fn insert_reference(
        &self,
        ws: WorkspaceId,
        replace: Option<&str>,
        new: &NewVersion<'_>,
    ) -> Result<StoredReference> {
        let columns: Vec<ColumnInfo> = new
            .table
            .columns
            .iter()
            .zip(&new.column_types)
            .map(|(name, kind)| ColumnInfo {
                name: name.clone(),
                kind: kind.to_string(),
            })
            .collect();
        let columns = serde_json::to_string(&columns)
            .map_err(|e| Error::Internal(format!("cannot encode columns: {e}")))?;
        let now = now_iso();
        let id = self.write(|tx| {
            let (id, version) = match replace {
                None => {
                    let id = new_id();
                    let name = new.name.unwrap_or("reference data");
                    tx.execute(
                        "INSERT INTO reference_tables
                             (id, workspace_id, name, current_version, created_at, updated_at)
                         VALUES (?1, ?2, ?3, 1, ?4, ?4)",
                        params![id, ws.0, name, now],
                    )?;
                    (id, 1)
                }
                Some(id) => {
                    let current: i64 = tx
                        .query_row(
                            "SELECT current_version FROM reference_tables
                             WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
                            params![id, ws.0],
                            |r| r.get(0),
                        )
                        .optional()?
                        .ok_or_else(|| not_found(id))?;
                    tx.execute(
                        "UPDATE reference_tables
                         SET current_version = ?1, updated_at = ?2, name = coalesce(?3, name)
                         WHERE id = ?4",
                        params![current + 1, now, new.name, id],
                    )?;
                    (id.to_string(), current + 1)
                }
            };
            tx.execute(
                "INSERT INTO reference_versions
                     (table_id, workspace_id, version, source_type, columns, row_count, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    ws.0,
                    version,
                    new.source_type,
                    columns,
                    new.table.len() as i64,
                    now
                ],
            )?;
            insert_rows(tx, tx.last_insert_rowid(), new.table)?;
            // A new version re-matches the pending documents of the configs that ask.
            if replace.is_some() {
                super::configs::queue_rematch_runs(tx, ws, &id)?;
            }
            Ok(id)
        })?;
        self.get_reference(ws, &id)
    }

    pub fn get_reference(&self, ws: WorkspaceId, id: &str) -> Result<StoredReference> {
        self.conn()?
            .query_row(
                &format!(
                    "{SELECT} WHERE t.id = ?1 AND t.workspace_id = ?2 AND t.deleted_at IS NULL"
                ),
                params![id, ws.0],
                from_row,
            )
            .optional()?
            .map(|(_, v)| v)
            .ok_or_else(|| not_found(id))
    }

    pub fn list_references(
        &self,
        ws: WorkspaceId,
        at: Position<'_>,
        limit: usize,
    ) -> Result<CursorPage<StoredReference>> {
        let (before, offset) = at.bounds()?;
        let conn = self.conn()?;
        let total: i64 = conn.query_row(
            "SELECT count(*) FROM reference_tables WHERE workspace_id = ?1 AND deleted_at IS NULL",
            [ws.0],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "{SELECT} WHERE t.workspace_id = ?1 AND t.deleted_at IS NULL AND t.seq < ?2
             ORDER BY t.seq DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt
            .query_map(params![ws.0, before, limit as i64 + 1, offset], from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cursor_page(rows, limit, total))
    }

    /// The current version of a live table: what a new run or config reads.
    pub fn current_version(&self, ws: WorkspaceId, id: &str) -> Result<(VersionRef, Vec<String>)> {
        let (version_id, version, columns): (i64, i64, String) = self
            .conn()?
            .query_row(
                "SELECT v.id, v.version, v.columns FROM reference_tables t
                 JOIN reference_versions v ON v.table_id = t.id AND v.version = t.current_version
                 WHERE t.id = ?1 AND t.workspace_id = ?2 AND t.deleted_at IS NULL",
                params![id, ws.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| not_found(id))?;
        let columns: Vec<Value> = serde_json::from_str(&columns).unwrap_or_default();
        let names = columns
            .iter()
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from))
            .collect();
        Ok((
            VersionRef {
                id: version_id,
                version,
            },
            names,
        ))
    }

    /// Soft-deletes a table: runs that recorded one of its versions keep their rows.
    pub fn delete_reference(&self, ws: WorkspaceId, id: &str) -> Result<()> {
        self.soft_delete("reference_tables", "reference data", ws, id)
    }

    /// One page (1-based) of the current version's rows: `({id, ...columns}, total)`.
    pub fn reference_rows(
        &self,
        ws: WorkspaceId,
        id: &str,
        page: usize,
        limit: usize,
    ) -> Result<(Vec<Value>, i64)> {
        let (version, columns) = self.current_version(ws, id)?;
        let conn = self.conn()?;
        let total: i64 = conn.query_row(
            "SELECT row_count FROM reference_versions WHERE id = ?1",
            [version.id],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(
            "SELECT row_id, vals FROM reference_rows WHERE version_id = ?1
             ORDER BY ordinal LIMIT ?2 OFFSET ?3",
        )?;
        let offset = (page.saturating_sub(1) as i64).saturating_mul(limit as i64);
        let rows = stmt
            .query_map(params![version.id, limit as i64, offset], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let data = rows
            .into_iter()
            .map(|(row_id, vals)| {
                let vals: Vec<Cow<'_, str>> = serde_json::from_str(&vals).unwrap_or_default();
                let mut object = serde_json::Map::new();
                object.insert("id".into(), Value::String(row_id));
                for (column, value) in columns.iter().zip(vals) {
                    if column != "id" {
                        object.insert(column.clone(), Value::String(value.into_owned()));
                    }
                }
                Value::Object(object)
            })
            .collect();
        Ok((data, total))
    }

    /// The current version of a table as CSV (`id` then its columns), produced page by page
    /// while it is sent; with the table's name.
    pub fn export_reference(
        &self,
        ws: WorkspaceId,
        id: &str,
    ) -> Result<(Box<dyn std::io::Read + Send>, String)> {
        let (version, columns) = self.current_version(ws, id)?;
        let name = self.get_reference(ws, id)?.name;
        let mut header = csv::Writer::from_writer(Vec::new());
        let mut names = vec!["id".to_string()];
        names.extend(
            columns
                .iter()
                .filter(|c| *c != "id")
                .map(|c| crate::export::spreadsheet_safe(c).into_owned()),
        );
        let _ = header.write_record(&names);
        let header = header.into_inner().unwrap_or_default();
        Ok((
            Box::new(ExportReader {
                store: self.clone(),
                version_id: version.id,
                columns,
                next_ordinal: 0,
                buffer: header,
                position: 0,
                done: false,
            }),
            name,
        ))
    }

    /// Whether the table of a version was deleted (a run queued before cannot use it).
    pub fn version_deleted(&self, ws: WorkspaceId, version_id: i64) -> Result<Option<String>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT t.id FROM reference_versions v JOIN reference_tables t ON t.id = v.table_id
                 WHERE v.id = ?1 AND v.workspace_id = ?2 AND t.deleted_at IS NOT NULL",
                params![version_id, ws.0],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every row of a version, in upload order, as the matcher holds them.
    pub fn load_version(&self, ws: WorkspaceId, version_id: i64) -> Result<ReferenceTable> {
        let conn = self.conn()?;
        let columns: String = conn
            .query_row(
                "SELECT columns FROM reference_versions WHERE id = ?1 AND workspace_id = ?2",
                params![version_id, ws.0],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::Internal(format!("reference version {version_id} is gone")))?;
        let columns: Vec<Value> = serde_json::from_str(&columns)
            .map_err(|e| Error::Internal(format!("stored columns are not JSON: {e}")))?;
        let names = columns
            .iter()
            .map(|c| {
                c.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        let mut table = ReferenceTable::new(names);
        let mut stmt = conn.prepare(
            "SELECT row_id, vals FROM reference_rows WHERE version_id = ?1 ORDER BY ordinal",
        )?;
        let mut rows = stmt.query([version_id])?;
        while let Some(row) = rows.next()? {
            let id = row.get_ref(0)?.as_str().map_err(rusqlite_from)?;
            let vals = row.get_ref(1)?.as_str().map_err(rusqlite_from)?;
            let vals: Vec<Cow<'_, str>> = serde_json::from_str(vals)
                .map_err(|e| Error::Internal(format!("a stored row is not JSON: {e}")))?;
            table.push_row(id, vals.iter().map(|v| v.as_ref()));
        }
        Ok(table)
    }
}

fn rusqlite_from(e: r2d2_sqlite::rusqlite::types::FromSqlError) -> Error {
    Error::Database(r2d2_sqlite::rusqlite::Error::FromSqlConversionFailure(
        0,
        r2d2_sqlite::rusqlite::types::Type::Text,
        Box::new(e),
    ))
}

/// Reads a version's rows as CSV, 1,000 rows per query, so an export of any size is sent
/// without holding it in memory.
struct ExportReader {
    store: Store,
    version_id: i64,
    columns: Vec<String>,
    next_ordinal: i64,
    buffer: Vec<u8>,
    position: usize,
    done: bool,
}

impl ExportReader {
    fn refill(&mut self) -> Result<()> {
        self.buffer.clear();
        self.position = 0;
        let conn = self.store.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT ordinal, row_id, vals FROM reference_rows
             WHERE version_id = ?1 AND ordinal >= ?2 ORDER BY ordinal LIMIT 1000",
        )?;
        let rows = stmt
            .query_map(params![self.version_id, self.next_ordinal], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            self.done = true;
            return Ok(());
        }
        let mut out = csv::Writer::from_writer(std::mem::take(&mut self.buffer));
        for (ordinal, row_id, vals) in rows {
            let vals: Vec<Cow<'_, str>> = serde_json::from_str(&vals).unwrap_or_default();
            let mut record = vec![crate::export::spreadsheet_safe(&row_id).into_owned()];
            record.extend(
                self.columns
                    .iter()
                    .zip(vals)
                    .filter(|(c, _)| *c != "id")
                    .map(|(_, v)| crate::export::spreadsheet_safe(&v).into_owned()),
            );
            out.write_record(&record)
                .map_err(|e| Error::Internal(format!("cannot write CSV: {e}")))?;
            self.next_ordinal = ordinal + 1;
        }
        self.buffer = out
            .into_inner()
            .map_err(|e| Error::Internal(format!("cannot write CSV: {e}")))?;
        Ok(())
    }
}

impl std::io::Read for ExportReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.position >= self.buffer.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        let n = buf.len().min(self.buffer.len() - self.position);
        buf[..n].copy_from_slice(&self.buffer[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}
