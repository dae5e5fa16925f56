//! Use-cases shared by the command line and the HTTP API: import reference data and
//! documents, create and replace configs, trigger runs, review results. Each checks its input
//! completely before the store writes anything, and each write is one transaction.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::RawConfig;
use crate::error::{Error, Result};
use crate::ingest::body::{self, ColumnType, NewDocument};
use crate::matcher::{CandidateEvidence, Evidence, ReferenceTable};
use crate::package::{
    DocumentResult, PackageRecord, PackageSpec, SlotOutcome, SlotStatus, Verdict,
};
use crate::store::configs::{ConfigRow, ConfigWrite};
use crate::store::documents::{ImportedBatch, Target};
use crate::store::packages::{StoredPackageConfig, StoredPackageRun};
use crate::store::reference::{NewVersion, StoredReference};
use crate::store::results::{ResultFilter, ResultRow, Review, ReviewStatus};
use crate::store::runs::StoredRun;
use crate::store::strategies::StoredStrategy;
use crate::store::{Store, WorkspaceId};

/// How a run was started (`triggered_by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Api,
    Cli,
    Manual,
    /// A slot of a package run.
    Package,
    /// The config's `schedule`.
    Scheduled,
    /// A new version of the config's table (`rematch_on_new_version`).
    ReferenceUpdate,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Api => "api",
            Trigger::Cli => "cli",
            Trigger::Manual => "manual",
            Trigger::Package => "package",
            Trigger::Scheduled => "scheduled",
            Trigger::ReferenceUpdate => "reference_update",
        }
    }
}

/// A request to queue a run: the config's own target unless `target` overrides it.
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerRun {
    pub target: Option<Target>,
    pub triggered_by: Trigger,
}

impl TriggerRun {
    /// A run of the config's own target, started by `by`.
    pub fn by(triggered_by: Trigger) -> TriggerRun {
        TriggerRun {
            target: None,
            triggered_by,
        }
    }
}

/// Which results a bulk review applies to.
#[derive(Clone, Debug)]
pub enum Selection {
    Ids(Vec<String>),
    Filter(ResultFilter),
}

/// One decision for many results of a run.
#[derive(Clone, Debug)]
pub struct BulkReview {
    pub selection: Selection,
    pub review: Review,
}

/// A request to generate a strategy for a table and its target documents.
#[derive(Clone, Debug)]
pub struct GenerateStrategy {
    pub reference_data_id: String,
    pub target: Target,
    /// Pairs of a target document (id or external id) and its true row (`None`: no row).
    pub labels: Vec<Label>,
    /// A config whose reviews count as labels too.
    pub use_reviews_of: Option<String>,
    pub name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Label {
    pub document_id: String,
    pub row_id: Option<String>,
}

/// Stores a reference table, or a new version of table `replace`.
pub fn import_reference(
    store: &Store,
    ws: WorkspaceId,
    replace: Option<&str>,
    name: Option<&str>,
    source_type: &str,
    table: &ReferenceTable,
) -> Result<StoredReference> {
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
) -> Result<ImportedBatch> {
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
            "only creating a config takes a strategy_id",
        ));
    }
    let reference_data_id = match (&raw.reference_data_id, existing) {
        (None, Some(existing)) => existing.to_string(),
        (None, None) => {
            return Err(Error::invalid("body", "reference_data_id", "is required"));
        }
        (Some(Value::String(id)), Some(existing))
            if crate::store::canonical_id(id) != *existing =>
        {
            return Err(Error::invalid(
                "body",
                "reference_data_id",
                "cannot change; create a new config for another table",
            ));
        }
        (Some(Value::String(id)), _) => crate::store::canonical_id(id).into_owned(),
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
            origin: "body".into(),
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
        assignment: Some(config.assignment),
        assignment_candidates: Some(config.assignment_candidates as i64),
        reference_data_id: None,
        target_type: None,
        target_value: None,
        strategy_id: None,
        schedule: None,
        rematch_on_new_version: None,
    };
    let scoring = match serde_json::to_value(&scoring) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Error::Internal("cannot encode a config".into())),
    };
    Ok((raw, reference_data_id, scoring, target))
}

pub fn create_config(store: &Store, ws: WorkspaceId, bytes: &[u8]) -> Result<ConfigRow> {
    // `{strategy_id, name?, reference_data_id?, target...}`: the strategy's mappings and
    // threshold fill in what the body leaves out.
    let mut from_strategy = None;
    let mut owned = None;
    if let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(bytes) {
        if let Some(strategy_id) = body.remove("strategy_id") {
            let strategy_id = strategy_id
                .as_str()
                .ok_or_else(|| Error::invalid("body", "strategy_id", "must be a string"))?
                .to_string();
            let strategy = store.get_strategy(ws, &strategy_id).map_err(|e| match e {
                Error::NotFound { .. } => Error::invalid(
                    "body",
                    "strategy_id",
                    format!("no strategy with id \"{strategy_id}\""),
                ),
                other => other,
            })?;
            let reference = Value::String(strategy.reference_data_id.clone());
            match body.get("reference_data_id") {
                Some(given) if *given != reference => {
                    return Err(Error::invalid(
                        "body",
                        "reference_data_id",
                        "differs from the strategy's reference data",
                    ))
                }
                _ => {
                    body.insert("reference_data_id".into(), reference);
                }
            }
            if let Value::Object(proposal) = &strategy.strategy {
                for (key, value) in proposal {
                    body.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
            from_strategy = Some(strategy_id);
            owned = Some(Value::Object(body).to_string());
        }
    }
    let bytes = owned.as_deref().map_or(bytes, str::as_bytes);
    let (raw, reference_data_id, scoring, target) = checked_config(store, ws, bytes, None)?;
    let (schedule, rematch_on_new_version) = service_keys(&raw)?;
    let created = store.insert_config(
        ws,
        &ConfigWrite {
            name: raw.name.as_deref(),
            reference_data_id: &reference_data_id,
            body: &scoring,
            target: &target,
            schedule: schedule.as_ref().map(|(s, next)| (s.as_str(), *next)),
            rematch_on_new_version,
        },
    )?;
    if let Some(strategy_id) = from_strategy {
        store.link_strategy(ws, &strategy_id, &created.id)?;
    }
    Ok(created)
}

/// The keys of a config as `GET` shows it that no client sets: a body may carry them back
/// (a fetched config sent again) as long as they are unchanged.
const READ_ONLY_CONFIG_KEYS: [&str; 3] = ["id", "created_at", "updated_at"];

/// Takes the read-only keys out of a config body that carries them back, each checked
/// against the stored config: `id` and `created_at` must be the same (400), and
/// `updated_at` too (409: someone changed the config since it was fetched).
fn without_read_only(body: &mut Map<String, Value>, current: &ConfigRow) -> Result<()> {
    // Derived from `schedule` and moving on as it fires: whatever a copy says is ignored.
    body.remove("next_scheduled_at");
    for key in READ_ONLY_CONFIG_KEYS {
        let Some(given) = body.remove(key) else {
            continue;
        };
        let stored = match key {
            "id" => &current.id,
            "created_at" => &current.created_at,
            _ => &current.updated_at,
        };
        let same = given
            .as_str()
            .is_some_and(|g| crate::store::canonical_id(g) == stored.as_str());
        if same {
            continue;
        }
        if key == "updated_at" && given.is_string() {
            return Err(Error::Conflict(format!(
                "the config changed at {stored}, after the copy this body was made from; fetch it again"
            )));
        }
        return Err(Error::invalid(
            "body",
            key,
            format!("is read-only; leave it out or send it unchanged ({stored:?})"),
        ));
    }
    Ok(())
}

/// A config body as JSON: an object, else a validation error naming the body.
fn config_object(bytes: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(text(bytes)?) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid(
            "body",
            "body",
            "must be a JSON object (a matching config)",
        )),
        Err(e) => Err(Error::json("body", ".", &e)),
    }
}

/// `PUT`: replaces name, mappings, threshold and target. The body may be a config as `GET`
/// answered it, its read-only keys unchanged (issue 17).
pub fn replace_config(store: &Store, ws: WorkspaceId, id: &str, bytes: &[u8]) -> Result<ConfigRow> {
    let current = store.get_config_row(ws, id)?;
    let mut body = config_object(bytes)?;
    without_read_only(&mut body, &current)?;
    write_config(store, ws, id, &Value::Object(body).to_string())
}

/// `PATCH`: a JSON merge patch (RFC 7396) of the config as `GET` shows it, checked and
/// stored as a `PUT` of the result would be: `{"threshold": 0.8}` changes the threshold
/// alone, `{"name": null}` removes the name.
pub fn patch_config(store: &Store, ws: WorkspaceId, id: &str, bytes: &[u8]) -> Result<ConfigRow> {
    let current = store.get_config_row(ws, id)?;
    let patch = Value::Object(config_object(bytes)?);
    let mut config = match serde_json::to_value(&current) {
        Ok(value @ Value::Object(_)) => value,
        _ => return Err(Error::Internal("cannot encode a config".into())),
    };
    merge_patch(&mut config, &patch);
    let Value::Object(mut body) = config else {
        return Err(Error::Internal("a patched config is not an object".into()));
    };
    without_read_only(&mut body, &current)?;
    write_config(store, ws, id, &Value::Object(body).to_string())
}

fn write_config(store: &Store, ws: WorkspaceId, id: &str, text: &str) -> Result<ConfigRow> {
    let bytes = text.as_bytes();
    let existing = store.get_config(ws, id)?;
    let (raw, reference_data_id, scoring, target) =
        checked_config(store, ws, bytes, Some(&existing.reference_data_id))?;
    let (schedule, rematch_on_new_version) = service_keys(&raw)?;
    store.replace_config(
        ws,
        id,
        &ConfigWrite {
            name: raw.name.as_deref(),
            reference_data_id: &reference_data_id,
            body: &scoring,
            target: &target,
            schedule: schedule.as_ref().map(|(s, next)| (s.as_str(), *next)),
            rematch_on_new_version,
        },
    )
}

/// A config's `schedule` (checked, with its first slot from now) and
/// `rematch_on_new_version` (default false). A replace that leaves them out clears them,
/// as it does every other key.
fn service_keys(raw: &RawConfig) -> Result<(Option<(String, i64)>, bool)> {
    let schedule = match &raw.schedule {
        None | Some(Value::Null) => None,
        Some(Value::String(expression)) => {
            let cron = crate::schedule::parse(expression)
                .map_err(|message| Error::invalid("body", "schedule", message))?;
            let next =
                crate::schedule::next_after(&cron, crate::store::now_ms()).ok_or_else(|| {
                    Error::invalid("body", "schedule", "never fires: it names no future time")
                })?;
            Some((expression.trim().to_string(), next))
        }
        Some(_) => {
            return Err(Error::invalid(
                "body",
                "schedule",
                "must be a cron expression string or null",
            ))
        }
    };
    let rematch = match &raw.rematch_on_new_version {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            return Err(Error::invalid(
                "body",
                "rematch_on_new_version",
                "must be true or false",
            ))
        }
    };
    Ok((schedule, rematch))
}

/// Queues a run of a config: the config and the reference table's current version are
/// frozen now.
pub fn trigger_run(
    store: &Store,
    ws: WorkspaceId,
    config_id: &str,
    request: &TriggerRun,
) -> Result<StoredRun> {
    let config = store.get_config(ws, config_id)?;
    let target = match &request.target {
        Some(target) => {
            store.check_target(ws, target)?;
            target.clone()
        }
        None => config.target.clone(),
    };
    let version = current_version_of(store, ws, &config)?;
    let snapshot = Value::Object(config.body).to_string();
    store.insert_run(
        ws,
        config_id,
        &snapshot,
        version,
        &target,
        request.triggered_by.as_str(),
    )
}

/// The current version of the config's table; `conflict` once the table is deleted.
fn current_version_of(
    store: &Store,
    ws: WorkspaceId,
    config: &crate::store::configs::StoredConfig,
) -> Result<crate::store::reference::VersionRef> {
    let (version, _) = store
        .current_version(ws, &config.reference_data_id)
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::Conflict(format!(
                "the reference data {} of this config was deleted; create a config for another table",
                config.reference_data_id
            )),
            other => other,
        })?;
    Ok(version)
}

/// The most documents one real-time match takes (docs/CONTRACT.md).
pub const MAX_INLINE_DOCUMENTS: usize = 100;

/// Real-time matching: up to 100 documents given inline (`{documents:[{id?, filename?,
/// fields}]}` or one `{fields}`) against the config and its table's current version, at
/// once, nothing stored. Each result is shaped as in run detail; the result and document
/// have no stored id, so `id` and `document_id` are null.
pub fn match_inline(
    store: &Store,
    engine: &crate::engine::Engine,
    ws: WorkspaceId,
    config_id: &str,
    bytes: &[u8],
) -> Result<RealTimeAnswer> {
    let started = std::time::Instant::now();
    let documents = body::documents_from_json(bytes)?;
    if documents.len() > MAX_INLINE_DOCUMENTS {
        return Err(Error::invalid(
            "body",
            "documents",
            format!(
                "has {} documents; at most {MAX_INLINE_DOCUMENTS} per request (use a run for more)",
                documents.len()
            ),
        ));
    }
    let stored = store.get_config(ws, config_id)?;
    let version = current_version_of(store, ws, &stored)?;
    let config =
        crate::config::MatchConfig::from_json(&Value::Object(stored.body).to_string(), "config")?;
    let threshold = config.threshold;
    let fields: Vec<&Map<String, Value>> = documents.iter().map(|d| &d.fields).collect();
    let ids: Vec<&str> = documents
        .iter()
        .map(|d| d.external_id.as_deref().unwrap_or(""))
        .collect();
    let outcomes = engine.match_inline(ws, config, version.id, &fields, &ids)?;
    let results = documents
        .into_iter()
        .zip(outcomes)
        .map(|(document, outcome)| RealTimeResult {
            id: None,
            document_id: None,
            document_external_id: document.external_id,
            document_filename: document.filename,
            matched_reference_row_id: outcome.matched_reference_row_id,
            confidence: outcome.confidence,
            status: ReviewStatus::Pending,
            evidence: outcome.evidence,
            candidates: outcome.candidates,
            notes: None,
            reviewed_at: None,
            reviewed_by: None,
            resolved_by: None,
            confidence_before: None,
            assigned: outcome.assigned,
        })
        .collect();
    Ok(RealTimeAnswer {
        config_id: config_id.to_string(),
        reference_data_id: stored.reference_data_id,
        reference_version: version.version,
        threshold,
        results,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// What real-time matching answers.
#[derive(Debug, Serialize)]
pub struct RealTimeAnswer {
    pub config_id: String,
    pub reference_data_id: String,
    pub reference_version: i64,
    pub threshold: f64,
    pub results: Vec<RealTimeResult>,
    pub elapsed_ms: u64,
}

/// One real-time result, shaped as a stored result in run detail (`ResultRow`); nothing
/// is stored, so the ids and the review fields are null.
#[derive(Debug, Serialize)]
pub struct RealTimeResult {
    pub id: Option<String>,
    pub document_id: Option<String>,
    pub document_external_id: Option<String>,
    pub document_filename: Option<String>,
    pub matched_reference_row_id: Option<String>,
    pub confidence: f64,
    pub status: ReviewStatus,
    pub evidence: Option<Evidence>,
    pub candidates: Vec<CandidateEvidence>,
    pub notes: Option<String>,
    pub reviewed_at: Option<String>,
    pub reviewed_by: Option<String>,
    pub resolved_by: Option<String>,
    pub confidence_before: Option<f64>,
    pub assigned: bool,
}

/// Applies a review to one result.
pub fn review(
    store: &Store,
    ws: WorkspaceId,
    run_id: &str,
    result_id: &str,
    review: &Review,
) -> Result<ResultRow> {
    store.review_result(ws, run_id, result_id, review)
}

/// Most results one bulk review may name.
pub const MAX_BULK_REVIEW: usize = 500;

/// Applies one decision to many results of a run. Each result is reviewed on its own; one
/// failing never stops the rest.
pub fn review_many(
    store: &Store,
    ws: WorkspaceId,
    run_id: &str,
    bulk: &BulkReview,
) -> Result<BulkReviewAnswer> {
    store.run_status(ws, run_id)?;
    let ids: Vec<String> = match &bulk.selection {
        Selection::Ids(ids) => ids.clone(),
        Selection::Filter(filter) => store.result_ids(ws, run_id, filter, MAX_BULK_REVIEW)?,
    };
    let mut results = Vec::with_capacity(ids.len());
    let mut updated = 0;
    for id in ids {
        match store.review_result(ws, run_id, &id, &bulk.review) {
            Ok(row) => {
                updated += 1;
                results.push(BulkReviewOutcome::Reviewed {
                    id,
                    ok: true,
                    status: row.status,
                });
            }
            Err(e) => {
                let http = e.http();
                results.push(BulkReviewOutcome::Failed {
                    id,
                    ok: false,
                    error: OutcomeError {
                        code: http.code,
                        message: e.public_message(),
                    },
                });
            }
        }
    }
    Ok(BulkReviewAnswer {
        updated,
        failed: results.len() - updated,
        results,
    })
}

/// What a bulk review answers: counts, and one outcome per result named, in order.
#[derive(Debug, Serialize)]
pub struct BulkReviewAnswer {
    pub updated: usize,
    pub failed: usize,
    pub results: Vec<BulkReviewOutcome>,
}

/// One result's outcome in a bulk review.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum BulkReviewOutcome {
    Reviewed {
        id: String,
        ok: bool,
        status: ReviewStatus,
    },
    Failed {
        id: String,
        ok: bool,
        error: OutcomeError,
    },
}

/// Why one result of a bulk review was not reviewed: the error envelope's code and message.
#[derive(Debug, Serialize)]
pub struct OutcomeError {
    pub code: &'static str,
    pub message: String,
}

/// Documents sampled to profile for a strategy.
const STRATEGY_SAMPLE: usize = 5_000;

/// `POST /v1/matching/strategies/generate`: profiles the reference table and the target
/// documents, proposes a config with a rationale per mapping and, given labels or the
/// reviews of a config's runs, fits weights and threshold to them. Stores the strategy;
/// creates no config.
pub fn generate_strategy(
    store: &Store,
    ws: WorkspaceId,
    request: &GenerateStrategy,
    pool: &rayon::ThreadPool,
) -> Result<StoredStrategy> {
    let reference_data_id = request.reference_data_id.as_str();
    let name = request.name.as_deref();
    let (version, _) = store
        .current_version(ws, reference_data_id)
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::invalid(
                "body",
                "reference_data_id",
                format!("no reference data with id \"{reference_data_id}\""),
            ),
            other => other,
        })?;
    let target = &request.target;
    store.check_target(ws, target)?;

    // The documents: field names in first-seen order, values as the matcher sees them.
    let mut sample = crate::strategy::DocumentSample::default();
    let mut external: std::collections::HashMap<String, String> = Default::default();
    let mut after = 0;
    while sample.ids.len() < STRATEGY_SAMPLE {
        let batch = store.target_documents(ws, target, after, 1_000)?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.seq;
        for doc in batch {
            for key in doc.fields.keys() {
                if !sample.columns.contains(key) {
                    sample.columns.push(key.clone());
                    for row in &mut sample.rows {
                        row.push(None);
                    }
                }
            }
            let row = sample
                .columns
                .iter()
                .map(|c| {
                    doc.fields
                        .get(c)
                        .and_then(body::field_text)
                        .map(|t| t.into_owned())
                })
                .collect();
            if let Some(ext) = &doc.external_id {
                external.insert(ext.clone(), doc.id.clone());
            }
            sample.ids.push(doc.id);
            sample.rows.push(row);
            if sample.ids.len() >= STRATEGY_SAMPLE {
                break;
            }
        }
    }
    if sample.ids.is_empty() {
        return Err(Error::invalid(
            "body",
            "target_type",
            "selects no documents; upload documents before generating a strategy",
        ));
    }
    let reference = std::sync::Arc::new(store.load_version(ws, version.id)?);
    let mut proposal = pool.install(|| crate::strategy::propose(&reference, &sample))?;
    proposal = crate::strategy::calibrate::calibrate(
        proposal,
        std::sync::Arc::clone(&reference),
        &sample,
        pool,
    )?;

    // Labels: given pairs, and what reviewers decided on a config's runs.
    let mut labels: std::collections::HashMap<String, Option<String>> = Default::default();
    if let Some(config_id) = request.use_reviews_of.as_deref() {
        store.get_config(ws, config_id).map_err(|e| match e {
            Error::NotFound { .. } => Error::invalid(
                "body",
                "use_reviews_of",
                format!("no matching config with id \"{config_id}\""),
            ),
            other => other,
        })?;
        for (document, row, status) in store.reviewed_results(ws, config_id)? {
            // An approved row is the document's true row; a rejected one says only that it
            // is not, which counts as "no true row" unless an approval says otherwise.
            match status.as_str() {
                "approved" => {
                    labels.insert(document, row);
                }
                _ => {
                    labels.entry(document).or_insert(None);
                }
            }
        }
    }
    for (i, label) in request.labels.iter().enumerate() {
        let document = label.document_id.as_str();
        let id = external
            .get(document)
            .cloned()
            .unwrap_or_else(|| document.to_string());
        if !sample.ids.contains(&id) {
            return Err(Error::invalid(
                "body",
                format!("labels[{i}].document_id"),
                format!("\"{document}\" is not one of the target documents"),
            ));
        }
        labels.insert(id, label.row_id.clone());
    }
    let labelled = labels.len();
    if labelled > 0 {
        proposal = crate::strategy::calibrate::fit(proposal, reference, &sample, &labels, pool)?;
    }
    let mut strategy = serde_json::json!({
        "field_mappings": proposal.config.field_mappings,
        "threshold": proposal.config.threshold,
        "min_coverage": proposal.config.min_coverage,
    });
    if let (Some(assignment), Value::Object(map)) = (proposal.config.assignment, &mut strategy) {
        map.insert("assignment".into(), serde_json::json!(assignment));
    }
    let metrics = proposal.metrics.map(|m| {
        serde_json::json!({
            "labelled_documents": labelled,
            "f1_before": m.f1_before,
            "f1_after": m.f1_after,
            "f1_cross_validated": m.f1_cross_validated,
            "threshold": m.threshold,
        })
    });
    store.insert_strategy(ws, reference_data_id, name, &strategy, metrics.as_ref())
}

/// `PATCH /v1/matching/strategies/:id`: a JSON merge patch of `strategy`, checked like a
/// config against its table; bumps `version` and `version_hash`.
pub fn patch_strategy(
    store: &Store,
    ws: WorkspaceId,
    id: &str,
    bytes: &[u8],
) -> Result<StoredStrategy> {
    let patch: Value =
        serde_json::from_str(text(bytes)?).map_err(|e| Error::json("body", ".", &e))?;
    if !patch.is_object() {
        return Err(Error::invalid(
            "body",
            "",
            "must be a JSON merge patch object",
        ));
    }
    let current = store.get_strategy(ws, id)?;
    let mut strategy = current.strategy.clone();
    merge_patch(&mut strategy, &patch);
    let reference_data_id = current.reference_data_id.as_str();
    let mut candidate = strategy.clone();
    if let Value::Object(map) = &mut candidate {
        // A reference_data_id the patch sets is checked too (it was stored unchecked, issue
        // 13): it must name a table of the workspace, and the strategy's own.
        map.entry("reference_data_id")
            .or_insert_with(|| Value::from(reference_data_id));
    }
    // Checked exactly as a config created from it would be.
    checked_config(store, ws, candidate.to_string().as_bytes(), None)?;
    if candidate["reference_data_id"] != reference_data_id {
        return Err(Error::invalid(
            "body",
            "reference_data_id",
            "cannot change; generate a new strategy for another table",
        ));
    }
    store.update_strategy(ws, id, &strategy)
}

/// RFC 7396: objects merge key by key, `null` deletes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// The most documents one package run takes, over all its types.
pub const MAX_PACKAGE_DOCUMENTS: usize = 100;

/// A package run as asked: the package config and, per document type, its documents.
#[derive(Clone, Debug)]
pub struct PackageRunRequest {
    pub package_config_id: String,
    /// In the body's order.
    pub input_documents: Vec<(String, Vec<InputDocument>)>,
}

/// One document of a package run: the caller's id and its extracted values.
#[derive(Clone, Debug)]
pub struct InputDocument {
    pub document_id: String,
    pub values: Map<String, Value>,
}

/// Stores a package config whose every matching config exists in the workspace.
pub fn create_package_config(
    store: &Store,
    ws: WorkspaceId,
    spec: &PackageSpec,
) -> Result<StoredPackageConfig> {
    for (i, slot) in spec.document_type_configs.iter().enumerate() {
        store
            .get_config(ws, &slot.matching_config_id)
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::invalid(
                    "body",
                    format!("document_type_configs[{i}].matching_config_id"),
                    format!("no matching config with id \"{}\"", slot.matching_config_id),
                ),
                other => other,
            })?;
    }
    store.insert_package_config(ws, spec)
}

/// A package run whose documents are stored and whose slots' runs are queued: what the
/// caller executes (each `run_ids` entry) before `finish_package_run`.
#[derive(Clone, Debug)]
pub struct StartedPackage {
    pub id: String,
    pub config: StoredPackageConfig,
    /// One per slot of the config; `None` where no document of its type was given.
    pub run_ids: Vec<Option<String>>,
    /// The stored document id -> its values.
    values: std::collections::HashMap<String, Map<String, Value>>,
    input_documents: Map<String, Value>,
}

/// Checks a package run completely, then stores its documents, queues one matching run per
/// slot that has documents (`triggered_by: "package"`) and records the package run, in one
/// transaction.
pub fn start_package_run(
    store: &Store,
    ws: WorkspaceId,
    request: &PackageRunRequest,
) -> Result<StartedPackage> {
    let config = store
        .get_package_config(ws, &request.package_config_id)
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::invalid(
                "body",
                "package_config_id",
                format!(
                    "no package config with id \"{}\"",
                    request.package_config_id
                ),
            ),
            other => other,
        })?;
    let spec = &config.spec;
    for (document_type, _) in &request.input_documents {
        if !spec
            .document_type_configs
            .iter()
            .any(|s| &s.document_type == document_type)
        {
            let known: Vec<&str> = spec
                .document_type_configs
                .iter()
                .map(|s| s.document_type.as_str())
                .collect();
            return Err(Error::invalid(
                "body",
                format!("input_documents.{document_type}"),
                format!(
                    "is not a document type of the package config ({})",
                    known.join(", ")
                ),
            ));
        }
    }
    let mut documents = Vec::new();
    let mut input_documents = Map::new();
    let mut slot_documents: Vec<Vec<usize>> = Vec::new();
    for slot in &spec.document_type_configs {
        let given = request
            .input_documents
            .iter()
            .filter(|(t, _)| *t == slot.document_type)
            .flat_map(|(_, docs)| docs);
        let mut indexes = Vec::new();
        let mut ids = Vec::new();
        for document in given {
            indexes.push(documents.len());
            ids.push(Value::from(document.document_id.as_str()));
            documents.push(crate::store::packages::PackageDocument {
                external_id: &document.document_id,
                fields: &document.values,
            });
        }
        if !ids.is_empty() {
            input_documents.insert(slot.document_type.clone(), Value::Array(ids));
        }
        slot_documents.push(indexes);
    }
    // Each slot's config, frozen now as any run's is; a config or table deleted since the
    // package config was made is a conflict, before anything is written.
    let mut frozen = Vec::with_capacity(spec.document_type_configs.len());
    for (slot, indexes) in spec.document_type_configs.iter().zip(&slot_documents) {
        if indexes.is_empty() {
            frozen.push(None);
            continue;
        }
        let matching = store
            .get_config(ws, &slot.matching_config_id)
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::Conflict(format!(
                    "the matching config {} of document type \"{}\" was deleted; create a package config without it",
                    slot.matching_config_id, slot.document_type
                )),
                other => other,
            })?;
        let version = current_version_of(store, ws, &matching)?;
        frozen.push(Some((Value::Object(matching.body).to_string(), version)));
    }
    let slots = spec
        .document_type_configs
        .iter()
        .zip(&frozen)
        .zip(&slot_documents)
        .map(|((slot, frozen), indexes)| {
            frozen
                .as_ref()
                .map(|(snapshot, version)| crate::store::packages::SlotRun {
                    config_id: &slot.matching_config_id,
                    config_snapshot: snapshot,
                    version: *version,
                    documents: indexes.clone(),
                })
        })
        .collect();
    let record = PackageRecord {
        input_documents: input_documents.clone(),
        ..PackageRecord::default()
    };
    let begun = store.begin_package_run(
        ws,
        &crate::store::packages::NewPackageRun {
            package_config_id: &config.id,
            documents,
            slots,
            record: &record,
        },
    )?;
    // The stored order is by slot; map ids to values by walking the slots again.
    let mut by_id = std::collections::HashMap::new();
    let mut position = 0;
    for slot in &spec.document_type_configs {
        for document in request
            .input_documents
            .iter()
            .filter(|(t, _)| *t == slot.document_type)
            .flat_map(|(_, docs)| docs)
        {
            if let Some(id) = begun.document_ids.get(position) {
                by_id.insert(id.clone(), document.values.clone());
            }
            position += 1;
        }
    }
    Ok(StartedPackage {
        id: begun.id,
        config,
        run_ids: begun.run_ids,
        values: by_id,
        input_documents,
    })
}

/// Decides a package run whose slots' runs have ended and stores the decision: each slot
/// reports its best result (highest confidence), the checks read those documents' values
/// and their matched rows' columns.
pub fn finish_package_run(
    store: &Store,
    ws: WorkspaceId,
    started: &StartedPackage,
) -> Result<StoredPackageRun> {
    let spec = &started.config.spec;
    let mut outcomes = Vec::with_capacity(spec.document_type_configs.len());
    let mut results = Vec::with_capacity(spec.document_type_configs.len());
    let mut errors = Vec::new();
    for (slot, run_id) in spec.document_type_configs.iter().zip(&started.run_ids) {
        let mut outcome = SlotOutcome::default();
        let mut result = DocumentResult {
            document_type: slot.document_type.clone(),
            matching_config_id: slot.matching_config_id.clone(),
            matching_run_id: run_id.clone(),
            presence: slot.presence,
            document_found: run_id.is_some(),
            status: SlotStatus::Missing,
            confidence: None,
            matched_reference_row_id: None,
            evidence: None,
            document_id: None,
            result_id: None,
        };
        if let Some(run_id) = run_id {
            outcome.document_found = true;
            let run = store.get_run(ws, run_id)?;
            if run.status != crate::store::runs::RunStatus::Completed {
                outcome.run_failed = true;
                errors.push(format!(
                    "{}: matching run {run_id} ended {}{}",
                    slot.document_type,
                    run.status,
                    run.error.map(|e| format!(" ({e})")).unwrap_or_default()
                ));
            } else {
                let (best, _) = store.results_page(ws, run_id, &ResultFilter::default(), 1, 1)?;
                if let Some(best) = best.into_iter().next() {
                    outcome.values = started
                        .values
                        .get(&best.document_id)
                        .cloned()
                        .unwrap_or_default();
                    outcome.matched = best.matched_reference_row_id.is_some();
                    outcome.confidence = Some(best.confidence);
                    if let Some(row) = &best.matched_reference_row_id {
                        outcome.row = store.run_row_values(ws, run_id, row)?;
                    }
                    result.confidence = Some(best.confidence);
                    result.matched_reference_row_id = best.matched_reference_row_id.clone();
                    result.evidence = serde_json::to_value(&best.evidence)
                        .ok()
                        .filter(|v| !v.is_null());
                    result.document_id = best.document_external_id.clone();
                    result.result_id = Some(best.id.clone());
                }
            }
        }
        outcomes.push(outcome);
        results.push(result);
    }
    let decision = crate::package::decide(spec, &outcomes);
    for (result, status) in results.iter_mut().zip(&decision.statuses) {
        result.status = *status;
    }
    let record = PackageRecord {
        document_results: results,
        input_documents: started.input_documents.clone(),
        checks: decision.checks,
        reasons: decision.reasons,
    };
    let error = (decision.verdict == Verdict::Error).then(|| errors.join("; "));
    store.finish_package_run(ws, &started.id, decision.verdict, &record, error.as_deref())
}

/// The use-cases against a temporary database, without HTTP.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::runs::RunStatus;
    use crate::testkit::{execute, fixture};

    #[test]
    fn a_run_keeps_the_config_it_was_queued_with() {
        let f = fixture();
        let run = trigger_run(&f.store, f.ws, &f.config_id, &TriggerRun::by(Trigger::Cli))
            .expect("a run");
        assert_eq!(
            (run.status, run.triggered_by.as_str()),
            (RunStatus::Queued, "cli")
        );
        let stored = f.store.get_config(f.ws, &f.config_id).expect("the config");
        let mut body = Value::Object(stored.body).to_string();
        body = body.replace("\"threshold\":0.8", "\"threshold\":0.6");
        let mut edited: Map<String, Value> = serde_json::from_str(&body).expect("JSON");
        edited.insert("reference_data_id".into(), stored.reference_data_id.into());
        replace_config(
            &f.store,
            f.ws,
            &f.config_id,
            Value::Object(edited).to_string().as_bytes(),
        )
        .expect("the config is replaced");
        let (_, snapshot, _) = f.store.run_config(f.ws, &run.id).expect("the run's config");
        let frozen =
            crate::config::MatchConfig::from_json(&snapshot, "snapshot").expect("a config");
        assert_eq!(frozen.threshold, 0.8);
    }

    #[test]
    fn a_target_naming_an_unknown_batch_stores_no_run() {
        let f = fixture();
        let request = TriggerRun {
            target: Some(Target::Batch("nope".into())),
            triggered_by: Trigger::Api,
        };
        let error = trigger_run(&f.store, f.ws, &f.config_id, &request).expect_err("refused");
        assert_eq!(error.details()[0].field, "target_value.batch_id");
        let runs = f
            .store
            .list_runs(
                f.ws,
                Some(&f.config_id),
                None,
                crate::store::Position::First,
                10,
            )
            .expect("runs");
        assert_eq!(runs.total, 0);
    }

    #[test]
    fn a_bulk_review_reviews_each_result_and_lists_the_ones_it_could_not() {
        let f = fixture();
        let run = trigger_run(&f.store, f.ws, &f.config_id, &TriggerRun::by(Trigger::Api))
            .expect("a run");
        execute(&f.store, &run.id);
        let filter = ResultFilter::default();
        let mut ids = f.store.result_ids(f.ws, &run.id, &filter, 10).expect("ids");
        assert_eq!(ids.len(), 2);
        ids.push("no-such-result".into());
        let bulk = BulkReview {
            selection: Selection::Ids(ids),
            review: Review {
                status: crate::store::results::ReviewStatus::Approved,
                notes: None,
                reference_row_id: None,
                reviewed_by: "test".into(),
            },
        };
        let answer = review_many(&f.store, f.ws, &run.id, &bulk).expect("reviewed");
        assert_eq!((answer.updated, answer.failed), (2, 1));
        let answer = serde_json::to_value(&answer).expect("serialises");
        assert_eq!(answer["results"][0]["status"], "approved");
        assert_eq!(answer["results"][2]["error"]["code"], "not_found");
    }
}
