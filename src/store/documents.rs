//! Documents and the batches they arrive in. A document's `external_id` is unique in its
//! workspace while the document exists; deleting a document hides it from lists and runs but
//! keeps it for the results that point at it.

use r2d2_sqlite::rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row};
use serde_json::{json, Map, Value};

use super::{cursor_page, new_id, now_iso, CursorPage, Position, Store, WorkspaceId};
use crate::error::{Error, Result};
use crate::ingest::body::NewDocument;

/// Which documents a run scores (`target_type` and `target_value`, docs/CONTRACT.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    All,
    /// Documents by id or by the caller's id (`external_id`).
    Documents(Vec<String>),
    Batch(String),
    /// The hosted APIs' `"target_type": "run"`: with no run id every document (as `All`,
    /// but kept as the client wrote it), with `run_id` the documents that run scored.
    Run(Option<String>),
}

impl Target {
    /// Reads `target_type`/`target_value` as the API takes them; `None` means `all`.
    pub fn from_json(kind: Option<&Value>, value: Option<&Value>) -> Result<Target> {
        let invalid = |field: &str, message: &str| Error::invalid("body", field, message);
        let kind = match kind {
            None | Some(Value::Null) => "all",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(invalid("target_type", "must be a string")),
        };
        let value = value.filter(|v| !v.is_null());
        match kind {
            "all" => Ok(Target::All),
            "documents" => {
                let ids = value
                    .and_then(|v| v.get("document_ids"))
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        invalid(
                            "target_value.document_ids",
                            "is required for target_type \"documents\" (an array of document ids)",
                        )
                    })?;
                if ids.is_empty() {
                    return Err(invalid("target_value.document_ids", "must not be empty"));
                }
                ids.iter()
                    .enumerate()
                    .map(|(i, id)| {
                        id.as_str().map(String::from).ok_or_else(|| {
                            Error::invalid(
                                "body",
                                format!("target_value.document_ids[{i}]"),
                                "must be a string",
                            )
                        })
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(Target::Documents)
            }
            "run" => match value.and_then(|v| v.get("run_id")) {
                None | Some(Value::Null) => Ok(Target::Run(None)),
                Some(Value::String(id)) if !id.trim().is_empty() => {
                    Ok(Target::Run(Some(id.trim().to_ascii_lowercase())))
                }
                Some(_) => Err(invalid(
                    "target_value.run_id",
                    "must be the id of a run (a string), or left out for every document",
                )),
            },
            "batch" => value
                .and_then(|v| v.get("batch_id"))
                .and_then(Value::as_str)
                .map(|b| Target::Batch(b.trim().to_ascii_lowercase()))
                .ok_or_else(|| {
                    invalid(
                        "target_value.batch_id",
                        "is required for target_type \"batch\"",
                    )
                }),
            other => Err(Error::invalid(
                "body",
                "target_type",
                format!("unknown target_type \"{other}\" (all, run, documents, batch)"),
            )),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Target::All => "all",
            Target::Documents(_) => "documents",
            Target::Batch(_) => "batch",
            Target::Run(_) => "run",
        }
    }

    pub fn value(&self) -> Value {
        match self {
            Target::All => json!({}),
            Target::Documents(ids) => json!({ "document_ids": ids }),
            Target::Batch(id) => json!({ "batch_id": id }),
            Target::Run(None) => json!({}),
            Target::Run(Some(id)) => json!({ "run_id": id }),
        }
    }

    /// The SQL condition (on table alias `d`) and its one bound parameter.
    fn condition(&self) -> (&'static str, String) {
        match self {
            // A package run's documents are its own (migration 0005).
            Target::All | Target::Run(None) => {
                ("d.package_run_id IS NULL AND ?3 IS NOT NULL", String::new())
            }
            // An id is a UUID in any case or the caller's own id, as written.
            Target::Documents(ids) => (
                "(d.id IN (SELECT lower(value) FROM json_each(?3))
                  OR d.external_id IN (SELECT value FROM json_each(?3)))",
                Value::from(ids.clone()).to_string(),
            ),
            Target::Batch(id) => ("d.batch_id = ?3", id.clone()),
            Target::Run(Some(run_id)) => (
                "d.id IN (SELECT document_id FROM results WHERE run_id = ?3)",
                run_id.clone(),
            ),
        }
    }
}

/// A document as a run reads it.
#[derive(Clone, Debug)]
pub struct TargetDocument {
    pub seq: i64,
    pub id: String,
    pub external_id: Option<String>,
    pub filename: Option<String>,
    pub fields: Map<String, Value>,
}

const COLUMNS: &str = "d.seq, d.id, d.external_id, d.filename, d.fields, d.batch_id, d.created_at";

/// A stored document. `fields` is the document's own JSON object (any keys).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredDocument {
    pub id: String,
    pub external_id: Option<String>,
    pub filename: Option<String>,
    pub fields: Value,
    pub batch_id: String,
    pub created_at: String,
}

/// One import: its batch and the ids given to its documents, in input order.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ImportedBatch {
    pub batch_id: String,
    pub document_count: usize,
    pub documents: Vec<ImportedDocument>,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ImportedDocument {
    pub id: String,
    pub external_id: Option<String>,
}

fn from_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<(i64, StoredDocument)> {
    let fields: String = r.get(4)?;
    Ok((
        r.get(0)?,
        StoredDocument {
            id: r.get(1)?,
            external_id: r.get(2)?,
            filename: r.get(3)?,
            fields: serde_json::from_str::<Value>(&fields).unwrap_or(Value::Null),
            batch_id: r.get(5)?,
            created_at: r.get(6)?,
        },
    ))
}

/// Whether `sql` (`?1` an id, `?2` the workspace) finds a row.
/// `Ok` when `sql` finds `id` in workspace `ws`, else a validation error on the body's
/// `field` saying there is no such `what`.
fn must_exist(
    conn: &Connection,
    sql: &str,
    (id, ws): (&str, WorkspaceId),
    (field, what): (&str, &str),
) -> Result<()> {
    if conn.prepare_cached(sql)?.exists(params![id, ws.0])? {
        Ok(())
    } else {
        Err(Error::invalid(
            "body",
            field,
            format!("no {what} with id \"{id}\""),
        ))
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "document",
        id: id.to_string(),
    }
}

impl Store {
    /// Stores documents as one batch in one transaction; a duplicate external id (in the
    /// workspace) is `409 conflict` and stores nothing.
    pub fn insert_documents(
        &self,
        ws: WorkspaceId,
        source_type: &str,
        documents: &[NewDocument],
    ) -> Result<ImportedBatch> {
        let batch_id = new_id();
        let now = now_iso();
        let ids = self.write(|tx| {
            tx.execute(
                "INSERT INTO document_batches (id, workspace_id, source_type, document_count, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![batch_id, ws.0, source_type, documents.len() as i64, now],
            )?;
            let mut stmt = tx.prepare(
                "INSERT INTO documents (id, workspace_id, external_id, filename, fields, batch_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut ids = Vec::with_capacity(documents.len());
            for doc in documents {
                let id = new_id();
                let fields = Value::Object(doc.fields.clone()).to_string();
                let inserted = stmt.execute(params![
                    id,
                    ws.0,
                    doc.external_id,
                    doc.filename,
                    fields,
                    batch_id,
                    now
                ]);
                match inserted {
                    Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                        return Err(Error::Conflict(format!(
                            "a document with id \"{}\" already exists in this workspace",
                            doc.external_id.as_deref().unwrap_or("")
                        )));
                    }
                    other => other?,
                };
                ids.push(ImportedDocument {
                    id,
                    external_id: doc.external_id.clone(),
                });
            }
            Ok(ids)
        })?;
        Ok(ImportedBatch {
            batch_id,
            document_count: ids.len(),
            documents: ids,
            created_at: now,
        })
    }

    /// A document by its id or, failing that, by the caller's id (`external_id`), as the
    /// hosted APIs address documents (issue 17).
    pub fn get_document(&self, ws: WorkspaceId, id: &str) -> Result<StoredDocument> {
        self.conn()?
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM documents d
                     WHERE (d.id = ?1 OR d.external_id = ?1)
                       AND d.workspace_id = ?2 AND d.deleted_at IS NULL
                     ORDER BY d.id = ?1 DESC LIMIT 1"
                ),
                params![id, ws.0],
                from_row,
            )
            .optional()?
            .map(|(_, v)| v)
            .ok_or_else(|| not_found(id))
    }

    pub fn list_documents(
        &self,
        ws: WorkspaceId,
        batch_id: Option<&str>,
        at: Position<'_>,
        limit: usize,
    ) -> Result<CursorPage<StoredDocument>> {
        let (before, offset) = at.bounds()?;
        let conn = self.conn()?;
        // Without a batch, the workspace's own documents: not those package runs brought.
        let filter = "d.workspace_id = ?1 AND d.deleted_at IS NULL
                      AND (?2 IS NULL AND d.package_run_id IS NULL OR d.batch_id = ?2)";
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM documents d WHERE {filter}"),
            params![ws.0, batch_id],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM documents d WHERE {filter} AND d.seq < ?3
             ORDER BY d.seq DESC LIMIT ?4 OFFSET ?5"
        ))?;
        let rows = stmt
            .query_map(
                params![ws.0, batch_id, before, limit as i64 + 1, offset],
                from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cursor_page(rows, limit, total))
    }

    /// Deletes a document given by its id or the caller's id.
    pub fn delete_document(&self, ws: WorkspaceId, id: &str) -> Result<()> {
        let document = self.get_document(ws, id)?;
        self.soft_delete("documents", "document", ws, &document.id)
    }

    /// Checks that a target names only documents and batches of this workspace.
    pub fn check_target(&self, ws: WorkspaceId, target: &Target) -> Result<()> {
        let conn = self.conn()?;
        match target {
            Target::All | Target::Run(None) => Ok(()),
            Target::Run(Some(id)) => must_exist(
                &conn,
                "SELECT 1 FROM runs WHERE id = ?1 AND workspace_id = ?2",
                (id, ws),
                ("target_value.run_id", "run"),
            ),
            Target::Batch(id) => must_exist(
                &conn,
                "SELECT 1 FROM document_batches WHERE id = ?1 AND workspace_id = ?2",
                (id, ws),
                ("target_value.batch_id", "batch"),
            ),
            Target::Documents(ids) => {
                let mut stmt = conn.prepare(
                    "SELECT 1 FROM documents
                     WHERE (id = lower(?1) OR external_id = ?1) AND workspace_id = ?2
                       AND deleted_at IS NULL",
                )?;
                for (i, id) in ids.iter().enumerate() {
                    if !stmt.exists(params![id, ws.0])? {
                        return Err(Error::invalid(
                            "body",
                            format!("target_value.document_ids[{i}]"),
                            format!("no document with id \"{id}\""),
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    pub fn count_targets(&self, ws: WorkspaceId, target: &Target) -> Result<i64> {
        let (condition, param) = target.condition();
        Ok(self.conn()?.query_row(
            &format!(
                "SELECT count(*) FROM documents d
                 WHERE d.workspace_id = ?1 AND d.deleted_at IS NULL AND d.seq > ?2 AND {condition}"
            ),
            params![ws.0, 0i64, param],
            |r| r.get(0),
        )?)
    }

    /// The next `limit` target documents after `after_seq`, in upload order.
    pub fn target_documents(
        &self,
        ws: WorkspaceId,
        target: &Target,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<TargetDocument>> {
        let (condition, param) = target.condition();
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT d.seq, d.id, d.external_id, d.filename, d.fields FROM documents d
             WHERE d.workspace_id = ?1 AND d.deleted_at IS NULL AND d.seq > ?2 AND {condition}
             ORDER BY d.seq LIMIT ?4"
        ))?;
        let rows = stmt.query_map(params![ws.0, after_seq, param, limit as i64], |r| {
            let fields: String = r.get(4)?;
            Ok(TargetDocument {
                seq: r.get(0)?,
                id: r.get(1)?,
                external_id: r.get(2)?,
                filename: r.get(3)?,
                fields: serde_json::from_str(&fields).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}
