//! A run's results: the filtered page, the CSV export, one review and a bulk review.

use super::{csv_attachment, require_json, Call};
use crate::error::{Error, Result};
use crate::http::body::{self, ReviewBody, ReviewManyBody};
use crate::http::message::{Response, MAX_LIMIT, MAX_PAGE};
use crate::service;
use crate::store::results::{ResultFilter, ReviewStatus};

/// `GET /v1/matching/runs/:id/results`: confidence descending, then document id.
pub fn list(call: &Call) -> Result<Response> {
    let (req, store, ws, id) = (call.req, &call.ctx.store, call.ws()?, call.id());
    // An unknown run is 404 whatever the filters say.
    store.run_status(ws, id)?;
    let page = req.param_usize("page", 1, 1, MAX_PAGE)?;
    let limit = req.param_usize("limit", 50, 1, MAX_LIMIT)?;
    let status = match req.param("status") {
        None => None,
        Some(s) => Some(ReviewStatus::parse(s).ok_or_else(|| {
            Error::invalid("query", "status", "must be pending, approved or rejected")
        })?),
    };
    let filter = ResultFilter {
        status,
        matched: req.param_bool("matched")?,
        min_confidence: req.param_f64("min_confidence")?,
        max_confidence: req.param_f64("max_confidence")?,
        document_id: req.param("document_id").map(String::from),
    };
    let (rows, total) = store.results_page(ws, id, &filter, page, limit)?;
    Ok(Response::bytes(
        200,
        "application/json",
        crate::store::results::page_json(&rows, total, page, limit),
    ))
}

/// Every result as CSV with its review status.
pub fn export(call: &Call) -> Result<Response> {
    let id = call.id();
    let csv = call.ctx.store.export_results(call.ws()?, id)?;
    Ok(
        Response::bytes(200, "text/csv; charset=utf-8", csv).with_header(
            "Content-Disposition",
            csv_attachment(&format!("results-{id}")),
        ),
    )
}

/// `POST /v1/matching/runs/:run/results/:result/review`.
pub fn review(call: &Call) -> Result<Response> {
    require_json(call.req)?;
    let key = call.key()?;
    let review = body::decode::<ReviewBody>(&call.req.body)?.into_review(&key.id)?;
    let reviewed = service::review(
        &call.ctx.store,
        key.workspace,
        call.id(),
        call.nth_id(1),
        &review,
    )?;
    Ok(Response::ok(&reviewed))
}

/// `POST /v1/matching/runs/:id/results/review`: one decision for many results.
pub fn review_many(call: &Call) -> Result<Response> {
    require_json(call.req)?;
    let key = call.key()?;
    // An unknown run answers 404 whatever the body says.
    call.ctx.store.run_status(key.workspace, call.id())?;
    let bulk = body::decode::<ReviewManyBody>(&call.req.body)?.into_bulk(&key.id)?;
    let outcome = service::review_many(&call.ctx.store, key.workspace, call.id(), &bulk)?;
    Ok(Response::ok(&outcome))
}

#[cfg(test)]
mod tests {
    use crate::http::handlers::testing::Api;

    #[test]
    fn results_are_paged_filtered_exported_and_reviewed() {
        let api = Api::new();
        let run = api.completed_run();
        let page = api.get(&format!("/v1/matching/runs/{run}/results?matched=true"));
        assert_eq!(page.status, 200);
        assert_eq!(page.body["pagination"]["total"], 1);
        let result = page.body["data"][0]["id"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert_eq!(page.body["data"][0]["matched_reference_row_id"], "R2");
        let export = api.get(&format!("/v1/matching/runs/{run}/results/export"));
        assert_eq!(export.status, 200);
        assert!(export.body.as_str().unwrap_or("").contains("R2"));
        let reviewed = api.post_json(
            &format!("/v1/matching/runs/{run}/results/{result}/review"),
            r#"{"status": "approved", "notes": "checked"}"#,
        );
        assert_eq!(
            (reviewed.status, &reviewed.body["status"]),
            (200, &"approved".into())
        );
        let bulk = api.post_json(
            &format!("/v1/matching/runs/{run}/results/review"),
            r#"{"filter": {"matched": false}, "status": "rejected"}"#,
        );
        assert_eq!((bulk.status, &bulk.body["updated"]), (200, &1.into()));
    }

    #[test]
    fn a_bad_filter_or_decision_is_named() {
        let api = Api::new();
        let run = api.completed_run();
        let status = api.get(&format!("/v1/matching/runs/{run}/results?status=maybe"));
        assert_eq!((status.status, status.field()), (400, "status"));
        let page = api.get(&format!("/v1/matching/runs/{run}/results"));
        let result = page.body["data"][0]["id"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let review = api.post_json(
            &format!("/v1/matching/runs/{run}/results/{result}/review"),
            r#"{"status": "maybe"}"#,
        );
        assert_eq!((review.status, review.field()), (400, "status"));
        let bulk = api.post_json(
            &format!("/v1/matching/runs/{run}/results/review"),
            r#"{"status": "approved"}"#,
        );
        assert_eq!((bulk.status, bulk.field()), (400, "result_ids"));
        let missing = api.post_json(
            "/v1/matching/runs/nope/results/x/review",
            r#"{"status": "approved"}"#,
        );
        assert_eq!(missing.status, 404);
    }
}
