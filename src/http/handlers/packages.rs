//! `/v1/matching/packages`: package configs (list, create, get, delete) and package runs
//! (list, get, and the synchronous create). A package run's slots are real matching runs:
//! the handler queues them through `service`, executes each at once on this request's
//! thread (or waits for the runner that took it first), then has `service` decide.

use std::time::{Duration, Instant};

use super::{done, require_json, Call};
use crate::error::{Error, Result};
use crate::http::body::{self, PackageConfigBody, PackageRunBody};
use crate::http::message::{cursor_list, Linked, Links, Response};
use crate::package::Verdict;
use crate::runner::Runner;
use crate::service;
use crate::store::packages::{StoredPackageConfig, StoredPackageRun};
use crate::store::runs::RunStatus;
use crate::store::{Store, WorkspaceId};

/// How long a package run waits for a slot's run that another runner took.
const SLOT_WAIT: Duration = Duration::from_secs(600);

fn config_linked(config: StoredPackageConfig) -> Linked<StoredPackageConfig> {
    let links = Links(vec![
        (
            "self",
            format!("/v1/matching/packages/configs/{}", config.id),
        ),
        (
            "runs",
            format!("/v1/matching/packages/runs?package_config_id={}", config.id),
        ),
    ]);
    Linked {
        item: config,
        links,
    }
}

fn run_linked(run: StoredPackageRun) -> Linked<StoredPackageRun> {
    let links = Links(vec![
        ("self", format!("/v1/matching/packages/runs/{}", run.id)),
        (
            "config",
            format!("/v1/matching/packages/configs/{}", run.package_config_id),
        ),
    ]);
    Linked { item: run, links }
}

pub fn list_configs(call: &Call) -> Result<Response> {
    let limit = call.req.list_limit()?;
    let page =
        call.ctx
            .store
            .list_package_configs(call.ws()?, call.req.list_position(limit)?, limit)?;
    Ok(cursor_list(page.map(config_linked), limit))
}

pub fn create_config(call: &Call) -> Result<Response> {
    require_json(call.req)?;
    let spec = body::decode::<PackageConfigBody>(&call.req.body)?.into_spec()?;
    let created = service::create_package_config(&call.ctx.store, call.ws()?, &spec)?;
    Ok(Response::json(201, &config_linked(created)))
}

pub fn get_config(call: &Call) -> Result<Response> {
    let config = call.ctx.store.get_package_config(call.ws()?, call.id())?;
    Ok(Response::ok(&config_linked(config)))
}

/// Deletes the config and its package runs.
pub fn delete_config(call: &Call) -> Result<Response> {
    call.ctx
        .store
        .delete_package_config(call.ws()?, call.id())?;
    Ok(done(call.id(), "deleted"))
}

pub fn list_runs(call: &Call) -> Result<Response> {
    let req = call.req;
    let limit = req.list_limit()?;
    let status = req
        .param("status")
        .map(|text| {
            Verdict::parse(text).ok_or_else(|| {
                Error::invalid(
                    "query",
                    "status",
                    format!("unknown status \"{text}\" (passed, failed, review, error)"),
                )
            })
        })
        .transpose()?;
    let page = call.ctx.store.list_package_runs(
        call.ws()?,
        req.param("package_config_id"),
        status,
        req.list_position(limit)?,
        limit,
    )?;
    Ok(cursor_list(page.map(run_linked), limit))
}

pub fn get_run(call: &Call) -> Result<Response> {
    let run = call.ctx.store.get_package_run(call.ws()?, call.id())?;
    Ok(Response::ok(&run_linked(run)))
}

/// `POST /v1/matching/packages/runs`: synchronous; 201 with the decided package run.
pub fn create_run(call: &Call) -> Result<Response> {
    require_json(call.req)?;
    let request = body::decode::<PackageRunBody>(&call.req.body)?.into_request()?;
    let (store, ws) = (&call.ctx.store, call.ws()?);
    let started = service::start_package_run(store, ws, &request)?;
    for run_id in started.run_ids.iter().flatten() {
        execute_slot(&call.ctx.runner, store, ws, run_id)?;
    }
    let finished = service::finish_package_run(store, ws, &started)?;
    crate::webhook::wake();
    Ok(Response::json(201, &run_linked(finished)))
}

/// Executes a slot's queued run here, or waits for the runner that claimed it first.
fn execute_slot(runner: &Runner, store: &Store, ws: WorkspaceId, run_id: &str) -> Result<()> {
    if runner.run_now(run_id, &|_, _| {})?.is_some() {
        return Ok(());
    }
    let deadline = Instant::now() + SLOT_WAIT;
    while Instant::now() < deadline {
        match store.run_status(ws, run_id)? {
            RunStatus::Queued | RunStatus::Running => std::thread::sleep(Duration::from_millis(10)),
            _ => return Ok(()),
        }
    }
    Err(Error::Unavailable(format!(
        "the matching run {run_id} of this package did not end within {} s",
        SLOT_WAIT.as_secs()
    )))
}

#[cfg(test)]
mod tests {
    use crate::http::handlers::testing::Api;
    use crate::http::message::Method;

    /// A package config of two types over the test config: `invoice` required, `copy`
    /// expected with review allowed, and a check that both name the same invoice number.
    fn package(api: &Api) -> String {
        let config = api.config();
        let body = format!(
            r#"{{"name": "pair", "document_type_configs": [
                {{"document_type": "invoice", "matching_config_id": "{config}", "presence": "required"}},
                {{"document_type": "copy", "matching_config_id": "{config}", "presence": "expected"}}
            ], "pass_criteria": {{"allow_review_on_expected": true}},
            "checks": [{{"kind": "same_value", "fields": ["invoice.invoice_number", "copy.row.invoice_number"]}}]}}"#
        );
        let reply = api.post_json("/v1/matching/packages/configs", &body);
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(
            reply.body["links"]["runs"],
            format!(
                "/v1/matching/packages/runs?package_config_id={}",
                reply.body["id"].as_str().unwrap_or("")
            )
        );
        reply.body["id"].as_str().unwrap_or("").to_string()
    }

    fn run(api: &Api, package: &str, documents: &str) -> crate::http::handlers::testing::Reply {
        api.post_json(
            "/v1/matching/packages/runs",
            &format!(r#"{{"package_config_id": "{package}", "input_documents": {documents}}}"#),
        )
    }

    #[test]
    fn a_package_run_passes_when_every_slot_matches_and_its_check_holds() {
        let api = Api::new();
        let package = package(&api);
        let reply = run(
            &api,
            &package,
            r#"{"invoice": [{"document_id": "I-1", "values": {"vendor_name": "Acme Corp", "invoice_number": "INV-2002"}}],
                "copy": [{"document_id": "C-1", "values": {"vendor_name": "ACME Corp.", "invoice_number": "INV 2002"}}]}"#,
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(reply.body["status"], "passed", "{}", reply.body);
        let slot = &reply.body["document_results"][0];
        assert_eq!(slot["matched_reference_row_id"], "R2");
        assert_eq!(slot["document_id"], "I-1");
        assert_eq!(slot["status"], "matched");
        assert_eq!(reply.body["checks"][0]["outcome"], "passed");
        assert_eq!(reply.body["input_documents"]["copy"][0], "C-1");
        // Each slot is a real run whose result can be reviewed.
        let run_id = slot["matching_run_id"].as_str().unwrap_or("");
        let detail = api.get(&format!("/v1/matching/runs/{run_id}"));
        assert_eq!(detail.body["triggered_by"], "package");
        assert_eq!(detail.body["results"][0]["document_external_id"], "I-1");
        // The package's documents are not the workspace's: no `all` run or list sees them.
        assert_eq!(api.get("/v1/documents").body["pagination"]["total"], 0);
    }

    #[test]
    fn a_missing_expected_type_is_review_and_an_unmatched_required_one_fails() {
        let api = Api::new();
        let package = package(&api);
        let review = run(
            &api,
            &package,
            r#"{"invoice": [{"document_id": "I-1", "values": {"vendor_name": "Acme Corp", "invoice_number": "INV-2002"}}]}"#,
        );
        assert_eq!(review.body["status"], "review", "{}", review.body);
        assert_eq!(review.body["document_results"][1]["status"], "missing");
        assert_eq!(review.body["document_results"][1]["document_found"], false);
        let failed = run(
            &api,
            &package,
            r#"{"invoice": [{"document_id": "I-1", "values": {"vendor_name": "Nobody", "invoice_number": "X-9"}}]}"#,
        );
        assert_eq!(failed.body["status"], "failed", "{}", failed.body);
        let listed = api.get(&format!(
            "/v1/matching/packages/runs?package_config_id={package}&status=failed"
        ));
        assert_eq!(listed.body["pagination"]["total"], 1, "{}", listed.body);
        let id = failed.body["id"].as_str().unwrap_or("");
        assert_eq!(
            api.get(&format!("/v1/matching/packages/runs/{id}")).status,
            200
        );
    }

    #[test]
    fn bad_package_configs_and_runs_name_their_field_and_store_nothing() {
        let api = Api::new();
        let config = api.config();
        let cases = [
            (r#"{"document_type_configs": []}"#.to_string(), "name"),
            (
                r#"{"name": "x", "document_type_configs": [{"document_type": "a", "matching_config_id": "nope"}]}"#.to_string(),
                "document_type_configs[0].matching_config_id",
            ),
            (
                format!(r#"{{"name": "x", "document_type_configs": [{{"document_type": "a", "matching_config_id": "{config}", "presence": "maybe"}}]}}"#),
                "document_type_configs[0].presence",
            ),
            (
                format!(r#"{{"name": "x", "document_type_configs": [{{"document_type": "a", "matching_config_id": "{config}"}}],
                    "checks": [{{"kind": "amount_within", "fields": ["a.total", "b.total"], "tolerance_pct": 1}}]}}"#),
                "checks[0].fields[1]",
            ),
            (
                format!(r#"{{"name": "x", "document_type_configs": [{{"document_type": "a", "matching_config_id": "{config}"}}],
                    "checks": [{{"kind": "amount_within", "fields": ["a.total", "a.row.total"]}}]}}"#),
                "checks[0].tolerance_pct",
            ),
            (
                format!(r#"{{"name": "x", "document_type_configs": [{{"document_type": "a", "matching_config_id": "{config}", "weight": 1}}]}}"#),
                "document_type_configs[0].weight",
            ),
        ];
        for (body, field) in cases {
            let reply = api.post_json("/v1/matching/packages/configs", &body);
            assert_eq!(
                (reply.status, reply.field()),
                (400, field),
                "{}",
                reply.body
            );
        }
        assert_eq!(
            api.get("/v1/matching/packages/configs").body["pagination"]["total"],
            0
        );
        let package = package(&api);
        let unknown_type = run(&api, &package, r#"{"receipt": []}"#);
        assert_eq!(
            (unknown_type.status, unknown_type.field()),
            (400, "input_documents.receipt")
        );
        let bad_value = run(
            &api,
            &package,
            r#"{"invoice": [{"document_id": "I-1", "values": {"total": [1]}}]}"#,
        );
        assert_eq!(
            (bad_value.status, bad_value.field()),
            (400, "input_documents.invoice[0].values.total")
        );
        let no_id = run(&api, &package, r#"{"invoice": [{"values": {}}]}"#);
        assert_eq!(
            (no_id.status, no_id.field()),
            (400, "input_documents.invoice[0].document_id")
        );
        let unknown_config = run(&api, "nope", "{}");
        assert_eq!(
            (unknown_config.status, unknown_config.field()),
            (400, "package_config_id")
        );
        assert_eq!(
            api.get("/v1/matching/packages/runs").body["pagination"]["total"],
            0
        );
        assert_eq!(
            api.get("/v1/matching/runs").body["pagination"]["total"],
            0,
            "a refused package run queues no matching run"
        );
    }

    #[test]
    fn deleting_a_package_config_deletes_its_runs() {
        let api = Api::new();
        let package = package(&api);
        let reply = run(
            &api,
            &package,
            r#"{"invoice": [{"document_id": "I-1", "values": {"vendor_name": "Acme Corp", "invoice_number": "INV-2002"}}]}"#,
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        let deleted = api.call(
            Method::Delete,
            &format!("/v1/matching/packages/configs/{package}"),
            "",
            "",
        );
        assert_eq!(
            (deleted.status, &deleted.body["deleted"]),
            (200, &true.into())
        );
        assert_eq!(
            api.get(&format!("/v1/matching/packages/configs/{package}"))
                .status,
            404
        );
        assert_eq!(
            api.get("/v1/matching/packages/runs").body["pagination"]["total"],
            0
        );
        // The slot's matching run stays, like any run.
        assert_eq!(api.get("/v1/matching/runs").body["pagination"]["total"], 1);
    }
}
