//! `/v1/matching/runs`: list, detail, progress, cancel, histogram and `ai-resolve`.

use super::{require_json_if_any, Call};
use crate::error::{Error, Result};
use crate::http::body::{self, AiResolve};
use crate::http::message::{cursor_list, Linked, Links, Response};
use crate::resolve::run::run_threshold;
use crate::store::runs::{RunStatus, StoredRun};
use crate::store::{Store, WorkspaceId};

pub fn list(call: &Call) -> Result<Response> {
    let req = call.req;
    let limit = req.list_limit()?;
    let status = req
        .param("status")
        .map(|text| {
            RunStatus::parse(text).ok_or_else(|| {
                let known: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
                Error::invalid(
                    "query",
                    "status",
                    format!("unknown status \"{text}\" ({})", known.join(", ")),
                )
            })
        })
        .transpose()?;
    let page = call.ctx.store.list_runs(
        call.ws()?,
        req.id_param("config_id").as_deref(),
        status,
        req.list_position(limit)?,
        limit,
    )?;
    Ok(cursor_list(page.map(linked), limit))
}

/// A run with its `links`.
pub fn linked(run: StoredRun) -> Linked<StoredRun> {
    let links = run_links(&run.id, &run.matching_config_id);
    Linked { item: run, links }
}

fn run_links(id: &str, config_id: &str) -> Links {
    Links(vec![
        ("self", format!("/v1/matching/runs/{id}")),
        ("config", format!("/v1/matching/configs/{config_id}")),
    ])
}

/// The run and its 50 best results.
pub fn get(call: &Call) -> Result<Response> {
    let mut detail = call.ctx.store.run_detail(call.ws()?, call.id(), 50)?;
    let config_id = detail.run["matching_config_id"].as_str().unwrap_or("");
    let links = serde_json::to_value(run_links(call.id(), config_id))
        .map_err(|e| Error::Internal(format!("cannot encode links: {e}")))?;
    detail.run.insert("links".into(), links);
    Ok(Response::bytes(200, "application/json", detail.to_json()))
}

pub fn progress(call: &Call) -> Result<Response> {
    Ok(Response::ok(
        &call.ctx.store.run_progress(call.ws()?, call.id())?,
    ))
}

/// Cancels a queued or running run; a running one of this process is stopped and waited
/// for, so the answer already says `cancelled`.
pub fn cancel(call: &Call) -> Result<Response> {
    let (store, ws, id) = (&call.ctx.store, call.ws()?, call.id());
    let before = store.cancel_run(ws, id)?;
    crate::webhook::wake();
    if before == RunStatus::Running {
        call.ctx.runner.cancel_local(id);
        wait_for_cancel(store, ws, id);
    }
    Ok(Response::ok(&linked(store.get_run(ws, id)?)))
}

pub fn histogram(call: &Call) -> Result<Response> {
    let histogram = call.ctx.store.confidence_histogram(call.ws()?, call.id())?;
    let total: i64 = histogram.all.iter().sum();
    Ok(Response::ok(&serde_json::json!({
        "run_id": call.id(),
        "buckets": histogram.all,
        "total": total,
        "approved": histogram.approved,
        "rejected": histogram.rejected,
    })))
}

/// `POST /v1/matching/runs/:id/ai-resolve`: marks the run `ai_resolving` and resolves its
/// band on a thread of its own, 202.
pub fn ai_resolve(call: &Call) -> Result<Response> {
    require_json_if_any(call.req)?;
    let (store, ws, id) = (&call.ctx.store, call.ws()?, call.id());
    let threshold = run_threshold(store, ws, id)?;
    let asked: AiResolve = body::optional(call.req)?;
    let band = asked.band(threshold)?;
    store.begin_resolve(ws, id, call.ctx.runner.owner())?;
    let runner = std::sync::Arc::clone(&call.ctx.runner);
    let run_id = id.to_string();
    std::thread::Builder::new()
        .name("refmatch-resolver".into())
        .spawn(move || runner.resolve_begun(ws, &run_id, Some(band)))
        .map_err(|e| Error::Internal(format!("cannot start the resolver: {e}")))?;
    Ok(Response::json(202, &linked(store.get_run(ws, id)?)))
}

/// Waits (up to two seconds) until the runner has stopped a run it was asked to cancel.
fn wait_for_cancel(store: &Store, ws: WorkspaceId, id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        match store.run_status(ws, id) {
            Ok(RunStatus::Running) => std::thread::sleep(std::time::Duration::from_millis(20)),
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::http::handlers::testing::Api;
    use crate::http::message::Method;

    #[test]
    fn a_completed_run_is_listed_detailed_and_counted() {
        let api = Api::new();
        let run = api.completed_run();
        let list = api.get("/v1/matching/runs?status=completed");
        assert_eq!(
            (list.status, &list.body["data"][0]["id"]),
            (200, &run.as_str().into())
        );
        let detail = api.get(&format!("/v1/matching/runs/{run}"));
        assert_eq!(detail.status, 200);
        assert_eq!(detail.body["status"], "completed");
        let progress = api.get(&format!("/v1/matching/runs/{run}/progress"));
        assert_eq!(
            (progress.status, &progress.body["rows_processed"]),
            (200, &2.into())
        );
        let histogram = api.get(&format!("/v1/matching/runs/{run}/histogram"));
        assert_eq!(
            (histogram.status, &histogram.body["total"]),
            (200, &2.into())
        );
    }

    #[test]
    fn an_unknown_status_or_run_is_refused_and_an_ended_run_cannot_be_cancelled() {
        let api = Api::new();
        let bad = api.get("/v1/matching/runs?status=sleeping");
        assert_eq!((bad.status, bad.field()), (400, "status"));
        assert_eq!(api.get("/v1/matching/runs/nope").status, 404);
        let run = api.completed_run();
        let cancel = api.call(
            Method::Post,
            &format!("/v1/matching/runs/{run}/cancel"),
            "",
            "",
        );
        assert_eq!((cancel.status, cancel.code()), (409, "conflict"));
    }

    #[test]
    fn a_queued_run_is_cancelled() {
        let api = Api::new();
        let config = api.config();
        let queued = api.call(
            Method::Post,
            &format!("/v1/matching/configs/{config}/run"),
            "",
            "",
        );
        let run = queued.body["id"].as_str().unwrap_or("").to_string();
        let cancel = api.call(
            Method::Post,
            &format!("/v1/matching/runs/{run}/cancel"),
            "",
            "",
        );
        assert_eq!(
            (cancel.status, &cancel.body["status"]),
            (200, &"cancelled".into())
        );
    }

    #[test]
    fn ai_resolve_takes_a_band_and_refuses_an_inverted_one() {
        let api = Api::new();
        let run = api.completed_run();
        let inverted = api.post_json(
            &format!("/v1/matching/runs/{run}/ai-resolve"),
            r#"{"band": {"low": 0.9, "high": 0.1}}"#,
        );
        assert_eq!((inverted.status, inverted.field()), (400, "band.low"));
        let unknown = api.post_json(
            &format!("/v1/matching/runs/{run}/ai-resolve"),
            r#"{"bands": {}}"#,
        );
        assert_eq!((unknown.status, unknown.field()), (400, "bands"));
        let accepted = api.call(
            Method::Post,
            &format!("/v1/matching/runs/{run}/ai-resolve"),
            "",
            "",
        );
        assert_eq!(accepted.status, 202, "{}", accepted.body);
    }
}
