//! Package configs and package runs. A package run is begun in one transaction that stores
//! its documents (belonging to it, `documents.package_run_id`), queues one matching run per
//! slot that has documents and writes the package run itself as `error` ("did not finish");
//! once every slot has run, `finish_package_run` writes the decision. Deleting a package
//! config deletes its package runs (their slots' matching runs stay, like any run).

use r2d2_sqlite::rusqlite::{params, OptionalExtension, Row};
use serde_json::{Map, Value};

use super::documents::Target;
use super::reference::VersionRef;
use super::runs::{insert_run, NewRun};
use super::{cursor_page, new_id, now_iso, CursorPage, Position, Store, WorkspaceId};
use crate::error::{Error, Result};
use crate::package::{PackageRecord, PackageSpec, Verdict};

/// A package config as stored and shown.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredPackageConfig {
    pub id: String,
    #[serde(flatten)]
    pub spec: PackageSpec,
    pub created_at: String,
    pub updated_at: String,
}

/// A package run as stored and shown.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredPackageRun {
    pub id: String,
    pub package_config_id: String,
    pub status: Verdict,
    #[serde(flatten)]
    pub record: PackageRecord,
    pub error: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
}

/// One slot's matching run to queue with a package run's documents.
pub struct SlotRun<'a> {
    pub config_id: &'a str,
    pub config_snapshot: &'a str,
    pub version: VersionRef,
    /// Indexes into `NewPackageRun::documents`.
    pub documents: Vec<usize>,
}

/// A document a package run brings: the caller's id and its values.
pub struct PackageDocument<'a> {
    pub external_id: &'a str,
    pub fields: &'a Map<String, Value>,
}

pub struct NewPackageRun<'a> {
    pub package_config_id: &'a str,
    pub documents: Vec<PackageDocument<'a>>,
    /// One per slot of the config, in its order; `None` for a slot without documents.
    pub slots: Vec<Option<SlotRun<'a>>>,
    pub record: &'a PackageRecord,
}

/// What `begin_package_run` stored: the package run's id, the ids given to the documents
/// (in input order) and each slot's run id.
#[derive(Clone, Debug)]
pub struct BegunPackageRun {
    pub id: String,
    pub document_ids: Vec<String>,
    pub run_ids: Vec<Option<String>>,
}

const UNFINISHED: &str = "the package run did not finish: the server stopped while its slots ran";

/// A JSON text column read into `T`; text that does not read is a conversion failure.
fn json_column<T: serde::de::DeserializeOwned>(
    r: &Row<'_>,
    i: usize,
) -> r2d2_sqlite::rusqlite::Result<T> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text).map_err(|e| {
        r2d2_sqlite::rusqlite::Error::FromSqlConversionFailure(
            i,
            r2d2_sqlite::rusqlite::types::Type::Text,
            Box::new(e),
        )
    })
}

fn config_from_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<(i64, StoredPackageConfig)> {
    let spec = json_column(r, 2)?;
    Ok((
        r.get(0)?,
        StoredPackageConfig {
            id: r.get(1)?,
            spec,
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
        },
    ))
}

fn run_from_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<(i64, StoredPackageRun)> {
    let status: String = r.get(3)?;
    let record = json_column(r, 4)?;
    Ok((
        r.get(0)?,
        StoredPackageRun {
            id: r.get(1)?,
            package_config_id: r.get(2)?,
            status: Verdict::parse(&status).unwrap_or(Verdict::Error),
            record,
            error: r.get(5)?,
            created_at: r.get(6)?,
            completed_at: r.get(7)?,
        },
    ))
}

const CONFIG_SELECT: &str = "SELECT seq, id, body, created_at, updated_at FROM package_configs";
const RUN_SELECT: &str = "SELECT seq, id, package_config_id, status, body, error, created_at,
    completed_at FROM package_runs";

fn config_not_found(id: &str) -> Error {
    Error::NotFound {
        what: "package config",
        id: id.to_string(),
    }
}

fn encode(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("cannot encode: {e}")))
}

impl Store {
    pub fn insert_package_config(
        &self,
        ws: WorkspaceId,
        spec: &PackageSpec,
    ) -> Result<StoredPackageConfig> {
        let id = new_id();
        let now = now_iso();
        let body = encode(spec)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO package_configs (id, workspace_id, name, body, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![id, ws.0, spec.name, body, now],
            )?;
            Ok(())
        })?;
        self.get_package_config(ws, &id)
    }

    pub fn get_package_config(&self, ws: WorkspaceId, id: &str) -> Result<StoredPackageConfig> {
        self.conn()?
            .query_row(
                &format!("{CONFIG_SELECT} WHERE id = ?1 AND workspace_id = ?2"),
                params![id, ws.0],
                config_from_row,
            )
            .optional()?
            .map(|(_, c)| c)
            .ok_or_else(|| config_not_found(id))
    }

    pub fn list_package_configs(
        &self,
        ws: WorkspaceId,
        at: Position<'_>,
        limit: usize,
    ) -> Result<CursorPage<StoredPackageConfig>> {
        let (before, offset) = at.bounds()?;
        let conn = self.conn()?;
        let total: i64 = conn.query_row(
            "SELECT count(*) FROM package_configs WHERE workspace_id = ?1",
            [ws.0],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "{CONFIG_SELECT} WHERE workspace_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt
            .query_map(
                params![ws.0, before, limit as i64 + 1, offset],
                config_from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cursor_page(rows, limit, total))
    }

    /// Deletes a package config and its package runs, in one transaction; returns how many
    /// runs went. The slots' matching runs and their results stay.
    pub fn delete_package_config(&self, ws: WorkspaceId, id: &str) -> Result<usize> {
        self.write(|tx| {
            let runs = tx.execute(
                "DELETE FROM package_runs WHERE package_config_id = ?1 AND workspace_id = ?2",
                params![id, ws.0],
            )?;
            let deleted = tx.execute(
                "DELETE FROM package_configs WHERE id = ?1 AND workspace_id = ?2",
                params![id, ws.0],
            )?;
            if deleted == 0 {
                return Err(config_not_found(id));
            }
            Ok(runs)
        })
    }

    /// Stores a package run's documents, queues its slots' runs and writes the package run
    /// as unfinished, all in one transaction.
    pub fn begin_package_run(
        &self,
        ws: WorkspaceId,
        new: &NewPackageRun<'_>,
    ) -> Result<BegunPackageRun> {
        let id = new_id();
        let batch_id = new_id();
        let now = now_iso();
        let body = encode(new.record)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO document_batches (id, workspace_id, source_type, document_count, created_at)
                 VALUES (?1, ?2, 'package', ?3, ?4)",
                params![batch_id, ws.0, new.documents.len() as i64, now],
            )?;
            let mut document_ids = Vec::with_capacity(new.documents.len());
            {
                let mut stmt = tx.prepare(
                    "INSERT INTO documents (id, workspace_id, external_id, filename, fields,
                         batch_id, created_at, package_run_id)
                     VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7)",
                )?;
                for document in &new.documents {
                    let document_id = new_id();
                    stmt.execute(params![
                        document_id,
                        ws.0,
                        document.external_id,
                        Value::Object(document.fields.clone()).to_string(),
                        batch_id,
                        now,
                        id
                    ])?;
                    document_ids.push(document_id);
                }
            }
            let mut run_ids = Vec::with_capacity(new.slots.len());
            for slot in &new.slots {
                let Some(slot) = slot else {
                    run_ids.push(None);
                    continue;
                };
                let target = Target::Documents(
                    slot.documents
                        .iter()
                        .filter_map(|&i| document_ids.get(i).cloned())
                        .collect(),
                );
                let run_id = insert_run(
                    tx,
                    ws,
                    &NewRun {
                        config_id: slot.config_id,
                        config_snapshot: slot.config_snapshot,
                        version: slot.version,
                        target: &target,
                        triggered_by: "package",
                    },
                )?;
                run_ids.push(Some(run_id));
            }
            tx.execute(
                "INSERT INTO package_runs (id, workspace_id, package_config_id, status, body,
                     error, created_at)
                 VALUES (?1, ?2, ?3, 'error', ?4, ?5, ?6)",
                params![id, ws.0, new.package_config_id, body, UNFINISHED, now],
            )?;
            Ok(BegunPackageRun {
                id: id.clone(),
                document_ids,
                run_ids,
            })
        })
    }

    /// Writes a package run's decision.
    pub fn finish_package_run(
        &self,
        ws: WorkspaceId,
        id: &str,
        status: Verdict,
        record: &PackageRecord,
        error: Option<&str>,
    ) -> Result<StoredPackageRun> {
        let body = encode(record)?;
        // The decision and its `package_run.completed` deliveries, in one transaction.
        self.write(|tx| {
            tx.execute(
                "UPDATE package_runs SET status = ?1, body = ?2, error = ?3, completed_at = ?4
                 WHERE id = ?5 AND workspace_id = ?6",
                params![status.as_str(), body, error, now_iso(), id, ws.0],
            )?;
            let (_, run) = tx
                .query_row(
                    &format!("{RUN_SELECT} WHERE id = ?1 AND workspace_id = ?2"),
                    params![id, ws.0],
                    run_from_row,
                )
                .optional()?
                .ok_or_else(|| {
                    Error::Conflict(
                        "the package config was deleted while this package run executed; its slots' runs stay"
                            .into(),
                    )
                })?;
            super::webhooks::enqueue(tx, ws, "package_run.completed", &run)?;
            Ok(run)
        })
    }

    pub fn get_package_run(&self, ws: WorkspaceId, id: &str) -> Result<StoredPackageRun> {
        self.conn()?
            .query_row(
                &format!("{RUN_SELECT} WHERE id = ?1 AND workspace_id = ?2"),
                params![id, ws.0],
                run_from_row,
            )
            .optional()?
            .map(|(_, r)| r)
            .ok_or_else(|| Error::NotFound {
                what: "package run",
                id: id.to_string(),
            })
    }

    pub fn list_package_runs(
        &self,
        ws: WorkspaceId,
        config_id: Option<&str>,
        status: Option<Verdict>,
        at: Position<'_>,
        limit: usize,
    ) -> Result<CursorPage<StoredPackageRun>> {
        let (before, offset) = at.bounds()?;
        let status = status.map(Verdict::as_str);
        let conn = self.conn()?;
        let filter = "workspace_id = ?1 AND (?2 IS NULL OR package_config_id = ?2)
                      AND (?3 IS NULL OR status = ?3)";
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM package_runs WHERE {filter}"),
            params![ws.0, config_id, status],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "{RUN_SELECT} WHERE {filter} AND seq < ?4 ORDER BY seq DESC LIMIT ?5 OFFSET ?6"
        ))?;
        let rows = stmt
            .query_map(
                params![ws.0, config_id, status, before, limit as i64 + 1, offset],
                run_from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cursor_page(rows, limit, total))
    }

    /// The columns of row `row_id` in the reference version run `run_id` read, by name.
    pub fn run_row_values(
        &self,
        ws: WorkspaceId,
        run_id: &str,
        row_id: &str,
    ) -> Result<Option<Map<String, Value>>> {
        let found: Option<(String, String)> = self
            .conn()?
            .query_row(
                "SELECT v.columns, r.vals FROM runs x
                 JOIN reference_versions v ON v.id = x.reference_version_id
                 JOIN reference_rows r ON r.version_id = v.id AND r.row_id = ?3
                 WHERE x.id = ?1 AND x.workspace_id = ?2",
                params![run_id, ws.0, row_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((columns, vals)) = found else {
            return Ok(None);
        };
        let columns: Vec<Value> = serde_json::from_str(&columns).unwrap_or_default();
        let vals: Vec<String> = serde_json::from_str(&vals).unwrap_or_default();
        Ok(Some(
            columns
                .iter()
                .zip(vals)
                .filter_map(|(c, v)| {
                    let name = c.get("name")?.as_str()?.to_string();
                    Some((name, Value::String(v)))
                })
                .collect(),
        ))
    }
}
