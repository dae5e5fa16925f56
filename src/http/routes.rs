//! The router and the handlers of the v1 API. A handler reads the plain `Request`, calls a
//! use-case of `service` or a query of `store`, and returns a plain `Response`; errors become
//! SPEC's envelope in one place (`handle`).

use std::sync::Arc;

use serde_json::{json, Value};

use super::body;
use super::limits::{Metrics, RateLimiter, RateState, Scope};
use super::message::{
    cursor_list, loggable, page_list, percent_decode, Method, Request, Response, MAX_LIMIT,
};
use crate::error::{Error, Result};
use crate::ingest::{self, multipart, Encoding};
use crate::runner::Runner;
use crate::service;
use crate::store::keys::ApiKey;
use crate::store::results::{ResultFilter, ReviewStatus};
use crate::store::Store;

/// What every handler can reach.
pub struct Context {
    pub store: Store,
    pub runner: Arc<Runner>,
    pub limiter: RateLimiter,
    pub metrics: Metrics,
    /// `/metrics` without a key (`serve --metrics-open`).
    pub metrics_open: bool,
}

/// A request's answer with what the access log and metrics need.
pub struct Handled {
    pub response: Response,
    pub key_id: Option<String>,
    /// The key's workspace, which the request counts for in `/metrics`.
    pub workspace: Option<i64>,
    pub route: &'static str,
}

/// The routes, by path shape: `:` segments match any one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Health,
    References,
    Reference,
    ReferenceRows,
    Documents,
    Document,
    Configs,
    Config,
    ConfigRun,
    ConfigMatch,
    Runs,
    Run,
    RunProgress,
    RunCancel,
    RunResults,
    RunHistogram,
    ResultReview,
    BulkReview,
    ResultsExport,
    ReferenceExport,
    Keys,
    Key,
    Metrics,
    OpenApi,
    StrategyGenerate,
    Strategy,
    SmartRun,
    AiResolve,
}

impl Route {
    fn allowed(self) -> &'static [Method] {
        use Method::*;
        match self {
            Route::Health | Route::Metrics | Route::OpenApi => &[Get],
            Route::References | Route::Documents | Route::Configs => &[Get, Post],
            Route::Reference | Route::Config => &[Get, Put, Delete],
            Route::Document => &[Get, Delete],
            Route::Key => &[Delete],
            Route::StrategyGenerate => &[Post],
            Route::Strategy => &[Get, Patch],
            Route::ConfigRun
            | Route::ConfigMatch
            | Route::SmartRun
            | Route::AiResolve
            | Route::RunCancel
            | Route::ResultReview
            | Route::BulkReview => &[Post],
            Route::ReferenceRows
            | Route::ReferenceExport
            | Route::Runs
            | Route::Run
            | Route::RunProgress
            | Route::RunResults
            | Route::RunHistogram
            | Route::ResultsExport
            | Route::Keys => &[Get],
        }
    }

    /// The route's name in metrics.
    pub fn label(self) -> &'static str {
        match self {
            Route::Health => "healthz",
            Route::Metrics => "metrics",
            Route::OpenApi => "openapi",
            Route::StrategyGenerate => "strategy_generate",
            Route::SmartRun => "config_smart_run",
            Route::AiResolve => "run_ai_resolve",
            Route::Strategy => "strategy",
            Route::References => "reference_data",
            Route::Reference => "reference_data_item",
            Route::ReferenceRows => "reference_data_rows",
            Route::ReferenceExport => "reference_data_export",
            Route::Documents => "documents",
            Route::Document => "document",
            Route::Configs => "configs",
            Route::Config => "config",
            Route::ConfigRun => "config_run",
            Route::ConfigMatch => "config_match",
            Route::Runs => "runs",
            Route::Run => "run_detail",
            Route::RunProgress => "run_progress",
            Route::RunCancel => "run_cancel",
            Route::RunResults => "run_results",
            Route::RunHistogram => "run_histogram",
            Route::ResultsExport => "run_results_export",
            Route::ResultReview => "result_review",
            Route::BulkReview => "results_bulk_review",
            Route::Keys => "keys",
            Route::Key => "key",
        }
    }

    fn allowed_text(self) -> &'static str {
        match self.allowed() {
            [Method::Get] => "GET",
            [Method::Post] => "POST",
            [Method::Delete] => "DELETE",
            [Method::Get, Method::Patch] => "GET, PATCH",
            [Method::Get, Method::Post] => "GET, POST",
            [Method::Get, Method::Put, Method::Delete] => "GET, PUT, DELETE",
            _ => "GET, DELETE",
        }
    }
}

/// Every route as `(path template, methods)`, in the OpenAPI document's spelling. The
/// OpenAPI test checks that the document describes each of them.
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/healthz", &["get"]),
    ("/metrics", &["get"]),
    ("/v1/reference-data", &["get", "post"]),
    ("/v1/matching/reference-data", &["get", "post"]),
    ("/v1/reference-data/{id}", &["get", "put", "delete"]),
    ("/v1/reference-data/{id}/rows", &["get"]),
    ("/v1/reference-data/{id}/export", &["get"]),
    (
        "/v1/matching/reference-data/{id}",
        &["get", "put", "delete"],
    ),
    ("/v1/matching/reference-data/{id}/rows", &["get"]),
    ("/v1/matching/reference-data/{id}/export", &["get"]),
    ("/v1/documents", &["get", "post"]),
    ("/v1/documents/{id}", &["get", "delete"]),
    ("/v1/matching/configs", &["get", "post"]),
    ("/v1/matching/configs/{id}", &["get", "put", "delete"]),
    ("/v1/matching/configs/{id}/run", &["post"]),
    ("/v1/matching/configs/{id}/smart-run", &["post"]),
    ("/v1/matching/configs/{id}/match", &["post"]),
    ("/v1/matching/runs/{id}/ai-resolve", &["post"]),
    ("/v1/matching/runs", &["get"]),
    ("/v1/matching/runs/{id}", &["get"]),
    ("/v1/matching/runs/{id}/progress", &["get"]),
    ("/v1/matching/runs/{id}/cancel", &["post"]),
    ("/v1/matching/runs/{id}/results", &["get"]),
    ("/v1/matching/runs/{id}/histogram", &["get"]),
    ("/v1/matching/runs/{id}/results/export", &["get"]),
    ("/v1/matching/runs/{id}/results/review", &["post"]),
    (
        "/v1/matching/runs/{runId}/results/{resultId}/review",
        &["post"],
    ),
    ("/v1/matching/strategies/generate", &["post"]),
    ("/v1/matching/strategies/{id}", &["get", "patch"]),
    ("/v1/keys", &["get"]),
    ("/v1/keys/{id}", &["delete"]),
    ("/v1/openapi.json", &["get"]),
];

/// Finds the route of a path and the ids in it (percent-decoded).
pub(crate) fn resolve(path: &str) -> Option<(Route, Vec<String>)> {
    let segments: Vec<String> = path
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .map(|s| percent_decode(s, false))
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (route, ids): (Route, Vec<&str>) = match s.as_slice() {
        ["healthz"] => (Route::Health, vec![]),
        ["v1", "reference-data"] | ["v1", "matching", "reference-data"] => {
            (Route::References, vec![])
        }
        ["v1", "reference-data", id] | ["v1", "matching", "reference-data", id] => {
            (Route::Reference, vec![id])
        }
        ["v1", "reference-data", id, "rows"] | ["v1", "matching", "reference-data", id, "rows"] => {
            (Route::ReferenceRows, vec![id])
        }
        ["v1", "reference-data", id, "export"]
        | ["v1", "matching", "reference-data", id, "export"] => (Route::ReferenceExport, vec![id]),
        ["v1", "documents"] => (Route::Documents, vec![]),
        ["v1", "documents", id] => (Route::Document, vec![id]),
        ["v1", "matching", "configs"] => (Route::Configs, vec![]),
        ["v1", "matching", "configs", id] => (Route::Config, vec![id]),
        ["v1", "matching", "configs", id, "run"] => (Route::ConfigRun, vec![id]),
        ["v1", "matching", "configs", id, "smart-run"] => (Route::SmartRun, vec![id]),
        ["v1", "matching", "configs", id, "match"] => (Route::ConfigMatch, vec![id]),
        ["v1", "matching", "runs", id, "ai-resolve"] => (Route::AiResolve, vec![id]),
        ["v1", "matching", "strategies", "generate"] => (Route::StrategyGenerate, vec![]),
        ["v1", "matching", "strategies", id] => (Route::Strategy, vec![id]),
        ["v1", "matching", "runs"] => (Route::Runs, vec![]),
        ["v1", "matching", "runs", id] => (Route::Run, vec![id]),
        ["v1", "matching", "runs", id, "progress"] => (Route::RunProgress, vec![id]),
        ["v1", "matching", "runs", id, "cancel"] => (Route::RunCancel, vec![id]),
        ["v1", "matching", "runs", id, "results"] => (Route::RunResults, vec![id]),
        ["v1", "matching", "runs", id, "histogram"] => (Route::RunHistogram, vec![id]),
        ["v1", "matching", "runs", run, "results", "review"] => (Route::BulkReview, vec![run]),
        ["v1", "matching", "runs", run, "results", "export"] => (Route::ResultsExport, vec![run]),
        ["v1", "matching", "runs", run, "results", result, "review"] => {
            (Route::ResultReview, vec![run, result])
        }
        ["v1", "keys"] => (Route::Keys, vec![]),
        ["v1", "keys", id] => (Route::Key, vec![id]),
        ["metrics"] => (Route::Metrics, vec![]),
        ["v1", "openapi.json"] => (Route::OpenApi, vec![]),
        _ => return None,
    };
    Some((route, ids.into_iter().map(String::from).collect()))
}

/// Answers one request. Never panics outward: `server` also catches panics around it.
pub fn handle(ctx: &Context, request: &Request) -> Handled {
    if let Some(response) = super::ui::serve(request) {
        return Handled {
            response,
            key_id: None,
            workspace: None,
            route: "review_page",
        };
    }
    let mut key = None;
    let mut rate = None;
    let resolved = resolve(&request.path);
    let route = resolved.as_ref().map_or("unknown", |(r, _)| r.label());
    let mut response = match dispatch(ctx, request, resolved, &mut key, &mut rate) {
        Ok(response) => response,
        Err(error) => {
            if error.http().status >= 500 {
                eprintln!(
                    "refmatch: {} {} {}: {}",
                    request.request_id,
                    request.method.as_str(),
                    loggable(&request.path),
                    loggable(&error.to_string())
                );
            }
            Response::error(&error, request)
        }
    };
    if let Some(rate) = rate {
        response = response
            .with_header("X-RateLimit-Limit", rate.limit.to_string())
            .with_header("X-RateLimit-Remaining", rate.remaining.to_string())
            .with_header("X-RateLimit-Reset", rate.reset.to_string());
        if let Some(after) = rate.retry_after {
            response = response.with_header("Retry-After", after.to_string());
        }
    }
    Handled {
        response,
        key_id: key.as_ref().map(|k| k.id.clone()),
        workspace: key.map(|k| k.workspace.0),
        route,
    }
}

/// Decides from the head alone whether a request's body may be read at all: the key must
/// exist and have the method's scope. Nothing else is checked (the handler does it), and
/// no rate-limit token is taken.
pub fn admit(ctx: &Context, request: &Request) -> Result<()> {
    let method = if request.method == Method::Head {
        Method::Get
    } else {
        request.method
    };
    authenticate(ctx, request, method).map(|_| ())
}

fn authenticate(ctx: &Context, request: &Request, method: Method) -> Result<ApiKey> {
    let header = request.authorization.as_deref().ok_or_else(|| {
        Error::Unauthorized("send an API key as Authorization: Bearer <key>".into())
    })?;
    let secret = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::Unauthorized("the Authorization header must be Bearer <key>".into())
        })?;
    let key = ctx.store.authenticate(secret)?;
    // Best effort: a busy database must not fail the request itself.
    let _ = ctx.store.touch_key(&key.id);
    let allowed = if method.writes() {
        key.scopes.write
    } else {
        key.scopes.read
    };
    if !allowed {
        let needed = if method.writes() { "write" } else { "read" };
        return Err(Error::Forbidden(format!(
            "this API key lacks the \"{needed}\" scope"
        )));
    }
    Ok(key)
}

fn dispatch(
    ctx: &Context,
    req: &Request,
    resolved: Option<(Route, Vec<String>)>,
    key_out: &mut Option<ApiKey>,
    rate: &mut Option<RateState>,
) -> Result<Response> {
    let method = if req.method == Method::Head {
        Method::Get
    } else {
        req.method
    };
    match resolved {
        Some((Route::Health, _)) if method == Method::Get => {
            return Ok(Response::ok(&json!({"status": "ok"})));
        }
        Some((Route::Health, _)) => {
            return Err(Error::MethodNotAllowed { allowed: "GET" });
        }
        Some((Route::OpenApi, _)) if method == Method::Get => {
            return Ok(Response::bytes(
                200,
                "application/json",
                super::openapi::DOCUMENT.as_bytes().to_vec(),
            ));
        }
        Some((Route::Metrics, _)) if ctx.metrics_open && method == Method::Get => {
            return metrics(ctx, Scope::All);
        }
        _ => {}
    }
    let key = authenticate(ctx, req, method)?;
    *key_out = Some(key.clone());
    *rate = ctx.limiter.take(&key.id);
    if let Some(after) = rate.and_then(|r| r.retry_after) {
        return Err(Error::RateLimited { retry_after: after });
    }
    let (route, ids) = resolved.ok_or_else(|| Error::NotFound {
        what: "route",
        id: req.path.clone(),
    })?;
    if !route.allowed().contains(&method) {
        return Err(Error::MethodNotAllowed {
            allowed: route.allowed_text(),
        });
    }
    let ws = key.workspace;
    let store = &ctx.store;
    let id = ids.first().map(String::as_str).unwrap_or("");
    match (route, method) {
        (Route::References, Method::Get) => {
            let limit = req.list_limit()?;
            Ok(cursor_list(
                store.list_references(ws, req.param("cursor"), limit)?,
                limit,
            ))
        }
        (Route::References, _) => {
            let created = upload_reference(ctx, req, key.workspace, None)?;
            Ok(Response::json(201, &created))
        }
        (Route::Reference, Method::Get) => Ok(Response::ok(&store.get_reference(ws, id)?)),
        (Route::Reference, Method::Put) => {
            let updated = upload_reference(ctx, req, key.workspace, Some(id))?;
            Ok(Response::ok(&updated))
        }
        (Route::Reference, _) => {
            store.delete_reference(ws, id)?;
            Ok(Response::ok(&json!({"id": id, "deleted": true})))
        }
        (Route::ReferenceRows, _) => {
            let page = req.param_usize("page", 1, 1, usize::MAX / 1024)?;
            let limit = req.param_usize("limit", 100, 1, MAX_LIMIT)?;
            let (rows, total) = store.reference_rows(ws, id, page, limit)?;
            Ok(page_list(rows, total, page, limit))
        }
        (Route::Documents, Method::Get) => {
            let limit = req.list_limit()?;
            Ok(cursor_list(
                store.list_documents(ws, req.param("batch_id"), req.param("cursor"), limit)?,
                limit,
            ))
        }
        (Route::Documents, _) => {
            let (source_type, documents) = read_documents(req)?;
            let created = service::import_documents(store, ws, source_type, &documents)?;
            Ok(Response::json(201, &created))
        }
        (Route::Document, Method::Get) => Ok(Response::ok(&store.get_document(ws, id)?)),
        (Route::Document, _) => {
            store.delete_document(ws, id)?;
            Ok(Response::ok(&json!({"id": id, "deleted": true})))
        }
        (Route::Configs, Method::Get) => {
            let limit = req.list_limit()?;
            Ok(cursor_list(
                store.list_configs(ws, req.param("cursor"), limit)?,
                limit,
            ))
        }
        (Route::Configs, _) => {
            require_json(req)?;
            Ok(Response::json(
                201,
                &service::create_config(store, ws, &req.body)?,
            ))
        }
        (Route::Config, Method::Get) => Ok(Response::ok(&store.get_config_json(ws, id)?)),
        (Route::Config, Method::Put) => {
            require_json(req)?;
            Ok(Response::ok(&service::replace_config(
                store, ws, id, &req.body,
            )?))
        }
        (Route::Config, _) => {
            store.delete_config(ws, id)?;
            Ok(Response::ok(&json!({"id": id, "deleted": true})))
        }
        (Route::SmartRun, _) => {
            if !req.body.iter().all(u8::is_ascii_whitespace) {
                require_json(req)?;
            }
            let run = service::trigger_run(store, ws, id, Some(&req.body), "api")?;
            let run_id = run["id"].as_str().unwrap_or("");
            store.set_auto_resolve(ws, run_id)?;
            ctx.runner.notify();
            Ok(Response::json(202, &run))
        }
        (Route::AiResolve, _) => {
            let asked: body::AiResolve = body::optional(req)?;
            let (_, snapshot, _) = store.run_config(ws, id)?;
            let threshold = crate::config::MatchConfig::from_json(&snapshot, "config")?.threshold;
            let band = asked.band(threshold)?;
            store.begin_resolve(ws, id, ctx.runner.owner())?;
            let runner = std::sync::Arc::clone(&ctx.runner);
            let run_id = id.to_string();
            std::thread::Builder::new()
                .name("refmatch-resolver".into())
                .spawn(move || runner.resolve_begun(ws, &run_id, Some(band)))
                .map_err(|e| Error::Internal(format!("cannot start the resolver: {e}")))?;
            Ok(Response::json(202, &store.get_run(ws, id)?))
        }
        (Route::ConfigRun, _) => {
            if !req.body.iter().all(u8::is_ascii_whitespace) {
                require_json(req)?;
            }
            let run = service::trigger_run(store, ws, id, Some(&req.body), "api")?;
            ctx.runner.notify();
            Ok(Response::json(202, &run))
        }
        (Route::ConfigMatch, _) => {
            require_json(req)?;
            let answer = service::match_inline(store, ctx.runner.engine(), ws, id, &req.body)?;
            Ok(Response::ok(&answer))
        }
        (Route::Runs, _) => {
            let limit = req.list_limit()?;
            let status = req.param("status");
            if let Some(status) = status {
                if !crate::store::runs::STATUSES.contains(&status) {
                    return Err(Error::invalid(
                        "query",
                        "status",
                        format!(
                            "unknown status \"{status}\" ({})",
                            crate::store::runs::STATUSES.join(", ")
                        ),
                    ));
                }
            }
            Ok(cursor_list(
                store.list_runs(
                    ws,
                    req.param("config_id"),
                    status,
                    req.param("cursor"),
                    limit,
                )?,
                limit,
            ))
        }
        (Route::Run, _) => Ok(Response::bytes(
            200,
            "application/json",
            store.run_detail(ws, id, 50)?.to_json(),
        )),
        (Route::RunProgress, _) => Ok(Response::ok(&store.run_progress(ws, id)?)),
        (Route::RunCancel, _) => {
            let before = store.cancel_run(ws, id)?;
            if before == "running" {
                ctx.runner.cancel_local(id);
                wait_for_cancel(store, ws, id);
            }
            Ok(Response::ok(&store.get_run(ws, id)?))
        }
        (Route::RunResults, _) => {
            store.run_status(ws, id)?;
            let page = req.param_usize("page", 1, 1, usize::MAX / 1024)?;
            let limit = req.param_usize("limit", 50, 1, MAX_LIMIT)?;
            let status = match req.param("status") {
                None => None,
                Some(s) => Some(
                    ReviewStatus::parse(s)
                        .ok_or_else(|| {
                            Error::invalid(
                                "query",
                                "status",
                                "must be pending, approved or rejected",
                            )
                        })?
                        .as_str()
                        .to_string(),
                ),
            };
            let filter = ResultFilter {
                status,
                matched: req.param_bool("matched")?,
                min_confidence: req.param_f64("min_confidence")?,
                max_confidence: req.param_f64("max_confidence")?,
            };
            let (rows, total) = store.results_page(ws, id, &filter, page, limit)?;
            Ok(page_list(rows, total, page, limit))
        }
        (Route::RunHistogram, _) => {
            let histogram = store.confidence_histogram(ws, id)?;
            let total: i64 = histogram.all.iter().sum();
            Ok(Response::ok(&json!({
                "run_id": id,
                "buckets": histogram.all,
                "total": total,
                "approved": histogram.approved,
                "rejected": histogram.rejected,
            })))
        }
        (Route::ResultReview, _) => {
            require_json(req)?;
            let result = ids.get(1).map(String::as_str).unwrap_or("");
            Ok(Response::ok(&service::review(
                store, ws, id, result, &req.body, &key.id,
            )?))
        }
        (Route::Keys, _) => {
            let limit = req.list_limit()?;
            Ok(cursor_list(
                store.list_keys(ws, req.param("cursor"), limit)?,
                limit,
            ))
        }
        (Route::Key, _) => {
            store.revoke_key(ws, id)?;
            Ok(Response::ok(&json!({"id": id, "revoked": true})))
        }
        (Route::ReferenceExport, _) => {
            let (stream, name) = store.export_reference(ws, id)?;
            Ok(
                Response::stream(200, "text/csv; charset=utf-8", stream).with_header(
                    "Content-Disposition",
                    format!("attachment; filename=\"{}.csv\"", safe_filename(&name)),
                ),
            )
        }
        (Route::ResultsExport, _) => {
            let csv = store.export_results(ws, id)?;
            Ok(
                Response::bytes(200, "text/csv; charset=utf-8", csv).with_header(
                    "Content-Disposition",
                    format!("attachment; filename=\"results-{}.csv\"", safe_filename(id)),
                ),
            )
        }
        (Route::BulkReview, _) => {
            require_json(req)?;
            Ok(Response::ok(&service::review_many(
                store, ws, id, &req.body, &key.id,
            )?))
        }
        (Route::StrategyGenerate, _) => {
            require_json(req)?;
            let created = service::generate_strategy(store, ws, &req.body, ctx.runner.pool())?;
            Ok(Response::json(201, &created))
        }
        (Route::Strategy, Method::Get) => Ok(Response::ok(&store.get_strategy(ws, id)?)),
        (Route::Strategy, _) => {
            match req.media_type.as_deref() {
                Some("application/json" | "application/merge-patch+json") => {}
                _ => return Err(Error::UnsupportedMediaType(
                    "send a JSON merge patch as application/merge-patch+json or application/json"
                        .into(),
                )),
            }
            Ok(Response::ok(&service::patch_strategy(
                store, ws, id, &req.body,
            )?))
        }
        (Route::Metrics, _) => metrics(ctx, Scope::Workspace(ws.0)),
        (Route::OpenApi, _) => Ok(Response::bytes(
            200,
            "application/json",
            super::openapi::DOCUMENT.as_bytes().to_vec(),
        )),
        (Route::Health, _) => Ok(Response::ok(&json!({"status": "ok"}))),
    }
}

/// `GET /metrics`: Prometheus text.
/// `/metrics` for `scope`: a key sees its own workspace's requests, runs and documents.
fn metrics(ctx: &Context, scope: Scope) -> Result<Response> {
    let workspace = match scope {
        Scope::All => None,
        Scope::Workspace(ws) => Some(crate::store::WorkspaceId(ws)),
    };
    let runs = ctx.store.runs_by_status(workspace)?;
    let matched = {
        let counts = ctx
            .runner
            .documents_matched
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match workspace {
            None => counts.values().sum(),
            Some(ws) => counts.get(&ws.0).copied().unwrap_or(0),
        }
    };
    let text = ctx.metrics.render(scope, &runs, matched);
    Ok(Response::bytes(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        text.into_bytes(),
    ))
}

/// A name reduced to characters safe in a Content-Disposition file name.
fn safe_filename(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect()
}

/// Waits (up to two seconds) until the runner has stopped a run it was asked to cancel, so
/// the answer already says `cancelled`.
fn wait_for_cancel(store: &Store, ws: crate::store::WorkspaceId, id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        match store.run_status(ws, id).as_deref() {
            Ok("running") => std::thread::sleep(std::time::Duration::from_millis(20)),
            _ => return,
        }
    }
}

pub(crate) fn require_json(req: &Request) -> Result<()> {
    match req.media_type.as_deref() {
        Some("application/json") => Ok(()),
        Some(other) => Err(Error::UnsupportedMediaType(format!(
            "this route takes application/json, not {other}"
        ))),
        None => Err(Error::UnsupportedMediaType(
            "this route takes application/json; send a Content-Type header".into(),
        )),
    }
}

fn encoding(req: &Request) -> Result<Encoding> {
    match req.param("encoding") {
        None => Ok(Encoding::Utf8),
        Some(name) => name
            .parse()
            .map_err(|e: String| Error::invalid("query", "encoding", e)),
    }
}

/// Reads a reference table from a multipart file, a `text/csv` body or JSON, and stores it
/// as a new table or a new version of `replace`.
fn upload_reference(
    ctx: &Context,
    req: &Request,
    ws: crate::store::WorkspaceId,
    replace: Option<&str>,
) -> Result<Value> {
    let media = req.media_type.as_deref().unwrap_or("");
    let (name, source_type, table) = match media {
        "multipart/form-data" => {
            let parts = multipart::parse(req.content_type.as_deref().unwrap_or(""), &req.body)?;
            let file = multipart::find(&parts, "file").ok_or_else(|| {
                Error::invalid("body", "file", "a multipart upload needs a part named \"file\"")
            })?;
            let filename = file.filename.clone().unwrap_or_else(|| "file".into());
            let lower = filename.to_ascii_lowercase();
            let xlsx = lower.ends_with(".xlsx")
                || file.content_type.as_deref()
                    == Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
            if lower.ends_with(".xls") {
                return Err(Error::UnsupportedMediaType(
                    "legacy .xls workbooks are not read; save the sheet as .xlsx or CSV".into(),
                ));
            }
            let text_part = |name: &str| -> Result<Option<String>> {
                multipart::find(&parts, name)
                    .map(|p| {
                        std::str::from_utf8(p.data)
                            .map(|s| s.trim().to_string())
                            .map_err(|_| Error::invalid("body", name, "is not valid UTF-8"))
                    })
                    .transpose()
            };
            let id_column = text_part("id_column")?.or(req.param("id_column").map(String::from));
            let name = text_part("name")?.or(req.param("name").map(String::from));
            let id_column = id_column.as_deref().filter(|c| !c.is_empty());
            let (source_type, table) = if xlsx {
                ("xlsx", read_xlsx(&filename, file.data, id_column)?)
            } else {
                let table =
                    ingest::reference_from_csv(&filename, file.data, encoding(req)?, id_column, "id_column")?;
                ("csv", table)
            };
            (name.or(Some(filename)), source_type, table)
        }
        "text/csv" => {
            let table = ingest::reference_from_csv(
                "body",
                &req.body,
                encoding(req)?,
                req.param("id_column"),
                "id_column",
            )?;
            (req.param("name").map(String::from), "csv", table)
        }
        "application/json" => {
            let json = ingest::body::reference_from_json(&req.body)?;
            (json.name, "json", json.table)
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            let table = read_xlsx("body", &req.body, req.param("id_column"))?;
            (req.param("name").map(String::from), "xlsx", table)
        }
        "" => {
            return Err(Error::UnsupportedMediaType(
                "send reference data as multipart/form-data, text/csv or application/json".into(),
            ))
        }
        other => {
            return Err(Error::UnsupportedMediaType(format!(
                "reference data comes as multipart/form-data, text/csv or application/json, not {other}"
            )))
        }
    };
    service::import_reference(
        &ctx.store,
        ws,
        replace,
        name.as_deref(),
        source_type,
        &table,
    )
}

/// An XLSX workbook's first sheet as a table.
fn read_xlsx(
    name: &str,
    bytes: &[u8],
    id_column: Option<&str>,
) -> Result<crate::matcher::ReferenceTable> {
    ingest::xlsx::reference_from_xlsx(name, bytes, id_column, "id_column")
}

/// Documents from JSON, JSON Lines or CSV, with their source type.
fn read_documents(req: &Request) -> Result<(&'static str, Vec<ingest::body::NewDocument>)> {
    match req.media_type.as_deref().unwrap_or("") {
        "application/json" => Ok(("json", ingest::body::documents_from_json(&req.body)?)),
        "application/x-ndjson"
        | "application/jsonl"
        | "application/x-jsonlines"
        | "application/jsonlines" => Ok(("jsonl", ingest::body::documents_from_jsonl(&req.body)?)),
        "text/csv" => Ok((
            "csv",
            ingest::body::documents_from_csv_body(
                "body",
                &req.body,
                encoding(req)?,
                req.param("id_column"),
                req.param("filename_column"),
            )?,
        )),
        other => Err(Error::UnsupportedMediaType(format!(
            "documents come as application/json, application/x-ndjson or text/csv{}",
            if other.is_empty() {
                String::new()
            } else {
                format!(", not {other}")
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_resolve_with_ids_and_aliases() {
        assert_eq!(
            resolve("/v1/matching/runs/abc/results/def/review"),
            Some((Route::ResultReview, vec!["abc".into(), "def".into()]))
        );
        assert_eq!(
            resolve("/v1/matching/reference-data/x%20y"),
            Some((Route::Reference, vec!["x y".into()]))
        );
        assert_eq!(
            resolve("/v1/reference-data/"),
            Some((Route::References, vec![]))
        );
        assert_eq!(resolve("/v1/nothing"), None);
        assert_eq!(resolve("/"), None);
    }
}
