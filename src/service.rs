//! Use-cases shared by the command line and the HTTP API: import reference data and
//! documents, create and replace configs, trigger runs, review results. Each checks its input
//! completely before the store writes anything, and each write is one transaction.

use serde_json::{Map, Value};

use crate::config::RawConfig;
use crate::error::{Error, Result};
use crate::ingest::body::{self, ColumnType, NewDocument};
use crate::matcher::ReferenceTable;
use crate::store::configs::ConfigWrite;
use crate::store::documents::Target;
use crate::store::reference::NewVersion;
use crate::store::results::{ResultFilter, ResultRow, Review, ReviewStatus};
use crate::store::{Store, WorkspaceId};

/// How a run was started (SPEC: `triggered_by`).
pub const TRIGGERS: &[&str] = &["api", "cli", "manual"];

/// Stores a reference table, or a new version of table `replace`.
pub fn import_reference(
    store: &Store,
    ws: WorkspaceId,
    replace: Option<&str>,
    name: Option<&str>,
    source_type: &str,
    table: &ReferenceTable,
) -> Result<Value> {
    if let Some(name) = name {
        if name.trim().is_empty() || name.len() > 200 {
            return Err(Error::invalid(
                "body",
                "name",
                "must be 1 to 200 characters",
            ));
        }
    }
    let column_types = body::column_types(table)
        .into_iter()
        .map(column_type_name)
        .collect();
    store.insert_reference(
        ws,
        replace,
        &NewVersion {
            name,
            source_type,
            table,
            column_types,
        },
    )
}

fn column_type_name(kind: ColumnType) -> &'static str {
    match kind {
        ColumnType::String => "string",
        ColumnType::Integer => "integer",
        ColumnType::Number => "number",
        ColumnType::Date => "date",
        ColumnType::Empty => "empty",
    }
}

pub fn import_documents(
    store: &Store,
    ws: WorkspaceId,
    source_type: &str,
    documents: &[NewDocument],
) -> Result<Value> {
    if documents.is_empty() {
        return Err(Error::invalid("body", "documents", "must not be empty"));
    }
    store.insert_documents(ws, source_type, documents)
}

fn text(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| Error::invalid("body", "", "is not valid UTF-8"))
}

/// Reads and checks a config body against its reference table. `existing` is the table of
/// the config being replaced (its `reference_data_id` cannot change).
fn checked_config(
    store: &Store,
    ws: WorkspaceId,
    bytes: &[u8],
    existing: Option<&str>,
) -> Result<(RawConfig, String, Map<String, Value>, Target)> {
    let raw = RawConfig::from_json(text(bytes)?, "body")?;
    let config = raw.validate("body")?;
    if raw.strategy_id.is_some() {
        return Err(Error::invalid(
            "body",
            "strategy_id",
            "configs from generated strategies are not available in this version",
        ));
    }
    let reference_data_id = match (&raw.reference_data_id, existing) {
        (None, Some(existing)) => existing.to_string(),
        (None, None) => {
            return Err(Error::invalid("body", "reference_data_id", "is required"));
        }
        (Some(Value::String(id)), Some(existing)) if id != existing => {
            return Err(Error::invalid(
                "body",
                "reference_data_id",
                "cannot change; create a new config for another table",
            ));
        }
        (Some(Value::String(id)), _) => id.clone(),
        (Some(_), _) => {
            return Err(Error::invalid(
                "body",
                "reference_data_id",
                "must be a string",
            ))
        }
    };
    let (_, columns) = store
        .current_version(ws, &reference_data_id)
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::invalid(
                "body",
                "reference_data_id",
                format!("no reference data with id \"{reference_data_id}\""),
            ),
            other => other,
        })?;
    let mut details = Vec::new();
    for (i, m) in config.mappings.iter().enumerate() {
        if !columns.iter().any(|c| c == &m.target) {
            details.push(crate::error::FieldError::new(
                format!("field_mappings[{i}].target"),
                format!(
                    "\"{}\" is not a column of the reference data (columns: {})",
                    m.target,
                    columns.join(", ")
                ),
            ));
        }
    }
    if !details.is_empty() {
        return Err(Error::Validation {
            source: "body".into(),
            details,
        });
    }
    let target = Target::from_json(raw.target_type.as_ref(), raw.target_value.as_ref())?;
    store.check_target(ws, &target)?;
    // What is stored and frozen into runs: the scoring part, with defaults resolved.
    let scoring = RawConfig {
        name: None,
        field_mappings: raw.field_mappings.clone(),
        threshold: Some(config.threshold),
        missing_values: Some(config.missing_values),
        min_coverage: Some(config.min_coverage),
        reference_data_id: None,
        target_type: None,
        target_value: None,
        strategy_id: None,
    };
    let scoring = match serde_json::to_value(&scoring) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Error::Internal("cannot encode a config".into())),
    };
    Ok((raw, reference_data_id, scoring, target))
}

pub fn create_config(store: &Store, ws: WorkspaceId, bytes: &[u8]) -> Result<Value> {
    let (raw, reference_data_id, scoring, target) = checked_config(store, ws, bytes, None)?;
    store.insert_config(
        ws,
        &ConfigWrite {
            name: raw.name.as_deref(),
            reference_data_id: &reference_data_id,
            body: &scoring,
            target: &target,
        },
    )
}

pub fn replace_config(store: &Store, ws: WorkspaceId, id: &str, bytes: &[u8]) -> Result<Value> {
    let existing = store.get_config(ws, id)?;
    let (raw, reference_data_id, scoring, target) =
        checked_config(store, ws, bytes, Some(&existing.reference_data_id))?;
    store.replace_config(
        ws,
        id,
        &ConfigWrite {
            name: raw.name.as_deref(),
            reference_data_id: &reference_data_id,
            body: &scoring,
            target: &target,
        },
    )
}

/// Queues a run of a config: the config and the reference table's current version are
/// frozen now. `body` may override the target and say who triggered it.
pub fn trigger_run(
    store: &Store,
    ws: WorkspaceId,
    config_id: &str,
    body: Option<&[u8]>,
    default_trigger: &str,
) -> Result<Value> {
    let config = store.get_config(ws, config_id)?;
    let mut target = config.target.clone();
    let mut triggered_by = default_trigger.to_string();
    if let Some(bytes) = body.filter(|b| !b.iter().all(u8::is_ascii_whitespace)) {
        let value: Value = serde_json::from_str(text(bytes)?)
            .map_err(|e| Error::invalid("body", "", format!("is not JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(Error::invalid("body", "", "must be a JSON object"));
        };
        for key in object.keys() {
            if !["target_type", "target_value", "triggered_by"].contains(&key.as_str()) {
                return Err(Error::invalid(
                    "body",
                    key.as_str(),
                    "unknown field (target_type, target_value, triggered_by)",
                ));
            }
        }
        if object.contains_key("target_type") || object.contains_key("target_value") {
            target = Target::from_json(object.get("target_type"), object.get("target_value"))?;
            store.check_target(ws, &target)?;
        }
        match object.get("triggered_by") {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if t == "api" || t == "manual" => triggered_by = t.clone(),
            Some(_) => {
                return Err(Error::invalid(
                    "body",
                    "triggered_by",
                    "must be \"api\" or \"manual\"",
                ))
            }
        }
    }
    let (version, _) = store
        .current_version(ws, &config.reference_data_id)
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::Conflict(format!(
                "the reference data {} of this config was deleted; create a config for another table",
                config.reference_data_id
            )),
            other => other,
        })?;
    let snapshot = Value::Object(config.body).to_string();
    store.insert_run(ws, config_id, &snapshot, version, &target, &triggered_by)
}

/// Applies `{status, notes?, reference_row_id?}` to one result.
pub fn review(
    store: &Store,
    ws: WorkspaceId,
    run_id: &str,
    result_id: &str,
    bytes: &[u8],
    reviewed_by: &str,
) -> Result<ResultRow> {
    let value: Value = serde_json::from_str(text(bytes)?)
        .map_err(|e| Error::invalid("body", "", format!("is not JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(Error::invalid("body", "", "must be a JSON object"));
    };
    for key in object.keys() {
        if !["status", "notes", "reference_row_id"].contains(&key.as_str()) {
            return Err(Error::invalid(
                "body",
                key.as_str(),
                "unknown field (status, notes, reference_row_id)",
            ));
        }
    }
    let status = object
        .get("status")
        .and_then(Value::as_str)
        .and_then(ReviewStatus::parse)
        .ok_or_else(|| {
            Error::invalid(
                "body",
                "status",
                "is required: \"approved\", \"rejected\" or \"pending\"",
            )
        })?;
    let notes = match object.get("notes") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(n)) if n.len() <= 10_000 => Some(Some(n.clone())),
        Some(Value::String(_)) => {
            return Err(Error::invalid("body", "notes", "at most 10000 bytes"))
        }
        Some(_) => return Err(Error::invalid("body", "notes", "must be a string or null")),
    };
    let reference_row_id = match object.get("reference_row_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => {
            return Err(Error::invalid(
                "body",
                "reference_row_id",
                "must be a string",
            ))
        }
    };
    if reference_row_id.is_some() && status != ReviewStatus::Approved {
        return Err(Error::invalid(
            "body",
            "reference_row_id",
            "picks the approved row, so it needs \"status\": \"approved\"",
        ));
    }
    store.review_result(
        ws,
        run_id,
        result_id,
        &Review {
            status,
            notes,
            reference_row_id,
            reviewed_by: reviewed_by.to_string(),
        },
    )
}

/// Most results one bulk review may name.
pub const MAX_BULK_REVIEW: usize = 500;

/// Applies one decision to many results of a run: `{result_ids: [...]}` or
/// `{filter: {status?, matched?, min_confidence?, max_confidence?}}`, with `status` and
/// optional `notes`. Each result is reviewed on its own; one failing never stops the rest.
pub fn review_many(
    store: &Store,
    ws: WorkspaceId,
    run_id: &str,
    bytes: &[u8],
    reviewed_by: &str,
) -> Result<Value> {
    store.run_status(ws, run_id)?;
    let value: Value = serde_json::from_str(text(bytes)?)
        .map_err(|e| Error::invalid("body", "", format!("is not JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(Error::invalid("body", "", "must be a JSON object"));
    };
    for key in object.keys() {
        if !["result_ids", "filter", "status", "notes"].contains(&key.as_str()) {
            return Err(Error::invalid(
                "body",
                key.as_str(),
                "unknown field (result_ids, filter, status, notes)",
            ));
        }
    }
    let ids: Vec<String> = match (object.get("result_ids"), object.get("filter")) {
        (Some(Value::Array(ids)), None) => {
            if ids.is_empty() || ids.len() > MAX_BULK_REVIEW {
                return Err(Error::invalid(
                    "body",
                    "result_ids",
                    format!("must hold 1 to {MAX_BULK_REVIEW} ids"),
                ));
            }
            ids.iter()
                .enumerate()
                .map(|(i, id)| {
                    id.as_str().map(String::from).ok_or_else(|| {
                        Error::invalid("body", format!("result_ids[{i}]"), "must be a string")
                    })
                })
                .collect::<Result<_>>()?
        }
        (None, Some(Value::Object(filter))) => {
            let filter = result_filter(filter)?;
            store.result_ids(ws, run_id, &filter, MAX_BULK_REVIEW)?
        }
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "body",
                "result_ids",
                "give result_ids or filter, not both",
            ))
        }
        (Some(_), None) => return Err(Error::invalid("body", "result_ids", "must be an array")),
        (None, Some(_)) => return Err(Error::invalid("body", "filter", "must be an object")),
        (None, None) => {
            return Err(Error::invalid(
                "body",
                "result_ids",
                "is required (or a filter)",
            ))
        }
    };
    // The decision itself is checked once, before any result is touched.
    object
        .get("status")
        .and_then(Value::as_str)
        .and_then(ReviewStatus::parse)
        .ok_or_else(|| {
            Error::invalid(
                "body",
                "status",
                "is required: \"approved\", \"rejected\" or \"pending\"",
            )
        })?;
    match object.get("notes") {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        Some(_) => return Err(Error::invalid("body", "notes", "must be a string or null")),
    }
    let mut decision = serde_json::Map::new();
    decision.insert(
        "status".into(),
        object.get("status").cloned().unwrap_or(Value::Null),
    );
    if let Some(notes) = object.get("notes") {
        decision.insert("notes".into(), notes.clone());
    }
    let decision = Value::Object(decision).to_string();
    let mut outcomes = Vec::with_capacity(ids.len());
    let mut updated = 0;
    for id in &ids {
        match review(store, ws, run_id, id, decision.as_bytes(), reviewed_by) {
            Ok(row) => {
                updated += 1;
                outcomes.push(serde_json::json!({"id": id, "ok": true, "status": row.status}));
            }
            Err(e) => {
                let http = e.http();
                outcomes.push(serde_json::json!({
                    "id": id,
                    "ok": false,
                    "error": {"code": http.code, "message": e.public_message()},
                }));
            }
        }
    }
    Ok(serde_json::json!({
        "updated": updated,
        "failed": outcomes.len() - updated,
        "results": outcomes,
    }))
}

/// A results filter as JSON: `{status?, matched?, min_confidence?, max_confidence?}`.
fn result_filter(filter: &serde_json::Map<String, Value>) -> Result<ResultFilter> {
    let mut out = ResultFilter::default();
    for (key, value) in filter {
        let at = format!("filter.{key}");
        match key.as_str() {
            "status" => {
                let status = value
                    .as_str()
                    .and_then(ReviewStatus::parse)
                    .ok_or_else(|| Error::invalid("body", &at, "pending, approved or rejected"))?;
                out.status = Some(status.as_str().to_string());
            }
            "matched" => {
                out.matched = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| Error::invalid("body", &at, "must be true or false"))?,
                )
            }
            "min_confidence" | "max_confidence" => {
                let x = value
                    .as_f64()
                    .ok_or_else(|| Error::invalid("body", &at, "must be a number"))?;
                if key == "min_confidence" {
                    out.min_confidence = Some(x);
                } else {
                    out.max_confidence = Some(x);
                }
            }
            _ => {
                return Err(Error::invalid(
                    "body",
                    &at,
                    "unknown filter (status, matched, min_confidence, max_confidence)",
                ))
            }
        }
    }
    Ok(out)
}
